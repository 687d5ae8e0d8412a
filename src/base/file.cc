#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

namespace sightline {

namespace fs = std::filesystem;

StatusOr<std::unique_ptr<WritableFile>> WritableFile::Open(const std::string& path,
                                                            bool truncate) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return ErrnoError("open " + path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return ErrnoError("fstat " + path, e);
  }
  return std::unique_ptr<WritableFile>(new WritableFile(fd, path, static_cast<uint64_t>(st.st_size)));
}

WritableFile::~WritableFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status WritableFile::Append(std::string_view data) {
  const char* p = data.data();
  size_t n = data.size();
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + path_, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
    size_ += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

Status WritableFile::AppendV(const std::vector<std::string_view>& parts) {
  // writev in groups of IOV_MAX; fall back to Append for partial writes.
  size_t i = 0;
  while (i < parts.size()) {
    std::vector<iovec> iov;
    size_t total = 0;
    for (size_t j = i; j < parts.size() && iov.size() < 512; ++j) {
      iov.push_back({const_cast<char*>(parts[j].data()), parts[j].size()});
      total += parts[j].size();
    }
    ssize_t w = ::writev(fd_, iov.data(), static_cast<int>(iov.size()));
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("writev " + path_, errno);
    }
    size_ += static_cast<uint64_t>(w);
    size_t done = static_cast<size_t>(w);
    size_t k = i;
    while (k < i + iov.size() && done >= parts[k].size()) done -= parts[k++].size();
    if (k < i + iov.size()) {  // partial write: finish this buffer, continue with the rest
      SL_RETURN_IF_ERROR(Append(parts[k].substr(done)));
      ++k;
    }
    i = k;
    (void)total;
  }
  return Status::OK();
}

Status WritableFile::Sync() {
  if (::fdatasync(fd_) != 0) return ErrnoError("fdatasync " + path_, errno);
  return Status::OK();
}

Status WritableFile::Close() {
  if (fd_ >= 0 && ::close(fd_) != 0) {
    fd_ = -1;
    return ErrnoError("close " + path_, errno);
  }
  fd_ = -1;
  return Status::OK();
}

Status WritableFile::Truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return ErrnoError("ftruncate " + path_, errno);
  size_ = size;
  return Status::OK();
}

StatusOr<std::unique_ptr<RandomAccessFile>> RandomAccessFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return ErrnoError("fstat " + path, e);
  }
  return std::unique_ptr<RandomAccessFile>(
      new RandomAccessFile(fd, path, static_cast<uint64_t>(st.st_size)));
}

RandomAccessFile::~RandomAccessFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status RandomAccessFile::Read(uint64_t offset, size_t n, std::string* out) const {
  if (offset > size_ || n > size_ - offset) {
    return Corruption("read past end of " + path_);
  }
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, out->data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("pread " + path_, errno);
    }
    if (r == 0) return Corruption("unexpected end of " + path_);
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

Status ReadFileToString(const std::string& path, std::string* out) {
  SL_ASSIGN_OR_RETURN(auto f, RandomAccessFile::Open(path));
  return f->Read(0, f->size(), out);
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open dir " + dir, errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync dir " + dir, e);
  return Status::OK();
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  {
    SL_ASSIGN_OR_RETURN(auto f, WritableFile::Open(tmp, true));
    SL_RETURN_IF_ERROR(f->Append(data));
    SL_RETURN_IF_ERROR(f->Sync());
    SL_RETURN_IF_ERROR(f->Close());
  }
  SL_RETURN_IF_ERROR(RenameFile(tmp, path));
  return SyncDir(fs::path(path).parent_path().string());
}

Status CreateDirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return IOError("mkdir " + path + ": " + ec.message());
  return Status::OK();
}

StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return NotFound("no directory " + dir);
    return IOError("list " + dir + ": " + ec.message());
  }
  for (const auto& e : it) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink " + path, errno);
  return Status::OK();
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return IOError("remove " + path + ": " + ec.message());
  return Status::OK();
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoError("rename " + from, errno);
  return Status::OK();
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

uint64_t DiskUsage(const std::string& path) {
  std::error_code ec;
  uint64_t total = 0;
  if (!fs::exists(path, ec)) return 0;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace sightline
