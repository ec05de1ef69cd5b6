#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace zflow {
namespace {

Status ErrnoStatus(int err, const std::string& path, std::string_view action) {
  std::string msg = fmt::format("cannot {} {}: {}", action, path, std::strerror(err));
  switch (err) {
    case ENOENT: return NotFoundError(std::move(msg));
    case EACCES:
    case EPERM: return Status(StatusCode::kPermissionDenied, std::move(msg));
    case EISDIR: return InvalidArgumentError(std::move(msg));
    default: return UnavailableError(std::move(msg));
  }
}

}  // namespace

Result<FileContents> ReadFileCapped(const std::string& path, std::size_t max_bytes) {
  int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path, "read");
  FileContents out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (fd != STDIN_FILENO) ::close(fd);
    return InvalidArgumentError(fmt::format("cannot read {}: it is a directory", path));
  }
  char buf[65536];
  while (out.data.size() <= max_bytes) {
    std::size_t want = std::min(sizeof buf, max_bytes + 1 - out.data.size());
    ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      if (fd != STDIN_FILENO) ::close(fd);
      return ErrnoStatus(err, path, "read");
    }
    if (n == 0) break;
    out.data.append(buf, static_cast<std::size_t>(n));
  }
  out.truncated = out.data.size() > max_bytes;
  out.size = out.data.size();
  if (out.truncated && S_ISREG(st.st_mode)) out.size = static_cast<std::size_t>(st.st_size);
  if (fd != STDIN_FILENO) ::close(fd);
  return out;
}

Status WriteFileAtomically(const std::string& path, std::string_view data) {
  std::string tmp = path + ".zflow-tmp";
  // Keep the permissions of the file being replaced.
  struct stat st {};
  mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus(errno, tmp, "write");
  ::fchmod(fd, mode);  // open() applies the umask; the replaced file's mode wins
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoStatus(err, tmp, "write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(err, tmp, "write");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(err, path, "replace");
  }
  return Status::Ok();
}

}  // namespace zflow
