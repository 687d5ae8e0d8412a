// Status and StatusOr: the error vocabulary of every ingest, storage and query path.
//
// A Status is either OK or carries a Code and a human-readable message. Codes are
// transport-neutral; http/status_map.h maps them to HTTP status codes in one place.
// Status and StatusOr are cheap to move and are thread-compatible (not thread-safe).
#ifndef SIGHTLINE_BASE_STATUS_H_
#define SIGHTLINE_BASE_STATUS_H_

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sightline {

enum class Code : int {
  kOk = 0,
  kInvalidArgument = 1,    // malformed input from a client (400)
  kNotFound = 2,           // 404
  kCorruption = 3,         // bytes on disk failed a checksum or structural check
  kIOError = 4,            // the OS refused a read/write/fsync
  kResourceExhausted = 5,  // overload or quota; retry later (429)
  kPayloadTooLarge = 6,    // a body over the configured cap (413)
  kUnavailable = 7,        // shutting down / store not writable (503)
  kFailedPrecondition = 8,
  kUnimplemented = 9,
  kInternal = 10,
  kUnsupportedMediaType = 11,  // 415
  kUnauthenticated = 12,       // missing or malformed credentials (401)
  kPermissionDenied = 13,      // valid form, but not allowed: unknown key, disabled project (403)
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string_view msg) : code_(code), msg_(msg) {}

  static Status OK() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  // "InvalidArgument: bad timestamp" or "OK".
  std::string ToString() const;
  // Returns a copy whose message is prefixed with `context: `.
  Status Annotate(std::string_view context) const;
  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string msg_;
};

inline Status InvalidArgument(std::string_view m) { return Status(Code::kInvalidArgument, m); }
inline Status NotFound(std::string_view m) { return Status(Code::kNotFound, m); }
inline Status Corruption(std::string_view m) { return Status(Code::kCorruption, m); }
inline Status IOError(std::string_view m) { return Status(Code::kIOError, m); }
inline Status ResourceExhausted(std::string_view m) {
  return Status(Code::kResourceExhausted, m);
}
inline Status PayloadTooLarge(std::string_view m) { return Status(Code::kPayloadTooLarge, m); }
inline Status Unavailable(std::string_view m) { return Status(Code::kUnavailable, m); }
inline Status FailedPrecondition(std::string_view m) {
  return Status(Code::kFailedPrecondition, m);
}
inline Status Unimplemented(std::string_view m) { return Status(Code::kUnimplemented, m); }
inline Status Internal(std::string_view m) { return Status(Code::kInternal, m); }
inline Status Unauthenticated(std::string_view m) { return Status(Code::kUnauthenticated, m); }
inline Status PermissionDenied(std::string_view m) {
  return Status(Code::kPermissionDenied, m);
}
// errno-based I/O error: "open /x/y: No such file or directory".
Status ErrnoError(std::string_view what, int err);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& s) : v_(s) {}  // NOLINT: implicit by design
  StatusOr(Status&& s) : v_(std::move(s)) {}  // NOLINT
  StatusOr(const T& v) : v_(v) {}  // NOLINT
  StatusOr(T&& v) : v_(std::move(v)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
  // Precondition: ok(). Checked in debug builds only; callers test ok() first.
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace sightline

#define SL_CONCAT_INNER(a, b) a##b
#define SL_CONCAT(a, b) SL_CONCAT_INNER(a, b)

// Returns from the current function if `expr` yields a non-OK Status.
#define SL_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::sightline::Status _sl_st = (expr);      \
    if (!_sl_st.ok()) return _sl_st;          \
  } while (0)

// `SL_ASSIGN_OR_RETURN(auto x, F());` assigns the value or returns the error.
#define SL_ASSIGN_OR_RETURN(lhs, expr) \
  SL_ASSIGN_OR_RETURN_IMPL(SL_CONCAT(_sl_so_, __LINE__), lhs, expr)
#define SL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#endif  // SIGHTLINE_BASE_STATUS_H_
