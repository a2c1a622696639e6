#include "wirecheck/object.hpp"

#include <algorithm>
#include <array>

namespace wirecheck::core {

namespace {

struct KindEntry {
  Kind kind;
  std::string_view group;
  std::string_view name;
};

constexpr std::array<KindEntry, kKindCount - 1> kKinds{{
    {Kind::kPod, "", "Pod"},
    {Kind::kDeployment, "apps", "Deployment"},
    {Kind::kStatefulSet, "apps", "StatefulSet"},
    {Kind::kDaemonSet, "apps", "DaemonSet"},
    {Kind::kReplicaSet, "apps", "ReplicaSet"},
    {Kind::kJob, "batch", "Job"},
    {Kind::kCronJob, "batch", "CronJob"},
    {Kind::kService, "", "Service"},
    {Kind::kServiceMonitor, "monitoring.coreos.com", "ServiceMonitor"},
    {Kind::kPodMonitor, "monitoring.coreos.com", "PodMonitor"},
    {Kind::kValidatingWebhookConfiguration, "admissionregistration.k8s.io",
     "ValidatingWebhookConfiguration"},
    {Kind::kMutatingWebhookConfiguration, "admissionregistration.k8s.io",
     "MutatingWebhookConfiguration"},
    {Kind::kCustomResourceDefinition, "apiextensions.k8s.io", "CustomResourceDefinition"},
    {Kind::kAPIService, "apiregistration.k8s.io", "APIService"},
    {Kind::kCertificate, "cert-manager.io", "Certificate"},
    {Kind::kRole, "rbac.authorization.k8s.io", "Role"},
    {Kind::kClusterRole, "rbac.authorization.k8s.io", "ClusterRole"},
    {Kind::kRoleBinding, "rbac.authorization.k8s.io", "RoleBinding"},
    {Kind::kNamespace, "", "Namespace"},
    {Kind::kIngress, "networking.k8s.io", "Ingress"},
    {Kind::kHTTPRoute, "gateway.networking.k8s.io", "HTTPRoute"},
    {Kind::kPrometheus, "monitoring.coreos.com", "Prometheus"},
    {Kind::kPrometheusAgent, "monitoring.coreos.com", "PrometheusAgent"},
    {Kind::kProbe, "monitoring.coreos.com", "Probe"},
    {Kind::kConfigMap, "", "ConfigMap"},
    {Kind::kSecret, "", "Secret"},
    {Kind::kClusterRoleBinding, "rbac.authorization.k8s.io", "ClusterRoleBinding"},
}};

// Every Kind but kOther has exactly one entry (an aggregate initialiser with
// too few entries would silently leave kOther rows).
constexpr bool every_kind_listed() {
  for (std::size_t k = 1; k < kKindCount; ++k) {
    int seen = 0;
    for (const KindEntry& e : kKinds) seen += static_cast<std::size_t>(e.kind) == k ? 1 : 0;
    if (seen != 1) return false;
  }
  return true;
}
static_assert(every_kind_listed(), "kKinds must list every core::Kind once");

}  // namespace

std::string_view kind_name(Kind kind) {
  for (const KindEntry& e : kKinds) {
    if (e.kind == kind) return e.name;
  }
  return "";
}

Kind kind_from(std::string_view group, std::string_view kind) {
  // extensions/v1beta1 carried Deployment, DaemonSet and ReplicaSet in old clusters.
  for (const KindEntry& e : kKinds) {
    if (e.name != kind) continue;
    if (e.group == group) return e.kind;
    if (group == "extensions" && (e.group == "apps" || e.group == "networking.k8s.io")) return e.kind;
  }
  // GRPCRoute carries its backends exactly as HTTPRoute does.
  if (kind == "GRPCRoute" && group == "gateway.networking.k8s.io") return Kind::kHTTPRoute;
  return Kind::kOther;
}

const std::vector<Kind>& workload_kinds() {
  static const std::vector<Kind> kinds = {Kind::kPod,       Kind::kDeployment, Kind::kStatefulSet,
                                          Kind::kDaemonSet, Kind::kReplicaSet, Kind::kJob,
                                          Kind::kCronJob};
  return kinds;
}

bool is_workload(Kind kind) {
  const auto& kinds = workload_kinds();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

bool is_namespaced(Kind kind) {
  switch (kind) {
    case Kind::kOther:
    case Kind::kValidatingWebhookConfiguration:
    case Kind::kMutatingWebhookConfiguration:
    case Kind::kCustomResourceDefinition:
    case Kind::kAPIService:
    case Kind::kClusterRole:
    case Kind::kClusterRoleBinding:
    case Kind::kNamespace:
      return false;
    default:
      return true;
  }
}

std::string_view Object::group() const {
  const std::string_view api_version = ref.api_version;
  const std::size_t slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

const SourceLocation& Object::source() const {
  static const SourceLocation kNowhere;
  const SourceLocation* where = source_.get();
  return where != nullptr ? *where : kNowhere;
}

std::string IntOrString::to_string() const {
  if (!set) return "";
  return is_int ? std::to_string(num) : std::string(str);
}

bool LabelSelector::matches(const StringMap& labels) const {
  for (const auto& [key, value] : match_labels) {
    if (find_value(labels, key) != value) return false;
  }
  for (const LabelSelectorRequirement& req : match_expressions) {
    const FoundValue have = find_value(labels, req.key);
    const bool listed = have && std::find(req.values.begin(), req.values.end(), *have) != req.values.end();
    if (req.op == "In") {
      if (!listed) return false;
    } else if (req.op == "NotIn") {
      if (listed) return false;
    } else if (req.op == "Exists") {
      if (!have) return false;
    } else if (req.op == "DoesNotExist") {
      if (have) return false;
    } else {
      return false;
    }
  }
  return true;
}

std::string_view Probe::handler_name() const {
  switch (handler) {
    case Handler::kHttpGet:
      return "httpGet";
    case Handler::kTcpSocket:
      return "tcpSocket";
    case Handler::kGrpc:
      return "grpc";
    case Handler::kExec:
      return "exec";
    case Handler::kNone:
      break;
  }
  return "";
}

std::string Container::path_segment() const {
  return (init ? "initContainers[" : "containers[") + std::to_string(index) + "]";
}

const ContainerPort* Container::port_named(std::string_view port_name) const {
  if (port_name.empty()) return nullptr;
  for (const ContainerPort& p : ports) {
    if (p.name == port_name) return &p;
  }
  return nullptr;
}

const ContainerPort* Container::port_numbered(std::int64_t number) const {
  for (const ContainerPort& p : ports) {
    if (p.container_port == number) return &p;
  }
  return nullptr;
}

bool Container::command_references_env() const {
  const auto has_ref = [](std::string_view s) { return s.find("$(") != std::string_view::npos; };
  return std::any_of(command.begin(), command.end(), has_ref) || std::any_of(args.begin(), args.end(), has_ref);
}

std::string PodTemplate::container_path(const Container& c) const {
  return std::string(spec_path) + "." + c.path_segment();
}

const ServicePort* Service::port_named(std::string_view port_name) const {
  if (port_name.empty()) return nullptr;
  for (const ServicePort& p : ports) {
    if (p.name == port_name) return &p;
  }
  return nullptr;
}

bool TlsConfig::has_tls_material() const {
  return !ca.empty() || !cert.empty() || !key_secret_name.empty() || !ca_file.empty() ||
         !cert_file.empty() || !key_file.empty();
}

std::string_view Monitor::endpoints_path() const {
  return pod_monitor ? "spec.podMetricsEndpoints" : "spec.endpoints";
}

std::vector<std::string> Monitor::target_namespaces(std::string_view own_ns) const {
  if (namespace_any) return {};
  if (!namespace_names.empty()) return namespace_names;
  return {std::string(own_ns)};
}

}  // namespace wirecheck::core
