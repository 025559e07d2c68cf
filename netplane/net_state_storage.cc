#include "netplane/net_state_storage.h"

#include <cerrno>

#include "base/io.h"

namespace stack::net {

namespace {

class FileStorage final : public NetStateStorage {
 public:
  explicit FileStorage(std::string dir) : dir_(std::move(dir)) {}

  stack::Result<std::optional<std::string>> load(const std::string& name) override {
    auto text = io::read_file(path_of(name));
    if (!text) {
      if (text.error().code == ENOENT) return std::optional<std::string>();  // first start: never saved
      return tl::unexpected(text.error());
    }
    return std::optional<std::string>(std::move(*text));
  }

  stack::Result<void> save(const std::string& name, const std::string& text) override {
    return io::write_file_atomic(path_of(name), text, 0600, io::Durability::Process);
  }

 private:
  std::string where(const std::string& name) const override { return path_of(name); }
  std::string path_of(const std::string& name) const { return dir_ + "/" + name + ".json"; }
  std::string dir_;
};

}  // namespace

std::unique_ptr<NetStateStorage> file_net_state_storage(std::string dir) {
  return std::make_unique<FileStorage>(std::move(dir));
}

}  // namespace stack::net
