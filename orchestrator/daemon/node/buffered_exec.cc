#include "orchestrator/daemon/node/buffered_exec.h"

#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"
#include "base/io.h"

namespace stack::orch {

namespace {

class Replayed final : public ExecSession {
 public:
  Replayed(UniqueFd out, UniqueFd err, int code) : out_(std::move(out)), err_(std::move(err)), code_(code) {}
  int stdin_fd() override { return -1; }
  int stdout_fd() override { return out_.get(); }
  int stderr_fd() override { return err_.get(); }
  void resize(unsigned, unsigned) override {}
  stack::Result<int> wait() override { return code_; }
  void close_stdin() override {}

 private:
  UniqueFd out_, err_;
  int code_;
};

stack::Result<UniqueFd> memory_file(const char* name, const std::string& content) {
  UniqueFd fd(::memfd_create(name, MFD_CLOEXEC));
  if (!fd) return stack::fail_errno(std::string("exec replay: memfd_create ") + name);
  STACK_TRY(io::write_all(fd.get(), content, name));
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) return stack::fail_errno("exec replay: lseek");
  return fd;
}

}  // namespace

stack::Result<ExecOutput> collect_exec(ExecSession& session, size_t cap) {
  ExecOutput got;
  int fds[2] = {session.stdout_fd(), session.stderr_fd()};
  std::string* into[2] = {&got.out, &got.err};
  bool cut[2] = {false, false};
  std::string buf(32 * 1024, '\0');
  for (;;) {
    pollfd p[2];
    nfds_t n = 0;
    int which[2];
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) {
        which[n] = i;
        p[n++] = {fds[i], POLLIN, 0};
      }
    if (n == 0) break;
    if (::poll(p, n, -1) < 0) {
      if (errno == EINTR) continue;
      return stack::fail_errno("exec: poll");
    }
    for (nfds_t k = 0; k < n; ++k) {
      if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int i = which[k];
      ssize_t r = ::read(fds[i], buf.data(), buf.size());
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) {
        fds[i] = -1;
        continue;
      }
      size_t room = cap > into[i]->size() ? cap - into[i]->size() : 0;
      into[i]->append(buf.data(), std::min(room, static_cast<size_t>(r)));
      cut[i] = cut[i] || static_cast<size_t>(r) > room;
    }
  }
  auto code = session.wait();
  if (!code) return tl::unexpected(code.error());
  got.exit_code = *code;
  for (int i = 0; i < 2; ++i)
    if (cut[i])
      got.err += "\n[stack: " + std::string(i ? "stderr" : "stdout") + " cut at " + std::to_string(cap) +
                 " bytes: a replica on another node is exec'd without a terminal, its output buffered]\n";
  return got;
}

stack::Result<std::unique_ptr<ExecSession>> replayed_exec(const ExecOutput& output) {
  auto out = memory_file("stack-exec-stdout", output.out);
  if (!out) return tl::unexpected(out.error());
  auto err = memory_file("stack-exec-stderr", output.err);
  if (!err) return tl::unexpected(err.error());
  return std::unique_ptr<ExecSession>(new Replayed(std::move(*out), std::move(*err), output.exit_code));
}

}  // namespace stack::orch
