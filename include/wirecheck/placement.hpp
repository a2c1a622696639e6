// Placement: which namespace lint puts the input's namespace-less objects in,
// so that it judges the install as the cluster will hold it once applied.
// Charts rely on `helm install -n NS` and kustomize bases on the consumer's
// `namespace:`; their rendered objects carry no namespace while the objects'
// own references name it (a webhook's service.namespace, a binding's
// ServiceAccount subject, a monitor's matchNames, a certificate's
// `<svc>.<ns>.svc`). Placed like kubectl apply would place them:
//   - `-n NS` always wins;
//   - otherwise the one namespace that those references agree on, counting
//     only references to objects that exist in the input without a namespace;
//   - otherwise `default`.
// Cluster-scoped kinds lose a stray namespace (the API server ignores it);
// custom resources take their scope from a CRD in the input, other unknown
// kinds are taken as namespaced unless they are well-known cluster-scoped
// kinds.
#pragma once

#include <string>
#include <vector>

#include "wirecheck/manifest.hpp"

namespace wirecheck::policy {

struct Placement {
  enum class Source { kFlag, kInferred, kDefault };
  std::string ns = "default";
  Source source = Source::kDefault;
  // Inferred: the references that agree, e.g. "ValidatingWebhookConfiguration
  // x calls Service NS/svc". Default: the namespaces references disagreed on.
  std::vector<std::string> evidence;
  std::vector<std::string> candidates;  // distinct namespaces referred to
  std::size_t placed = 0;               // objects that had no namespace
  // With Source::kDefault: the indexes (in the set) of the objects placed in
  // `default`. A reference to one of them by name from another namespace is
  // not "missing": the install may well be applied elsewhere.
  std::vector<std::size_t> defaulted;

  // "flag", "inferred" or "default".
  std::string_view source_name() const;
};

// Sets metadata.namespace of every namespaced object of `set` that has none;
// `flag_ns` is `-n` ("" when not given).
Placement place_in_apply_namespace(core::ManifestSet& set, const std::string& flag_ns);

}  // namespace wirecheck::policy
