#include "storage/embedded/wal.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "base/coding.h"

namespace sightline::storage {
namespace {

constexpr char kSegmentMagic[8] = {'S', 'L', 'W', 'A', 'L', '0', '0', '1'};
constexpr uint64_t kMaxRecord = 1ull << 31;

bool ParseSegmentName(const std::string& name, uint64_t* seq) {
  if (name.size() != 20 + 4 || name.compare(20, 4, ".wal") != 0) return false;
  uint64_t v = 0;
  for (int i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *seq = v;
  return true;
}

void MakeHeader(std::string_view payload, uint8_t type, char* h) {
  uint32_t len = static_cast<uint32_t>(payload.size());
  std::memcpy(h + 4, &len, 4);
  h[8] = static_cast<char>(type);
  uint32_t crc = Crc32(std::string_view(h + 4, 5));
  crc = Crc32Extend(crc, payload);
  std::memcpy(h, &crc, 4);
}

}  // namespace

StatusOr<FsyncPolicy> ParseFsyncPolicy(std::string_view s) {
  if (s == "always") return FsyncPolicy::kAlways;
  if (s == "interval") return FsyncPolicy::kInterval;
  if (s == "never") return FsyncPolicy::kNever;
  return InvalidArgument("wal fsync policy must be always, interval or never, got '" +
                         std::string(s) + "'");
}

std::string_view FsyncPolicyName(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kInterval:
      return "interval";
    case FsyncPolicy::kNever:
      return "never";
  }
  return "?";
}

std::string Wal::SegmentPath(uint64_t seq) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020" PRIu64 ".wal", seq);
  return dir_ + "/" + name;
}

Status Wal::OpenSegment(uint64_t seq) {
  SL_ASSIGN_OR_RETURN(auto f, WritableFile::Open(SegmentPath(seq), true));
  SL_RETURN_IF_ERROR(f->Append(std::string_view(kSegmentMagic, 8)));
  SL_RETURN_IF_ERROR(f->Sync());
  SL_RETURN_IF_ERROR(SyncDir(dir_));
  file_ = std::move(f);
  seq_ = seq;
  return Status::OK();
}

StatusOr<std::unique_ptr<Wal>> Wal::Open(const std::string& dir, const WalOptions& options,
                                         const std::function<Status(std::string_view)>& replay,
                                         WalRecoveryReport* report) {
  SL_RETURN_IF_ERROR(CreateDirs(dir));
  std::unique_ptr<Wal> wal(new Wal(dir, options));
  SL_ASSIGN_OR_RETURN(auto names, ListDir(dir));
  std::vector<uint64_t> seqs;
  for (const auto& n : names) {
    uint64_t s;
    if (ParseSegmentName(n, &s)) seqs.push_back(s);
  }
  std::sort(seqs.begin(), seqs.end());
  size_t skipped = 0;
  while (skipped < seqs.size() && seqs[skipped] < options.skip_before) {
    SL_RETURN_IF_ERROR(RemoveFile(wal->SegmentPath(seqs[skipped])));
    ++skipped;
  }
  if (skipped > 0) {
    SL_RETURN_IF_ERROR(SyncDir(dir));
    seqs.erase(seqs.begin(), seqs.begin() + static_cast<ptrdiff_t>(skipped));
  }
  for (size_t i = 0; i < seqs.size(); ++i) {
    const bool newest = i + 1 == seqs.size();
    std::string path = wal->SegmentPath(seqs[i]);
    std::string data;
    SL_RETURN_IF_ERROR(ReadFileToString(path, &data));
    report->segments++;
    size_t pos = 0;
    std::string problem;
    if (data.size() < 8 || std::memcmp(data.data(), kSegmentMagic, 8) != 0) {
      problem = "bad segment magic";
    } else {
      pos = 8;
      while (pos < data.size()) {
        if (data.size() - pos < kHeaderSize) {
          problem = "truncated record header";
          break;
        }
        uint32_t crc = DecodeFixed32(data.data() + pos);
        uint32_t len = DecodeFixed32(data.data() + pos + 4);
        uint8_t type = static_cast<uint8_t>(data[pos + 8]);
        if (len > kMaxRecord || data.size() - pos - kHeaderSize < len) {
          problem = "truncated record";
          break;
        }
        std::string_view payload(data.data() + pos + kHeaderSize, len);
        uint32_t actual = Crc32Extend(Crc32(std::string_view(data.data() + pos + 4, 5)), payload);
        if (actual != crc) {
          problem = "checksum mismatch";
          break;
        }
        if (type == kTypeLogBatch) SL_RETURN_IF_ERROR(replay(payload));
        report->records++;
        report->bytes += kHeaderSize + len;
        pos += kHeaderSize + len;
      }
    }
    if (!problem.empty()) {
      std::string where = path + " at offset " + std::to_string(pos) + ": " + problem + ", " +
                          std::to_string(data.size() - pos) + " bytes dropped";
      if (newest) {
        report->torn_tails++;
        report->problems.push_back("torn WAL tail in " + where);
        SL_ASSIGN_OR_RETURN(auto f, WritableFile::Open(path, false));
        SL_RETURN_IF_ERROR(f->Truncate(pos < 8 ? 0 : pos));
        SL_RETURN_IF_ERROR(f->Sync());
      } else {
        report->corrupt_segments++;
        report->problems.push_back("corrupt WAL segment " + where);
      }
    }
    wal->sealed_.push_back(seqs[i]);
    wal->sealed_bytes_ += data.size();
  }
  SL_RETURN_IF_ERROR(wal->OpenSegment(
      std::max<uint64_t>(seqs.empty() ? 1 : seqs.back() + 1, options.skip_before)));
  return wal;
}

Wal::~Wal() {
  std::lock_guard<std::mutex> l(mu_);
  if (file_ && error_.ok()) file_->Sync().IgnoreError();
}

Status Wal::Append(std::string_view payload) {
  if (payload.size() > kMaxRecord) return InvalidArgument("WAL record too large");
  std::unique_lock<std::mutex> l(mu_);
  if (!error_.ok()) return error_;
  Pending p;
  MakeHeader(payload, kTypeLogBatch, p.header);
  p.payload = payload;
  pending_.push_back(p);
  const uint64_t my_ticket = ++next_ticket_;
  while (true) {
    if (done_ticket_ >= my_ticket) return error_;
    if (!leader_active_) {
      // Become the leader: write everything pending (ours included) in one writev and,
      // with kAlways, one fdatasync; followers wait on cv_.
      leader_active_ = true;
      std::vector<Pending> batch;
      batch.swap(pending_);
      const uint64_t last = next_ticket_;
      WritableFile* f = file_.get();
      l.unlock();
      std::vector<std::string_view> parts;
      parts.reserve(batch.size() * 2);
      for (const auto& b : batch) {
        parts.emplace_back(b.header, kHeaderSize);
        parts.push_back(b.payload);
      }
      Status s = f->AppendV(parts);
      if (s.ok() && options_.fsync == FsyncPolicy::kAlways) s = f->Sync();
      l.lock();
      if (!s.ok() && error_.ok()) error_ = s.Annotate("WAL failed");
      done_ticket_ = last;
      leader_active_ = false;
      cv_.notify_all();
    } else {
      cv_.wait(l);
    }
  }
}

StatusOr<uint64_t> Wal::Rotate() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return !leader_active_ && pending_.empty(); });
  if (!error_.ok()) return error_;
  if (options_.fsync != FsyncPolicy::kNever) SL_RETURN_IF_ERROR(file_->Sync());
  sealed_.push_back(seq_);
  sealed_bytes_ += file_->size();
  SL_RETURN_IF_ERROR(file_->Close());
  Status s = OpenSegment(seq_ + 1);
  if (!s.ok()) {
    error_ = s;
    return s;
  }
  return seq_;
}

Status Wal::DropSegmentsBefore(uint64_t seq) {
  std::vector<uint64_t> drop;
  {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<uint64_t> keep;
    for (uint64_t s : sealed_) (s < seq ? drop : keep).push_back(s);
    sealed_.swap(keep);
  }
  for (uint64_t s : drop) {
    std::string p = SegmentPath(s);
    uint64_t sz = DiskUsage(p);
    SL_RETURN_IF_ERROR(RemoveFile(p));
    std::lock_guard<std::mutex> l(mu_);
    sealed_bytes_ -= std::min(sealed_bytes_, sz);
  }
  return drop.empty() ? Status::OK() : SyncDir(dir_);
}

Status Wal::SyncNow() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return !leader_active_; });
  if (!error_.ok()) return error_;
  Status s = file_->Sync();
  if (!s.ok()) error_ = s;
  return s;
}

uint64_t Wal::bytes() const {
  std::lock_guard<std::mutex> l(mu_);
  return sealed_bytes_ + (file_ ? file_->size() : 0);
}

bool Wal::failed() const {
  std::lock_guard<std::mutex> l(mu_);
  return !error_.ok();
}

}  // namespace sightline::storage
