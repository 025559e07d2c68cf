#include "runtime/container/device_rules.h"

namespace stack::rt {

const std::vector<DeviceCgroupRule>& default_device_rules() {
  // moby/oci/devices_linux.go and runc's AllowedDevices.
  auto c = [](int64_t major, std::optional<int64_t> minor) {
    return DeviceCgroupRule{true, "c", major, minor, "rwm"};
  };
  static const std::vector<DeviceCgroupRule> rules = {
      {false, "a", std::nullopt, std::nullopt, "rwm"},
      {true, "c", std::nullopt, std::nullopt, "m"},
      {true, "b", std::nullopt, std::nullopt, "m"},
      c(1, 3),    // /dev/null
      c(1, 5),    // /dev/zero
      c(1, 7),    // /dev/full
      c(1, 8),    // /dev/random
      c(1, 9),    // /dev/urandom
      c(5, 0),    // /dev/tty
      c(5, 1),    // /dev/console
      c(5, 2),    // /dev/ptmx
      c(10, 200), // /dev/net/tun
      c(136, std::nullopt),  // /dev/pts/*
  };
  return rules;
}

std::vector<DeviceCgroupRule> effective_device_rules(const Spec& spec) {
  const auto& defaults = default_device_rules();
  std::vector<DeviceCgroupRule> out(defaults.begin(), defaults.begin() + 1);  // deny all
  if (spec.linux.resources)
    out.insert(out.end(), spec.linux.resources->devices.begin(), spec.linux.resources->devices.end());
  // The allow list last, as runc appends its AllowedDevices: a generated
  // config's own "deny a" (Kubernetes, podman) must not take /dev/null away.
  out.insert(out.end(), defaults.begin() + 1, defaults.end());
  return out;
}

}  // namespace stack::rt
