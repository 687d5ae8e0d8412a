// Thin POSIX file helpers returning Status. All paths are UTF-8 byte strings. None of these
// classes is thread-safe unless stated; RandomAccessFile::Read is (pread).
#ifndef SIGHTLINE_BASE_FILE_H_
#define SIGHTLINE_BASE_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sightline {

// An append-only file. Append buffers nothing: each call is one write(2) (or writev).
class WritableFile {
 public:
  // Creates (truncate=true) or opens for append. Errors: IOError.
  static StatusOr<std::unique_ptr<WritableFile>> Open(const std::string& path, bool truncate);
  ~WritableFile();
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;

  Status Append(std::string_view data);
  // Appends several buffers with as few syscalls as possible.
  Status AppendV(const std::vector<std::string_view>& parts);
  Status Sync();  // fdatasync
  Status Close();
  // Truncates the file to `size` bytes (used to cut a torn WAL tail).
  Status Truncate(uint64_t size);
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  WritableFile(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  int fd_;
  std::string path_;
  uint64_t size_;
};

// A read-only file read with pread(2). Read is thread-safe.
class RandomAccessFile {
 public:
  static StatusOr<std::unique_ptr<RandomAccessFile>> Open(const std::string& path);
  ~RandomAccessFile();
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  // Reads exactly n bytes at offset into *out (resized). Short file -> Corruption.
  Status Read(uint64_t offset, size_t n, std::string* out) const;
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  RandomAccessFile(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  int fd_;
  std::string path_;
  uint64_t size_;
};

Status ReadFileToString(const std::string& path, std::string* out);
// Writes data to path.tmp, fsyncs, renames over path, fsyncs the directory.
Status WriteFileAtomic(const std::string& path, std::string_view data);
Status CreateDirs(const std::string& path);
// Names (not paths) of the entries of dir, sorted. Missing dir -> NotFound.
StatusOr<std::vector<std::string>> ListDir(const std::string& dir);
Status RemoveFile(const std::string& path);
Status RemoveAll(const std::string& path);
Status RenameFile(const std::string& from, const std::string& to);
Status SyncDir(const std::string& dir);
bool FileExists(const std::string& path);
// Total bytes of regular files under path (recursive); 0 if missing.
uint64_t DiskUsage(const std::string& path);

}  // namespace sightline

#endif  // SIGHTLINE_BASE_FILE_H_
