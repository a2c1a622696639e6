#include "wirecheck/placement.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "wirecheck/client_configs.hpp"

namespace wirecheck::policy {

namespace {

using core::Kind;
using core::Object;

// Cluster-scoped kinds wirecheck does not model (kOther): they never get a
// namespace. Any other unknown kind is taken as namespaced (most are:
// ServiceAccount, ConfigMap, Secret, PersistentVolumeClaim, ...).
constexpr std::array<std::string_view, 22> kClusterScopedOther = {
    "Namespace",         "Node",
    "PersistentVolume",  "StorageClass",
    "PriorityClass",     "IngressClass",
    "RuntimeClass",      "CSIDriver",
    "CSINode",           "VolumeAttachment",
    "ClusterIssuer",     "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",   "CertificateSigningRequest",
    "PodSecurityPolicy", "ComponentStatus",
    "FlowSchema",        "PriorityLevelConfiguration",
    "GatewayClass",      "ClusterTrustBundle"};

struct Key {
  std::string group;
  std::string kind;
  bool operator<(const Key& o) const { return std::tie(group, kind) < std::tie(o.group, o.kind); }
};

// Scope of every kind the input's CRDs define: true = namespaced.
std::map<Key, bool> crd_scopes(const core::ManifestSet& set) {
  std::map<Key, bool> out;
  for (const Object& o : set.objects) {
    const core::CustomResourceDefinition* crd = o.crd();
    if (crd == nullptr) continue;
    out[{crd->group, crd->kind}] = crd->scope != "Cluster";
  }
  return out;
}

bool namespaced(const Object& o, const std::map<Key, bool>& crds) {
  if (o.kind != Kind::kOther) return core::is_namespaced(o.kind);
  const std::string_view kind = o.ref.kind;
  if (std::find(kClusterScopedOther.begin(), kClusterScopedOther.end(), kind) != kClusterScopedOther.end()) {
    return false;
  }
  const std::string_view group = o.group();
  if (auto it = crds.find({std::string(group), std::string(kind)}); it != crds.end()) return it->second;
  return true;
}

// Names of the namespace-less objects of the input, by what references them.
struct Unplaced {
  std::unordered_set<std::string> services;
  std::unordered_set<std::string> accounts;  // ServiceAccount objects and workloads' accounts
  std::vector<const Object*> service_objects;
};

std::string describe(const Object& o) { return std::string(o.ref.kind) + " " + std::string(o.name()); }

class Votes {
 public:
  void add(std::string_view ns, std::string evidence) {
    if (ns.empty()) return;
    namespaces_.insert(std::string(ns));
    if (evidence_.size() < 3) evidence_.push_back(std::move(evidence));
  }
  const std::set<std::string>& namespaces() const { return namespaces_; }
  std::vector<std::string>& evidence() { return evidence_; }

 private:
  std::set<std::string> namespaces_;
  std::vector<std::string> evidence_;
};

// `<svc>.<ns>.svc[.<domain>]` -> (svc, ns); empty when not of that form.
std::pair<std::string_view, std::string_view> service_dns_parts(std::string_view dns) {
  const std::size_t first = dns.find('.');
  if (first == std::string_view::npos) return {};
  const std::size_t second = dns.find('.', first + 1);
  if (second == std::string_view::npos) return {};
  const std::string_view rest = dns.substr(second + 1);
  if (rest != "svc" && !rest.starts_with("svc.")) return {};
  return {dns.substr(0, first), dns.substr(first + 1, second - first - 1)};
}

void collect_votes(const core::ManifestSet& set, const Unplaced& unplaced, Votes& votes) {
  for (const Object& o : set.objects) {
    for (const core::ClientConfigView& v : core::client_configs(o)) {
      if (v.service == nullptr || !unplaced.services.count(v.service->name)) continue;
      votes.add(v.service->ns, describe(o) + " calls Service " + core::service_id(*v.service));
    }
    if (const core::RoleBinding* b = o.role_binding()) {
      for (const core::Subject& s : b->subjects) {
        if (s.kind != "ServiceAccount" || !unplaced.accounts.count(std::string(s.name))) continue;
        votes.add(s.ns, describe(o) + " binds ServiceAccount " + std::string(s.ns) + "/" + std::string(s.name));
      }
    }
    if (const core::Monitor* m = o.monitor(); m != nullptr && !m->namespace_any) {
      const bool selects_unplaced = std::any_of(
          unplaced.service_objects.begin(), unplaced.service_objects.end(),
          [&](const Object* svc) { return m->selector.matches(m->pod_monitor ? core::StringMap{} : svc->meta.labels); });
      if (selects_unplaced || m->pod_monitor) {
        for (const std::string& ns : m->namespace_names) {
          votes.add(ns, describe(o) + " selects namespace " + ns);
        }
      }
    }
    if (const core::Certificate* c = o.certificate()) {
      for (const std::string& dns : c->dns_names) {
        const auto [svc, ns] = service_dns_parts(dns);
        if (svc.empty() || !unplaced.services.count(std::string(svc))) continue;
        votes.add(ns, describe(o) + " names " + dns);
      }
    }
  }
}

}  // namespace

std::string_view Placement::source_name() const {
  switch (source) {
    case Source::kFlag:
      return "flag";
    case Source::kInferred:
      return "inferred";
    case Source::kDefault:
      break;
  }
  return "default";
}

Placement place_in_apply_namespace(core::ManifestSet& set, const std::string& flag_ns) {
  Placement placement;
  const std::map<Key, bool> crds = crd_scopes(set);
  std::vector<std::size_t> to_place;
  Unplaced unplaced;
  for (std::size_t i = 0; i < set.objects.size(); ++i) {
    Object& o = set.objects[i];
    if (!namespaced(o, crds)) {
      // The API server ignores a namespace on cluster-scoped objects.
      if (!o.ns().empty() && o.kind != Kind::kOther) o.ref.ns = "";
      continue;
    }
    if (!o.ns().empty()) continue;
    to_place.push_back(i);
    if (o.kind == Kind::kService) {
      unplaced.services.insert(std::string(o.name()));
      unplaced.service_objects.push_back(&o);
    }
    if (o.kind == Kind::kOther && o.ref.kind == "ServiceAccount") unplaced.accounts.insert(std::string(o.name()));
    if (const core::PodTemplate* t = o.pod_template()) {
      unplaced.accounts.insert(t->service_account_name.empty() ? std::string("default")
                                                               : std::string(t->service_account_name));
    }
  }
  placement.placed = to_place.size();
  if (!flag_ns.empty()) {
    placement.ns = flag_ns;
    placement.source = Placement::Source::kFlag;
  } else if (!to_place.empty()) {
    Votes votes;
    collect_votes(set, unplaced, votes);
    placement.candidates.assign(votes.namespaces().begin(), votes.namespaces().end());
    if (votes.namespaces().size() == 1) {
      placement.ns = *votes.namespaces().begin();
      placement.source = Placement::Source::kInferred;
      placement.evidence = std::move(votes.evidence());
    }
  }
  for (std::size_t i : to_place) set.objects[i].ref.ns = placement.ns;
  if (placement.source == Placement::Source::kDefault) placement.defaulted = std::move(to_place);
  return placement;
}

}  // namespace wirecheck::policy
