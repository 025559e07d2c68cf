// A fixture for netplane tests that drive NetworkManager for real: each test
// runs with the test thread in a fresh network namespace of its own (the
// "host" of the test), so bridges, nft rules, sysctls and sweep() never touch
// the machine's real host netns or another test running in parallel.
// Containers are named netns (netns.h) under a private dir; servers and
// clients run inside them with nsenter, or as real containers (e2e tests).
//
// TearDown checks for leaks inside the test host: no tagged link (stk-*
// bridges, sk* veths), no tagged nft rule, no netns mount left under the
// test's netns dir. Then it kills the servers it started and returns the
// thread to its original netns.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "netplane/network_manager.h"
#include "base/fd.h"
#include "tests/support/bundle.h"

// Asserts that a Result-returning expression succeeded, printing its error.
#define ASSERT_OK(expr)                                                  \
  do {                                                                    \
    auto assert_ok_r_ = (expr);                                           \
    ASSERT_TRUE(assert_ok_r_) << #expr << ": "                            \
                              << (assert_ok_r_ ? "" : assert_ok_r_.error().message()); \
  } while (0)

namespace stack::test {

class NetTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs `argv` (argv[0] found in PATH) inside netns `ns_path` and waits.
  CmdResult in_ns(const std::string& ns_path, const std::vector<std::string>& argv);
  // Starts `argv` in netns `ns_path` in the background; killed in TearDown.
  pid_t spawn_in_ns(const std::string& ns_path, const std::vector<std::string>& argv);
  // A busybox httpd on :port in `ns_path` serving `body` at /index.html.
  void serve_http(const std::string& ns_path, uint16_t port, const std::string& body);
  // A busybox udp echo-ish server: answers every datagram with `body`.
  void serve_udp(const std::string& ns_path, uint16_t port, const std::string& body);
  // `wget -q -O - http://ip:port/` from `ns_path` ("" = the test host); an
  // IPv6 ip ("::1") is fetched over a plain socket instead. The body or "ERR(..)".
  std::string http_get(const std::string& ns_path, const std::string& ip, uint16_t port);
  // One datagram to ip:port (IPv4 or IPv6) from `ns_path` ("" = the test host), from source
  // port `src_port` (0 = any); the reply or "ERR(errno)".
  std::string udp_ask(const std::string& ns_path, const std::string& ip, uint16_t port, uint16_t src_port = 0);
  bool ping(const std::string& ns_path, const std::string& ip);
  // A new named netns (a "container") under the test's netns dir.
  std::string make_ns(const std::string& name);
  // The manager on the test's state dir (opened in SetUp).
  std::unique_ptr<net::NetworkManager> open_manager();

  // Leak probes (public for the kill-9 test).
  static std::vector<std::string> tagged_links();
  static std::vector<std::string> tagged_rules();

  std::unique_ptr<TempDir> dir_;
  std::string state_dir_, netns_dir_;
  std::unique_ptr<net::NetworkManager> mgr_;
  std::vector<std::string> netns_;
  std::vector<pid_t> servers_;
  stack::UniqueFd orig_ns_;
  bool in_private_ns_ = false;
};

}  // namespace stack::test
