// JSON -> typed object model. Every accessor here tolerates a missing field
// or a field of the wrong type by leaving the default: decoding never fails
// on a well-formed JSON object, whatever its content.
#include "wirecheck/decode.hpp"

#include "core/decode_dom.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <limits>
#include <unordered_set>

namespace wirecheck::core {

namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

bool as_object(element e, object& out) { return e.get_object().get(out) == SUCCESS; }

// ------------------------------------------------------------ limits

// What each list counts against (decode.hpp, DecodeLimits). Every list also
// counts against kEntries.
enum class Cap : std::uint8_t { kEntries, kContainers, kPorts, kEnv, kArgs, kEndpoints, kWebhooks, kRules };

struct CapInfo {
  std::string_view what;
  std::size_t DecodeLimits::*limit;
};
constexpr CapInfo kCaps[] = {
    {"list entries", &DecodeLimits::entries}, {"containers", &DecodeLimits::containers},
    {"ports", &DecodeLimits::ports},          {"env entries", &DecodeLimits::env},
    {"command and args entries", &DecodeLimits::args},
    {"monitor endpoints", &DecodeLimits::endpoints},
    {"webhooks", &DecodeLimits::webhooks},    {"webhook rules", &DecodeLimits::rules},
};

// Entries admitted so far in the object this thread is decoding
// (decode_element is not reentrant). Once one cap is passed nothing more is
// decoded: the object will not be evaluated, so a partial decode is enough
// to name it.
struct Tally {
  std::array<std::size_t, std::size(kCaps)> used{};
  OverLimit over;
};
thread_local Tally tally;

std::uint32_t saturated_u32(std::size_t n) {
  return static_cast<std::uint32_t>(std::min<std::size_t>(n, std::numeric_limits<std::uint32_t>::max()));
}

bool count_against(Cap cap, std::size_t n) {
  const CapInfo& info = kCaps[static_cast<std::size_t>(cap)];
  std::size_t& used = tally.used[static_cast<std::size_t>(cap)];
  used += n;
  if (used <= kDecodeLimits.*info.limit) return true;
  tally.over = {info.what, saturated_u32(used), saturated_u32(kDecodeLimits.*info.limit)};
  return false;
}

// Whether a list of `n` entries may be decoded; false (the object then
// marked over its limits) when it would pass a cap.
bool admit(std::size_t n, Cap cap = Cap::kEntries) {
  if (tally.over) return false;
  // The specific cap first: "containers" says more than "list entries".
  if (cap != Cap::kEntries && !count_against(cap, n)) return false;
  return count_against(Cap::kEntries, n);
}
bool admit(array a, Cap cap = Cap::kEntries) { return admit(a.size(), cap); }

bool field(object o, std::string_view key, element& out) {
  return o.at_key(key).get(out) == SUCCESS;
}

bool object_field(object o, std::string_view key, object& out) {
  element e;
  return field(o, key, e) && as_object(e, out);
}

bool array_field(object o, std::string_view key, array& out) {
  element e;
  return field(o, key, e) && e.get_array().get(out) == SUCCESS;
}

std::string_view string_field(object o, std::string_view key) {
  element e;
  std::string_view s;
  if (field(o, key, e) && e.get_string().get(s) == SUCCESS) return s;
  return {};
}

bool int_value(element e, std::int64_t& out) {
  if (e.get_int64().get(out) == SUCCESS) return true;
  double d = 0;
  // YAML converted to JSON may carry 8080.0; only exact integers count.
  // Casting a double outside int64's range (1e308) is undefined behaviour:
  // range-check first ([-2^63, 2^63) are exactly representable bounds).
  constexpr double kMin = -9223372036854775808.0;
  constexpr double kMax = 9223372036854775808.0;
  if (e.get_double().get(d) != SUCCESS || !(d >= kMin && d < kMax)) return false;
  if (d != static_cast<double>(static_cast<std::int64_t>(d))) return false;
  out = static_cast<std::int64_t>(d);
  return true;
}

bool int_field(object o, std::string_view key, std::int64_t& out) {
  element e;
  return field(o, key, e) && int_value(e, out);
}

bool bool_field(object o, std::string_view key) {
  element e;
  bool b = false;
  return field(o, key, e) && e.get_bool().get(b) == SUCCESS && b;
}

bool has_field(object o, std::string_view key) {
  element e;
  return field(o, key, e) && !e.is_null();
}

IntOrString int_or_string(object o, std::string_view key) {
  IntOrString v;
  element e;
  if (!field(o, key, e)) return v;
  std::string_view s;
  if (int_value(e, v.num)) {
    v.set = true;
    v.is_int = true;
  } else if (e.get_string().get(s) == SUCCESS) {
    v.set = true;
    v.str = std::string(s);
  }
  return v;
}

StringMap string_map(object o, std::string_view key) {
  object m;
  if (!object_field(o, key, m) || !admit(m.size())) return {};
  std::vector<StringMap::value_type> entries;  // views into the parsed document
  entries.reserve(m.size());
  for (auto [k, v] : m) {
    std::string_view s;
    if (v.get_string().get(s) == SUCCESS) entries.emplace_back(k, s);
  }
  return StringMap(entries);
}

std::vector<std::string> string_list(object o, std::string_view key, Cap cap = Cap::kEntries) {
  std::vector<std::string> list;
  array a;
  if (!array_field(o, key, a) || !admit(a, cap)) return list;
  for (element e : a) {
    std::string_view s;
    if (e.get_string().get(s) == SUCCESS) {
      list.emplace_back(s);
    } else {
      // Numbers in args (`- 8080`) are still arguments to the process.
      std::int64_t n = 0;
      if (int_value(e, n)) list.push_back(std::to_string(n));
    }
  }
  return list;
}

// A present LabelSelector from its own object.
LabelSelector label_selector_of(object s) {
  LabelSelector sel;
  sel.present = true;
  sel.match_labels = string_map(s, "matchLabels");
  array exprs;
  if (array_field(s, "matchExpressions", exprs) && admit(exprs)) {
    for (element e : exprs) {
      object x;
      if (!as_object(e, x)) continue;
      sel.match_expressions.push_back(
          {CompactString(string_field(x, "key")), CompactString(string_field(x, "operator")), string_list(x, "values")});
    }
  }
  return sel;
}

LabelSelector label_selector(object o, std::string_view key) {
  object s;
  return object_field(o, key, s) ? label_selector_of(s) : LabelSelector{};
}

// ------------------------------------------------------------- workloads

Probe probe(object c, std::string_view key) {
  Probe p;
  object o;
  if (!object_field(c, key, o)) return p;
  p.present = true;
  object h;
  if (object_field(o, "httpGet", h)) {
    p.handler = Probe::Handler::kHttpGet;
    p.port = int_or_string(h, "port");
    p.host = string_field(h, "host");
  } else if (object_field(o, "tcpSocket", h)) {
    p.handler = Probe::Handler::kTcpSocket;
    p.port = int_or_string(h, "port");
    p.host = string_field(h, "host");
  } else if (object_field(o, "grpc", h)) {
    p.handler = Probe::Handler::kGrpc;
    p.port = int_or_string(h, "port");
  } else if (object_field(o, "exec", h)) {
    p.handler = Probe::Handler::kExec;
  }
  return p;
}

std::vector<Container> containers(object spec, std::string_view key, bool init) {
  std::vector<Container> list;
  array a;
  if (!array_field(spec, key, a) || !admit(a, Cap::kContainers)) return list;
  for (element e : a) {
    Container c;
    c.init = init;
    c.index = list.size();
    object o;
    if (as_object(e, o)) {
      c.name = string_field(o, "name");
      c.sidecar = init && string_field(o, "restartPolicy") == "Always";
      c.command = string_list(o, "command", Cap::kArgs);
      c.args = string_list(o, "args", Cap::kArgs);
      array env;
      if (array_field(o, "env", env) && admit(env, Cap::kEnv)) {
        for (element ev : env) {
          object v;
          if (!as_object(ev, v)) continue;
          EnvVar var;
          var.name = string_field(v, "name");
          element value;
          std::string_view s;
          if (field(v, "value", value) && value.get_string().get(s) == SUCCESS) {
            var.value = std::string(s);
            var.has_value = true;
          }
          c.env.push_back(std::move(var));
        }
      }
      array ports;
      if (array_field(o, "ports", ports) && admit(ports, Cap::kPorts)) {
        for (element pe : ports) {
          object p;
          if (!as_object(pe, p)) continue;
          ContainerPort port;
          port.name = string_field(p, "name");
          int_field(p, "containerPort", port.container_port);
          port.protocol = string_field(p, "protocol");
          c.ports.push_back(std::move(port));
        }
      }
      c.liveness = probe(o, "livenessProbe");
      c.readiness = probe(o, "readinessProbe");
      c.startup = probe(o, "startupProbe");
    }
    list.push_back(std::move(c));
  }
  return list;
}

PodTemplate pod_template(object root, Kind kind, const Metadata& meta) {
  PodTemplate t;
  object tmpl;  // the object holding `metadata` and `spec` of the pod
  bool found = false;
  if (kind == Kind::kPod) {
    tmpl = root;
    found = true;
    t.spec_path = "spec";
  } else {
    object spec;
    if (object_field(root, "spec", spec)) {
      if (kind == Kind::kCronJob) {
        object job, job_spec;
        found = object_field(spec, "jobTemplate", job) && object_field(job, "spec", job_spec) &&
                object_field(job_spec, "template", tmpl);
        t.spec_path = "spec.jobTemplate.spec.template.spec";
      } else {
        found = object_field(spec, "template", tmpl);
        t.spec_path = "spec.template.spec";
      }
    }
  }
  if (!found) return t;
  if (kind == Kind::kPod) {
    t.labels = meta.labels;
  } else {
    object m;
    if (object_field(tmpl, "metadata", m)) t.labels = string_map(m, "labels");
  }
  object pod_spec;
  if (!object_field(tmpl, "spec", pod_spec)) return t;
  t.containers = containers(pod_spec, "containers", false);
  t.init_containers = containers(pod_spec, "initContainers", true);
  t.host_network = bool_field(pod_spec, "hostNetwork");
  t.service_account_name = string_field(pod_spec, "serviceAccountName");
  if (t.service_account_name.empty()) t.service_account_name = string_field(pod_spec, "serviceAccount");
  return t;
}

// -------------------------------------------------------------- services

Service service(object root) {
  Service s;
  object spec;
  if (!object_field(root, "spec", spec)) return s;
  s.type = string_field(spec, "type");
  s.headless = string_field(spec, "clusterIP") == "None";
  s.selector = string_map(spec, "selector");
  s.has_selector = !s.selector.empty();
  array ports;
  if (array_field(spec, "ports", ports) && admit(ports, Cap::kPorts)) {
    for (element e : ports) {
      ServicePort p;
      p.index = s.ports.size();
      object o;
      if (as_object(e, o)) {
        p.name = string_field(o, "name");
        int_field(o, "port", p.port);
        p.target_port = int_or_string(o, "targetPort");
        p.protocol = string_field(o, "protocol");
      }
      s.ports.push_back(std::move(p));
    }
  }
  return s;
}

// ------------------------------------------------------------ monitoring

SecretOrConfigMap secret_or_configmap(object tls, std::string_view key) {
  SecretOrConfigMap r;
  object o, ref;
  if (!object_field(tls, key, o)) return r;
  if (object_field(o, "secret", ref)) {
    r.secret_name = string_field(ref, "name");
    r.secret_key = string_field(ref, "key");
  }
  if (object_field(o, "configMap", ref)) {
    r.configmap_name = string_field(ref, "name");
    r.configmap_key = string_field(ref, "key");
  }
  return r;
}

TlsConfig tls_config(object endpoint) {
  TlsConfig t;
  object o;
  if (!object_field(endpoint, "tlsConfig", o)) return t;
  t.present = true;
  t.server_name = string_field(o, "serverName");
  t.insecure_skip_verify = bool_field(o, "insecureSkipVerify");
  t.ca = secret_or_configmap(o, "ca");
  t.cert = secret_or_configmap(o, "cert");
  object key;
  if (object_field(o, "keySecret", key)) {
    t.key_secret_name = string_field(key, "name");
    t.key_secret_key = string_field(key, "key");
  }
  t.ca_file = string_field(o, "caFile");
  t.cert_file = string_field(o, "certFile");
  t.key_file = string_field(o, "keyFile");
  return t;
}

// A `{name, key}` SecretKeySelector / ConfigMapKeySelector at `key` of `o`.
void key_reference(object o, std::string_view key, bool config_map, std::string_view field,
                   std::vector<KeyReference>& out) {
  object ref;
  if (!object_field(o, key, ref)) return;
  const std::string_view name = string_field(ref, "name");
  if (!name.empty()) out.push_back({config_map, CompactString(name), CompactString(string_field(ref, "key")), field});
}

// TLS and credentials of a scrape endpoint (ServiceMonitor / PodMonitor
// endpoints, a Probe's spec): what is sent and where it is read from.
void scrape_settings(object o, MonitorEndpoint& ep) {
  ep.tls = tls_config(o);
  ep.bearer_token_file = string_field(o, "bearerTokenFile");
  object auth, basic, oauth2;
  const bool has_authorization = object_field(o, "authorization", auth);
  ep.has_auth = !ep.bearer_token_file.empty() || has_field(o, "bearerTokenSecret") || has_authorization ||
                has_field(o, "basicAuth") || has_field(o, "oauth2");
  const std::string_view auth_type = has_authorization ? string_field(auth, "type") : std::string_view();
  ep.sends_token = !ep.bearer_token_file.empty() || has_field(o, "bearerTokenSecret") ||
                   (has_authorization && (auth_type.empty() || auth_type == "Bearer"));
  key_reference(o, "bearerTokenSecret", false, "bearerTokenSecret", ep.credential_refs);
  if (has_authorization) key_reference(auth, "credentials", false, "authorization.credentials", ep.credential_refs);
  if (object_field(o, "basicAuth", basic)) {
    key_reference(basic, "username", false, "basicAuth.username", ep.credential_refs);
    key_reference(basic, "password", false, "basicAuth.password", ep.credential_refs);
  }
  if (object_field(o, "oauth2", oauth2)) {
    object client_id;
    if (object_field(oauth2, "clientId", client_id)) {
      key_reference(client_id, "secret", false, "oauth2.clientId.secret", ep.credential_refs);
      key_reference(client_id, "configMap", true, "oauth2.clientId.configMap", ep.credential_refs);
    }
    key_reference(oauth2, "clientSecret", false, "oauth2.clientSecret", ep.credential_refs);
  }
}

Monitor monitor(object root, bool pod_monitor) {
  Monitor m;
  m.pod_monitor = pod_monitor;
  object spec;
  if (!object_field(root, "spec", spec)) return m;
  m.selector = label_selector(spec, "selector");
  object ns;
  if (object_field(spec, "namespaceSelector", ns)) {
    m.namespace_any = bool_field(ns, "any");
    m.namespace_names = string_list(ns, "matchNames");
  }
  array eps;
  if (!array_field(spec, pod_monitor ? "podMetricsEndpoints" : "endpoints", eps) ||
      !admit(eps, Cap::kEndpoints)) {
    return m;
  }
  for (element e : eps) {
    MonitorEndpoint ep;
    ep.index = m.endpoints.size();
    object o;
    if (as_object(e, o)) {
      ep.port = string_field(o, "port");
      ep.target_port = int_or_string(o, "targetPort");
      ep.has_port_number = int_field(o, "portNumber", ep.port_number);
      ep.scheme = string_field(o, "scheme");
      ep.path = string_field(o, "path");
      scrape_settings(o, ep);
      array relabelings;
      if (array_field(o, "relabelings", relabelings) && admit(relabelings)) {
        for (element r : relabelings) {
          object rule;
          if (as_object(r, rule) && string_field(rule, "targetLabel") == "__address__") ep.relabels_address = true;
        }
      }
    }
    m.endpoints.push_back(std::move(ep));
  }
  return m;
}

// --------------------------------------------------- webhooks & friends

ServiceReference service_reference(object parent, std::string_view key) {
  ServiceReference r;
  object o;
  if (!object_field(parent, key, o)) return r;
  r.present = true;
  r.ns = string_field(o, "namespace");
  r.name = string_field(o, "name");
  r.path = string_field(o, "path");
  int_field(o, "port", r.port);
  return r;
}

WebhookClientConfig client_config(object parent, std::string_view key) {
  WebhookClientConfig c;
  object o;
  if (!object_field(parent, key, o)) return c;
  c.present = true;
  c.url = string_field(o, "url");
  c.service = service_reference(o, "service");
  c.ca_bundle = string_field(o, "caBundle");
  return c;
}

WebhookConfiguration webhook_configuration(object root, bool mutating) {
  WebhookConfiguration w;
  w.mutating = mutating;
  array hooks;
  if (!array_field(root, "webhooks", hooks) || !admit(hooks, Cap::kWebhooks)) return w;
  for (element e : hooks) {
    Webhook h;
    h.index = w.webhooks.size();
    object o;
    if (as_object(e, o)) {
      h.name = string_field(o, "name");
      h.client_config = client_config(o, "clientConfig");
      h.failure_policy = string_field(o, "failurePolicy");
      std::int64_t timeout = 0;
      if (int_field(o, "timeoutSeconds", timeout)) h.timeout_seconds = timeout;
      h.namespace_selector = label_selector(o, "namespaceSelector");
      h.object_selector = label_selector(o, "objectSelector");
      array conditions;
      if (array_field(o, "matchConditions", conditions) && admit(conditions)) h.match_conditions = conditions.size();
      array rules;
      if (array_field(o, "rules", rules) && admit(rules, Cap::kRules)) {
        for (element re : rules) {
          object r;
          if (!as_object(re, r)) continue;
          h.rules.push_back({string_list(r, "operations"), string_list(r, "apiGroups"),
                             string_list(r, "apiVersions"), string_list(r, "resources"),
                             std::string(string_field(r, "scope"))});
        }
      }
    }
    w.webhooks.push_back(std::move(h));
  }
  return w;
}

CustomResourceDefinition crd(object root) {
  CustomResourceDefinition c;
  object spec;
  if (!object_field(root, "spec", spec)) return c;
  c.group = string_field(spec, "group");
  c.scope = string_field(spec, "scope");
  object names;
  if (object_field(spec, "names", names)) {
    c.plural = string_field(names, "plural");
    c.kind = string_field(names, "kind");
  }
  auto subresources = [&c](object holder) {
    object sub;
    if (!object_field(holder, "subresources", sub)) return;
    c.status_subresource = c.status_subresource || has_field(sub, "status");
    c.scale_subresource = c.scale_subresource || has_field(sub, "scale");
  };
  subresources(spec);  // v1beta1: one set for every version
  array versions;
  if (array_field(spec, "versions", versions) && admit(versions)) {
    for (element e : versions) {
      object v;
      if (!as_object(e, v)) continue;
      // v1 requires `served`; v1beta1 lists without it are served.
      element served;
      bool is_served = true;
      if (field(v, "served", served)) is_served = served.is_bool() && bool(served.get_bool());
      if (!is_served) continue;
      c.served_versions.emplace_back(string_field(v, "name"));
      subresources(v);
    }
  }
  if (c.served_versions.empty()) {
    if (std::string_view version = string_field(spec, "version"); !version.empty()) {
      c.served_versions.emplace_back(version);
    }
  }
  object conv;
  if (!object_field(spec, "conversion", conv)) return c;
  c.conversion_strategy = string_field(conv, "strategy");
  object hook;
  if (object_field(conv, "webhook", hook)) {
    c.conversion = client_config(hook, "clientConfig");
    c.conversion_path = "spec.conversion.webhook.clientConfig";
  }
  if (!c.conversion.present) {
    c.conversion = client_config(conv, "webhookClientConfig");
    if (c.conversion.present) c.conversion_path = "spec.conversion.webhookClientConfig";
  }
  return c;
}

APIService api_service(object root) {
  APIService a;
  object spec;
  if (!object_field(root, "spec", spec)) return a;
  a.group = string_field(spec, "group");
  a.version = string_field(spec, "version");
  a.service = service_reference(spec, "service");
  a.ca_bundle = string_field(spec, "caBundle");
  a.insecure_skip_tls_verify = bool_field(spec, "insecureSkipTLSVerify");
  return a;
}

Certificate certificate(object root) {
  Certificate c;
  object spec;
  if (!object_field(root, "spec", spec)) return c;
  c.secret_name = string_field(spec, "secretName");
  c.common_name = string_field(spec, "commonName");
  c.dns_names = string_list(spec, "dnsNames");
  return c;
}

// ------------------------------------------------------------------ RBAC

Role role(object root) {
  Role r;
  object aggregation;
  array selectors;
  if (object_field(root, "aggregationRule", aggregation) &&
      array_field(aggregation, "clusterRoleSelectors", selectors) && admit(selectors)) {
    for (element e : selectors) {
      object o;
      if (!as_object(e, o)) continue;
      r.aggregation.push_back(label_selector_of(o));
    }
  }
  array rules;
  if (!array_field(root, "rules", rules) || !admit(rules)) return r;
  for (element e : rules) {
    object o;
    if (!as_object(e, o)) continue;
    r.rules.push_back({string_list(o, "apiGroups"), string_list(o, "resources"), string_list(o, "verbs"),
                       string_list(o, "resourceNames"), string_list(o, "nonResourceURLs")});
  }
  return r;
}

RoleBinding role_binding(object root) {
  RoleBinding b;
  object ref;
  if (object_field(root, "roleRef", ref)) {
    b.role_ref = {CompactString(string_field(ref, "apiGroup")), CompactString(string_field(ref, "kind")),
                  CompactString(string_field(ref, "name"))};
  }
  array subjects;
  if (!array_field(root, "subjects", subjects) || !admit(subjects)) return b;
  for (element e : subjects) {
    object o;
    if (!as_object(e, o)) continue;
    b.subjects.push_back({CompactString(string_field(o, "kind")), CompactString(string_field(o, "name")),
                          CompactString(string_field(o, "namespace")), CompactString(string_field(o, "apiGroup"))});
  }
  return b;
}

// --------------------------------------------------- traffic into Services

void ingress_backend(object backend, std::string path, Routes& out) {
  object svc;
  if (object_field(backend, "service", svc)) {  // networking.k8s.io/v1
    BackendRef ref;
    ref.service = string_field(svc, "name");
    object port;
    if (object_field(svc, "port", port)) {
      int_field(port, "number", ref.port_number);
      ref.port_name = string_field(port, "name");
    }
    ref.path = std::move(path);
    if (!ref.service.empty()) out.backends.push_back(std::move(ref));
    return;
  }
  // extensions / networking v1beta1: serviceName + servicePort (int or name).
  BackendRef ref;
  ref.service = string_field(backend, "serviceName");
  const IntOrString port = int_or_string(backend, "servicePort");
  if (port.is_int) {
    ref.port_number = port.num;
  } else {
    ref.port_name = port.str;
  }
  ref.path = std::move(path);
  if (!ref.service.empty()) out.backends.push_back(std::move(ref));
}

Routes ingress(object root) {
  Routes r;
  object spec;
  if (!object_field(root, "spec", spec)) return r;
  object def;
  if (object_field(spec, "defaultBackend", def)) ingress_backend(def, "spec.defaultBackend", r);
  if (object_field(spec, "backend", def)) ingress_backend(def, "spec.backend", r);
  array rules;
  if (!array_field(spec, "rules", rules) || !admit(rules)) return r;
  std::size_t i = 0;
  for (element e : rules) {
    object rule, http;
    array paths;
    if (as_object(e, rule) && object_field(rule, "http", http) && array_field(http, "paths", paths) &&
        admit(paths)) {
      std::size_t j = 0;
      for (element p : paths) {
        object path, backend;
        if (as_object(p, path) && object_field(path, "backend", backend)) {
          ingress_backend(backend,
                          "spec.rules[" + std::to_string(i) + "].http.paths[" + std::to_string(j) + "].backend", r);
        }
        ++j;
      }
    }
    ++i;
  }
  return r;
}

Routes http_route(object root) {
  Routes r;
  object spec;
  array rules;
  if (!object_field(root, "spec", spec) || !array_field(spec, "rules", rules) || !admit(rules)) return r;
  std::size_t i = 0;
  for (element e : rules) {
    object rule;
    array refs;
    if (as_object(e, rule) && array_field(rule, "backendRefs", refs) && admit(refs)) {
      std::size_t j = 0;
      for (element x : refs) {
        object ref;
        if (as_object(x, ref)) {
          const std::string_view kind = string_field(ref, "kind");
          const std::string_view group = string_field(ref, "group");
          if ((kind.empty() || kind == "Service") && group.empty()) {
            BackendRef b;
            b.service = string_field(ref, "name");
            b.ns = string_field(ref, "namespace");
            int_field(ref, "port", b.port_number);
            b.path = "spec.rules[" + std::to_string(i) + "].backendRefs[" + std::to_string(j) + "]";
            if (!b.service.empty()) r.backends.push_back(std::move(b));
          }
        }
        ++j;
      }
    }
    ++i;
  }
  return r;
}

// ------------------------------------------------ prometheus-operator

PrometheusSpec prometheus(object root) {
  PrometheusSpec p;
  object spec;
  if (!object_field(root, "spec", spec)) return p;
  p.service_monitor_selector = label_selector(spec, "serviceMonitorSelector");
  p.service_monitor_namespace_selector = label_selector(spec, "serviceMonitorNamespaceSelector");
  p.pod_monitor_selector = label_selector(spec, "podMonitorSelector");
  p.pod_monitor_namespace_selector = label_selector(spec, "podMonitorNamespaceSelector");
  p.probe_selector = label_selector(spec, "probeSelector");
  p.probe_namespace_selector = label_selector(spec, "probeNamespaceSelector");
  p.service_account_name = string_field(spec, "serviceAccountName");
  object m;
  if (object_field(spec, "podMetadata", m)) p.pod_labels = string_map(m, "labels");
  return p;
}

ProbeSpec probe(object root) {
  ProbeSpec p;
  object spec;
  if (object_field(root, "spec", spec)) scrape_settings(spec, p.endpoint);
  return p;
}

// Key names of a ConfigMap (data, binaryData) or Secret (data, stringData);
// the values are never read.
DataKeys data_keys(object root) {
  DataKeys d;
  for (std::string_view field : {"data", "binaryData", "stringData"}) {
    object o;
    if (!object_field(root, field, o) || !admit(o.size())) continue;
    for (auto kv : o) d.keys.emplace_back(kv.key);
  }
  return d;
}

// ------------------------------------------------------ custom resources

CustomResource custom_resource(object root) {
  CustomResource cr;
  object spec;
  if (!object_field(root, "spec", spec)) return cr;
  // The first source that sets a key wins; a set keeps this linear in the
  // labels (each map may hold up to kDecodeLimits.entries of them).
  std::unordered_set<std::string_view> seen;
  std::vector<StringMap::value_type> merged;  // views into `sources`
  std::vector<StringMap> sources;
  sources.reserve(3);
  auto merge = [&](StringMap labels) {
    for (const auto& kv : sources.emplace_back(std::move(labels))) {
      if (seen.insert(kv.first).second) merged.push_back(kv);
    }
  };
  object m, tmpl;
  if (object_field(spec, "podMetadata", m)) merge(string_map(m, "labels"));
  if (object_field(spec, "template", tmpl) && object_field(tmpl, "metadata", m)) merge(string_map(m, "labels"));
  merge(string_map(spec, "labels"));
  cr.pod_labels = StringMap(merged);
  return cr;
}

}  // namespace

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

void release_large_thread_parser(std::size_t keep_bytes) {
  simdjson::dom::parser& parser = thread_parser();
  if (parser.capacity() > keep_bytes) parser = simdjson::dom::parser{};
}

namespace {

// `helm.sh/hook` holds a comma-separated list of hook events; `test` (and
// Helm 2's test-success / test-failure) mark what `helm test` runs.
bool is_helm_test_hook(FoundValue hooks) {
  if (!hooks) return false;
  std::string_view rest = *hooks;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "test" || item == "test-success" || item == "test-failure") return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

Object decode_within_limits(element e, std::string_view default_api_version, std::string_view default_kind) {
  Object obj;
  object root;
  if (!as_object(e, root)) return obj;
  obj.ref.api_version = string_field(root, "apiVersion");
  obj.ref.kind = string_field(root, "kind");
  if (obj.ref.api_version.empty()) obj.ref.api_version = default_api_version;
  if (obj.ref.kind.empty()) obj.ref.kind = default_kind;
  object meta;
  if (object_field(root, "metadata", meta)) {
    obj.ref.name = string_field(meta, "name");
    if (obj.ref.name.empty()) obj.ref.name = string_field(meta, "generateName");
    obj.ref.ns = string_field(meta, "namespace");
    obj.meta.labels = string_map(meta, "labels");
    obj.meta.annotations = string_map(meta, "annotations");
  }
  obj.kind = kind_from(obj.group(), obj.ref.kind);
  obj.helm_test_hook = is_helm_test_hook(obj.annotation("helm.sh/hook"));

  if (is_workload(obj.kind)) {
    obj.spec = pod_template(root, obj.kind, obj.meta);
    return obj;
  }
  switch (obj.kind) {
    case Kind::kService:
      obj.spec = service(root);
      break;
    case Kind::kServiceMonitor:
      obj.spec = monitor(root, false);
      break;
    case Kind::kPodMonitor:
      obj.spec = monitor(root, true);
      break;
    case Kind::kValidatingWebhookConfiguration:
      obj.spec = webhook_configuration(root, false);
      break;
    case Kind::kMutatingWebhookConfiguration:
      obj.spec = webhook_configuration(root, true);
      break;
    case Kind::kCustomResourceDefinition:
      obj.spec = crd(root);
      break;
    case Kind::kAPIService:
      obj.spec = api_service(root);
      break;
    case Kind::kCertificate:
      obj.spec = certificate(root);
      break;
    case Kind::kRole:
    case Kind::kClusterRole:
      obj.spec = role(root);
      break;
    case Kind::kRoleBinding:
    case Kind::kClusterRoleBinding:
      obj.spec = role_binding(root);
      break;
    case Kind::kIngress:
      obj.spec = ingress(root);
      break;
    case Kind::kHTTPRoute:
      obj.spec = http_route(root);
      break;
    case Kind::kPrometheus:
    case Kind::kPrometheusAgent:
      obj.spec = prometheus(root);
      break;
    case Kind::kProbe:
      obj.spec = probe(root);
      break;
    case Kind::kConfigMap:
    case Kind::kSecret:
      obj.spec = data_keys(root);
      break;
    default:  // kOther; workloads returned above
      if (obj.group().find('.') != std::string_view::npos) obj.spec = custom_resource(root);
      break;
  }
  return obj;
}

Object decode_typed(element e, std::string_view default_api_version, std::string_view default_kind) {
  tally = Tally{};
  Object obj = decode_within_limits(e, default_api_version, default_kind);
  obj.over_limit = tally.over;
  return obj;
}

}  // namespace

Object decode_element(element e) { return decode_typed(e, {}, {}); }

Object decode_list_item(element e, std::string_view api_version, std::string_view kind) {
  return decode_typed(e, api_version, kind);
}

Result<Object> decode_object(std::string_view json) {
  element root;
  if (auto err = thread_parser().parse(json.data(), json.size()).get(root); err != SUCCESS) {
    return Result<Object>::failure(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  if (!root.is_object()) return Result<Object>::failure("not a JSON object");
  return decode_element(root);
}

}  // namespace wirecheck::core
