#include "tests/support/registry_fixture.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace stack::test {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRegistryBin = "/usr/bin/docker-registry";

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool can_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string RegistryFixture::skip_reason(const RegistryOptions& opts) {
  if (!fs::exists(kRegistryBin)) return "docker-registry is not installed (apt-get install docker-registry)";
  if (opts.tls && !fs::exists("/usr/bin/openssl")) return "openssl is not installed";
  if (!opts.user.empty() && !fs::exists("/usr/bin/htpasswd"))
    return "htpasswd is not installed (apt-get install apache2-utils)";
  return "";
}

RegistryFixture::RegistryFixture(RegistryOptions opts) : opts_(std::move(opts)), dir_("stack-registry") {
  port_ = free_port();
  fs::create_directories(storage());
  std::ofstream cfg(dir_.path() + "/config.yml");
  cfg << "version: 0.1\n"
         "log:\n  level: error\n  accesslog:\n    disabled: true\n"
         "storage:\n  filesystem:\n    rootdirectory: " << storage() << "\n"
         "  delete:\n    enabled: true\n"
         "  maintenance:\n    uploadpurging:\n      enabled: false\n"
         "http:\n  addr: 127.0.0.1:" << port_ << "\n  secret: stack-test-secret\n";
  if (opts_.tls) {
    CmdResult r = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                       "-nodes", "-keyout", dir_.path() + "/key.pem", "-out", ca_file(), "-days", "2", "-subj",
                       "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"});
    if (r.status != 0) setup_error_ = "openssl req -x509 failed: " + r.err;
    cfg << "  tls:\n    certificate: " << ca_file() << "\n    key: " << dir_.path() << "/key.pem\n";
  }
  if (!opts_.user.empty()) {
    CmdResult r = run({"htpasswd", "-Bbn", opts_.user, opts_.password});
    if (r.status != 0) setup_error_ = "htpasswd -Bbn failed: " + r.err;
    std::ofstream(dir_.path() + "/htpasswd") << r.out;
    cfg << "auth:\n  htpasswd:\n    realm: stack-test\n    path: " << dir_.path() << "/htpasswd\n";
  }
}

RegistryFixture::~RegistryFixture() { stop(); }

std::string RegistryFixture::blob_data_path(const std::string& hex) const {
  return storage() + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
}

std::string RegistryFixture::log() const { return read_file(dir_.path() + "/registry.log"); }

std::string RegistryFixture::start() {
  if (!setup_error_.empty()) return setup_error_;
  if (port_ == 0) return "no free port on 127.0.0.1";
  stop();
  const std::string logfile = dir_.path() + "/registry.log";
  const std::string config = dir_.path() + "/config.yml";
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    // A test process killed by a timeout must not leave registries behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    int fd = ::open(logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execl(kRegistryBin, kRegistryBin, "serve", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  for (int i = 0; i < 300; ++i) {  // up to 15 s on a loaded machine
    if (can_connect(port_)) return "";
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "docker-registry exited during startup: " + log();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return "docker-registry did not listen on " + host() + ": " + log();
}

void RegistryFixture::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace stack::test
