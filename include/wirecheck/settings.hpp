// Settings: the user's configuration file (YAML) as the engine uses it.
// Per-rule severity overrides or disabling, the loopback-bind flag table
// (data, extensible by configuration) and thresholds. Loaded once at start;
// read-only afterwards, so safe to share between threads.
//
// File shape (all keys optional):
//   rules:
//     probe-targets-loopback-port: {severity: warn}
//     rbac-proxy-bypass: {disabled: true}
//   loopbackFlags: ["--my-listen"]              # added to the built-in table
//   hostPortFlags: [{host: --stats-host, port: --stats-port, defaultPort: 9102}]
//   caBundleExpiryDays: 30
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/result.hpp"
#include "wirecheck/severity.hpp"

namespace wirecheck::policy {

struct RuleOverride {
  bool disabled = false;
  std::optional<Severity> severity;
};

// A pair of flags giving host and port separately (kube-state-metrics'
// `--host` + `--port`). `default_port` applies when the port flag is absent.
struct HostPortFlag {
  std::string host_flag;
  std::string port_flag;
  std::optional<std::int64_t> default_port;
};

struct Settings {
  std::map<std::string, RuleOverride, std::less<>> rules;
  // Flags whose value is `host:port` (written with leading dashes as in RULES.md).
  std::vector<std::string> listen_flags;
  std::vector<HostPortFlag> host_port_flags;
  int ca_expiry_warn_days = 30;

  // The built-in flag tables of RULES.md and default thresholds.
  static Settings defaults();
  const RuleOverride* override_for(std::string_view rule_id) const;
};

// Parses a configuration document on top of the defaults. Unknown rule ids
// and malformed values are errors (a typo must not silently disable nothing).
core::Result<Settings> parse_settings(std::string_view yaml_text);
core::Result<Settings> load_settings_file(const std::string& path);

}  // namespace wirecheck::policy
