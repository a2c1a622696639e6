// `wirecheck rules` and `wirecheck version`. docs/rules.md is the output of
// `wirecheck rules --format md` (a test keeps them equal).
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::cli {

namespace {

std::string kinds_text(const policy::RuleSpec& spec) {
  std::string out;
  for (core::Kind k : spec.kinds) {
    if (!out.empty()) out += ", ";
    out += core::kind_name(k);
  }
  return out;
}

std::string operations_text(const policy::RuleSpec& spec) {
  std::string out;
  for (auto op : {policy::Operation::kCreate, policy::Operation::kUpdate, policy::Operation::kDelete,
                  policy::Operation::kConnect}) {
    if (!spec.operations.has(op)) continue;
    if (!out.empty()) out += ", ";
    out += policy::operation_name(op);
  }
  return out;
}

std::string severity_text(const policy::RuleSpec& spec) {
  return spec.severities.empty() ? std::string(policy::severity_name(spec.severity))
                                 : std::string(spec.severities);
}

// How every rule reads its view: the same for all of them, so stated once.
constexpr const char* kViewSection = R"(## How the view is judged

### The view as applied (lint)

`wirecheck lint` judges the input as the cluster will hold it once applied:

- **Apply namespace.** Namespaced objects without `metadata.namespace` are
  placed in `-n NS` when given (as `helm install -n` / `kubectl apply -n`
  would). Without `-n`, lint takes the one namespace that the input's own
  references to those objects agree on: webhook, conversion webhook and
  APIService `clientConfig.service.namespace`, ServiceAccount subjects of
  (Cluster)RoleBindings, monitors' `namespaceSelector.matchNames`, and
  `<svc>.<ns>.svc` names in Certificates, counting only references to names
  that exist in the input without a namespace. It says so once (text: a
  header line; JSON: `applyNamespace`; SARIF: `runs[0].properties.applyNamespace`).
  When they disagree or nothing refers, objects go to `default`, and a
  reference to a name that exists in the input without a namespace is never
  reported missing (pass `-n`). Cluster-scoped kinds lose a stray namespace;
  custom resources follow their CRD's `scope`.
- **Namespaces.** Namespace objects in the view carry their labels plus
  `kubernetes.io/metadata.name`, which the API server sets on every
  namespace; namespaceSelectors are evaluated against them. A namespace
  absent from a partial view is known only by that label.
- **Helm test hooks.** Objects annotated `helm.sh/hook: test` are what
  `helm test` runs, not part of the running install: they are not backends
  of Services and never producers. Other hooks (pre/post-install Jobs) are
  producers: they are how certificate generators patch CA bundles.
- **One finding per broken link.** A conclusion about a port (scheme, TLS,
  port not found) comes from the resolved port of a selected Service or pod;
  when the selection itself is broken, that is the only finding.

### Made at run time

Real installs are completed at run time by something in the same install.
Every rule that reports a missing counterpart (a Service, the Services or
pods a selector should match, a CA bundle) first asks who in the view may
produce it, and reports `info` naming the producer ("may be created at run
time by Deployment ns/x: its ServiceAccount may create services in ns").
Without a producer the severity is unchanged. In the audit of a running
cluster (a complete view) what a producer should have made and did not is
still reported, naming the producer: that is where to look. The signals:

- **RBAC of the view's workloads.** For each workload, its ServiceAccount
  (`default` when none is named), the RoleBindings and ClusterRoleBindings
  of that account (also `system:serviceaccount:NS:NAME` users and the
  `system:serviceaccounts[:NS]` groups), and the rules of the Roles and
  ClusterRoles they grant, with aggregated ClusterRoles resolved through
  `aggregationRule.clusterRoleSelectors` against the labels of the other
  ClusterRoles. A RoleBinding grants in its own namespace only, also when it
  refers to a ClusterRole; `resourceNames` limit update/patch to those
  objects and never allow create; `*` matches any verb, group or resource.
  A workload that may `create` Services (or pods, Deployments, StatefulSets,
  DaemonSets, Jobs) in a namespace may make the missing ones; one that may
  `update`/`patch` a webhook configuration, CRD or APIService may fill its
  caBundle or rewrite its clientConfig.
- **Operator conventions** (one table, `src/policy/conventions.cpp`):
  prometheus-operator labels the pods of a `Prometheus` / `PrometheusAgent`
  / `Alertmanager` / `ThanosRuler` named N with `prometheus: N` /
  `alertmanager: N` / `thanos-ruler: N`, `app.kubernetes.io/instance: N`
  and `operator.prometheus.io/name: N`; a custom resource's own
  `podMetadata.labels`, `template.metadata.labels` or `labels` are its pods'.
  Controllers add `pod-template-hash`, `controller-revision-hash`,
  `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`,
  `job-name`, `controller-uid` and `batch.kubernetes.io/*` to the pods they
  create. CA-injection annotations (`cert-manager.io/inject-ca-from`,
  `-from-secret`, `inject-apiserver-ca`, `service.beta.openshift.io/inject-cabundle`).
- **Never called.** The conversion webhook of a CRD that serves a single
  version is never called: its Service and caBundle findings are `info`.
- **One cause, one line.** In text output, findings of one rule that share
  a missing counterpart (eight CRDs calling one absent Service) are listed
  under one line; JSON and SARIF keep one result per object, with a shared
  `cause` key.

)";

std::string markdown() {
  std::string out =
      "# wirecheck rules\n\n"
      "Generated by `wirecheck rules --format md` from the rule definitions in `src/rules/`; "
      "do not edit by hand.\n\n"
      "Every rule can be disabled or given another severity in the configuration file "
      "(see [configuration.md](configuration.md)), and suppressed for one object with the "
      "annotation `" +
      std::string(policy::kExemptionPrefix) +
      "<rule-id>: \"<reason>\"` (the reason must not be empty).\n\n" +
      std::string(kViewSection) + "## Rules\n\n| id | severity | kinds | summary |\n|---|---|---|---|\n";
  for (const auto& spec : policy::Registry::all()) {
    out += "| [`" + std::string(spec.id) + "`](#" + std::string(spec.id) + ") | " + severity_text(spec) +
           " | " + kinds_text(spec) + " | " + std::string(spec.title) + " |\n";
  }
  for (const auto& spec : policy::Registry::all()) {
    out += "\n## " + std::string(spec.id) + "\n\n";
    out += std::string(spec.title) + "\n\n";
    out += "- Severity: " + severity_text(spec) + "\n";
    out += "- Kinds: " + kinds_text(spec) + "\n";
    if (spec.live) {
      out += "- Live check: run by `wirecheck audit --probe` and the server's background audit with "
             "`--audit-probe` (a connection and TLS handshake from where the audit runs); never at "
             "admission or in lint\n";
    } else {
      out += "- Operations: " + operations_text(spec) + "\n";
    }
    std::string ctx;
    for (core::Kind k : spec.context_kinds) {
      if (!ctx.empty()) ctx += ", ";
      ctx += core::kind_name(k);
    }
    if (spec.needs_context) {
      out += "- Needs context: " + (ctx.empty() ? std::string("yes") : ctx) +
             " (skipped when that view is not available)\n";
      std::string optional;
      for (core::Kind k : spec.optional_context_kinds) {
        if (!optional.empty()) optional += ", ";
        optional += core::kind_name(k);
      }
      if (!optional.empty()) out += "- Uses context: " + optional + " (when the view has them)\n";
    } else if (!ctx.empty()) {
      out += "- Uses context: " + ctx + " (runs without it, with the verdict it gives without that view)\n";
    }
    out += "- Exemption: `" + std::string(policy::kExemptionPrefix) + std::string(spec.id) +
           ": \"<reason>\"`\n\n";
    out += "**What breaks at runtime.** " + std::string(spec.failure) + "\n\n";
    out += "**Fix.** " + std::string(spec.fix) + "\n";
  }
  return out;
}

std::string text() {
  std::string out;
  for (const auto& spec : policy::Registry::all()) {
    char line[512];
    std::snprintf(line, sizeof line, "%-40.*s %-12s %s\n", static_cast<int>(spec.id.size()),
                  spec.id.data(), severity_text(spec).c_str(), std::string(spec.title).c_str());
    out += line;
  }
  return out;
}

}  // namespace

int run_rules(const Args& args) {
  std::string format = "text";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--format" && i + 1 < args.size()) {
      format = args[++i];
    } else if (args[i].rfind("--format=", 0) == 0) {
      format = args[i].substr(9);
    } else if (args[i] == "-h" || args[i] == "--help") {
      std::puts("usage: wirecheck rules [--format text|md]");
      return 0;
    } else {
      std::fprintf(stderr, "wirecheck rules: unknown argument '%s'\nusage: wirecheck rules [--format text|md]\n",
                   args[i].c_str());
      return 2;
    }
  }
  if (format == "md" || format == "markdown") {
    std::cout << markdown();
  } else if (format == "text") {
    std::cout << text();
  } else {
    std::fprintf(stderr, "wirecheck rules: --format must be text or md\n");
    return 2;
  }
  return 0;
}

int run_version(const Args&) {
  std::printf("wirecheck %s\n", WIRECHECK_VERSION);
  return 0;
}

}  // namespace wirecheck::cli
