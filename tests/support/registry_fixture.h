// A throwaway Docker registry (Debian's `docker-registry`, distribution 2.8)
// on 127.0.0.1:<free port> with its storage in a temp dir, optionally behind
// TLS (a self-signed certificate made with `openssl req -x509`) and htpasswd
// basic auth (`htpasswd -Bbn`). The process is killed and the dir removed when
// the fixture goes out of scope.
#pragma once

#include <sys/types.h>

#include <string>

#include "tests/support/bundle.h"

namespace stack::test {

struct RegistryOptions {
  bool tls = false;
  std::string user, password;  // non-empty user: htpasswd auth
};

class RegistryFixture {
 public:
  // "" when the fixture can run; otherwise why not ("docker-registry is not
  // installed (apt-get install docker-registry)").
  static std::string skip_reason(const RegistryOptions& opts = {});

  explicit RegistryFixture(RegistryOptions opts = {});
  ~RegistryFixture();
  RegistryFixture(const RegistryFixture&) = delete;
  RegistryFixture& operator=(const RegistryFixture&) = delete;

  // Starts (or restarts, same port and storage) the registry and waits until
  // it accepts connections. Returns "" or what went wrong.
  std::string start();
  // The registry also dies with the thread that called start() (PR_SET_PDEATHSIG),
  // so a test killed on a timeout leaves no process behind.
  // SIGKILL and reap; safe to call twice.
  void stop();

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string storage() const { return dir_.path() + "/storage"; }
  std::string ca_file() const { return dir_.path() + "/cert.pem"; }  // self-signed: its own CA
  std::string dir() const { return dir_.path(); }
  // Where the registry keeps a blob's bytes.
  std::string blob_data_path(const std::string& hex) const;
  std::string log() const;

 private:
  RegistryOptions opts_;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string setup_error_;
};

}  // namespace stack::test
