#include "tests/support/bundle.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runtime/container/default_spec.h"

namespace fs = std::filesystem;

namespace stack::test {

std::string binary(const std::string& name) {
  for (const char* sub : {"/runtime/", "/tests/", "/orchestrator/", "/bench/", "/"}) {
    std::string p = std::string(STACK_BINARY_DIR) + sub + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  throw std::runtime_error("built binary not found: " + name);
}

std::string shared_reference_dir() {
  std::error_code ec;
  return fs::is_directory(STACK_SHARED_REFERENCE_DIR, ec) ? STACK_SHARED_REFERENCE_DIR : "";
}

std::string privileged_skip_reason() {
  if (::geteuid() != 0) return "needs root (privileged tier)";
  pid_t p = ::fork();
  if (p == 0) _exit(::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET) == 0 ? 0 : 1);
  int st = 0;
  ::waitpid(p, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return "kernel refuses new namespaces here";
  return "";
}

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

static void copy_exe(const std::string& from, const std::string& to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  ::chmod(to.c_str(), 0755);
}

Bundle::Bundle() : dir_("stack-bundle") {
  const std::string root = rootfs();
  for (const char* d : {"bin", "etc", "tmp", "proc", "sys", "dev", "root", "var", "run"})
    fs::create_directories(root + "/" + d);
  ::chmod((root + "/tmp").c_str(), 01777);
  copy_exe("/bin/busybox", root + "/bin/busybox");
  copy_exe(binary("stack-probe"), root + "/bin/probe");
  // One symlink per applet, as `busybox --install -s` would make.
  CmdResult list = run({"/bin/busybox", "--list"});
  std::istringstream applets(list.out);
  for (std::string a; std::getline(applets, a);) {
    if (a.empty() || a == "busybox") continue;
    std::error_code ec;
    fs::create_symlink("busybox", root + "/bin/" + a, ec);
  }
  std::ofstream(root + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                         "nobody:x:65534:65534:nobody:/:/bin/sh\n";
  std::ofstream(root + "/etc/group") << "root:x:0:\nnogroup:x:65534:\n";
  config = rt::spec_to_json(rt::default_spec());
  write_config();
}

void Bundle::set_args(const std::vector<std::string>& args) {
  config["process"]["args"] = args;
  write_config();
}

void Bundle::write_config() const {
  std::ofstream(dir() + "/config.json") << config.dump(2);
}

static std::string drain(int fd) {
  std::string s;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) s.append(buf, n);
  return s;
}

CmdResult run(const std::vector<std::string>& argv, const std::string& input) {
  // Output goes through temp files rather than pipes: a daemonising child
  // (a shim) may keep a pipe open long after the command returns.
  char out_t[] = "/tmp/stack-out-XXXXXX", err_t[] = "/tmp/stack-err-XXXXXX";
  int out = ::mkstemp(out_t), err = ::mkstemp(err_t);
  ::unlink(out_t);
  ::unlink(err_t);
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(in[0]);
  if (!input.empty()) (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  CmdResult r;
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  ::lseek(out, 0, SEEK_SET);
  ::lseek(err, 0, SEEK_SET);
  r.out = drain(out);
  r.err = drain(err);
  ::close(out);
  ::close(err);
  return r;
}

std::string unique_id(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

bool process_alive(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  if (!f) return false;
  std::string line;
  std::getline(f, line);
  auto rp = line.rfind(')');
  return rp != std::string::npos && rp + 2 < line.size() && line[rp + 2] != 'Z';
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool mounted(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mnt;
    f >> id >> parent >> dev >> root >> mnt;
    if (mnt == path) return true;
  }
  return false;
}

MountGuard::~MountGuard() {
  while (!target.empty() && mounted(target) && ::umount2(target.c_str(), MNT_DETACH) == 0) {
  }
}

}  // namespace stack::test
