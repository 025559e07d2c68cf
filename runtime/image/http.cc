// Boost.Beast lives here only (see http.h). Every network operation is started
// asynchronously and the private io_context is run until it completes, so
// beast::tcp_stream's expiry gives real timeouts on a blocking-style API.
// Exceptions from Asio/Beast never leave this file: error_code overloads are
// used throughout and the few throwing constructors are wrapped.
#include "runtime/image/http.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <limits>
#include <optional>

namespace stack::img::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using stack::fail;

namespace {

constexpr size_t kMaxBufferedBody = 16u << 20;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Maps an Asio/Beast error to an errno so callers can classify it.
int errno_of(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return ETIMEDOUT;
  if (ec == bh::error::partial_message || ec == bh::error::end_of_stream || ec == asio::error::eof ||
      ec == ssl::error::stream_truncated)
    return EIO;
  if (ec.category() == asio::error::get_ssl_category()) return EPROTO;
  if (ec.category() == boost::system::system_category() ||
      ec.category() == boost::system::generic_category())
    return ec.value();
  return EPROTO;
}

Error net_error(const std::string& what, const beast::error_code& ec) {
  int code = errno_of(ec);
  if (code == ETIMEDOUT) return Error{code, what + ": timed out"};
  if (code == EIO) return Error{code, what + ": connection closed early (truncated)"};
  if (code == EPROTO) return Error{code, what + ": " + ec.message()};
  return Error{code, what};
}

std::string host_header(const Url& u) {
  std::string h = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  bool default_port = (u.scheme == "https" && u.port == "443") || (u.scheme == "http" && u.port == "80");
  return default_port ? h : h + ":" + u.port;
}

}  // namespace

std::string Url::origin() const { return scheme + "://" + host_header(*this); }

Result<Url> parse_url(const std::string& text) {
  Url u;
  auto sep = text.find("://");
  if (sep == std::string::npos) return fail("invalid URL \"" + text + "\": no scheme");
  u.scheme = lower(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https")
    return fail("invalid URL \"" + text + "\": scheme must be http or https");
  std::string rest = text.substr(sep + 3);
  auto slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!u.target.empty() && u.target[0] == '?') u.target = "/" + u.target;
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return fail("invalid URL \"" + text + "\": unclosed [");
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') u.port = authority.substr(close + 2);
  } else {
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return fail("invalid URL \"" + text + "\": no host");
  if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
  return u;
}

Result<std::string> resolve_url(const std::string& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  auto b = parse_url(base);
  if (!b) return tl::unexpected(b.error());
  if (location.rfind("//", 0) == 0) return b->scheme + ":" + location;
  if (!location.empty() && location[0] == '/') return b->origin() + location;
  // Relative path: replace the last segment of the base path.
  std::string path = b->target.substr(0, b->target.find('?'));
  return b->origin() + path.substr(0, path.rfind('/') + 1) + location;
}

bool is_loopback_host(const std::string& host_in) {
  std::string host = lower(host_in);
  if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(':') == colon)
    host = host.substr(0, colon);  // "localhost:5000" -> "localhost"
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.find(']') - 1);
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

std::string Response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

struct Client::Impl {
  TlsOptions tls;
  asio::io_context ioc;
  std::unique_ptr<ssl::context> ctx;

  // Runs one asynchronous operation to completion on the private io_context.
  template <class Start>
  beast::error_code run(Start&& start) {
    beast::error_code out = asio::error::would_block;
    start([&out](beast::error_code ec, auto&&...) { out = ec; });
    ioc.restart();
    ioc.run();
    return out;
  }

  Result<ssl::context*> context() {
    if (ctx) return ctx.get();
    try {
      ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    } catch (const std::exception& e) {
      return fail(std::string("create TLS context: ") + e.what());
    }
    beast::error_code ec;
    if (!tls.ca_only) {
      ctx->set_default_verify_paths(ec);
      ctx->add_verify_path("/etc/ssl/certs", ec);  // Debian's store, even if OPENSSLDIR differs
    }
    if (!tls.ca_file.empty()) {
      ctx->load_verify_file(tls.ca_file, ec);
      if (ec) {
        ctx.reset();
        return fail("load CA file " + tls.ca_file + ": " + ec.message());
      }
    }
    if (!tls.cert_file.empty()) {
      ctx->use_certificate_chain_file(tls.cert_file, ec);
      if (!ec) ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
      if (ec) {
        ctx.reset();
        return fail("load client certificate " + tls.cert_file + ": " + ec.message());
      }
    }
    ctx->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none, ec);
    return ctx.get();
  }

  Result<Response> once(const Url& url, const Request& req, const BodySink& sink);

  template <class Stream>
  Result<Response> exchange(Stream& stream, beast::tcp_stream& lowest, const Url& url, const Request& req,
                            const BodySink& sink);
};

template <class Stream>
Result<Response> Client::Impl::exchange(Stream& stream, beast::tcp_stream& lowest, const Url& url,
                                        const Request& req, const BodySink& sink) {
  const std::string where = req.method + " " + url.origin() + url.target;
  const auto timeout = std::chrono::seconds(req.timeout_s);
  bh::verb verb = bh::string_to_verb(req.method);
  if (verb == bh::verb::unknown) return fail(where + ": unknown method");

  auto fill = [&](auto& r) {
    r.method(verb);
    r.target(url.target);
    r.version(11);
    r.set(bh::field::host, host_header(url));
    r.set(bh::field::user_agent, "stack/0.1");
    r.set(bh::field::connection, "close");
    for (const auto& [k, v] : req.headers) r.set(k, v);
  };
  beast::error_code ec;
  if (!req.body_file.empty()) {
    bh::request<bh::file_body> r;
    fill(r);
    r.body().open(req.body_file.c_str(), beast::file_mode::scan, ec);
    if (ec) return fail("open " + req.body_file + " for upload", errno_of(ec));
    r.prepare_payload();
    lowest.expires_after(timeout);
    // The whole body is written in one operation; allow time for large blobs.
    lowest.expires_after(timeout + std::chrono::seconds(r.body().size() >> 20));
    ec = run([&](auto h) { bh::async_write(stream, r, std::move(h)); });
  } else {
    bh::request<bh::string_body> r;
    fill(r);
    r.body() = req.body;
    if (!req.body.empty() || verb == bh::verb::put || verb == bh::verb::post || verb == bh::verb::patch)
      r.prepare_payload();
    lowest.expires_after(timeout);
    ec = run([&](auto h) { bh::async_write(stream, r, std::move(h)); });
  }
  if (ec) return tl::unexpected(net_error(where + ": send request", ec));

  beast::flat_buffer buf;
  // Beast sizes each read as the buffer's free capacity (at least 512 bytes)
  // and the parser moves the body out, so the buffer never grows by itself:
  // without room up front a 100 MB layer takes ~200,000 recvmsg calls.
  buf.reserve(1 << 16);
  bh::response_parser<bh::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.header_limit(64 * 1024);  // signed storage redirects carry long Location headers
  if (verb == bh::verb::head) parser.skip(true);
  lowest.expires_after(timeout);
  ec = run([&](auto h) { bh::async_read_header(stream, buf, parser, std::move(h)); });
  if (ec) return tl::unexpected(net_error(where + ": read response", ec));

  Response resp;
  resp.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) {
    std::string k = lower(std::string(f.name_string()));
    std::string v(f.value());
    auto [it, inserted] = resp.headers.emplace(k, v);
    if (!inserted) it->second += ", " + v;
  }
  const bool to_sink = sink && resp.status / 100 == 2;
  if (to_sink && req.on_headers) {
    if (auto r = req.on_headers(resp); !r) return tl::unexpected(r.error());
  }
  std::vector<char> chunk(1 << 16);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    lowest.expires_after(timeout);
    ec = run([&](auto h) { bh::async_read(stream, buf, parser, std::move(h)); });
    if (ec == bh::error::need_buffer) ec = {};
    size_t n = chunk.size() - parser.get().body().size;
    if (n > 0) {
      if (to_sink) {
        if (auto r = sink(chunk.data(), n); !r) return tl::unexpected(r.error());
      } else if (resp.body.size() < kMaxBufferedBody) {
        resp.body.append(chunk.data(), std::min(n, kMaxBufferedBody - resp.body.size()));
      }
    }
    if (ec) return tl::unexpected(net_error(where + ": read body", ec));
  }
  beast::error_code ignored;
  lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return resp;
}

Result<Response> Client::Impl::once(const Url& url, const Request& req, const BodySink& sink) {
  const std::string hostport = url.host + ":" + url.port;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) return fail("resolve " + url.host + ": " + ec.message(), EHOSTUNREACH);
  const auto timeout = std::chrono::seconds(req.timeout_s);

  if (url.scheme == "http") {
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    ec = run([&](auto h) { stream.async_connect(endpoints, std::move(h)); });
    if (ec) return tl::unexpected(net_error("connect to " + hostport, ec));
    return exchange(stream, stream, url, req, sink);
  }

  auto ctx_r = context();
  if (!ctx_r) return tl::unexpected(ctx_r.error());
  beast::ssl_stream<beast::tcp_stream> stream(ioc, **ctx_r);
  SSL* native = stream.native_handle();
  if (!is_ip_literal(url.host)) SSL_set_tlsext_host_name(native, url.host.c_str());
  if (tls.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(native);
    int ok = is_ip_literal(url.host) ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                                     : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
    if (ok != 1) return fail("TLS setup for " + url.host + ": cannot set the expected peer name", EPROTO);
  }
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(timeout);
  ec = run([&](auto h) { lowest.async_connect(endpoints, std::move(h)); });
  if (ec) return tl::unexpected(net_error("connect to " + hostport, ec));
  lowest.expires_after(timeout);
  ec = run([&](auto h) { stream.async_handshake(ssl::stream_base::client, std::move(h)); });
  if (ec) {
    Error e = net_error("TLS handshake with " + hostport, ec);
    e.code = e.code == ETIMEDOUT ? ETIMEDOUT : EPROTO;
    if (std::string(ec.message()).find("certificate verify failed") != std::string::npos)
      e.context += " (trust its CA with ca_file, or list the registry as insecure)";
    return tl::unexpected(e);
  }
  return exchange(stream, lowest, url, req, sink);
}

Client::Client(TlsOptions tls) : impl_(std::make_unique<Impl>()) { impl_->tls = std::move(tls); }
Client::~Client() = default;

Result<Response> Client::send(const Request& req_in, const BodySink& sink) {
  Request req = req_in;
  for (int hop = 0; hop <= 10; ++hop) {
    auto url = parse_url(req.url);
    if (!url) return tl::unexpected(url.error());
    Result<Response> r;
    try {
      r = impl_->once(*url, req, sink);
    } catch (const std::exception& e) {  // Asio allocation failures and the like
      return fail(req.method + " " + req.url + ": " + e.what(), EIO);
    }
    if (!r) return r;
    int s = r->status;
    bool redirect = s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
    if (!redirect || !req.follow_redirects || r->header("location").empty()) {
      r->final_url = req.url;
      return r;
    }
    auto next = resolve_url(req.url, r->header("location"));
    if (!next) return tl::unexpected(next.error());
    auto next_url = parse_url(*next);
    if (!next_url) return tl::unexpected(next_url.error());
    if (next_url->origin() != url->origin()) {
      // Storage backends (S3, CDNs) sign the URL; our registry token must not
      // leak to them and would make them reject the request.
      std::erase_if(req.headers, [](const auto& h) { return lower(h.first) == "authorization"; });
    }
    if (s == 303 || ((s == 301 || s == 302) && req.method == "POST")) {
      req.method = "GET";
      req.body.clear();
      req.body_file.clear();
    }
    req.url = *next;
  }
  return fail(req_in.method + " " + req_in.url + ": too many redirects", ELOOP);
}

}  // namespace stack::img::http
