#include "orchestrator/daemon/server/upload_spool.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>

#include "base/io.h"
#include "base/fd.h"

namespace stack::orch {

namespace http = boost::beast::http;

SpooledBody& SpooledBody::operator=(SpooledBody&& o) noexcept {
  if (this != &o) {
    if (!path_.empty()) ::unlink(path_.c_str());
    path_ = std::move(o.path_);
    o.path_.clear();
  }
  return *this;
}

SpooledBody::~SpooledBody() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

namespace {

}  // namespace

stack::Result<SpooledBody> spool_body(boost::asio::local::stream_protocol::socket& sock, boost::beast::flat_buffer& buf,
                                   http::request_parser<http::empty_body>&& head, const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return stack::fail_errno("spool upload: create " + dir);
  std::string tmpl = dir + "/upload-XXXXXX";
  stack::UniqueFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) return stack::fail_errno("spool upload: create a file in " + dir);
  SpooledBody body(tmpl);  // from here on, any return removes the file

  http::request_parser<http::buffer_body> p(std::move(head));
  p.body_limit(boost::none);  // the disk is the limit, not memory
  std::vector<char> chunk(256 * 1024);
  while (!p.is_done()) {
    p.get().body().data = chunk.data();
    p.get().body().size = chunk.size();
    boost::beast::error_code ec;
    http::read(sock, buf, p, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return stack::fail("spool upload: read the request body: " + ec.message(), EIO);
    size_t n = chunk.size() - p.get().body().size;
    if (auto w = io::write_all(fd.get(), std::string_view(chunk.data(), n), "upload spool"); !w)
      return tl::unexpected(w.error().wrap("spool upload to " + tmpl));
  }
  return body;
}

size_t sweep_spool(const std::string& dir) {
  std::error_code ec;
  size_t removed = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->path().filename().string().rfind("upload-", 0) != 0) continue;
    std::error_code rm;
    if (std::filesystem::remove(it->path(), rm)) removed++;
  }
  return removed;
}

}  // namespace stack::orch
