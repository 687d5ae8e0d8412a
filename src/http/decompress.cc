#include "http/decompress.h"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

namespace sightline::http {
namespace {

// zlib counts in uInt (32 bits): feed it at most this much per call.
constexpr size_t kMaxZlibChunk = size_t{1} << 30;
constexpr size_t kMinOutputBuffer = 64 << 10;

Status TooLarge(size_t max_bytes) {
  return PayloadTooLarge("decompressed body exceeds " + std::to_string(max_bytes) + " bytes");
}

std::string Normalize(std::string_view e) {
  while (!e.empty() && (e.front() == ' ' || e.front() == '\t')) e.remove_prefix(1);
  while (!e.empty() && (e.back() == ' ' || e.back() == '\t')) e.remove_suffix(1);
  std::string out(e);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// An output buffer that grows geometrically but never beyond max_bytes + 1 bytes, the one
// extra byte being how "more than max_bytes" is detected without decoding any further.
class CappedOutput {
 public:
  CappedOutput(size_t max_bytes, size_t input_size)
      : max_bytes_(max_bytes),
        limit_(max_bytes == std::numeric_limits<size_t>::max() ? max_bytes : max_bytes + 1) {
    const size_t guess =
        input_size > limit_ / 4 ? limit_ : std::max(input_size * 4, kMinOutputBuffer);
    buf_.resize(std::min(guess, limit_));
  }

  // Makes room for more output. Fails once the cap has been reached.
  Status Reserve() {
    if (used_ < buf_.size()) return Status::OK();
    if (buf_.size() >= limit_) return TooLarge(max_bytes_);
    buf_.resize(buf_.size() > limit_ / 2 ? limit_ : std::max(buf_.size() * 2, kMinOutputBuffer));
    return Status::OK();
  }
  char* next() { return buf_.data() + used_; }
  size_t avail() const { return buf_.size() - used_; }
  Status Produced(size_t n) {
    used_ += n;
    return used_ > max_bytes_ ? TooLarge(max_bytes_) : Status::OK();
  }
  std::string Take() && {
    buf_.resize(used_);
    return std::move(buf_);
  }

 private:
  size_t max_bytes_;
  size_t limit_;
  size_t used_ = 0;
  std::string buf_;
};

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

bool LooksLikeZlibOrGzip(std::string_view s) {
  if (s.size() < 2) return false;
  const auto b0 = static_cast<uint8_t>(s[0]), b1 = static_cast<uint8_t>(s[1]);
  if (b0 == 0x1f && b1 == 0x8b) return true;                              // gzip magic
  return (b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && (b0 << 8 | b1) % 31 == 0;  // zlib header
}

// Inflates `body`: window_bits as for inflateInit2 (15 + 32: zlib or gzip, auto-detected;
// -15: raw deflate). Further gzip members after the first are decoded too.
StatusOr<std::string> Inflate(std::string_view body, int window_bits, std::string_view name,
                              size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return Internal("zlib: inflateInit2 failed");
  struct Ender {
    z_stream* zs;
    ~Ender() { inflateEnd(zs); }
  } ender{&zs};

  CappedOutput out(max_bytes, body.size());
  size_t consumed = 0;  // input bytes handed to zlib and used up
  for (;;) {
    SL_RETURN_IF_ERROR(out.Reserve());
    const size_t in_chunk = std::min(body.size() - consumed, kMaxZlibChunk);
    const size_t out_chunk = std::min(out.avail(), kMaxZlibChunk);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data() + consumed));
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.next());
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_chunk - zs.avail_in;
    SL_RETURN_IF_ERROR(out.Produced(out_chunk - zs.avail_out));
    if (rc == Z_STREAM_END) {
      const std::string_view rest = body.substr(consumed);
      if (rest.empty() || AllZero(rest)) break;  // trailing zero padding is tolerated
      if (rest.size() >= 2 && static_cast<uint8_t>(rest[0]) == 0x1f &&
          static_cast<uint8_t>(rest[1]) == 0x8b && window_bits > 15) {
        if (inflateReset(&zs) != Z_OK) return Internal("zlib: inflateReset failed");
        continue;  // another gzip member
      }
      return InvalidArgument(std::string(name) + ": trailing data after the compressed stream");
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR) {
      if (zs.avail_out == 0) continue;  // output full: grow and go on
      return InvalidArgument(std::string(name) + ": truncated data");
    }
    std::string msg = std::string(name) + ": invalid data";
    if (zs.msg != nullptr) msg += std::string(": ") + zs.msg;
    return InvalidArgument(msg);
  }
  return std::move(out).Take();
}

// The smallest window log that covers max_bytes, within zstd's accepted range.
int ZstdWindowLogMax(size_t max_bytes) {
  // ZSTD_WINDOWLOG_MIN and ZSTD_WINDOWLOG_LIMIT_DEFAULT (zstd.h's static-only section).
  constexpr int kMinLog = 10, kDefaultMaxLog = 27;
  int log = kMinLog;
  while (log < kDefaultMaxLog && (size_t{1} << log) < max_bytes) ++log;
  return log;
}

StatusOr<std::string> Unzstd(std::string_view body, size_t max_bytes) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (dctx == nullptr) return ResourceExhausted("zstd: cannot allocate a decompression context");
  struct Freer {
    ZSTD_DCtx* d;
    ~Freer() { ZSTD_freeDCtx(d); }
  } freer{dctx};
  // A frame may declare a huge window (up to 2 GB on 64-bit) that the decoder would then
  // allocate; no window larger than the output cap is ever needed.
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, ZstdWindowLogMax(max_bytes));

  CappedOutput out(max_bytes, body.size());
  ZSTD_inBuffer in{body.data(), body.size(), 0};
  for (;;) {
    SL_RETURN_IF_ERROR(out.Reserve());
    ZSTD_outBuffer o{out.next(), out.avail(), 0};
    const size_t rc = ZSTD_decompressStream(dctx, &o, &in);
    if (ZSTD_isError(rc)) {
      if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge) {
        return TooLarge(max_bytes);
      }
      return InvalidArgument(std::string("zstd: invalid data: ") + ZSTD_getErrorName(rc));
    }
    SL_RETURN_IF_ERROR(out.Produced(o.pos));
    if (rc == 0 && in.pos == in.size) break;  // a frame just ended and no input is left
    if (in.pos == in.size && o.pos < o.size) {
      return InvalidArgument("zstd: truncated data");
    }
  }
  return std::move(out).Take();
}

// Brotli (RFC 7932) streamed into the capped buffer. The decoder's window is bounded by the
// format (16 MiB at most), never by anything the header claims about the output size.
StatusOr<std::string> Unbrotli(std::string_view body, size_t max_bytes) {
  std::unique_ptr<BrotliDecoderState, void (*)(BrotliDecoderState*)> st(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), BrotliDecoderDestroyInstance);
  if (st == nullptr) return ResourceExhausted("br: cannot allocate a decoder");
  CappedOutput out(max_bytes, body.size());
  const auto* next_in = reinterpret_cast<const uint8_t*>(body.data());
  size_t avail_in = body.size();
  for (;;) {
    SL_RETURN_IF_ERROR(out.Reserve());
    size_t avail_out = out.avail();
    const size_t before = avail_out;
    auto* next_out = reinterpret_cast<uint8_t*>(out.next());
    const BrotliDecoderResult rc = BrotliDecoderDecompressStream(
        st.get(), &avail_in, &next_in, &avail_out, &next_out, nullptr);
    SL_RETURN_IF_ERROR(out.Produced(before - avail_out));
    if (rc == BROTLI_DECODER_RESULT_SUCCESS) {
      if (avail_in != 0) return InvalidArgument("br: trailing data after the compressed stream");
      break;
    }
    if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) continue;
    if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) return InvalidArgument("br: truncated data");
    return InvalidArgument(std::string("br: invalid data: ") +
                           BrotliDecoderErrorString(BrotliDecoderGetErrorCode(st.get())));
  }
  return std::move(out).Take();
}

}  // namespace

StatusOr<std::string> Decompress(std::string_view body, std::string_view content_encoding,
                                 size_t max_bytes) {
  const std::string enc = Normalize(content_encoding);
  if (enc.empty() || enc == "identity") {
    if (body.size() > max_bytes) return TooLarge(max_bytes);
    return std::string(body);
  }
  const bool gzip = enc == "gzip" || enc == "x-gzip";
  if (!gzip && enc != "deflate" && enc != "zstd" && enc != "br") {
    return Status(Code::kUnsupportedMediaType, "unsupported Content-Encoding '" +
                                                   std::string(content_encoding) +
                                                   "': use gzip, deflate, zstd or identity");
  }
  if (body.empty()) return std::string();
  if (enc == "zstd") return Unzstd(body, max_bytes);
  if (enc == "br") return Unbrotli(body, max_bytes);
  if (gzip) return Inflate(body, 15 + 32, "gzip", max_bytes);
  // HTTP "deflate" means zlib; raw deflate is common enough in the wild to accept too.
  return LooksLikeZlibOrGzip(body) ? Inflate(body, 15 + 32, "deflate", max_bytes)
                                   : Inflate(body, -15, "deflate", max_bytes);
}

}  // namespace sightline::http
