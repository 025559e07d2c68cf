#include "tests/support/runtime_fixture.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace stack::test {

void RuntimeTest::SetUp() {}

CmdResult RuntimeTest::rt(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv = {binary("stack-runtime"), "--root", root_.path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, input);
}

std::string RuntimeTest::new_id() {
  ids_.push_back(unique_id("c"));
  return ids_.back();
}

CmdResult RuntimeTest::run_in(Bundle& b, const std::vector<std::string>& args) {
  b.set_args(args);
  return rt({"run", "--bundle", b.dir(), new_id()});
}

std::vector<std::string> RuntimeTest::cgroup_dirs_of(const std::string& id) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    std::error_code ec2;
    fs::path p = h.path() / "stack" / id;
    if (fs::exists(p, ec2)) found.push_back(p.string());
  }
  return found;
}

void RuntimeTest::TearDown() {
  // Whatever a failed test left is force-deleted, then the leak check runs
  // for every id the test used.
  for (auto& id : ids_) {
    if (fs::exists(root_.path() + "/" + id)) {
      ADD_FAILURE() << "container " << id << " was left behind";
      rt({"delete", "--force", id});
    }
    EXPECT_TRUE(cgroup_dirs_of(id).empty()) << "cgroup of " << id << " leaked";
  }
}

}  // namespace stack::test
