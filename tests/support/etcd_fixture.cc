#include "tests/support/etcd_fixture.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/support/loopback_port.h"
#include "tests/support/test_daemon.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;
constexpr const char* kEtcdBin = "/usr/bin/etcd";

// The openssl CLI makes the test PKI: a CA, then a certificate it signs for
// `cn` with the given extensions.
std::string make_pki(const std::string& dir) {
  const std::string script = dir + "/make-pki.sh";
  std::ofstream(script) <<
      "set -e; cd \"$(dirname \"$0\")\"\n"
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.pem\n"
      "sign() {\n"
      "  openssl req -newkey rsa:2048 -nodes -subj /CN=$1 -keyout $1.key -out $1.csr\n"
      "  printf '%b\\n' \"$2\" > $1.ext\n"
      "  openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $1.ext -out $1.pem\n"
      "}\n"
      "sign server 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth'\n"
      "sign client 'extendedKeyUsage=clientAuth'\n";
  int rc = std::system(("bash '" + script + "' > '" + dir + "/pki.log' 2>&1").c_str());
  return rc == 0 ? "" : "openssl could not make the test certificates: " + read_file(dir + "/pki.log");
}

}  // namespace

std::string EtcdFixture::skip_reason(const EtcdFixtureOptions& opts) {
  if (!fs::exists(kEtcdBin)) return "etcd is not installed (apt-get install etcd-server)";
  if (opts.mutual_tls && !fs::exists("/usr/bin/openssl")) return "openssl is not installed";
  return "";
}

EtcdFixture::EtcdFixture(EtcdFixtureOptions opts) : opts_(opts), dir_("etcd") {
  client_port_ = free_loopback_port();
  peer_port_ = free_loopback_port();
  if (opts_.mutual_tls) setup_error_ = make_pki(dir_.path());
}

EtcdFixture::~EtcdFixture() { stop(); }

std::string EtcdFixture::endpoint() const {
  return std::string(opts_.mutual_tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(client_port_);
}

orch::EtcdOptions EtcdFixture::client_options() const {
  orch::EtcdOptions o;
  o.endpoints = {endpoint()};
  if (opts_.mutual_tls) {
    o.ca_file = dir_.path() + "/ca.pem";
    o.cert_file = dir_.path() + "/client.pem";
    o.key_file = dir_.path() + "/client.key";
  }
  return o;
}

std::string EtcdFixture::log() const { return read_file(dir_.path() + "/etcd.log"); }

std::string EtcdFixture::start() {
  if (!setup_error_.empty()) return setup_error_;
  if (client_port_ == 0 || peer_port_ == 0) return "no free port on 127.0.0.1";
  stop();
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  std::vector<std::string> args = {kEtcdBin,
                                   "--name=test",
                                   "--data-dir=" + dir_.path() + "/data",
                                   "--listen-client-urls=" + endpoint(),
                                   "--advertise-client-urls=" + endpoint(),
                                   "--listen-peer-urls=" + peer,
                                   "--initial-advertise-peer-urls=" + peer,
                                   "--initial-cluster=test=" + peer,
                                   "--log-outputs=stderr"};
  if (opts_.mutual_tls) {
    args.push_back("--cert-file=" + dir_.path() + "/server.pem");
    args.push_back("--key-file=" + dir_.path() + "/server.key");
    args.push_back("--trusted-ca-file=" + dir_.path() + "/ca.pem");
    args.push_back("--client-cert-auth");
  }
  pid_ = spawn_test_daemon(args, dir_.path() + "/etcd.log");
  if (pid_ < 0) return "fork failed";
  for (int i = 0; i < 300; ++i) {  // up to 15 s on a loaded machine
    if (loopback_accepts(client_port_)) {
      // Listening is not serving: the first request waits for the member
      // to have elected itself.
      auto o = client_options();
      o.request_timeout = std::chrono::seconds(15);
      auto s = orch::open_etcd_store(o);
      if (s) return "";
      return "etcd does not serve: " + s.error().message() + "\n" + log();
    }
    if (test_daemon_exited(pid_)) return "etcd exited during startup: " + log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return "etcd did not listen on " + endpoint() + ": " + log();
}

void EtcdFixture::stop() { kill_test_daemon(pid_); }

}  // namespace stack::test
