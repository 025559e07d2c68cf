// attach.sock: `stack attach` and `stack run -it` reach the container's main
// process through its shim, which owns that process's stdio (its pty master
// with `tty: true`, the write end of its stdin pipe with `stdin_open: true`).
// The stream is the exec frame protocol (orchestrator/api/framing.h), so
// stackd relays it to the CLI unchanged:
//
//   client -> shim  Stdin (bytes for the process; empty = the client's EOF),
//                   Resize ("ROWS COLS", applied to the pty)
//   shim -> client  Stdout / Stderr (output from the moment of attaching),
//                   Exit ("CODE") once the process exited and its output
//                   was read, then the shim closes the connection
//
// Like Docker: input reaches the process only when its stdin is open (else
// it is read and dropped); a client's EOF closes the process's stdin only
// with stdin_once (the one-off of `run -i`), otherwise the next attach can
// type on; detaching is the client going away and changes nothing here.
//
// The shim's loop is single threaded and must never block on a client: the
// socket is non-blocking, output queues per client up to kMaxQueued and a
// client that lets more pile up is dropped (the log keeps everything).
// Input for the process queues up to kMaxQueued too (the process reads it
// at its pace); beyond that a client's input is dropped.
//
// hold (one-offs of `run -it`): output is kept (up to kMaxQueued) until the
// first client attached, which gets it first, so nothing the process wrote
// before stackd connected is lost; stackd attaches right after the start.
#pragma once

#include <poll.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "runtime/shim/private_socket.h"
#include "orchestrator/api/framing.h"

namespace stack::shim {

struct AttachOptions {
  // The process's stdin pipe (write end) or its pty master; -1 when it has
  // neither (stdin is /dev/null).
  stack::UniqueFd input;
  bool terminal = false;    // input is a pty master: Resize frames apply
  bool stdin_open = false;  // Stdin frames reach the process (else dropped)
  bool stdin_once = false;  // a client's EOF closes the stdin pipe
  bool hold = false;        // keep output for the first client
};

class AttachServer {
 public:
  static constexpr size_t kMaxClients = 8;
  static constexpr size_t kMaxQueued = 1 << 20;

  AttachServer() = default;
  ~AttachServer();
  AttachServer(const AttachServer&) = delete;
  AttachServer& operator=(const AttachServer&) = delete;

  // Binds (mode 0600) and listens at `path`.
  stack::Result<> listen(const std::string& path, AttachOptions options);
  bool active() const { return listener_.active(); }
  bool had_client() const { return had_client_; }
  // Adds the listener, the clients and the input (when output is queued
  // for them) to `fds` for one poll round.
  void add_poll_fds(std::vector<struct pollfd>& fds) const;
  // Serves whatever `fds` (filled by add_poll_fds, polled) reports.
  void handle(const std::vector<struct pollfd>& fds);
  // Output of the process, to every client (or held for the first).
  void output(orch::FrameType stream, std::string_view data);
  // The process exited: Exit to every client, a bounded wait for them to
  // take what is queued, then the socket is closed and unlinked.
  void finish(int exit_code);
  void close();

 private:
  struct Client {
    stack::UniqueFd fd;
    orch::FrameDecoder decoder;
    std::string out;  // encoded frames not yet sent
  };
  void accept_clients();
  void read_client(Client& c);
  void apply(const orch::Frame& f);
  void send(Client& c, const std::string& frame);
  void flush(Client& c);
  void flush_input();
  void close_input();

  PrivateListener listener_;
  AttachOptions o_;  // o_.input is reset once the process's stdin is gone
  std::string input_queue_;
  bool had_client_ = false;
  std::string held_;  // encoded frames kept for the first client (hold)
  std::vector<Client> clients_;
};

}  // namespace stack::shim
