// A real stackd for the CLI integration tests: its own --root (TempDir),
// socket, --runtime-root and netns dir under /run, its own network namespace
// as "host" (private_netns.h: stackd sweeps its netns at start, and tests
// run side by side under ctest -j; the daemon, the CLI and curl all inherit
// it, so 127.0.0.1:80 and the DNS on each gateway's port 53 are the test's
// own), and the demo images (scripts/make-demo-images.sh) in <root>/images. The
// `stack` CLI talks to it with --host. TearDown removes every stack (down -v)
// and stops the daemon.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/bundle.h"
#include "tests/support/private_netns.h"
#include "tests/support/wait_for.h"

namespace stack::test {

class StackdFixture : public ::testing::Test {
 protected:
  TempDir dir_{"stackd-it"};
  PrivateNetns netns_;  // before the daemon starts, gone after it stopped
  std::string run_dir_;
  pid_t daemon_ = -1;

  std::string root() const { return dir_.path() + "/root"; }
  // Writes `yaml` to <dir>/<name>.yaml; returns its path.
  std::string write_stack_file(const std::string& name, const std::string& yaml) const {
    const std::string file = dir_.path() + "/" + name + ".yaml";
    std::ofstream(file) << yaml;
    return file;
  }
  std::string socket() const { return dir_.path() + "/stackd.sock"; }
  std::string netns_dir() const { return run_dir_ + "/netns"; }

  void SetUp() override {
    STACK_REQUIRE_ROOT();
    ASSERT_TRUE(netns_.ok());
    run_dir_ = "/run/stack-it-" + unique_id("d");
    std::filesystem::create_directories(root());
    auto img = run({"bash", std::string(STACK_SOURCE_DIR) + "/scripts/make-demo-images.sh", "--stack", binary("stack"),
                    "--image-root", root() + "/images"});
    ASSERT_EQ(img.status, 0) << img.err;
    start_daemon(daemon_flags());
  }
  // Flags every start of this fixture's daemon needs (a store elsewhere).
  virtual std::vector<std::string> daemon_flags() { return {}; }

  void TearDown() override {
    if (HasFailure()) {
      auto log = read_file(dir_.path() + "/stackd.log");
      std::cerr << "---- stackd.log (last 3000 bytes)\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
    }
    if (daemon_ > 0) {
      auto ls = stack({"ls", "-q"});
      std::istringstream names(ls.out);
      for (std::string n; std::getline(names, n);)
        if (!n.empty()) stack({"-p", n, "down", "-v"});
      stop_daemon(SIGTERM);
    }
    std::error_code ec;
    if (!run_dir_.empty()) {
      ::umount2(netns_dir().c_str(), MNT_DETACH);  // stackd's private bind mount of its netns dir
      std::filesystem::remove_all(run_dir_, ec);
    }
  }

  // `extra` flags go after the fixture's own (--group, --authz-policy ...).
  void start_daemon(const std::vector<std::string>& extra = {}) {
    std::string log = dir_.path() + "/stackd.log";
    std::vector<std::string> args = {binary("stackd"), "--foreground", "--root", root(), "--socket", socket(),
                                     "--runtime-root", run_dir_ + "/runtime", "--netns-dir", netns_dir(),
                                     "--dns-port", "53", "--log-level", "debug"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    daemon_ = ::fork();
    if (daemon_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ASSERT_TRUE(wait_for([&] { return stack({"version"}).status == 0; })) << read_file(log);
  }

  // SIGTERM: a clean stop; SIGKILL: a crash. Either way containers stay.
  void stop_daemon(int sig) {
    if (daemon_ <= 0) return;
    ::kill(daemon_, sig);
    ::waitpid(daemon_, nullptr, 0);
    daemon_ = -1;
  }
  // SIGTERM, then whether stackd exited within `limit`; one that did not is
  // SIGKILLed so the test goes on (a bound on a hang, not a timing check).
  bool terminate_daemon_within(std::chrono::seconds limit) {
    if (daemon_ <= 0) return true;
    ::kill(daemon_, SIGTERM);
    bool exited = wait_for([&] { return ::waitpid(daemon_, nullptr, WNOHANG) == daemon_; }, limit);
    if (!exited) stop_daemon(SIGKILL);
    daemon_ = -1;
    return exited;
  }

  // The stack CLI's argv, pointed at this daemon (for run() or a PtyClient).
  std::vector<std::string> cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {binary("stack"), "--host", "unix://" + socket(), "--image-root",
                                     root() + "/images"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  CmdResult stack(std::vector<std::string> args, const std::string& input = "") {
    return run(cli(args), input);
  }

  static std::string example(const std::string& name) {
    return std::string(STACK_SOURCE_DIR) + "/examples/compose/" + name;
  }

  nlohmann::json ps(const std::vector<std::string>& select) {
    std::vector<std::string> a = select;
    for (auto s : {"ps", "-a", "--format", "json"}) a.push_back(s);
    auto r = stack(a);
    if (r.status != 0) return nlohmann::json::array();
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  }

  static nlohmann::json replica(const nlohmann::json& ps, const std::string& name) {
    for (auto& r : ps)
      if (r.value("name", "") == name) return r;
    return nlohmann::json::object();
  }

  // tests/support/wait_for.h, 60 s by default.
  static bool wait_for(const std::function<bool()>& cond, std::chrono::seconds limit = std::chrono::seconds(60)) {
    return stack::test::wait_for(cond, limit);
  }

  // GET http://127.0.0.1:PORT/PATH with curl; "" on failure.
  static std::string http_get(int port, const std::string& path = "/") {
    auto r = run({"curl", "-s", "--fail", "-m", "3", "http://127.0.0.1:" + std::to_string(port) + path});
    return r.status == 0 ? r.out : "";
  }

  // Whether something on the host already listens on 127.0.0.1:port.
  static bool port_in_use(int port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool used = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(s);
    return used;
  }

  // Host state a stack may leave behind: links, nft ruleset, mounts under root.
  struct HostSnapshot {
    std::string links, nft;
    size_t mounts = 0;
    bool operator==(const HostSnapshot&) const = default;
    friend void PrintTo(const HostSnapshot& h, std::ostream* os) {
      *os << "{mounts=" << h.mounts << "\nlinks:\n" << h.links << "nft:\n" << h.nft << "}";
    }
  };
  HostSnapshot snapshot() {
    HostSnapshot h;
    h.links = run({"sh", "-c", "ip -o link show | awk -F': ' '{print $2}' | sort"}).out;
    h.nft = run({"sh", "-c", "nft list table inet stack 2>/dev/null | grep -v handle || true"}).out;
    // Mount points under our dirs, except the netns dir itself (stackd
    // makes it a private bind mount once, for its whole life, as ip-netns does).
    std::ifstream m("/proc/self/mountinfo");
    for (std::string line; std::getline(m, line);) {
      std::istringstream f(line);
      std::string id, parent, dev, root_in_fs, point;
      f >> id >> parent >> dev >> root_in_fs >> point;
      if (point == netns_dir()) continue;
      if (point.rfind(dir_.path(), 0) == 0 || point.rfind(run_dir_, 0) == 0) ++h.mounts;
    }
    return h;
  }
};

}  // namespace stack::test
