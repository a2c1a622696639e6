#include "wirecheck/builtin_resources.hpp"

#include <algorithm>
#include <array>

namespace wirecheck::policy {

namespace {

constexpr bool kHigh = true;
constexpr bool kLow = false;

// Sources: the API server's discovery documents (`kubectl api-resources`
// and the subresources in /apis/<group>/<version>) of releases 1.20 to 1.33.
// Resources removed since (podsecuritypolicies) stay: a rule naming them is
// not a typo.
constexpr BuiltinResource kResources[] = {
    // core ("")
    {"", "bindings", "binding", kLow},
    {"", "componentstatuses", "componentstatus", kLow},
    {"", "configmaps", "configmap", kHigh},
    {"", "endpoints", "endpoints", kHigh},
    {"", "events", "event", kHigh},
    {"", "limitranges", "limitrange", kLow},
    {"", "namespaces", "namespace", kLow},
    {"", "namespaces/finalize", "", kLow},
    {"", "namespaces/status", "", kLow},
    {"", "nodes", "node", kHigh},
    {"", "nodes/proxy", "", kLow},
    {"", "nodes/status", "", kHigh},
    {"", "persistentvolumeclaims", "persistentvolumeclaim", kLow},
    {"", "persistentvolumeclaims/status", "", kLow},
    {"", "persistentvolumes", "persistentvolume", kLow},
    {"", "persistentvolumes/status", "", kLow},
    {"", "pods", "pod", kHigh},
    {"", "pods/attach", "", kLow},
    {"", "pods/binding", "", kHigh},
    {"", "pods/ephemeralcontainers", "", kLow},
    {"", "pods/eviction", "", kHigh},
    {"", "pods/exec", "", kLow},
    {"", "pods/log", "", kLow},
    {"", "pods/portforward", "", kLow},
    {"", "pods/proxy", "", kLow},
    {"", "pods/resize", "", kLow},
    {"", "pods/status", "", kHigh},
    {"", "podtemplates", "podtemplate", kLow},
    {"", "replicationcontrollers", "replicationcontroller", kLow},
    {"", "replicationcontrollers/scale", "", kLow},
    {"", "replicationcontrollers/status", "", kLow},
    {"", "resourcequotas", "resourcequota", kLow},
    {"", "resourcequotas/status", "", kLow},
    {"", "secrets", "secret", kHigh},
    {"", "serviceaccounts", "serviceaccount", kHigh},
    {"", "serviceaccounts/token", "", kHigh},
    {"", "services", "service", kHigh},
    {"", "services/proxy", "", kLow},
    {"", "services/status", "", kLow},
    // apps
    {"apps", "controllerrevisions", "controllerrevision", kHigh},
    {"apps", "daemonsets", "daemonset", kHigh},
    {"apps", "daemonsets/status", "", kHigh},
    {"apps", "deployments", "deployment", kHigh},
    {"apps", "deployments/scale", "", kHigh},
    {"apps", "deployments/status", "", kHigh},
    {"apps", "replicasets", "replicaset", kHigh},
    {"apps", "replicasets/scale", "", kHigh},
    {"apps", "replicasets/status", "", kHigh},
    {"apps", "statefulsets", "statefulset", kHigh},
    {"apps", "statefulsets/scale", "", kHigh},
    {"apps", "statefulsets/status", "", kHigh},
    // batch
    {"batch", "cronjobs", "cronjob", kLow},
    {"batch", "cronjobs/status", "", kLow},
    {"batch", "jobs", "job", kHigh},
    {"batch", "jobs/status", "", kHigh},
    // autoscaling
    {"autoscaling", "horizontalpodautoscalers", "horizontalpodautoscaler", kLow},
    {"autoscaling", "horizontalpodautoscalers/status", "", kLow},
    // policy
    {"policy", "poddisruptionbudgets", "poddisruptionbudget", kLow},
    {"policy", "poddisruptionbudgets/status", "", kLow},
    {"policy", "podsecuritypolicies", "podsecuritypolicy", kLow},
    // networking.k8s.io
    {"networking.k8s.io", "ingressclasses", "ingressclass", kLow},
    {"networking.k8s.io", "ingresses", "ingress", kLow},
    {"networking.k8s.io", "ingresses/status", "", kLow},
    {"networking.k8s.io", "ipaddresses", "ipaddress", kLow},
    {"networking.k8s.io", "networkpolicies", "networkpolicy", kLow},
    {"networking.k8s.io", "networkpolicies/status", "", kLow},
    {"networking.k8s.io", "servicecidrs", "servicecidr", kLow},
    {"networking.k8s.io", "servicecidrs/status", "", kLow},
    // rbac.authorization.k8s.io
    {"rbac.authorization.k8s.io", "clusterrolebindings", "clusterrolebinding", kLow},
    {"rbac.authorization.k8s.io", "clusterroles", "clusterrole", kLow},
    {"rbac.authorization.k8s.io", "rolebindings", "rolebinding", kLow},
    {"rbac.authorization.k8s.io", "roles", "role", kLow},
    // admissionregistration.k8s.io
    {"admissionregistration.k8s.io", "mutatingadmissionpolicies", "mutatingadmissionpolicy", kLow},
    {"admissionregistration.k8s.io", "mutatingadmissionpolicybindings", "mutatingadmissionpolicybinding", kLow},
    {"admissionregistration.k8s.io", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", kLow},
    {"admissionregistration.k8s.io", "validatingadmissionpolicies", "validatingadmissionpolicy", kLow},
    {"admissionregistration.k8s.io", "validatingadmissionpolicies/status", "", kLow},
    {"admissionregistration.k8s.io", "validatingadmissionpolicybindings", "validatingadmissionpolicybinding", kLow},
    {"admissionregistration.k8s.io", "validatingwebhookconfigurations", "validatingwebhookconfiguration", kLow},
    // apiextensions.k8s.io
    {"apiextensions.k8s.io", "customresourcedefinitions", "customresourcedefinition", kLow},
    {"apiextensions.k8s.io", "customresourcedefinitions/status", "", kLow},
    // apiregistration.k8s.io
    {"apiregistration.k8s.io", "apiservices", "apiservice", kLow},
    {"apiregistration.k8s.io", "apiservices/status", "", kLow},
    // storage.k8s.io
    {"storage.k8s.io", "csidrivers", "csidriver", kLow},
    {"storage.k8s.io", "csinodes", "csinode", kLow},
    {"storage.k8s.io", "csistoragecapacities", "csistoragecapacity", kLow},
    {"storage.k8s.io", "storageclasses", "storageclass", kLow},
    {"storage.k8s.io", "volumeattachments", "volumeattachment", kLow},
    {"storage.k8s.io", "volumeattachments/status", "", kLow},
    {"storage.k8s.io", "volumeattributesclasses", "volumeattributesclass", kLow},
    // coordination.k8s.io
    {"coordination.k8s.io", "leasecandidates", "leasecandidate", kLow},
    {"coordination.k8s.io", "leases", "lease", kHigh},
    // discovery.k8s.io
    {"discovery.k8s.io", "endpointslices", "endpointslice", kHigh},
    // certificates.k8s.io
    {"certificates.k8s.io", "certificatesigningrequests", "certificatesigningrequest", kLow},
    {"certificates.k8s.io", "certificatesigningrequests/approval", "", kLow},
    {"certificates.k8s.io", "certificatesigningrequests/status", "", kLow},
    {"certificates.k8s.io", "clustertrustbundles", "clustertrustbundle", kLow},
    // scheduling.k8s.io
    {"scheduling.k8s.io", "priorityclasses", "priorityclass", kLow},
    // node.k8s.io
    {"node.k8s.io", "runtimeclasses", "runtimeclass", kLow},
    // events.k8s.io
    {"events.k8s.io", "events", "event", kHigh},
    // flowcontrol.apiserver.k8s.io
    {"flowcontrol.apiserver.k8s.io", "flowschemas", "flowschema", kLow},
    {"flowcontrol.apiserver.k8s.io", "flowschemas/status", "", kLow},
    {"flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", "prioritylevelconfiguration", kLow},
    {"flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations/status", "", kLow},
    // authentication.k8s.io and authorization.k8s.io: create-only reviews,
    // one per authenticated or authorised request of a delegating server.
    {"authentication.k8s.io", "selfsubjectreviews", "selfsubjectreview", kLow},
    {"authentication.k8s.io", "tokenreviews", "tokenreview", kHigh},
    {"authorization.k8s.io", "localsubjectaccessreviews", "localsubjectaccessreview", kLow},
    {"authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectaccessreview", kLow},
    {"authorization.k8s.io", "selfsubjectrulesreviews", "selfsubjectrulesreview", kLow},
    {"authorization.k8s.io", "subjectaccessreviews", "subjectaccessreview", kHigh},
};

}  // namespace

std::span<const BuiltinResource> builtin_resources() { return kResources; }

bool builtin_group(std::string_view group) {
  return std::any_of(std::begin(kResources), std::end(kResources),
                     [&](const BuiltinResource& r) { return r.group == group; });
}

const BuiltinResource* builtin_resource(std::string_view group, std::string_view resource) {
  const auto it = std::find_if(std::begin(kResources), std::end(kResources), [&](const BuiltinResource& r) {
    return r.group == group && r.resource == resource;
  });
  return it == std::end(kResources) ? nullptr : &*it;
}

const BuiltinResource* builtin_by_singular(std::string_view group, std::string_view singular) {
  if (singular.empty()) return nullptr;
  const auto it = std::find_if(std::begin(kResources), std::end(kResources), [&](const BuiltinResource& r) {
    return r.group == group && r.singular == singular;
  });
  return it == std::end(kResources) ? nullptr : &*it;
}

}  // namespace wirecheck::policy
