// stack-shim as the daemon uses it: a fresh process per container that
// creates and starts it, logs its output in json-file format, records how it
// ended in exit.json (exit code, signal, OOM kill), survives its parent, and
// forwards SIGTERM. Every test runs against a private runtime root; TearDown
// stops whatever a failed test left and then checks that no state dir,
// cgroup or process of the test's containers remains.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/container/container.h"
#include "tests/support/bundle.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using stack::test::Bundle;
using stack::test::CmdResult;
using stack::test::process_alive;
using stack::test::read_file;

namespace {

// Polls `done` until it holds or `limit` passes. Containers start in tens of
// milliseconds; the limit only keeps a broken shim from hanging the suite.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 30s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::vector<json> log_records(const std::string& path) {
  std::vector<json> out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
    if (!j.is_discarded()) out.push_back(j);
  }
  return out;
}

bool has_record(const std::vector<json>& records, const std::string& stream, const std::string& log) {
  for (auto& r : records)
    if (r.value("stream", "") == stream && r.value("log", "") == log) return true;
  return false;
}

std::string cmdline(pid_t pid) {
  std::string s = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  for (auto& c : s)
    if (c == '\0') c = ' ';
  return s;
}

pid_t parent_of(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto rp = stat.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream in(stat.substr(rp + 2));
  std::string state;
  pid_t ppid = -1;
  in >> state >> ppid;
  return ppid;
}

// Live processes whose command line mentions `needle` (the shim carries
// "--id <id>").
std::vector<pid_t> processes_mentioning(const std::string& needle) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    pid_t pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    if (cmdline(pid).find(needle) != std::string::npos && process_alive(pid)) found.push_back(pid);
  }
  return found;
}

// One request on the shim's control socket.
std::string control(const std::string& socket_path, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  std::string reply;
  if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0) {
    std::string line = request + "\n";
    (void)!::write(fd, line.data(), line.size());
    char buf[1024];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

class ShimTest : public ::testing::Test {
 protected:
  void TearDown() override;

  std::string new_id() {
    ids_.push_back(stack::test::unique_id("shim"));
    return ids_.back();
  }
  std::string state_dir(const std::string& id) const { return root_.path() + "/" + id; }
  std::string log_path(const std::string& id) const { return state_dir(id) + "/container.log"; }
  std::string exit_path(const std::string& id) const { return state_dir(id) + "/exit.json"; }

  std::vector<std::string> shim_argv(const Bundle& b, const std::string& id,
                                     const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> argv = {stack::test::binary("stack-shim"), "--root", root_.path(), "--id", id,
                                     "--bundle", b.dir()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // Forks and execs argv as our child, stdout and stderr into files named
  // after `name` (out_of/err_of read them).
  pid_t spawn(const std::vector<std::string>& argv, const std::string& name) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::string out = files_.path() + "/" + name + ".out", err = files_.path() + "/" + name + ".err";
    pid_t pid = ::fork();
    if (pid == 0) {
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int n = ::open("/dev/null", O_RDONLY);
      ::dup2(n, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execv(args[0], args.data());
      _exit(127);
    }
    children_.push_back(pid);
    return pid;
  }
  std::string out_of(const std::string& name) const { return read_file(files_.path() + "/" + name + ".out"); }
  std::string err_of(const std::string& name) const { return read_file(files_.path() + "/" + name + ".err"); }

  // Waits for our child (bounded); its exit code, 128+signal, or -1 when it
  // did not exit (it is killed then, so the test fails without hanging).
  int wait_child(pid_t pid) {
    int status = 0;
    bool done = eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 60s);
    std::erase(children_, pid);
    if (!done) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // The container pid from the shim's "started <pid>" line.
  static pid_t started_pid(const std::string& out) {
    if (out.rfind("started ", 0) != 0) return -1;
    return static_cast<pid_t>(std::stol(out.substr(8)));
  }
  pid_t wait_started(const std::string& name) {
    pid_t pid = -1;
    eventually([&] { return (pid = started_pid(out_of(name))) > 0; });
    return pid;
  }
  pid_t shim_pid(const std::string& id) const {
    std::string s = read_file(state_dir(id) + "/shim.pid");
    return s.empty() ? -1 : static_cast<pid_t>(std::stol(s));
  }
  json exit_record(const std::string& id) const { return json::parse(read_file(exit_path(id)), nullptr, false); }

  // What the daemon does once it has read exit.json: `stack-runtime delete`.
  void delete_container(const std::string& id) {
    CmdResult r = stack::test::run({stack::test::binary("stack-runtime"), "--root", root_.path(), "delete", id});
    EXPECT_EQ(r.status, 0) << r.err;
  }

  static std::vector<std::string> cgroup_dirs_of(const std::string& id) {
    std::vector<std::string> found;
    std::error_code ec;
    for (auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
      std::error_code ec2;
      if (fs::exists(h.path() / "stack" / id, ec2)) found.push_back((h.path() / "stack" / id).string());
    }
    return found;
  }

  stack::test::TempDir root_{"stack-shim-root"};
  stack::test::TempDir files_{"stack-shim-files"};
  std::vector<std::string> ids_;
  std::vector<pid_t> children_;  // forked by the test, not yet reaped
};

void ShimTest::TearDown() {
  // A failed test may leave a shim running: stop it first (SIGKILL, so it
  // cannot write anything more), then what it ran.
  for (auto& id : ids_) {
    pid_t shim = shim_pid(id);
    if (shim > 0 && process_alive(shim) && cmdline(shim).find(id) != std::string::npos) {
      ADD_FAILURE() << "shim of " << id << " was still running";
      ::kill(shim, SIGKILL);
    }
  }
  for (pid_t pid : children_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  children_.clear();
  for (auto& id : ids_) {
    if (fs::exists(state_dir(id))) {
      ADD_FAILURE() << "state dir of " << id << " was left behind";
      (void)stack::rt::delete_container(stack::rt::StateDir(root_.path()), id, true);
    }
    EXPECT_TRUE(cgroup_dirs_of(id).empty()) << "cgroup of " << id << " leaked";
    EXPECT_TRUE(eventually([&] { return processes_mentioning("--id " + id + " ").empty(); }))
        << "a shim of " << id << " is still running";
  }
}

TEST_F(ShimTest, RecordsExitCodeAndBothStreamsInTheLog) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "echo out; echo err >&2; exit 3"});
  std::string id = new_id();
  pid_t shim = spawn(shim_argv(b, id), "shim");
  ASSERT_EQ(wait_child(shim), 3) << err_of("shim");
  pid_t container = started_pid(out_of("shim"));
  EXPECT_GT(container, 0) << out_of("shim");

  json ex = exit_record(id);
  ASSERT_FALSE(ex.is_discarded()) << read_file(exit_path(id));
  EXPECT_EQ(ex["exit_code"], 3);
  EXPECT_EQ(ex["signal"], 0);
  EXPECT_EQ(ex["oom_killed"], false);
  EXPECT_EQ(ex["id"], id);
  EXPECT_EQ(ex["pid"], container);
  std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)");
  EXPECT_TRUE(std::regex_match(ex["started_at"].get<std::string>(), rfc3339)) << ex.dump();
  EXPECT_TRUE(std::regex_match(ex["finished_at"].get<std::string>(), rfc3339)) << ex.dump();
  EXPECT_LE(ex["started_at"].get<std::string>(), ex["finished_at"].get<std::string>());

  auto records = log_records(log_path(id));
  EXPECT_TRUE(has_record(records, "stdout", "out\n")) << read_file(log_path(id));
  EXPECT_TRUE(has_record(records, "stderr", "err\n")) << read_file(log_path(id));
  EXPECT_EQ(records.size(), 2u);
  for (auto& r : records) EXPECT_TRUE(std::regex_match(r.value("time", ""), rfc3339)) << r.dump();

  // The shim leaves the container for its owner to delete; its own pid file
  // and socket go with it.
  EXPECT_FALSE(fs::exists(state_dir(id) + "/shim.pid"));
  EXPECT_FALSE(fs::exists(state_dir(id) + "/shim.sock"));
  ASSERT_TRUE(fs::exists(state_dir(id) + "/state.json"));
  delete_container(id);
  EXPECT_FALSE(fs::exists(state_dir(id)));
}

TEST_F(ShimTest, SplitsLongLinesAndKeepsBinaryOutputValidJson) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  // 40000 'x' and a newline, then two bytes that are not UTF-8.
  b.set_args({"sh", "-c", "head -c 40000 /dev/zero | tr '\\0' x; echo; printf '\\377\\376ok\\n'"});
  std::string id = new_id();
  pid_t shim = spawn(shim_argv(b, id), "shim");
  ASSERT_EQ(wait_child(shim), 0) << err_of("shim");
  auto records = log_records(log_path(id));
  ASSERT_EQ(records.size(), 4u) << read_file(log_path(id)).substr(0, 300);
  // Docker's 16 KiB partial messages: pieces without '\n', the last with it.
  EXPECT_EQ(records[0]["log"].get<std::string>(), std::string(16384, 'x'));
  EXPECT_EQ(records[1]["log"].get<std::string>(), std::string(16384, 'x'));
  EXPECT_EQ(records[2]["log"].get<std::string>(), std::string(40000 - 2 * 16384, 'x') + "\n");
  EXPECT_EQ(records[3]["log"].get<std::string>(), "\xEF\xBF\xBD\xEF\xBF\xBDok\n");  // U+FFFD twice
  delete_container(id);
}

TEST_F(ShimTest, RefusesBadArgumentsWithoutCreatingAnything) {
  Bundle b;
  std::string id = new_id();
  CmdResult missing = stack::test::run({stack::test::binary("stack-shim"), "--root", root_.path(), "--id", id});
  EXPECT_EQ(missing.status, 125);
  EXPECT_NE(missing.err.find("--bundle is required"), std::string::npos) << missing.err;
  CmdResult rm = stack::test::run(shim_argv(b, id, {"--rm"}));
  EXPECT_EQ(rm.status, 125);
  EXPECT_NE(rm.err.find("--exit-file"), std::string::npos) << rm.err;
  CmdResult size = stack::test::run(shim_argv(b, id, {"--log-max-size", "10k"}));
  EXPECT_EQ(size.status, 125);
  EXPECT_NE(size.err.find("--log-max-size"), std::string::npos) << size.err;
  EXPECT_FALSE(fs::exists(state_dir(id)));
}

TEST_F(ShimTest, RmDeletesTheContainerAfterRecordingTheExit) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "echo done"});
  std::string id = new_id();
  std::string exit_file = files_.path() + "/exit.json";
  std::string log_file = files_.path() + "/out.log";
  pid_t shim = spawn(shim_argv(b, id, {"--rm", "--exit-file", exit_file, "--log-file", log_file}), "shim");
  ASSERT_EQ(wait_child(shim), 0) << err_of("shim");
  EXPECT_FALSE(fs::exists(state_dir(id)));
  EXPECT_TRUE(cgroup_dirs_of(id).empty());
  json ex = json::parse(read_file(exit_file), nullptr, false);
  ASSERT_FALSE(ex.is_discarded());
  EXPECT_EQ(ex["exit_code"], 0);
  EXPECT_TRUE(has_record(log_records(log_file), "stdout", "done\n")) << read_file(log_file);
}

TEST_F(ShimTest, RecordsTheSignalThatKilledTheContainer) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  std::string id = new_id();
  pid_t shim = spawn(shim_argv(b, id), "shim");
  pid_t container = wait_started("shim");
  ASSERT_GT(container, 0) << err_of("shim");
  ASSERT_EQ(::kill(container, SIGKILL), 0);
  EXPECT_EQ(wait_child(shim), 137);
  json ex = exit_record(id);
  ASSERT_FALSE(ex.is_discarded());
  EXPECT_EQ(ex["signal"], 9);
  EXPECT_EQ(ex["exit_code"], 137);
  EXPECT_EQ(ex["oom_killed"], false);
  delete_container(id);
}

TEST_F(ShimTest, DetectsAnOomKill) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  // 16 MiB, swap included where the host accounts swap: the hog cannot
  // escape into swap.
  b.config["linux"]["resources"]["memory"] = {{"limit", 16 << 20}, {"swap", 16 << 20}};
  b.set_args({"/bin/probe", "hog", "64"});
  std::string id = new_id();
  pid_t shim = spawn(shim_argv(b, id), "shim");
  EXPECT_EQ(wait_child(shim), 137) << err_of("shim");
  json ex = exit_record(id);
  ASSERT_FALSE(ex.is_discarded());
  EXPECT_EQ(ex["oom_killed"], true);
  EXPECT_EQ(ex["signal"], 9);
  EXPECT_EQ(read_file(log_path(id)).find("survived"), std::string::npos);
  delete_container(id);
}

TEST_F(ShimTest, KeepsTheContainerRunningWhenItsParentDies) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sh", "-c", "trap 'echo bye; exit 0' TERM; while :; do echo tick; sleep 0.1; done"});
  std::string id = new_id();
  // Orphans re-parent to us, so the shim's exit status stays observable.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  struct ResetSubreaper {
    ~ResetSubreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0); }
  } reset;

  // The parent: starts the shim in the foreground (its child), then waits.
  std::vector<std::string> argv = shim_argv(b, id);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::string out = files_.path() + "/shim.out";
  pid_t parent = ::fork();
  if (parent == 0) {
    if (::fork() == 0) {
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::execv(args[0], args.data());
      _exit(127);
    }
    for (;;) ::pause();
  }
  children_.push_back(parent);
  pid_t container = wait_started("shim");
  ASSERT_GT(container, 0);
  pid_t shim = -1;
  ASSERT_TRUE(eventually([&] { return (shim = shim_pid(id)) > 0; }));
  ASSERT_EQ(parent_of(shim), parent);

  ASSERT_EQ(::kill(parent, SIGKILL), 0);
  ASSERT_EQ(wait_child(parent), 128 + SIGKILL);
  children_.push_back(shim);  // re-parented to us (subreaper)
  ASSERT_TRUE(eventually([&] { return parent_of(shim) == ::getpid(); }));

  EXPECT_TRUE(process_alive(shim));
  EXPECT_TRUE(process_alive(container));
  size_t before = log_records(log_path(id)).size();
  EXPECT_TRUE(eventually([&] { return log_records(log_path(id)).size() > before + 3; }))
      << "the log stopped growing after the parent died";

  // `kill <shim>` stops the container the way `kill <init>` would.
  ASSERT_EQ(::kill(shim, SIGTERM), 0);
  EXPECT_EQ(wait_child(shim), 0);
  EXPECT_FALSE(process_alive(container));
  json ex = exit_record(id);
  ASSERT_FALSE(ex.is_discarded());
  EXPECT_EQ(ex["exit_code"], 0);
  EXPECT_EQ(ex["signal"], 0);
  auto records = log_records(log_path(id));
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["log"], "bye\n");
  delete_container(id);
}

TEST_F(ShimTest, RotatesTheLogKeepingAtMostMaxFiles) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"seq", "1", "3000"});
  std::string id = new_id();
  pid_t shim = spawn(shim_argv(b, id, {"--log-max-size", "4096", "--log-max-files", "3"}), "shim");
  ASSERT_EQ(wait_child(shim), 0) << err_of("shim");
  std::string log = log_path(id);
  ASSERT_TRUE(fs::exists(log + ".1"));
  ASSERT_TRUE(fs::exists(log + ".2"));
  EXPECT_FALSE(fs::exists(log + ".3"));
  // Oldest to newest, the kept records are one unbroken run ending at the
  // last line: rotation drops whole old files, never records in between.
  std::vector<long> seen;
  for (const std::string& f : {log + ".2", log + ".1", log}) {
    EXPECT_LE(fs::file_size(f), 4096u) << f;
    for (auto& r : log_records(f)) {
      EXPECT_EQ(r["stream"], "stdout");
      seen.push_back(std::stol(r["log"].get<std::string>()));
    }
  }
  ASSERT_GT(seen.size(), 10u);
  EXPECT_EQ(seen.back(), 3000);
  for (size_t i = 1; i < seen.size(); i++) ASSERT_EQ(seen[i], seen[i - 1] + 1) << "gap at record " << i;
  delete_container(id);
}

TEST_F(ShimTest, DetachReturnsOnceStartedAndTheShimIsNotOurChild) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  // "ready" is printed once the trap is set: a TERM that reaches a pid
  // namespace's init before it has a handler is dropped by the kernel.
  b.set_args({"sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.1; done"});
  std::string id = new_id();
  CmdResult r = stack::test::run(shim_argv(b, id, {"--detach"}));
  ASSERT_EQ(r.status, 0) << r.err;
  pid_t container = started_pid(r.out);
  ASSERT_GT(container, 0) << r.out;
  EXPECT_TRUE(process_alive(container));
  pid_t shim = shim_pid(id);
  ASSERT_GT(shim, 0);
  EXPECT_TRUE(process_alive(shim));
  EXPECT_NE(parent_of(shim), ::getpid());
  EXPECT_NE(::getsid(shim), ::getsid(0));
  EXPECT_NE(::getsid(shim), shim) << "a session leader could acquire a controlling terminal";

  std::string sock = state_dir(id) + "/shim.sock";
  json st = json::parse(control(sock, "state"), nullptr, false);
  ASSERT_FALSE(st.is_discarded());
  EXPECT_EQ(st["status"], "running");
  EXPECT_EQ(st["pid"], container);
  EXPECT_EQ(st["shim_pid"], shim);
  EXPECT_EQ(control(sock, "bogus"), "error unknown command\n");
  ASSERT_TRUE(eventually([&] { return has_record(log_records(log_path(id)), "stdout", "ready\n"); }));
  EXPECT_EQ(control(sock, "kill TERM"), "ok\n");

  ASSERT_TRUE(eventually([&] { return fs::exists(exit_path(id)); }));
  EXPECT_TRUE(eventually([&] { return !process_alive(shim); }));
  json ex = exit_record(id);
  ASSERT_FALSE(ex.is_discarded());
  EXPECT_EQ(ex["exit_code"], 7);
  delete_container(id);
}

TEST_F(ShimTest, DetachReportsACreateFailureAndLeavesNothing) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"/no/such/program"});
  std::string id = new_id();
  CmdResult r = stack::test::run(shim_argv(b, id, {"--detach"}));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("executable file not found"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_FALSE(fs::exists(state_dir(id)));
}

TEST_F(ShimTest, EndsAndReapsWhatTheInitLeftWithoutAPidNamespace) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  auto& ns = b.config["linux"]["namespaces"];
  for (auto it = ns.begin(); it != ns.end(); ++it)
    if ((*it)["type"] == "pid") {
      ns.erase(it);
      break;
    }
  // The background sleep outlives sh and holds the output pipe.
  b.set_args({"sh", "-c", "sleep 1000 & echo $!"});
  std::string id = new_id();
  pid_t shim = spawn(shim_argv(b, id), "shim");
  ASSERT_EQ(wait_child(shim), 0) << err_of("shim");
  auto records = log_records(log_path(id));
  ASSERT_EQ(records.size(), 1u) << read_file(log_path(id));
  pid_t orphan = static_cast<pid_t>(std::stol(records[0]["log"].get<std::string>()));
  EXPECT_FALSE(process_alive(orphan)) << cmdline(orphan);
  EXPECT_EQ(exit_record(id)["exit_code"], 0);
  delete_container(id);
}

}  // namespace
