#include "tests/support/registry_fixture.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/loopback_port.h"
#include "tests/support/test_daemon.h"

namespace stack::test {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRegistryBin = "/usr/bin/docker-registry";

}  // namespace

std::string RegistryFixture::skip_reason(const RegistryOptions& opts) {
  if (!fs::exists(kRegistryBin)) return "docker-registry is not installed (apt-get install docker-registry)";
  if (opts.tls && !fs::exists("/usr/bin/openssl")) return "openssl is not installed";
  if (!opts.user.empty() && !fs::exists("/usr/bin/htpasswd"))
    return "htpasswd is not installed (apt-get install apache2-utils)";
  return "";
}

RegistryFixture::RegistryFixture(RegistryOptions opts) : opts_(std::move(opts)), dir_("stack-registry") {
  port_ = free_loopback_port();
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
  pid_ = spawn_test_daemon({kRegistryBin, "serve", config}, logfile);
  if (pid_ < 0) return "fork failed";
  for (int i = 0; i < 300; ++i) {  // up to 15 s on a loaded machine
    if (loopback_accepts(port_)) return "";
    if (test_daemon_exited(pid_)) return "docker-registry exited during startup: " + log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return "docker-registry did not listen on " + host() + ": " + log();
}

void RegistryFixture::stop() { kill_test_daemon(pid_); }

}  // namespace stack::test
