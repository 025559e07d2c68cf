#include "tests/support/runtime_fixture.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace stack::test {

void RuntimeTest::SetUp() {}

CmdResult run_runtime(const std::string& root, const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv = {binary("stack-runtime"), "--root", root};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, input);
}

CmdResult RuntimeTest::rt(const std::vector<std::string>& args, const std::string& input) {
  return run_runtime(root_.path(), args, input);
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

void expect_no_leftovers(const std::string& root, const std::vector<std::string>& ids) {
  // Whatever a failed test left is force-deleted, then the leak check runs
  // for every id the test used.
  for (auto& id : ids) {
    if (fs::exists(root + "/" + id)) {
      ADD_FAILURE() << "container " << id << " was left behind";
      run_runtime(root, {"delete", "--force", id});
    }
    EXPECT_TRUE(RuntimeTest::cgroup_dirs_of(id).empty()) << "cgroup of " << id << " leaked";
  }
}

void RuntimeTest::TearDown() { expect_no_leftovers(root_.path(), ids_); }

}  // namespace stack::test
