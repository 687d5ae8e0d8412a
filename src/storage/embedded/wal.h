// The write-ahead log: every accepted batch is appended here before it is acknowledged.
// Format: docs/formats/wal.md. A WAL is a directory of numbered segment files; appends go
// to the newest segment; Rotate() seals it and starts another, so that once the data of all
// sealed segments is safe in parts they can be dropped.
//
// Durability is governed by FsyncPolicy:
//   kAlways   - Append returns after fdatasync (group commit: concurrent appenders share one
//               fsync). Survives power loss.
//   kInterval - Append returns after write(2); SyncNow() is called every interval by the
//               owner. Survives kill -9 (the kernel has the bytes), may lose the last
//               interval on power loss.
//   kNever    - like kInterval without the periodic sync.
//
// Thread-safety: Append, Rotate, DropSegmentsBefore and SyncNow may be called concurrently.
#ifndef SIGHTLINE_STORAGE_EMBEDDED_WAL_H_
#define SIGHTLINE_STORAGE_EMBEDDED_WAL_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/file.h"
#include "base/status.h"

namespace sightline::storage {

enum class FsyncPolicy { kAlways, kInterval, kNever };
StatusOr<FsyncPolicy> ParseFsyncPolicy(std::string_view s);
std::string_view FsyncPolicyName(FsyncPolicy p);

struct WalOptions {
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  // Segments numbered below this are already folded into durable parts (the owner records
  // the number in its parts): Open deletes them without replaying, and new segments are
  // numbered at least this high.
  uint64_t skip_before = 0;
};

// What recovery found; logged and exported as metrics by the owner.
struct WalRecoveryReport {
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t torn_tails = 0;       // truncated/corrupt tails cut off the last segment
  uint64_t corrupt_segments = 0; // sealed segments with a bad record (rest of segment skipped)
  std::vector<std::string> problems;  // human-readable descriptions
};

class Wal {
 public:
  // Opens (creating) the WAL in `dir`, replaying every intact record of every existing
  // segment, oldest first, through `replay` (payload bytes are valid only during the call).
  // A bad record at the end of the newest segment is a torn write: the file is truncated
  // there and the event is reported, not an error. Returns IOError if the directory cannot
  // be used, or whatever `replay` returns.
  static StatusOr<std::unique_ptr<Wal>> Open(
      const std::string& dir, const WalOptions& options,
      const std::function<Status(std::string_view payload)>& replay, WalRecoveryReport* report);
  ~Wal();

  // Appends one record holding `payload` and returns once it is durable per the policy.
  // After an I/O error the WAL is failed: this and every later Append return the error.
  Status Append(std::string_view payload);
  // Seals the current segment and opens a new one. Returns the new segment's number; every
  // record appended before the call is in a segment with a smaller number.
  StatusOr<uint64_t> Rotate();
  // Deletes sealed segments numbered below `seq`.
  Status DropSegmentsBefore(uint64_t seq);
  // fdatasync of the current segment.
  Status SyncNow();
  // Bytes in all live segments.
  uint64_t bytes() const;
  bool failed() const;

  static constexpr size_t kHeaderSize = 9;  // crc32, length, type
  static constexpr uint8_t kTypeLogBatch = 1;

 private:
  Wal(std::string dir, WalOptions options) : dir_(std::move(dir)), options_(options) {}
  std::string SegmentPath(uint64_t seq) const;
  Status OpenSegment(uint64_t seq);

  struct Pending {
    char header[kHeaderSize];
    std::string_view payload;
  };

  const std::string dir_;
  const WalOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<WritableFile> file_;  // guarded by mu_ (leader writes without mu_, see .cc)
  uint64_t seq_ = 0;                    // current segment number
  std::vector<uint64_t> sealed_;        // sealed segment numbers
  uint64_t sealed_bytes_ = 0;
  std::vector<Pending> pending_;
  uint64_t next_ticket_ = 0;
  uint64_t done_ticket_ = 0;
  bool leader_active_ = false;
  Status error_;
};

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_WAL_H_
