#include "runtime/container/state.h"

#include "base/io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace stack::rt {

const char* to_string(Status s) {
  switch (s) {
    case Status::Creating: return "creating";
    case Status::Created: return "created";
    case Status::Running: return "running";
    case Status::Paused: return "paused";
    case Status::Stopped: return "stopped";
  }
  return "unknown";
}

Result<> validate_id(const std::string& id) {
  if (id.empty()) return fail("container id must not be empty", EINVAL);
  if (id.size() > 1024) return fail("container id is longer than 1024 bytes", EINVAL);
  for (size_t i = 0; i < id.size(); i++) {
    char c = id[i];
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || (i > 0 && (c == '_' || c == '.' || c == '-'));
    if (!ok) return fail("invalid container id \"" + id + "\": use letters, digits, '_', '.', '-'", EINVAL);
  }
  return {};
}

Result<> StateDir::reserve(const std::string& id) const {
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) return fail("create runtime root " + root_ + ": " + ec.message(), ec.value());
  if (::mkdir(dir(id).c_str(), 0711) != 0) {
    if (errno == EEXIST) return fail("container \"" + id + "\" already exists", EEXIST);
    return fail_errno("mkdir " + dir(id));
  }
  return {};
}

Result<> StateDir::save(const ContainerRecord& r) const {
  nlohmann::json j = {{"id", r.id},           {"bundle", r.bundle},   {"rootfs", r.rootfs},
                      {"pid", r.pid},         {"pid_start", r.pid_start}, {"created", r.created},
                      {"cgroups_path", r.cgroups_path}, {"annotations", r.annotations}};
  if (r.mounts_in_runtime_ns) j["mounts_in_runtime_ns"] = true;
  return io::write_file_atomic(dir(r.id) + "/state.json", j.dump());
}

Result<ContainerRecord> StateDir::load(const std::string& id) const {
  auto valid = validate_id(id);
  if (!valid) return tl::unexpected(valid.error());
  auto text = io::read_file(dir(id) + "/state.json");
  if (!text) {
    struct stat st;
    if (::stat(dir(id).c_str(), &st) == 0) return fail("container \"" + id + "\" is still being created", EBUSY);
    return fail("container \"" + id + "\" does not exist", ENOENT);
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail("state of container \"" + id + "\" is corrupt", EIO);
  ContainerRecord r;
  try {
    r.id = j.at("id");
    r.bundle = j.at("bundle");
    r.rootfs = j.at("rootfs");
    r.pid = j.at("pid");
    r.pid_start = j.at("pid_start");
    r.created = j.at("created");
    r.cgroups_path = j.at("cgroups_path");
    r.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
    r.mounts_in_runtime_ns = j.value("mounts_in_runtime_ns", false);
  } catch (const std::exception& e) {
    return fail("state of container \"" + id + "\" is corrupt: " + e.what(), EIO);
  }
  return r;
}

Result<std::vector<std::string>> StateDir::list() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return ids;
    return fail_errno("open " + root_);
  }
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    if (::access((root_ + "/" + name + "/state.json").c_str(), F_OK) == 0) ids.push_back(name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<> StateDir::remove(const std::string& id) const {
  std::error_code ec;
  std::filesystem::remove_all(dir(id), ec);
  if (ec) return fail("remove " + dir(id) + ": " + ec.message(), ec.value());
  return {};
}

uint64_t process_start_time(pid_t pid) {
  if (pid <= 0) return 0;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  // Fields after the command name (which may hold spaces) start after ')'.
  char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  p += 2;  // " X" state
  if (*p == 'Z' || *p == 'X') return 0;  // exited, not yet reaped
  // state is field 3; starttime is field 22 -> 19 fields after state.
  int field = 3;
  while (*p && field < 22) {
    if (*p == ' ') field++;
    p++;
  }
  return std::strtoull(p, nullptr, 10);
}

Status status_of(const StateDir& dir, const ContainerRecord& rec) {
  uint64_t start = process_start_time(rec.pid);
  if (start == 0 || start != rec.pid_start) return Status::Stopped;
  if (::access(dir.fifo(rec.id).c_str(), F_OK) == 0) return Status::Created;
  return Status::Running;
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[96];
  std::snprintf(out, sizeof out, "%s.%09lldZ", buf, static_cast<long long>(ns));
  return out;
}

nlohmann::json oci_state(const ContainerRecord& r, Status status) {
  nlohmann::json j = {{"ociVersion", "1.0.2"}, {"id", r.id},         {"status", to_string(status)},
                      {"pid", status == Status::Stopped ? 0 : r.pid}, {"bundle", r.bundle},
                      {"rootfs", r.rootfs},  {"created", r.created}, {"owner", ""}};
  j["annotations"] = r.annotations;
  return j;
}

}  // namespace stack::rt
