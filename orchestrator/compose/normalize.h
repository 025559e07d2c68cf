// The validated, merged, profile-filtered tree -> the model (model.h): short
// and long forms unified, units converted, defaults applied, env_file files
// read, and a Warning for every field in unsupported.h that is used.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/compose/interpolation.h"
#include "orchestrator/compose/loader.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

// Assigns the value of a Result expression or returns its error.
#define STACK_COMPOSE_ASSIGN(lhs, expr)                            \
  do {                                                              \
    auto stack_assign_r_ = (expr);                                  \
    if (!stack_assign_r_) return tl::unexpected(stack_assign_r_.error()); \
    lhs = std::move(*stack_assign_r_);                              \
  } while (0)

void add_warning(std::vector<Warning>& out, const Mark& m, const std::string& path, const std::string& message);
// The entry at a dotted key path ("deploy.placement") of a map node, or null.
const Entry* find_entry(const Node& n, const std::string& dotted);

// "db:database" -> {"db", "database"}; "db" -> {"db", "db"}.
std::pair<std::string, std::string> split_link(const std::string& link);

// One volumes_from entry. read_only: nullopt keeps each mount's own mode.
struct VolumesFrom {
  std::string name;
  bool container = false;  // container:NAME (else a service of the file)
  std::optional<bool> read_only;
};
stack::Result<VolumesFrom> parse_volumes_from(const std::string& entry);

// The service whose container_name is `name` (container:NAME of joins and
// volumes_from), or null.
const std::string* service_with_container_name(const Project& project, const std::string& name);

// The service's networks, the one that gets eth0, the default route and the
// service-level mac_address first (highest priority, then name order, as
// Compose does).
std::vector<std::string> ordered_networks(const Service& service);

// `env` resolves bare environment entries (`- KEY`) and env_file values.
stack::Result<Service> normalize_service(const std::string& name, const Node& node, const Lookup& env,
                                      std::vector<Warning>& warnings);

// Services, networks, volumes, configs, secrets, x-*; Project.name,
// working_dir and files are the loader's.
stack::Result<Project> normalize_project(const Node& doc, const Lookup& env, std::vector<Warning>& warnings);

}  // namespace stack::compose
