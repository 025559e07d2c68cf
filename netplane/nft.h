// A thin RAII owner of one libnftables context (nft_ctx*). Every change the
// netplane makes is one call to run(): libnftables applies all commands of a
// buffer as a single netlink batch, so a multi-command buffer is atomic
// (all or nothing). Errors are captured from the context's error buffer and
// returned as values; nothing is printed to stderr.
//
// nftables state is per network namespace: the namespace is the one of the
// thread that calls run() (the netlink socket is opened in it).
#pragma once

#include <nftables/libnftables.h>

#include <memory>
#include <string>

#include "base/error.h"

namespace stack::net {

class Nft {
 public:
  static stack::Result<Nft> open();

  // Applies `commands` (nft syntax, one command per line) atomically.
  // `what` names the change for the error context ("publish 8080/tcp").
  stack::Result<void> run(const std::string& commands, const std::string& what);
  // Runs a listing command and returns its output as JSON text ("nft -j").
  // Rule handles are included so rules can be deleted by handle.
  stack::Result<std::string> list_json(const std::string& command);
  // Whether `table inet stack`-style object exists: runs `list <object>`
  // and reports false when nftables says it does not.
  bool exists(const std::string& object);

 private:
  struct Deleter {
    void operator()(nft_ctx* c) const { nft_ctx_free(c); }
  };
  explicit Nft(nft_ctx* c) : ctx_(c) {}
  stack::Result<std::string> exec(const std::string& commands, unsigned flags, const std::string& what);
  std::unique_ptr<nft_ctx, Deleter> ctx_;
};

}  // namespace stack::net
