#include "orchestrator/compose/logging.h"

#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"
#include "orchestrator/compose/units.h"

namespace stack::compose {

namespace {

constexpr uint64_t kMinLogSize = 4096;  // the shim's floor: below it every record rotates
constexpr int64_t kMaxLogFiles = 100;

bool known_driver(const std::string& d) { return d == "json-file" || d == "local" || d == "none"; }

}  // namespace

stack::Result<Logging> read_logging(const Node& v, const std::string& path, std::vector<Warning>& warnings) {
  Logging l;
  if (const Node* d = v.find("driver")) {
    STACK_COMPOSE_ASSIGN(l.driver, read_string(*d, path + ".driver"));
    if (l.driver.empty()) l.driver = "json-file";
    if (!known_driver(l.driver)) {
      add_warning(warnings, d->mark, path + ".driver",
                  "the " + l.driver + " driver is not supported by stack (json-file, local, none): logs go to json-file");
      l.driver = "json-file";
    }
  }
  const Node* opts = v.find("options");
  if (!opts || !opts->is_map()) return l;
  for (const auto& e : opts->entries) {
    const std::string p = path + ".options." + e.key;
    std::string text;
    STACK_COMPOSE_ASSIGN(text, read_string(e.value, p));
    if (l.driver == "none") {
      add_warning(warnings, e.mark, p, "ignored: the none driver keeps no log");
      continue;
    }
    if (e.key == "max-size") {
      uint64_t bytes = 0;
      STACK_COMPOSE_ASSIGN(bytes, read_size(e.value, p));
      if (bytes < kMinLogSize) return fail_at(e.value.mark, p, "must be at least 4k (got " + text + ")");
    } else if (e.key == "max-file") {
      int64_t n = 0;
      STACK_COMPOSE_ASSIGN(n, read_int(e.value, p));
      if (n < 1 || n > kMaxLogFiles) return fail_at(e.value.mark, p, "must be 1..100 (got " + text + ")");
    } else if (e.key == "compress") {
      bool on = false;
      STACK_COMPOSE_ASSIGN(on, read_bool(e.value, p));
      text = on ? "true" : "false";  // one spelling for log_settings()
    } else {
      add_warning(warnings, e.mark, p, "ignored: stack's " + l.driver + " log knows max-size, max-file and compress");
      continue;
    }
    l.options[e.key] = text;
  }
  return l;
}

LogSettings log_settings(const Logging& l) {
  LogSettings s;
  if (l.driver == "none") {
    s.enabled = false;
    return s;
  }
  if (l.driver == "local") {  // Docker's defaults for the local driver
    s.max_size = 20ull << 20;
    s.max_files = 5;
  }
  // Checked while loading; a stored project is trusted the same way.
  if (auto it = l.options.find("max-size"); it != l.options.end())
    if (auto bytes = parse_size(it->second)) s.max_size = *bytes;
  if (auto it = l.options.find("compress"); it != l.options.end()) s.compress = it->second == "true";
  if (auto it = l.options.find("max-file"); it != l.options.end()) {
    try {
      s.max_files = static_cast<unsigned>(std::stoul(it->second));
    } catch (const std::exception&) {
    }
  }
  return s;
}

}  // namespace stack::compose
