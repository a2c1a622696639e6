#include "cluster/watched_kinds.hpp"

#include <string>

namespace wirecheck::cluster {

const std::vector<WatchedKind>& watched_kinds() {
  using core::Kind;
  static const std::vector<WatchedKind> kinds = {
      {Kind::kService, "", {"v1"}, "services", true},
      {Kind::kPod, "", {"v1"}, "pods", true},
      {Kind::kDeployment, "apps", {"v1"}, "deployments", true},
      {Kind::kStatefulSet, "apps", {"v1"}, "statefulsets", true},
      {Kind::kDaemonSet, "apps", {"v1"}, "daemonsets", true},
      {Kind::kReplicaSet, "apps", {"v1"}, "replicasets", true},
      {Kind::kJob, "batch", {"v1"}, "jobs", true},
      {Kind::kCronJob, "batch", {"v1", "v1beta1"}, "cronjobs", true},
      {Kind::kServiceMonitor, "monitoring.coreos.com", {"v1"}, "servicemonitors", true},
      {Kind::kPodMonitor, "monitoring.coreos.com", {"v1"}, "podmonitors", true},
      {Kind::kCertificate, "cert-manager.io", {"v1"}, "certificates", true},
      {Kind::kValidatingWebhookConfiguration, "admissionregistration.k8s.io", {"v1"},
       "validatingwebhookconfigurations", false},
      {Kind::kMutatingWebhookConfiguration, "admissionregistration.k8s.io", {"v1"},
       "mutatingwebhookconfigurations", false},
      {Kind::kAPIService, "apiregistration.k8s.io", {"v1"}, "apiservices", false},
      {Kind::kCustomResourceDefinition, "apiextensions.k8s.io", {"v1"}, "customresourcedefinitions", false},
      // Who may patch a caBundle at run time (webhook-missing-ca-bundle's injectors).
      {Kind::kRole, "rbac.authorization.k8s.io", {"v1"}, "roles", true},
      {Kind::kClusterRole, "rbac.authorization.k8s.io", {"v1"}, "clusterroles", false},
      {Kind::kRoleBinding, "rbac.authorization.k8s.io", {"v1"}, "rolebindings", true},
      {Kind::kClusterRoleBinding, "rbac.authorization.k8s.io", {"v1"}, "clusterrolebindings", false},
      // Namespace labels (namespaceSelectors), traffic into Services (dead
      // ports someone uses), and who selects monitors.
      {Kind::kNamespace, "", {"v1"}, "namespaces", false},
      {Kind::kIngress, "networking.k8s.io", {"v1", "v1beta1"}, "ingresses", true},
      {Kind::kHTTPRoute, "gateway.networking.k8s.io", {"v1", "v1beta1"}, "httproutes", true},
      {Kind::kPrometheus, "monitoring.coreos.com", {"v1"}, "prometheuses", true},
      {Kind::kPrometheusAgent, "monitoring.coreos.com", {"v1alpha1"}, "prometheusagents", true},
      {Kind::kProbe, "monitoring.coreos.com", {"v1"}, "probes", true},
  };
  return kinds;
}

const WatchedKind* watched_kind(core::Kind kind) {
  for (const WatchedKind& w : watched_kinds()) {
    if (w.kind == kind) return &w;
  }
  return nullptr;
}

std::string group_version_path(std::string_view group, std::string_view version) {
  if (group.empty()) return "/api/" + std::string(version);
  return "/apis/" + std::string(group) + "/" + std::string(version);
}

}  // namespace wirecheck::cluster
