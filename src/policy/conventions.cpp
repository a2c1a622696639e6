#include "wirecheck/conventions.hpp"

#include <algorithm>
#include <array>

namespace wirecheck::policy {

namespace {

constexpr std::array<std::string_view, 6> kControllerLabels = {
    "statefulset.kubernetes.io/pod-name", "pod-template-hash", "controller-revision-hash",
    "apps.kubernetes.io/pod-index",       "job-name",          "controller-uid"};

// prometheus-operator: the StatefulSets it generates label their pods with
// the resource's name under these keys (pkg/prometheus, pkg/alertmanager,
// pkg/thanos of the operator).
constexpr std::array<OperatorPodLabel, 5> kPrometheusPods = {{
    {"prometheus", "{name}"},
    {"app.kubernetes.io/name", "prometheus"},
    {"app.kubernetes.io/instance", "{name}"},
    {"app.kubernetes.io/managed-by", "prometheus-operator"},
    {"operator.prometheus.io/name", "{name}"},
}};
constexpr std::array<OperatorPodLabel, 4> kPrometheusAgentPods = {{
    {"app.kubernetes.io/name", "prometheus-agent"},
    {"app.kubernetes.io/instance", "{name}"},
    {"app.kubernetes.io/managed-by", "prometheus-operator"},
    {"operator.prometheus.io/name", "{name}"},
}};
constexpr std::array<OperatorPodLabel, 4> kAlertmanagerPods = {{
    {"alertmanager", "{name}"},
    {"app.kubernetes.io/name", "alertmanager"},
    {"app.kubernetes.io/instance", "{name}"},
    {"app.kubernetes.io/managed-by", "prometheus-operator"},
}};
constexpr std::array<OperatorPodLabel, 4> kThanosRulerPods = {{
    {"thanos-ruler", "{name}"},
    {"app.kubernetes.io/name", "thanos-ruler"},
    {"app.kubernetes.io/instance", "{name}"},
    {"app.kubernetes.io/managed-by", "prometheus-operator"},
}};

constexpr std::string_view kMonitoring = "monitoring.coreos.com";
const std::array<OperatorConvention, 4> kOperators = {{
    {kMonitoring, "Prometheus", "prometheus-operator", kPrometheusPods},
    {kMonitoring, "PrometheusAgent", "prometheus-operator", kPrometheusAgentPods},
    {kMonitoring, "Alertmanager", "prometheus-operator", kAlertmanagerPods},
    {kMonitoring, "ThanosRuler", "prometheus-operator", kThanosRulerPods},
}};

constexpr std::array<std::string_view, 12> kControlPlane = {
    "kubelet",   "cadvisor", "kube-scheduler", "kube-controller-manager", "kube-proxy", "apiserver",
    "kube-apiserver", "kubernetes", "etcd", "kube-etcd", "kube-dns", "coredns"};

}  // namespace

bool controller_added_label(std::string_view key) {
  return std::find(kControllerLabels.begin(), kControllerLabels.end(), key) != kControllerLabels.end() ||
         key.starts_with("batch.kubernetes.io/");
}

std::span<const OperatorConvention> operator_conventions() { return kOperators; }

const OperatorConvention* operator_convention(const core::Object& cr) {
  const std::string_view group = cr.group();
  for (const OperatorConvention& c : kOperators) {
    if (c.group == group && c.kind == cr.ref.kind) return &c;
  }
  return nullptr;
}

core::StringMap operator_pod_labels(const core::Object& cr) {
  std::vector<std::pair<std::string, std::string>> owned;
  if (const OperatorConvention* c = operator_convention(cr)) {
    for (const OperatorPodLabel& l : c->labels) {
      owned.emplace_back(l.key, l.value == "{name}" ? std::string(cr.name()) : std::string(l.value));
    }
  }
  const core::StringMap* declared = nullptr;
  if (const core::CustomResource* r = cr.custom_resource()) declared = &r->pod_labels;
  if (const core::PrometheusSpec* p = cr.prometheus()) declared = &p->pod_labels;
  if (declared != nullptr) {
    for (const auto& pair : *declared) {
      const auto key = pair.first;  // clang 14 (the fuzz tier) cannot capture a structured binding
      const bool taken = std::any_of(owned.begin(), owned.end(), [&](const auto& kv) { return kv.first == key; });
      if (!taken) owned.emplace_back(pair.first, pair.second);
    }
  }
  std::vector<core::StringMap::value_type> views(owned.begin(), owned.end());
  return core::StringMap(views);
}

bool provided_by_cluster(std::string_view ns) { return ns == "default" || ns == "kube-system"; }

bool control_plane_component(std::string_view value) {
  return std::find(kControlPlane.begin(), kControlPlane.end(), value) != kControlPlane.end();
}

}  // namespace wirecheck::policy
