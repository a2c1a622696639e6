#include "wirecheck/settings.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "wirecheck/rule.hpp"

namespace wirecheck::policy {

using core::Result;

Settings Settings::defaults() {
  Settings s;
  s.listen_flags = {
      "--metrics-bind-address",  "--health-probe-bind-address", "--bind-address",
      "--listen-address",        "--web.listen-address",         "--secure-listen-address",
      "--insecure-listen-address", "--metrics-addr",             "--healthz-bind-address",
      "--address",
  };
  // kube-state-metrics listens on 8080 (metrics) and 8081 (telemetry) by
  // default. Kubernetes components (kube-scheduler, kube-controller-manager)
  // take an IP-only --bind-address and the port from --secure-port; their
  // default port differs per component, so none is assumed.
  s.host_port_flags = {
      {"--host", "--port", 8080},
      {"--telemetry-host", "--telemetry-port", 8081},
      {"--bind-address", "--secure-port", std::nullopt},
  };
  return s;
}

const RuleOverride* Settings::override_for(std::string_view rule_id) const {
  const auto it = rules.find(rule_id);
  return it == rules.end() ? nullptr : &it->second;
}

namespace {

std::string flag_name(std::string flag) {
  // Accept "metrics-addr", "-metrics-addr" and "--metrics-addr" alike.
  while (!flag.empty() && flag.front() == '-') flag.erase(0, 1);
  return "--" + flag;
}

Result<Settings> parse_node(const YAML::Node& root) {
  Settings s = Settings::defaults();
  if (!root || root.IsNull()) return s;
  if (!root.IsMap()) return Result<Settings>::failure("configuration must be a YAML mapping");
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "rules") {
      if (!value.IsMap()) return Result<Settings>::failure("rules: must be a mapping of rule id to settings");
      for (const auto& r : value) {
        const std::string id = r.first.as<std::string>();
        if (Registry::find(id) == nullptr) {
          return Result<Settings>::failure("rules: unknown rule id '" + id + "' (see 'wirecheck rules')");
        }
        RuleOverride o;
        const YAML::Node& body = r.second;
        if (body.IsScalar()) {
          // Short form: `rule-id: off` or `rule-id: warn`.
          const std::string v = body.as<std::string>();
          if (v == "off" || v == "disabled") {
            o.disabled = true;
          } else if (auto sev = parse_severity(v)) {
            o.severity = sev;
          } else {
            return Result<Settings>::failure("rules." + id + ": expected deny|warn|info|off, got '" + v + "'");
          }
        } else if (body.IsMap()) {
          for (const auto& f : body) {
            const std::string fk = f.first.as<std::string>();
            if (fk == "severity") {
              auto sev = parse_severity(f.second.as<std::string>());
              if (!sev) return Result<Settings>::failure("rules." + id + ".severity: expected deny|warn|info");
              o.severity = sev;
            } else if (fk == "disabled") {
              o.disabled = f.second.as<bool>();
            } else {
              return Result<Settings>::failure("rules." + id + ": unknown key '" + fk + "'");
            }
          }
        } else {
          return Result<Settings>::failure("rules." + id + ": expected a mapping or a severity");
        }
        s.rules[id] = o;
      }
    } else if (key == "loopbackFlags") {
      if (!value.IsSequence()) return Result<Settings>::failure("loopbackFlags: must be a list of flag names");
      for (const auto& f : value) s.listen_flags.push_back(flag_name(f.as<std::string>()));
    } else if (key == "hostPortFlags") {
      if (!value.IsSequence()) return Result<Settings>::failure("hostPortFlags: must be a list");
      for (const auto& f : value) {
        if (!f.IsMap() || !f["host"] || !f["port"]) {
          return Result<Settings>::failure("hostPortFlags: each entry needs host and port");
        }
        HostPortFlag hp{flag_name(f["host"].as<std::string>()), flag_name(f["port"].as<std::string>()),
                        std::nullopt};
        if (f["defaultPort"]) hp.default_port = f["defaultPort"].as<std::int64_t>();
        s.host_port_flags.push_back(std::move(hp));
      }
    } else if (key == "caBundleExpiryDays") {
      s.ca_expiry_warn_days = value.as<int>();
      if (s.ca_expiry_warn_days < 0) return Result<Settings>::failure("caBundleExpiryDays: must be >= 0");
    } else {
      return Result<Settings>::failure("unknown configuration key '" + key + "'");
    }
  }
  return s;
}

}  // namespace

Result<Settings> parse_settings(std::string_view yaml_text) {
  try {
    return parse_node(YAML::Load(std::string(yaml_text)));
  } catch (const YAML::Exception& e) {
    return Result<Settings>::failure(std::string("invalid configuration: ") + e.what());
  }
}

Result<Settings> load_settings_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Result<Settings>::failure("cannot read configuration file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  auto r = parse_settings(buf.str());
  if (!r) return Result<Settings>::failure(path + ": " + r.error());
  return r;
}

}  // namespace wirecheck::policy
