// Typed reads of validated tree nodes for normalize: each error names the
// node's file:line:col and field path. Scalars convert as Compose does after
// interpolation ("3" is an integer where one is expected).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

stack::Result<std::string> read_string(const Node& n, const std::string& path);  // null -> ""
// An Ethernet unicast address, "02:42:AC:11:00:02" -> "02:42:ac:11:00:02".
stack::Result<std::string> read_mac(const Node& n, const std::string& path);
stack::Result<int64_t> read_int(const Node& n, const std::string& path);
stack::Result<double> read_double(const Node& n, const std::string& path);
stack::Result<bool> read_bool(const Node& n, const std::string& path);
stack::Result<Millis> read_duration(const Node& n, const std::string& path);
// Bytes; a plain integer is bytes.
stack::Result<uint64_t> read_size(const Node& n, const std::string& path);
// A bit rate as tc writes one: "10mbit", "500kbit", "1gbit", "64000bit" or a
// bare number (bit/s); k/m/g are decimal. Returned in bytes per second
// (rounded down, at least 1).
stack::Result<uint64_t> read_bit_rate(const Node& n, const std::string& path);
// A string or a list of strings.
stack::Result<std::vector<std::string>> read_string_list(const Node& n, const std::string& path);
// A mapping of scalars (null values -> "").
stack::Result<std::map<std::string, std::string>> read_string_map(const Node& n, const std::string& path);
// Stores a read value into an optional field, converting the type:
// STACK_TRY(store(s.pids_limit, read_int(v, path))).
template <class T, class R>
stack::Result<void> store(std::optional<T>& out, stack::Result<R> read) {
  if (!read) return tl::unexpected(read.error());
  out = static_cast<T>(*read);
  return {};
}

// A command: a string split as shell words, or a list (null: unset).
stack::Result<std::optional<std::vector<std::string>>> read_command(const Node& n, const std::string& path);
// Splits a command string as Compose does (POSIX shell words: quotes and
// backslashes, no expansion).
stack::Result<std::vector<std::string>> shell_split(const std::string& text);

}  // namespace stack::compose
