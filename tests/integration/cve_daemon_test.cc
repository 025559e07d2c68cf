// Daemon rows of the CVE regression suite (security issue 10), each against a
// real stackd (stack_cli_fixture.h) running a container:
//
// CVE-2020-15257 (containerd < 1.3.9/1.4.3): the shim's control API listened
//   on an abstract Unix socket, and abstract sockets are scoped by network
//   namespace, not by the filesystem, so any container sharing the host's
//   network namespace could connect to it and drive the shim as root. Ours:
//   no stack process (stackd, shim, runtime) owns an abstract socket, so a
//   host-network container sees none of ours.
// CVE-2021-41091 (moby < 20.10.9; containerd's twin CVE-2021-41103): the data
//   root was traversable by every host user, who could then run setuid
//   binaries (or open device nodes) inside container rootfs and layers. Ours:
//   --root is 0710, --runtime-root and the image store 0700.
// CVE-2022-23648 (containerd < 1.6.1), widened to every image config field:
//   the image's Volumes ("/../../../var/lib/kubelet/pki") were joined to the
//   rootfs path lexically and the host files behind them copied into the
//   container. An image's Labels, Env, Entrypoint, WorkingDir and Volumes are
//   the image author's, so none may make the daemon touch a host path.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <set>

#include "runtime/image/reference.h"
#include "runtime/image/store.h"
#include "base/fd.h"
#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;

// What the daemon rows share: images imported from a Bundle rootfs
// (busybox, its applets, the probe), one-service host-network stacks.
class DaemonCve : public StackdFixture {
 protected:
  // Imports `rootfs` as NAME with Dockerfile-style changes.
  void import(const std::string& rootfs, const std::string& name, const std::vector<std::string>& changes) {
    const std::string tar = dir_.path() + "/" + unique_id("img") + ".tar";
    ASSERT_EQ(run({"tar", "--numeric-owner", "-C", rootfs, "-cf", tar, "."}).status, 0);
    std::vector<std::string> args = {"image", "import"};
    for (auto& c : changes) args.insert(args.end(), {"--change", c});
    args.insert(args.end(), {tar, name});
    auto r = stack(args);
    ASSERT_EQ(r.status, 0) << r.err;
    fs::remove(tar);
  }
  // A one-service stack file running `image`; returns its path.
  std::string stack_file(const std::string& name, const std::string& image) {
    std::string file = dir_.path() + "/" + name + ".yaml";
    std::ofstream(file) << "name: " << name << "\nservices:\n  box:\n    image: " << image
                        << "\n    network_mode: host\n";
    return file;
  }
  // `stack up -d`, then the replica must be running (else what its
  // container directory holds; the fixture prints stackd.log).
  void up_running(const std::string& file, const std::string& replica) {
    auto up = stack({"up", "-d", "-f", file});
    ASSERT_EQ(up.status, 0) << up.out << up.err;
    auto r = replica_of(file, replica);
    if (r.value("state", "") == "running") return;
    std::string logs;
    for (auto& e : fs::recursive_directory_iterator(root() + "/containers"))
      if (e.is_regular_file() && e.file_size() < 4096 && e.path().filename() != "config.json")
        logs += e.path().string() + ":\n" + read_file(e.path()) + "\n";
    FAIL() << up.out << up.err << r.dump() << "\n" << logs;
  }
  nlohmann::json replica_of(const std::string& file, const std::string& name) {
    return replica(ps({"-f", file}), name);
  }
  // The one container directory under <root>/containers.
  std::string container_dir() {
    std::vector<std::string> dirs;
    for (auto& e : fs::directory_iterator(root() + "/containers")) dirs.push_back(e.path());
    EXPECT_EQ(dirs.size(), 1u);
    return dirs.empty() ? "" : dirs[0];
  }
  // Runs argv as nobody (uid/gid 65534, no supplementary groups). Through
  // sh: setpriv itself keeps root's capabilities until its exec, so a path
  // it executes directly is looked up with DAC override; sh has none.
  static CmdResult as_nobody(std::vector<std::string> argv) {
    argv.insert(argv.begin(),
                {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "/bin/sh", "-c", "exec \"$@\"", "sh"});
    return run(argv);
  }
  static mode_t mode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 07777;
  }
};

// Abstract socket names ("@name") in a /proc/net/unix listing.
std::set<std::string> abstract_names(const std::string& proc_net_unix) {
  std::set<std::string> out;
  std::istringstream in(proc_net_unix);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    auto at = line.find(" @");
    if (at != std::string::npos) out.insert(line.substr(at + 1));
  }
  return out;
}

// "pid (comm)" of every process holding a socket named `name` in our netns.
std::string owners_of(const std::string& name) {
  std::set<std::string> inodes;
  std::istringstream in(read_file("/proc/thread-self/net/unix"));
  for (std::string line; std::getline(in, line);)
    if (line.size() > name.size() && line.compare(line.size() - name.size(), name.size(), name) == 0) {
      std::istringstream f(line);
      std::string col;
      for (int i = 0; i < 7 && f >> col; ++i) {
      }
      inodes.insert("socket:[" + col + "]");
    }
  std::string out;
  for (auto& p : fs::directory_iterator("/proc")) {
    std::error_code ec;
    for (auto& fd : fs::directory_iterator(p.path() / "fd", ec)) {
      auto target = fs::read_symlink(fd.path(), ec);
      if (!ec && inodes.count(target.string()))
        out += p.path().filename().string() + " (" + read_file(p.path() / "comm") + ") ";
    }
  }
  return out;
}

class CVE_2020_15257 : public DaemonCve {};

TEST_F(CVE_2020_15257, NoAbstractControlSocketIsReachableFromAHostNetworkContainer) {
  Bundle image;
  ASSERT_NO_FATAL_FAILURE(import(image.rootfs(), "cve/hostnet:1", {R"(CMD ["sleep", "600"])"}));
  // Positive control: an abstract socket in the "host" network namespace
  // (this test's own, which stackd and the container share), as a shim's
  // control socket would be.
  const std::string control = "@stack-cve-15257-" + std::to_string(::getpid());
  stack::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, control.data() + 1, control.size() - 1);
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + control.size());
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(sock.get(), 1), 0);

  const std::string file = stack_file("hostnet", "cve/hostnet:1");
  ASSERT_NO_FATAL_FAILURE(up_running(file, "hostnet-box-1"));
  // What the container sees: every abstract socket of the namespace,
  // connectable by name from inside.
  auto seen = stack({"exec", "-T", "-f", file, "box", "cat", "/proc/net/unix"});
  ASSERT_EQ(seen.status, 0) << seen.err;
  auto names = abstract_names(seen.out);
  ASSERT_TRUE(names.count(control)) << "positive control: the container must see an abstract socket of the host "
                                       "netns\n"
                                    << seen.out;
  // Ours: stackd, the shim and the runtime hold only path-bound (or unnamed)
  // sockets, so the control socket above is the only abstract one there is.
  names.erase(control);
  for (auto& n : names) ADD_FAILURE() << "abstract socket " << n << " visible to a host-network container, held by "
                                      << owners_of(n);
  EXPECT_TRUE(abstract_names(read_file("/proc/thread-self/net/unix")).size() == 1);
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

class CVE_2021_41091 : public DaemonCve {};

TEST_F(CVE_2021_41091, NobodyCannotReachASetuidBinaryInsideAContainer) {
  Bundle image;
  // Named busybox-*, busybox takes its applet from argv[1].
  fs::copy_file(image.rootfs() + "/bin/busybox", image.rootfs() + "/busybox-suid");
  ::chmod((image.rootfs() + "/busybox-suid").c_str(), 04755);
  ASSERT_NO_FATAL_FAILURE(import(image.rootfs(), "cve/suid:1", {R"(CMD ["sleep", "600"])"}));
  const std::string file = stack_file("suid", "cve/suid:1");
  ASSERT_NO_FATAL_FAILURE(up_running(file, "suid-box-1"));
  // Only our directories may stand in the way: the test's own temp dir and
  // /run are opened up for the length of the test.
  ::chmod(dir_.path().c_str(), 0755);
  const std::string suid = container_dir() + "/rootfs/busybox-suid";
  ASSERT_EQ(mode_of(suid), 04755u) << suid;

  EXPECT_EQ(mode_of(root()) & 0067, 0u) << "--root must be 0710 or stricter";
  EXPECT_EQ(mode_of(run_dir_ + "/runtime") & 0077, 0u) << "--runtime-root must be 0700";
  EXPECT_EQ(mode_of(root() + "/images") & 0077, 0u) << "the image store must be 0700";
  auto stat_c = as_nobody({"stat", "-c", "%a", suid});
  EXPECT_NE(stat_c.status, 0) << "nobody can stat " << suid << ": " << stat_c.out;
  EXPECT_NE(stat_c.err.find("Permission denied"), std::string::npos) << stat_c.err;
  auto exec_c = as_nobody({suid, "true"});
  EXPECT_NE(exec_c.status, 0) << "nobody ran " << suid;
  EXPECT_NE(as_nobody({"ls", run_dir_ + "/runtime"}).status, 0);

  // Positive control: with --root as loose as it used to be (0755 from
  // mkdir -p), the same user reaches the setuid binary and can run it.
  const mode_t was = mode_of(root());
  ASSERT_EQ(::chmod(root().c_str(), 0755), 0);
  auto loose_stat = as_nobody({"stat", "-c", "%a", suid});
  auto loose_exec = as_nobody({suid, "true"});
  ::chmod(root().c_str(), was);
  EXPECT_EQ(loose_stat.status, 0) << loose_stat.err;
  EXPECT_EQ(loose_stat.out, "4755\n");
  EXPECT_EQ(loose_exec.status, 0) << loose_exec.err;

  // Root keeps working with the strict modes: exec into the container and down.
  auto exec = stack({"exec", "-T", "-f", file, "box", "ls", "-l", "/busybox-suid"});
  EXPECT_EQ(exec.status, 0) << exec.err;
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

// The daemon restarted on an existing root made loose tightens it again.
TEST_F(CVE_2021_41091, ALooseRootIsTightenedWhenTheDaemonStarts) {
  stop_daemon(SIGTERM);
  ASSERT_EQ(::chmod(root().c_str(), 0755), 0);
  ASSERT_EQ(::chmod((root() + "/images").c_str(), 0755), 0);
  start_daemon();
  EXPECT_EQ(mode_of(root()), 0710u);
  auto images = stack({"image", "ls"});  // opens the store as the CLI does
  EXPECT_EQ(images.status, 0) << images.err;
  EXPECT_EQ(mode_of(root() + "/images") & 0077, 0u);
}

class CVE_2022_23648 : public DaemonCve {};

TEST_F(CVE_2022_23648, ImageConfigNeverSelectsHostPaths) {
  // The host side: a directory the image names by absolute path, and a
  // script that leaves a marker there if anything on the host runs it.
  const std::string host = dir_.path() + "/host";
  fs::create_directories(host + "/bin");
  const std::string marker = host + "/ran";
  std::ofstream(host + "/bin/sh") << "#!/bin/sh\ntouch " << marker << "\n";
  ::chmod((host + "/bin/sh").c_str(), 0755);
  const std::string up_and_out = "/../../../../../../../../../../../..";  // past any rootfs depth
  Bundle image;
  ASSERT_NO_FATAL_FAILURE(import(
      image.rootfs(), "cve/config:1",
      {R"(ENTRYPOINT ["sh", "-c"])", R"(CMD ["sleep 600"])", "ENV PATH=" + host + "/bin:/bin",
       "ENV LD_PRELOAD=" + host + "/bin/sh", "WORKDIR " + up_and_out + host + "/wd",
       "VOLUME " + up_and_out + host + "/vol",
       "LABEL oci.hooks.prestart=" + host + "/bin/sh com.stack.stop-signal=SIGKILL com.stack.name=evil "
       "io.containerd.hook=" + host + "/bin/sh"}));

  // Positive controls: the script does leave its marker when run, and the
  // payloads joined to a rootfs path as a naive daemon joins them are host paths.
  ASSERT_EQ(run({host + "/bin/sh"}).status, 0);
  ASSERT_TRUE(fs::exists(marker));
  fs::remove(marker);
  const std::string naive_rootfs = dir_.path() + "/naive/rootfs";
  fs::create_directories(naive_rootfs + up_and_out + host + "/wd");
  ASSERT_TRUE(fs::is_directory(host + "/wd")) << "positive control: the naive join creates a host directory";
  fs::remove_all(host + "/wd");

  const std::string file = stack_file("config", "cve/config:1");
  ASSERT_NO_FATAL_FAILURE(up_running(file, "config-box-1"));
  // The working directory exists, inside the container, at the normalized path.
  auto pwd = stack({"exec", "-T", "-f", file, "box", "pwd"});
  EXPECT_EQ(pwd.out, host + "/wd\n") << pwd.err;
  auto config = nlohmann::json::parse(read_file(container_dir() + "/config.json"), nullptr, false);
  ASSERT_TRUE(config.is_object());
  EXPECT_FALSE(config.contains("hooks")) << config["hooks"].dump();
  auto ann = config.value("annotations", nlohmann::json::object());
  EXPECT_FALSE(ann.contains("oci.hooks.prestart"));
  EXPECT_FALSE(ann.contains("io.containerd.hook"));
  EXPECT_EQ(ann.value("com.stack.stop-signal", ""), "SIGTERM") << "an image label chose the stop signal";
  EXPECT_EQ(ann.value("com.stack.name", ""), "config-box-1");
  for (auto& m : config["mounts"])
    EXPECT_EQ(m.value("source", "").find(host), std::string::npos) << "image config mounted a host path: " << m.dump();
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
  EXPECT_FALSE(fs::exists(marker)) << "a host binary named by the image ran";
  EXPECT_FALSE(fs::exists(host + "/wd")) << "WorkingDir created a host directory";
  EXPECT_FALSE(fs::exists(host + "/vol")) << "Volumes created a host directory";

  // A relative WorkingDir (which no Dockerfile writes, but a registry can
  // serve) is refused with the reason, before anything is created.
  {
    auto store = img::ContentStore::open(root() + "/images");
    ASSERT_TRUE(store);
    auto ref = img::parse_reference("cve/config:1");
    auto manifest_d = store->get_ref(*ref);
    ASSERT_TRUE(manifest_d);
    auto manifest = nlohmann::json::parse(*store->read_blob(*manifest_d));
    auto cfg_d = img::parse_digest(manifest["config"]["digest"].get<std::string>());
    auto cfg = nlohmann::json::parse(*store->read_blob(*cfg_d));
    cfg["config"]["WorkingDir"] = "../../../../../../../../../../.." + host + "/rel";
    std::string cfg_text = cfg.dump();
    manifest["config"]["digest"] = img::sha256_of(cfg_text).string();
    manifest["config"]["size"] = cfg_text.size();
    std::string man_text = manifest.dump();
    ASSERT_TRUE(store->put_blob(img::sha256_of(cfg_text), cfg_text));
    ASSERT_TRUE(store->put_blob(img::sha256_of(man_text), man_text));
    ASSERT_TRUE(store->set_ref(*img::parse_reference("cve/relwd:1"), img::sha256_of(man_text)));
  }
  const std::string rel = stack_file("relwd", "cve/relwd:1");
  auto refused = stack({"up", "-d", "-f", rel});
  EXPECT_NE(refused.status, 0);
  EXPECT_NE((refused.out + refused.err).find("must be an absolute path"), std::string::npos)
      << refused.out << refused.err;
  EXPECT_FALSE(fs::exists(host + "/rel"));
  EXPECT_FALSE(fs::exists(marker));
  stack({"down", "-f", rel});
}

}  // namespace
}  // namespace stack::test
