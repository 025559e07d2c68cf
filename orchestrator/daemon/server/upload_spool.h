// An upload's request body (image load/import: archives of many GB) read
// from the connection straight into a file, never into memory: the file is
// <root>/tmp/upload-XXXXXX (mode 0600 in a 0700 directory) and is removed
// when the SpooledBody goes, whatever the route did with it.
#pragma once

#include <string>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "base/error.h"

namespace stack::orch {

class SpooledBody {
 public:
  SpooledBody() = default;
  explicit SpooledBody(std::string path) : path_(std::move(path)) {}
  SpooledBody(SpooledBody&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  SpooledBody& operator=(SpooledBody&& o) noexcept;
  SpooledBody(const SpooledBody&) = delete;
  SpooledBody& operator=(const SpooledBody&) = delete;
  ~SpooledBody();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Reads the body that follows `head` (whose header was read from `sock`,
// with `buf` holding what arrived after it) into a new file under `dir`
// (created 0700 when missing). Chunked and Content-Length bodies alike; an
// error (the client went away, the disk is full) removes the file.
stack::Result<SpooledBody> spool_body(boost::asio::local::stream_protocol::socket& sock,
                                   boost::beast::flat_buffer& buf,
                                   boost::beast::http::request_parser<boost::beast::http::empty_body>&& head,
                                   const std::string& dir);

// Removes every upload file left in `dir` by a stackd that was killed while a
// body was being received or a route held it (nothing else would: the
// SpooledBody that owned it died with the process). Called at start, under
// the root's lock, before the API serves; returns how many it removed.
size_t sweep_spool(const std::string& dir);

}  // namespace stack::orch
