// Compose port forms -> PortSpec.
// Short: "3000", "3000/udp", "3000-3005", "8080:80", "8000-8001:80-81",
//        "8000-8010:80" (pick one host port in the range), "127.0.0.1:8080:80",
//        "127.0.0.1::80" (ephemeral host port on one address), "[::1]:8080:80",
//        "::1:8080:80" (as Docker splits it: the last two fields are ports), a
//        plain number 3000.
// Long:  {target, published (number or "8000-8001"), host_ip, protocol, mode,
//        app_protocol, name}.
// A bare container port (short or long form without `published`) is marked
// published_auto: Compose publishes it on an ephemeral host port.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "orchestrator/compose/model.h"
#include "base/error.h"

namespace stack::compose {

// Errors name the offending text, e.g. `invalid port "70000": must be 1-65535`.
stack::Result<PortSpec> parse_port_short(const std::string& text);
// "80" -> {80, 80}; "8000-8010" -> {8000, 8010}.
stack::Result<std::pair<uint16_t, uint16_t>> parse_port_range(const std::string& text);
stack::Result<void> check_protocol(const std::string& protocol);
// An IPv4 or IPv6 host address in its canonical text ("0:0::1" -> "::1"),
// so equal addresses compare equal; error names the text.
stack::Result<std::string> canonical_host_ip(const std::string& text);
// "8080:80/tcp" style text for messages and `stack config`'s short view.
std::string port_to_string(const PortSpec& p);

}  // namespace stack::compose
