// ExecSession (below): a running exec or `run` as the engine hands it to
// the API server. start_exec_session(): one over a `stack-runtime exec --process FILE ID` subprocess.
// Without a tty the process's stdio are pipes to us (stdin only when
// interactive); with a tty the runtime connects to a Unix socket of ours
// (--console-socket) and sends the pty master over it (SCM_RIGHTS), which
// becomes stdout_fd(); resize() sets its window size (TIOCSWINSZ).
//
// Ownership: the session owns the runtime child, every fd it hands out and
// the process file (removed when the session ends; also on a failed start);
// dropping it without wait() kills the runtime (the process inside then
// sees its stdio close).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "base/error.h"

namespace stack::orch {

// A running exec (or `run`): the engine hands the caller the process's
// stdio; the caller relays it and calls wait() for the exit code.
class ExecSession {
 public:
  virtual ~ExecSession() = default;
  virtual int stdin_fd() = 0;   // -1 when not interactive
  virtual int stdout_fd() = 0;  // the pty master with tty
  virtual int stderr_fd() = 0;  // -1 with tty
  virtual void resize(unsigned rows, unsigned cols) = 0;
  virtual stack::Result<int> wait() = 0;  // exit code (128+signal when killed)
  virtual void close_stdin() = 0;
  // A session another node runs (cluster/remote_exec.h) speaks the exec
  // frame protocol itself: it takes the client's socket, with the bytes
  // already read from it after the request, relays until either side ends
  // (or `stop`), and returns true; the exit code reaches the client in a
  // frame, not through wait(). A session of this node's returns false: the
  // caller relays its stdio (relay_frames).
  virtual bool relay_client(int client_fd, const std::string& pending, const std::atomic<bool>& stop) {
    (void)client_fd, (void)pending, (void)stop;
    return false;
  }
};

// A session whose process's stdio someone else holds (another node, a
// shim's attach socket): only relay_client() reaches them, so the fd
// accessors have nothing to give.
class RelayedSession : public ExecSession {
 public:
  int stdin_fd() override { return -1; }
  int stdout_fd() override { return -1; }
  int stderr_fd() override { return -1; }
  void resize(unsigned, unsigned) override {}
  void close_stdin() override {}
};

struct ExecLaunch {
  std::string runtime_path;
  std::string runtime_root;
  std::string id;
  std::string process_file;  // process.json (terminal set when tty); the session removes it
  bool tty = false;
  bool interactive = false;
  bool detach = false;
};

stack::Result<std::unique_ptr<ExecSession>> start_exec_session(const ExecLaunch& launch);

}  // namespace stack::orch
