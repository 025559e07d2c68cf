#include "orchestrator/compose/task_spec.h"

#include <cctype>
#include <map>

#include "orchestrator/compose/units.h"
#include "runtime/kernel/signals.h"

namespace stack::compose {

namespace {

// The error of `r`, prefixed with the field it is about.
template <class T>
stack::Result<T> at(stack::Result<T> r, const std::string& path) {
  if (!r) return stack::fail(path + ": " + r.error().context, EINVAL);
  return r;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

stack::Result<RestartRule> parse_restart(const std::string& v) {
  RestartRule r;
  if (v == "no") r.mode = RestartMode::No;
  else if (v == "always") r.mode = RestartMode::Always;
  else if (v == "unless-stopped") r.mode = RestartMode::UnlessStopped;
  else if (v == "on-failure") r.mode = RestartMode::OnFailure;
  else if (v.rfind("on-failure:", 0) == 0 && all_digits(v.substr(11)) && v.size() - 11 <= 9) {
    r.mode = RestartMode::OnFailure;
    r.max_attempts = std::stoi(v.substr(11));
  } else {
    return stack::fail("invalid restart policy \"" + v + "\" (no, always, on-failure[:N], unless-stopped)", EINVAL);
  }
  return r;
}

stack::Result<RestartMode> parse_restart_condition(const std::string& v) {
  if (v == "none") return RestartMode::No;
  if (v == "on-failure") return RestartMode::OnFailure;
  if (v == "any") return RestartMode::Always;
  return stack::fail("\"" + v + "\" is not none, on-failure or any", EINVAL);
}

stack::Result<DependencyCondition> parse_dependency_condition(const std::string& v) {
  if (v == "service_started") return DependencyCondition::Started;
  if (v == "service_healthy") return DependencyCondition::Healthy;
  if (v == "service_completed_successfully") return DependencyCondition::CompletedSuccessfully;
  return stack::fail("\"" + v + "\" is not service_started, service_healthy or service_completed_successfully", EINVAL);
}

stack::Result<int> parse_stop_signal(const std::string& v) {
  if (v.empty()) return SIGTERM;  // unset: Docker's default
  auto n = rt::parse_signal(v);
  if (!n) return stack::fail("unknown signal \"" + v + "\" (a name such as SIGTERM or TERM, or a number)", EINVAL);
  return *n;
}

namespace {

// "1w2d", "12h", "30m": whole numbers with Compose's every_ units (weeks
// and days too, which Go's durations lack); nullopt when malformed or 0.
std::optional<Millis> every_duration(const std::string& text) {
  Millis total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t digits = i;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) digits++;
    if (digits == i || digits == text.size() || digits - i > 9) return std::nullopt;
    const Millis n = std::stoll(text.substr(i, digits - i));
    static const std::map<char, Millis> unit = {
        {'w', 7 * 86400000LL}, {'d', 86400000LL}, {'h', 3600000LL}, {'m', 60000LL}, {'s', 1000LL}};
    auto u = unit.find(text[digits]);
    if (u == unit.end()) return std::nullopt;
    total += n * u->second;
    i = digits + 1;
  }
  if (total <= 0) return std::nullopt;
  return total;
}

}  // namespace

stack::Result<PullRule> parse_pull_policy(const std::string& policy, const std::string& refresh_after) {
  using Mode = PullRule::Mode;
  PullRule r;
  if (policy.empty() || policy == "missing" || policy == "if_not_present") r.mode = Mode::Missing;
  else if (policy == "always") r.mode = Mode::Always;
  else if (policy == "never") r.mode = Mode::Never;
  else if (policy == "build") r.mode = Mode::Build;
  else if (policy == "daily" || policy == "weekly") {
    r.mode = Mode::Refresh;
    r.refresh_after = (policy == "daily" ? 1 : 7) * 86400000LL;
  } else if (policy.rfind("every_", 0) == 0) {
    auto d = every_duration(policy.substr(6));
    if (!d) return stack::fail("\"" + policy + "\": every_ takes a duration such as every_12h or every_1w2d", EINVAL);
    r.mode = Mode::Refresh;
    r.refresh_after = *d;
  } else if (policy == "refresh") {
    if (refresh_after.empty()) return stack::fail("refresh needs pull_refresh_after (a duration such as 24h)", EINVAL);
    r.mode = Mode::Refresh;
  } else {
    return stack::fail("unknown policy \"" + policy +
                           "\" (always, never, missing, build, daily, weekly, every_<duration>, refresh)",
                       EINVAL);
  }
  if (!refresh_after.empty()) {
    if (policy != "refresh")
      return stack::fail("pull_refresh_after is for pull_policy: refresh, not \"" + policy + "\"", EINVAL);
    auto d = parse_duration(refresh_after);
    std::optional<Millis> every = d && *d > 0 ? std::optional<Millis>(*d) : every_duration(refresh_after);
    if (!every) return stack::fail("pull_refresh_after \"" + refresh_after + "\" is not a duration (24h, 1w)", EINVAL);
    r.refresh_after = *every;
  }
  return r;
}

stack::Result<FailureAction> parse_failure_action(const std::string& v) {
  if (v == "pause") return FailureAction::Pause;
  if (v == "continue") return FailureAction::Continue;
  if (v == "rollback") return FailureAction::Rollback;
  return stack::fail("\"" + v + "\" is not continue, pause or rollback", EINVAL);
}

stack::Result<UpdateOrder> parse_update_order(const std::string& v) {
  if (v == "stop-first") return UpdateOrder::StopFirst;
  if (v == "start-first") return UpdateOrder::StartFirst;
  return stack::fail("\"" + v + "\" is not stop-first or start-first", EINVAL);
}

stack::Result<UpdateRule> update_rule(const UpdateConfig& c) {
  UpdateRule u;
  if (c.parallelism < 0) return stack::fail("parallelism: must not be negative", EINVAL);
  if (c.max_failure_ratio && (*c.max_failure_ratio < 0 || *c.max_failure_ratio > 1))
    return stack::fail("max_failure_ratio: must be between 0 and 1", EINVAL);
  auto action = at(parse_failure_action(c.failure_action), "failure_action");
  if (!action) return tl::unexpected(action.error());
  auto order = at(parse_update_order(c.order), "order");
  if (!order) return tl::unexpected(order.error());
  u.parallelism = c.parallelism;
  u.delay = c.delay;
  u.failure_action = *action;
  u.order = *order;
  u.monitor = c.monitor.value_or(5000);  // Swarm's default
  u.max_failure_ratio = c.max_failure_ratio;
  return u;
}

int64_t requested_gpus(const DeviceRequest& d) {
  return d.count.value_or(static_cast<int64_t>(d.device_ids.size()));
}

stack::Result<RestartRule> restart_rule(const Service& s) {
  const std::string base = "services." + s.name;
  if (!s.deploy.restart_policy) return at(parse_restart(s.restart), base + ".restart");
  const RestartPolicy& p = *s.deploy.restart_policy;
  auto mode = at(parse_restart_condition(p.condition), base + ".deploy.restart_policy.condition");
  if (!mode) return tl::unexpected(mode.error());
  RestartRule r;
  r.mode = *mode;
  r.delay = p.delay;
  r.max_attempts = p.max_attempts;
  r.window = p.window;
  return r;
}

stack::Result<TaskSpec> task_spec(const Service& s) {
  const std::string base = "services." + s.name;
  TaskSpec t;
  t.replicas = s.replicas;
  if (s.deploy.mode == "global") t.mode = ServiceMode::Global;
  else if (s.deploy.mode == "replicated-job") t.mode = ServiceMode::ReplicatedJob;
  else if (s.deploy.mode == "global-job") t.mode = ServiceMode::GlobalJob;
  auto restart = restart_rule(s);
  if (!restart) return tl::unexpected(restart.error());
  t.restart = *restart;
  t.stop_signal = s.stop_signal.empty() ? "SIGTERM" : s.stop_signal;
  auto sig = at(parse_stop_signal(s.stop_signal), base + ".stop_signal");
  if (!sig) return tl::unexpected(sig.error());
  t.stop_signal_number = *sig;
  t.stop_grace = s.stop_grace_period;
  auto pull = at(parse_pull_policy(s.pull_policy, s.pull_refresh_after), base + ".pull_policy");
  if (!pull) return tl::unexpected(pull.error());
  t.pull = *pull;
  for (const auto& [dep, d] : s.depends_on) {
    auto c = at(parse_dependency_condition(d.condition), base + ".depends_on." + dep + ".condition");
    if (!c) return tl::unexpected(c.error());
    t.depends_on.push_back({dep, *c, d.restart, d.required});
  }
  if (s.deploy.update_config) {
    auto u = at(update_rule(*s.deploy.update_config), base + ".deploy.update_config");
    if (!u) return tl::unexpected(u.error());
    t.update_config = *u;
  }
  if (s.deploy.rollback_config) {
    auto u = at(update_rule(*s.deploy.rollback_config), base + ".deploy.rollback_config");
    if (!u) return tl::unexpected(u.error());
    t.rollback_config = *u;
  }
  t.reserved_cpus = s.deploy.reservations.cpus.value_or(0);
  t.reserved_memory = s.deploy.reservations.memory.value_or(0);
  for (const auto& d : s.deploy.reservations.devices) {
    bool gpu = false;
    for (const auto& c : d.capabilities) gpu = gpu || c == "gpu";
    if (!gpu) continue;
    int64_t n = requested_gpus(d);
    if (n < 0 || t.gpus < 0) t.gpus = -1;
    else t.gpus += n;
  }
  t.constraints = s.deploy.placement_constraints;
  t.max_replicas_per_node = s.deploy.max_replicas_per_node.value_or(0);
  t.spread = s.deploy.placement_spread;
  return t;
}

}  // namespace stack::compose
