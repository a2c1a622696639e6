// Conventions: what controllers and well-known operators do to the objects
// they create, kept as data in one place so that every rule asks the same
// table and adding a convention is a row and a test. These are facts of how
// Kubernetes and its operators behave at run time, never of one project:
// controllers add labels to the pods they create (pod-template-hash, ...);
// prometheus-operator labels the pods of a Prometheus named N with
// `prometheus: N`; cert-manager and OpenShift inject CA bundles into objects
// carrying their annotations; the cluster itself provides Services in
// `default` and `kube-system`; node and control-plane components serve
// self-signed certificates by design.
//
// Plain functions over constant tables: safe for concurrent readers.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/object.hpp"

namespace wirecheck::policy {

// Pod label keys that controllers add to the pods they create and that no
// pod template carries (a selector on them picks pods the manifests do not
// show): pod-template-hash, controller-revision-hash,
// statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index,
// batch.kubernetes.io/*, job-name, controller-uid.
bool controller_added_label(std::string_view key);

// One row of the operator table: the pods an operator creates for a custom
// resource of (group, kind) carry these labels; a value "{name}" stands for
// the resource's metadata.name.
struct OperatorPodLabel {
  std::string_view key;
  std::string_view value;
};
struct OperatorConvention {
  std::string_view group;
  std::string_view kind;
  std::string_view operator_name;  // for messages: "prometheus-operator"
  std::span<const OperatorPodLabel> labels;
};
std::span<const OperatorConvention> operator_conventions();

// The labels the pods an operator creates for `cr` carry: the table's rows
// for its (group, kind) with the name filled in, plus the pod labels its spec
// declares (podMetadata.labels and the like). Empty for other objects.
core::StringMap operator_pod_labels(const core::Object& cr);
// The convention row for `cr`, or nullptr.
const OperatorConvention* operator_convention(const core::Object& cr);

// Namespaces whose Services and pods the cluster itself (or a distribution)
// provides: the API server's `kubernetes` Service, kubelet, cluster DNS.
bool provided_by_cluster(std::string_view ns);

// Node and control-plane components that serve certificates from the
// cluster's own PKI or self-signed by design (kubelet, cAdvisor via the
// kubelet, kube-scheduler, kube-controller-manager, kube-proxy, the API
// server, etcd, CoreDNS): a monitor label value naming one of them.
bool control_plane_component(std::string_view value);

}  // namespace wirecheck::policy
