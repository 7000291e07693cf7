#include "input_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "secchats/common/secret.hpp"

namespace secchats::cli {
namespace {

Error cannot_read(const std::string& path, const std::string& reason) {
  return Error(ErrorCode::kInvalidArgument, "cannot read " + path + ": " + reason);
}

std::string system_reason(int error) {
  return std::generic_category().message(error);
}

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Opens FILE for reading and rejects a directory; `st` receives its status.
Result<int> open_input(const std::string& path, struct stat* st) {
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "cannot read \"\": no file name");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cannot_read(path, system_reason(errno));
  if (::fstat(fd, st) != 0) {
    const int error = errno;
    ::close(fd);
    return cannot_read(path, system_reason(error));
  }
  if (S_ISDIR(st->st_mode)) {
    ::close(fd);
    return cannot_read(path, "is a directory");
  }
  return fd;
}

}  // namespace

Result<std::vector<std::uint8_t>> read_input_file(const std::string& path, std::size_t max_bytes) {
  struct stat st {};
  SC_ASSIGN_OR_RETURN(int raw_fd, open_input(path, &st));
  Fd fd(raw_fd);
  std::vector<std::uint8_t> bytes;
  std::uint8_t buffer[16384];
  while (bytes.size() < max_bytes) {
    const std::size_t want = std::min(sizeof buffer, max_bytes - bytes.size());
    const ssize_t n = ::read(fd.get(), buffer, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return cannot_read(path, system_reason(errno));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  secure_wipe(buffer, sizeof buffer);  // it may have held a password
  if (bytes.empty()) return cannot_read(path, "the file is empty");
  return bytes;
}

Status check_input_file(const std::string& path) {
  struct stat st {};
  SC_ASSIGN_OR_RETURN(int raw_fd, open_input(path, &st));
  Fd fd(raw_fd);
  if (S_ISREG(st.st_mode) && st.st_size == 0) return cannot_read(path, "the file is empty");
  return ok_status();
}

Status check_attachment_file(const std::string& path) {
  struct stat st {};
  SC_ASSIGN_OR_RETURN(int raw_fd, open_input(path, &st));
  Fd fd(raw_fd);
  if (!S_ISREG(st.st_mode)) return cannot_read(path, "not a regular file");
  return ok_status();
}

}  // namespace secchats::cli
