// compose::Project -> sched::StackSpec: what the scheduler needs of a stack,
// nothing of YAML or kernels. Pure. Every string of a service (restart
// policy, stop signal, dependency conditions, update config) is parsed once,
// by compose::task_spec() (compose/task_spec.h, the loader's own parsers);
// here its typed values are only mapped onto the scheduler's.
//
// Health, in Compose's order of precedence: the service's x-healthcheck
// (native probe run from the host side: http/tcp), else its healthcheck,
// else the image's HEALTHCHECK (passed in: the engine asks LocalNode). A
// healthcheck with test NONE or disable: true means no check at all, even if
// the image has one. `x-restart-unhealthy: false` on a service keeps an
// unhealthy replica running (Compose's behaviour); the default restarts it
// (Swarm's).
//
// Restart: deploy.restart_policy wins over `restart` when both are set
// (Compose does the same in swarm mode; in plain Compose deploy wins too).
//
// config_hash: "v2:" and a hash of the canonical JSON of what a replica is
// created with: its ReplicaSpec (replica_spec.h), container_name, network
// attachments and published ports, fields at their default left out. So
// `scale`, restart policies, health checks, dependencies and deploy settings
// never replace replicas (the supervisor applies them to the running ones),
// any change to the container does, and a field added later at its default
// changes no hash. Hashes stackd stored before v2 (of the whole serialized
// service) are recognised by upgraded_config_hash(): restore gives a replica
// made from the unchanged service the v2 hash instead of replacing it.
// Secrets and configs count by their target, owner, mode and bytes (a hash
// of them): `up` after a secret's file changed replaces its replicas.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/hash.h"
#include "orchestrator/compose/model.h"
#include "base/error.h"
#include "scheduler/model.h"

namespace stack::orch {

sched::HealthSpec health_spec(const compose::Service& service,
                              const std::optional<compose::Healthcheck>& image_healthcheck);

// Errors name the field: "services.web.restart: invalid restart policy \"sometimes\" ...".
stack::Result<sched::RestartSpec> restart_spec(const compose::Service& service);

// `project`: where the service's secrets and configs are defined (nullptr:
// a service that mounts none).
std::string config_hash(const compose::Service& service, const compose::Project* project = nullptr);
// The hash stackd computed before v2, kept only to recognise stored replicas.
std::string legacy_config_hash(const compose::Service& service);
// `stored`, or config_hash(service) when `stored` is the legacy hash of this
// very service: a replica created by an older stackd from the same config.
std::string upgraded_config_hash(const std::string& stored, const compose::Service& service);

// `image_healthchecks`: service name -> the image's HEALTHCHECK, for services
// whose image has one.
stack::Result<sched::StackSpec> stack_spec(const compose::Project& project,
                                        const std::map<std::string, compose::Healthcheck>& image_healthchecks);

// The replica counts of `spec` set from `project`, the one place a count is
// kept (`scale` changes the project's and calls this).
void set_replicas(sched::StackSpec& spec, const compose::Project& project);

// Why `up` cannot run a service with `build:` whose image is not in the store:
// stack does not build images yet. Names the service and the image and says
// how to provide it. `pull_error`: why pulling it failed, for a service that
// names its image (one with build: and no image: is never pulled, see
// compose/build.h).
std::string unbuilt_image_message(const compose::Service& service, const std::string& pull_error = "");


}  // namespace stack::orch
