// A throwaway etcd (Debian's etcd-server) on 127.0.0.1:<free port>, one
// member, its data in a temp dir; optionally with mutual TLS (a CA, a server
// and a client certificate made with the openssl CLI, and
// --client-cert-auth). Killed and removed with the fixture; it also dies with
// the thread that started it (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <string>

#include "orchestrator/daemon/store/etcd_store.h"
#include "tests/support/bundle.h"

namespace stack::test {

struct EtcdFixtureOptions {
  bool mutual_tls = false;
};

class EtcdFixture {
 public:
  // "" when it can run, else why not ("etcd is not installed ...").
  static std::string skip_reason(const EtcdFixtureOptions& opts = {});

  explicit EtcdFixture(EtcdFixtureOptions opts = {});
  ~EtcdFixture();
  EtcdFixture(const EtcdFixture&) = delete;
  EtcdFixture& operator=(const EtcdFixture&) = delete;

  // Starts etcd and waits until it serves; "" or what went wrong.
  std::string start();
  void stop();  // SIGKILL and reap; safe twice

  std::string endpoint() const;  // http(s)://127.0.0.1:port
  // What a client needs to reach it (the client certificate included with
  // mutual TLS).
  orch::EtcdOptions client_options() const;
  std::string dir() const { return dir_.path(); }
  std::string log() const;

 private:
  EtcdFixtureOptions opts_;
  TempDir dir_;
  int client_port_ = 0;
  int peer_port_ = 0;
  pid_t pid_ = -1;
  std::string setup_error_;
};

}  // namespace stack::test
