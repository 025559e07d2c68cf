#include "orchestrator/daemon/node/probes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>

#include "orchestrator/daemon/node/child_process.h"
#include "base/fd.h"

namespace stack::orch {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string timeout_text(int64_t ms) {
  // Docker: "Health check exceeded timeout (30s)".
  return "Health check exceeded timeout (" +
         (ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms") + ")";
}

sched::ProbeResult finish(sched::ProbeResult r, int code, std::string output) {
  r.end = wall_ms();
  r.exit_code = code;
  if (output.size() > kProbeOutputLimit) output.resize(kProbeOutputLimit);
  r.output = std::move(output);
  return r;
}

// A connected TCP socket to address:port before `deadline` (monotonic ms).
stack::Result<stack::UniqueFd> connect_by(const std::string& address, uint16_t port, int64_t deadline) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    return stack::fail("probe: \"" + address + "\" is not an IP address", EINVAL);
  }
  stack::UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return stack::fail_errno("socket");
  std::string where = address + ":" + std::to_string(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (errno != EINPROGRESS) return stack::fail_errno("connect " + where);
    struct pollfd p = {fd.get(), POLLOUT, 0};
    int n;
    do n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, deadline - monotonic_ms())));
    while (n < 0 && errno == EINTR);
    if (n == 0) return stack::fail("connect " + where + ": timed out", ETIMEDOUT);
    int err = 0;
    socklen_t el = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) return stack::fail("connect " + where, err);
  }
  return fd;
}

}  // namespace

sched::ProbeResult exec_probe(const ExecProbeTarget& t, const sched::HealthSpec& spec) {
  sched::ProbeResult r;
  r.start = wall_ms();
  if (spec.exec.empty()) return finish(r, 1, "exec probe without a command");
  static std::atomic<unsigned> seq{0};
  std::string pid_file = t.scratch_dir + "/probe-" + std::to_string(::getpid()) + "-" + std::to_string(++seq) + ".pid";
  std::vector<std::string> argv = {t.runtime_path, "--root", t.runtime_root, "exec", "--pid-file", pid_file, "--", t.id};
  argv.insert(argv.end(), spec.exec.begin(), spec.exec.end());
  // The runtime does not forward our SIGKILL: end the probe's own process.
  auto kill_inside = [&] {
    std::ifstream f(pid_file);
    pid_t pid = 0;
    if (f >> pid && pid > 0) ::kill(pid, SIGKILL);
  };
  auto run = run_captured(argv, spec.timeout > 0 ? static_cast<int>(spec.timeout) : -1, kProbeOutputLimit, kill_inside);
  ::unlink(pid_file.c_str());
  if (!run) return finish(r, 1, run.error().message());
  if (run->timed_out) return finish(r, -1, timeout_text(spec.timeout));
  return finish(r, run->status, run->output);
}

sched::ProbeResult tcp_probe(const std::string& address, const sched::HealthSpec& spec) {
  sched::ProbeResult r;
  r.start = wall_ms();
  if (address.empty()) return finish(r, 1, "tcp probe: the replica has no address");
  auto fd = connect_by(address, spec.port, monotonic_ms() + (spec.timeout > 0 ? spec.timeout : 30000));
  if (!fd) return finish(r, fd.error().code == ETIMEDOUT ? -1 : 1, fd.error().message());
  return finish(r, 0, "connected to " + address + ":" + std::to_string(spec.port));
}

sched::ProbeResult http_probe(const std::string& address, const sched::HealthSpec& spec) {
  sched::ProbeResult r;
  r.start = wall_ms();
  if (address.empty()) return finish(r, 1, "http probe: the replica has no address");
  int64_t deadline = monotonic_ms() + (spec.timeout > 0 ? spec.timeout : 30000);
  auto fd = connect_by(address, spec.port, deadline);
  if (!fd) return finish(r, fd.error().code == ETIMEDOUT ? -1 : 1, fd.error().message());
  std::string path = spec.path.empty() ? "/" : spec.path;
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + address + ":" + std::to_string(spec.port) +
                    "\r\nUser-Agent: stack-healthcheck\r\nConnection: close\r\n\r\n";
  std::string resp;
  size_t sent = 0;
  // One poll loop: write the request, then read until EOF or enough.
  while (resp.size() < kProbeOutputLimit) {
    struct pollfd p = {fd->get(), static_cast<short>(sent < req.size() ? POLLOUT : POLLIN), 0};
    int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, deadline - monotonic_ms())));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return finish(r, -1, timeout_text(spec.timeout));
    if (sent < req.size()) {
      ssize_t w = ::send(fd->get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EINTR) return finish(r, 1, std::string("send: ") + std::strerror(errno));
      if (w > 0) sent += static_cast<size_t>(w);
      continue;
    }
    char buf[2048];
    ssize_t got = ::recv(fd->get(), buf, sizeof buf, 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (got < 0) return finish(r, 1, std::string("recv: ") + std::strerror(errno));
    if (got == 0) break;
    resp.append(buf, static_cast<size_t>(got));
  }
  int status = 0;
  if (std::sscanf(resp.c_str(), "HTTP/%*d.%*d %d", &status) != 1)
    return finish(r, 1, "http probe: no HTTP status line in the response");
  bool ok = status >= spec.status_min && status <= spec.status_max;
  return finish(r, ok ? 0 : 1, "HTTP " + std::to_string(status) + (ok ? "" : " (expected " +
                std::to_string(spec.status_min) + "-" + std::to_string(spec.status_max) + ")"));
}

}  // namespace stack::orch
