// Webhook configuration, CRD conversion and APIService rules
// (src/rules/webhooks.cpp, src/rules/webhook_service.cpp). Fixture folders
// cover pass/fail per rule generically; these tests pin severity, path,
// message and fix per branch, and the admission-only behaviour lint cannot
// express (UPDATE against old_object, DELETE of a Service, complete audit view).
// Certificate-time branches of webhook-ca-bundle-invalid that need a clock
// (expiring soon) live in tests/ca_bundle_test.cpp, which generates certificates.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "support.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/object_index.hpp"

using namespace wirecheck;
using testing::contains;
using testing::fixture_findings;
using policy::Operation;
using policy::Severity;

namespace {

// Evaluates set.objects[index] against the whole set with an explicit view
// (complete = cluster audit) and operation.
std::vector<policy::Finding> run_with(const core::ManifestSet& set, std::size_t index, Operation op,
                                      const core::Object* old_object, bool complete, std::string_view rule) {
  return testing::of_rule(testing::view_findings(set, index, op, old_object, complete), rule);
}

const char* const kService = R"(
apiVersion: v1
kind: Service
metadata: {name: webhook-service, namespace: webhook-system}
spec:
  selector: {app: webhook}
  ports: [{name: https, port: 443, targetPort: 9443}]
)";

std::string validating(const std::string& client_config, const std::string& extra = "") {
  return R"(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: example-validator}
webhooks:
- name: first.example.com
  clientConfig: {url: "https://first.example.com/validate"}
  rules: [{apiGroups: ["example.com"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["widgets"]}]
- name: second.example.com
  clientConfig: )" + client_config + "\n" + extra +
         R"(  rules: [{apiGroups: ["example.com"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["widgets"]}]
)";
}

const char* const kServiceRef = "{service: {name: webhook-service, namespace: webhook-system}}";
// base64 of "\n": kubebuilder's placeholder, a bundle with no certificate.
const char* const kPlaceholder = "{caBundle: Cg==, service: {name: webhook-service, namespace: webhook-system}}";

}  // namespace

// ------------------------------------------------- webhook-missing-ca-bundle

TEST_CASE("webhook-missing-ca-bundle: service-backed webhook without bundle -> warn naming the webhook and path") {
  const auto f = fixture_findings("webhook-missing-ca-bundle", "fail.validating-no-ca-bundle");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "webhooks[0].clientConfig.caBundle");
  CHECK(contains(f[0].message, "webhook-service.webhook-system.svc"));
  CHECK(contains(f[0].message, "x509: unknown authority"));
  // Something outside the input may still inject it: not stated as fact.
  CHECK(contains(f[0].message, "unless"));
  CHECK(contains(f[0].fix, "cert-manager.io/inject-ca-from"));
  CHECK(contains(f[0].fix, "webhook-service.webhook-system.svc"));
}

TEST_CASE("webhook-missing-ca-bundle: path names the webhook's index in webhooks[]") {
  const auto set = testing::load_yaml(validating(kServiceRef) + "---" + kService);
  const auto f = testing::of_rule(testing::evaluate(set), "webhook-missing-ca-bundle");
  REQUIRE(f.size() == 1);  // the URL-backed first webhook is fine
  CHECK(f[0].path == "webhooks[1].clientConfig.caBundle");
}

TEST_CASE("webhook-missing-ca-bundle: CRD conversion (v1) and APIService report their own paths") {
  const auto crd = fixture_findings("webhook-missing-ca-bundle", "fail.crd-conversion-no-ca-bundle");
  REQUIRE(crd.size() == 1);
  CHECK(crd[0].path == "spec.conversion.webhook.clientConfig.caBundle");
  const auto api = fixture_findings("webhook-missing-ca-bundle", "fail.apiservice-no-ca-bundle");
  REQUIRE(api.size() == 1);
  CHECK(api[0].path == "spec.caBundle");
  CHECK(api[0].severity == Severity::kWarn);
}

TEST_CASE("webhook-missing-ca-bundle: each CA-injection annotation, a URL, insecureSkipTLSVerify -> nothing") {
  for (const char* name : {"pass.inject-ca-from", "pass.inject-ca-from-secret-v1beta1-crd",
                           "pass.openshift-inject-cabundle", "pass.apiserver-ca", "pass.url-backed",
                           "pass.apiservice-insecure-skip", "pass.apiservice-local", "pass.crd-strategy-none",
                           "pass.ca-bundle-set"}) {
    INFO(name);
    CHECK(fixture_findings("webhook-missing-ca-bundle", name).empty());
  }
}

TEST_CASE("webhook-missing-ca-bundle: UPDATE that removes a bundle nothing re-injects -> deny") {
  const auto before = testing::load_yaml(validating(kPlaceholder));
  const auto after = testing::load_yaml(validating(kServiceRef) + "---" + kService);
  const auto f = run_with(after, 0, Operation::kUpdate, &before.objects[0], false, "webhook-missing-ca-bundle");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "webhooks[1].clientConfig.caBundle");
  CHECK(contains(f[0].message, "removes caBundle and nothing re-injects it"));
  CHECK_FALSE(f[0].fix.empty());
}

TEST_CASE("webhook-missing-ca-bundle: UPDATE where the old object had no bundle either -> warn") {
  const auto before = testing::load_yaml(validating(kServiceRef));
  const auto after = testing::load_yaml(validating(kServiceRef));
  const auto f = run_with(after, 0, Operation::kUpdate, &before.objects[0], false, "webhook-missing-ca-bundle");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
}

TEST_CASE("webhook-missing-ca-bundle: in the complete cluster view a missing bundle -> deny") {
  const auto set = testing::load_yaml(validating(kServiceRef) + "---" + kService);
  const auto f = run_with(set, 0, Operation::kCreate, nullptr, true, "webhook-missing-ca-bundle");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
}

// ------------------------------------------------- webhook-ca-bundle-invalid

TEST_CASE("webhook-ca-bundle-invalid: undecodable or certificate-less bundles -> deny with the reason") {
  struct Case {
    const char* fixture;
    const char* path;
    const char* reason;
  };
  const Case cases[] = {
      {"fail.not-base64", "webhooks[0].clientConfig.caBundle", "is not valid base64"},
      {"fail.private-key", "webhooks[0].clientConfig.caBundle", "only PRIVATE KEY"},
      {"fail.placeholder-without-injection", "webhooks[0].clientConfig.caBundle", "no PEM data"},
      {"fail.crd-v1beta1-garbage", "spec.conversion.webhookClientConfig.caBundle", "no PEM data"},
  };
  for (const Case& c : cases) {
    INFO(c.fixture);
    const auto f = fixture_findings("webhook-ca-bundle-invalid", c.fixture);
    REQUIRE(f.size() == 1);
    CHECK(f[0].severity == Severity::kDeny);
    CHECK(f[0].path == c.path);
    CHECK(contains(f[0].message, c.reason));
    CHECK(contains(f[0].message, "every call fails"));
    CHECK(contains(f[0].fix, "base64"));
  }
}

TEST_CASE("webhook-ca-bundle-invalid: every certificate expired -> deny with subject and notAfter") {
  const auto f = fixture_findings("webhook-ca-bundle-invalid", "fail.expired");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "webhook \"validate.example.com\""));
  CHECK(contains(f[0].message, "CN=wirecheck-expired-ca"));
  CHECK(contains(f[0].message, "2001-01-01T00:00:00Z"));
  CHECK(contains(f[0].fix, "renew"));
  const auto api = fixture_findings("webhook-ca-bundle-invalid", "fail.apiservice-expired");
  REQUIRE(api.size() == 1);
  CHECK(api[0].path == "spec.caBundle");
}

TEST_CASE("webhook-ca-bundle-invalid: valid, rotated, injected placeholder, absent -> nothing") {
  for (const char* name : {"pass.valid", "pass.expired-and-valid", "pass.injected-placeholder", "pass.no-ca-bundle"}) {
    INFO(name);
    CHECK(fixture_findings("webhook-ca-bundle-invalid", name).empty());
  }
}

TEST_CASE("webhook-ca-bundle-invalid: an injected placeholder still present in the live cluster -> deny") {
  const auto set = testing::load_fixture("rules/webhook-ca-bundle-invalid/pass.injected-placeholder.yaml");
  const auto f = run_with(set, 0, Operation::kCreate, nullptr, true, "webhook-ca-bundle-invalid");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
}

// --------------------------------------------------- webhook-service-missing

TEST_CASE("webhook-service-missing: Service absent from the input -> warn (apply order), deny in audit") {
  const auto f = fixture_findings("webhook-service-missing", "fail.service-absent");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "webhooks[0].clientConfig.service.name");
  CHECK(contains(f[0].message, "webhook \"validate.example.com\""));
  CHECK(contains(f[0].message, "webhook-system/webhook-service"));
  CHECK(contains(f[0].fix, "exposing port 443"));

  const auto set = testing::load_fixture("rules/webhook-service-missing/fail.service-absent.yaml");
  const auto audit = run_with(set, 0, Operation::kCreate, nullptr, true, "webhook-service-missing");
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].severity == Severity::kDeny);
}

TEST_CASE("webhook-service-missing: Service in another namespace counts as absent") {
  const auto f = fixture_findings("webhook-service-missing", "fail.wrong-namespace");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
}

TEST_CASE("webhook-service-missing: Service without the port dialled -> deny with the ports it has") {
  const auto f = fixture_findings("webhook-service-missing", "fail.port-mismatch");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "webhooks[0].clientConfig.service.port");
  CHECK(contains(f[0].message, "port 443"));
  CHECK(contains(f[0].message, "8443 (https)"));
  CHECK(contains(f[0].fix, "(8443)"));

  const auto explicit_port = fixture_findings("webhook-service-missing", "fail.explicit-port-mismatch");
  REQUIRE(explicit_port.size() == 1);
  CHECK(explicit_port[0].severity == Severity::kDeny);
  CHECK(contains(explicit_port[0].message, "port 9443"));
  CHECK(contains(explicit_port[0].fix, "(443)"));
}

TEST_CASE("webhook-service-missing: v1beta1 CRD and APIService paths") {
  const auto crd = fixture_findings("webhook-service-missing", "fail.crd-v1beta1-service-absent");
  REQUIRE(crd.size() == 1);
  CHECK(crd[0].severity == Severity::kWarn);
  CHECK(crd[0].path == "spec.conversion.webhookClientConfig.service.name");
  CHECK(contains(crd[0].message, "conversion webhook"));
  const auto api = fixture_findings("webhook-service-missing", "fail.apiservice-service-absent");
  REQUIRE(api.size() == 1);
  CHECK(api[0].path == "spec.service.name");
  CHECK(contains(api[0].message, "APIService"));
}

TEST_CASE("webhook-service-missing: present Service, custom port, URL, ExternalName, local -> nothing") {
  for (const char* name : {"pass.service-present", "pass.custom-port", "pass.url-backed", "pass.external-name",
                           "pass.crd-v1-service-present", "pass.apiservice-local"}) {
    INFO(name);
    CHECK(fixture_findings("webhook-service-missing", name).empty());
  }
}

TEST_CASE("webhook-service-missing: skipped when the context cannot see Services") {
  const auto set = testing::load_fixture("rules/webhook-service-missing/fail.service-absent.yaml");
  const policy::Engine engine;
  const policy::EmptyContext nothing;
  CHECK(testing::of_rule(engine.evaluate(set.objects[0], nullptr, Operation::kCreate, nothing),
                         "webhook-service-missing")
            .empty());
}

// ---------------------------------------------- service-delete-breaks-webhook
// Lint cannot express DELETE, so this rule is tested at the engine level: the
// engine is handed the stored Service as object and old object.

namespace {

const char* const kDeleteContext = R"(
apiVersion: v1
kind: Service
metadata: {name: webhook-service, namespace: webhook-system}
spec:
  selector: {app: webhook}
  ports: [{name: https, port: 443, targetPort: 9443}]
---
apiVersion: v1
kind: Service
metadata: {name: unrelated, namespace: webhook-system}
spec:
  selector: {app: other}
  ports: [{port: 80}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: strict-validator}
webhooks:
- name: strict.example.com
  failurePolicy: Fail
  clientConfig: {service: {name: webhook-service, namespace: webhook-system}}
- name: lenient.example.com
  failurePolicy: Ignore
  clientConfig: {service: {name: webhook-service, namespace: webhook-system}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: other-namespace-mutator}
webhooks:
- name: mutate.example.com
  clientConfig: {service: {name: webhook-service, namespace: default}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: ["v1"]
      clientConfig: {service: {name: webhook-service, namespace: webhook-system, path: /convert}}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.example.com}
spec:
  group: metrics.example.com
  version: v1beta1
  service: {name: webhook-service, namespace: webhook-system}
)";

std::vector<policy::Finding> delete_findings(const core::ManifestSet& set, std::size_t index,
                                             const policy::Context& ctx, Operation op = Operation::kDelete) {
  const policy::Engine engine;
  const core::Object& svc = set.objects[index];
  return testing::of_rule(engine.evaluate(svc, &svc, op, ctx), "service-delete-breaks-webhook");
}

}  // namespace

TEST_CASE("service-delete-breaks-webhook: DELETE of a Service several objects call -> one deny, most severe first") {
  const auto set = testing::load_yaml(kDeleteContext);
  policy::ObjectIndex ctx;
  ctx.add_all(set.objects);
  const auto f = delete_findings(set, 0, ctx);
  // One finding per object and rule: the four callers are listed as one.
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "metadata.name");
  CHECK(contains(f[0].message, "ValidatingWebhookConfiguration strict-validator"));
  CHECK(contains(f[0].message, "failurePolicy Fail"));
  CHECK(contains(f[0].message, "(+3 more)"));
  CHECK(contains(f[0].fix, "webhooks[0].clientConfig.service"));
  CHECK(contains(f[0].fix, "then delete the Service"));
  CHECK_FALSE(contains(f[0].message, "other-namespace-mutator"));
}

TEST_CASE("service-delete-breaks-webhook: a caller with failurePolicy Ignore alone -> warn") {
  const auto set = testing::load_yaml(R"(
apiVersion: v1
kind: Service
metadata: {name: hooks, namespace: ops}
spec: {selector: {app: hooks}, ports: [{port: 443}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: lenient}
webhooks:
- name: lenient.example.com
  failurePolicy: Ignore
  clientConfig: {service: {name: hooks, namespace: ops}}
)");
  policy::ObjectIndex ctx;
  ctx.add_all(set.objects);
  const auto f = delete_findings(set, 0, ctx);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "failurePolicy Ignore"));
}

TEST_CASE("service-delete-breaks-webhook: DELETE of a Service nobody calls -> nothing") {
  const auto set = testing::load_yaml(kDeleteContext);
  policy::ObjectIndex ctx;
  ctx.add_all(set.objects);
  CHECK(delete_findings(set, 1, ctx).empty());
}

TEST_CASE("service-delete-breaks-webhook: only runs on DELETE") {
  const auto set = testing::load_yaml(kDeleteContext);
  policy::ObjectIndex ctx;
  ctx.add_all(set.objects);
  CHECK(delete_findings(set, 0, ctx, Operation::kCreate).empty());
  CHECK(delete_findings(set, 0, ctx, Operation::kUpdate).empty());
}

TEST_CASE("service-delete-breaks-webhook: skipped when the context cannot see webhooks") {
  const auto set = testing::load_yaml(kDeleteContext);
  const policy::EmptyContext nothing;
  CHECK(delete_findings(set, 0, nothing).empty());
}

TEST_CASE("service-delete-breaks-webhook: CRD with strategy None keeps no reference") {
  const auto set = testing::load_yaml(R"(
apiVersion: v1
kind: Service
metadata: {name: webhook-service, namespace: webhook-system}
spec: {ports: [{port: 443}]}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  conversion: {strategy: None}
)");
  policy::ObjectIndex ctx;
  ctx.add_all(set.objects);
  CHECK(delete_findings(set, 0, ctx).empty());
}

// ------------------------------------------------------ webhook-self-lockout

TEST_CASE("webhook-self-lockout: fail-closed pod webhook without selector -> warn naming both namespaces") {
  const auto f = fixture_findings("webhook-self-lockout", "fail.pods-no-selector");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "webhooks[0].namespaceSelector");
  // It names the built-in resources at risk, never "built-in objects" at large.
  CHECK(contains(f[0].message, "fails closed on pods in kube-system, webhook-system"));
  CHECK(contains(f[0].fix, "values: [kube-system, webhook-system]"));
  CHECK(contains(f[0].fix, "failurePolicy: Ignore"));
}

TEST_CASE("webhook-self-lockout: defaulted failurePolicy counts as Fail") {
  const auto f = fixture_findings("webhook-self-lockout", "fail.default-policy-all-groups");
  REQUIRE(f.size() == 1);
}

TEST_CASE("webhook-self-lockout: selector excluding only kube-system -> warn for the webhook's namespace") {
  const auto f = fixture_findings("webhook-self-lockout", "fail.excludes-only-kube-system");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "in webhook-system:"));
  CHECK_FALSE(contains(f[0].message, "kube-system"));
  // The selector's own name requirement is extended, not doubled.
  CHECK(f[0].fix ==
        "add webhook-system to webhooks[0].namespaceSelector.matchExpressions[0].values, or set failurePolicy: "
        "Ignore");
}

TEST_CASE("webhook-self-lockout: an install that labels its own Namespace out of the selector -> warn names only kube-system") {
  const auto f = fixture_findings("webhook-self-lockout", "fail.labelled-namespace-kube-system-exposed");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "fails closed on pods in kube-system:"));
  CHECK_FALSE(contains(f[0].message, "policy-system"));
  CHECK_FALSE(contains(f[0].fix, "policy-system"));
  CHECK(contains(f[0].fix, "values: [kube-system]}"));
  // Excluding kube-system by name as well leaves nothing exposed.
  CHECK(fixture_findings("webhook-self-lockout", "pass.labelled-namespace-excluded").empty());
}

TEST_CASE("webhook-self-lockout: a namespaceSelector that does not exclude the webhook's own namespace stays warn") {
  const auto f = fixture_findings("webhook-self-lockout", "fail.selector-misses-own-namespace");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "in policy-system:"));
  CHECK_FALSE(contains(f[0].message, "kube-system"));
  CHECK(contains(f[0].fix, "add policy-system to webhooks[0].namespaceSelector.matchExpressions[1].values"));
}

TEST_CASE("webhook-self-lockout: a namespace outside the view is judged by its name label alone") {
  // Opt-in requirements exclude a namespace created without their label;
  // opt-out ones do not, unless a NotIn names the namespace.
  const std::string head = R"(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: v}
webhooks:
- name: pods.example.com
  failurePolicy: Fail
  clientConfig: {service: {name: webhook-service, namespace: webhook-system}}
  rules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}]
  namespaceSelector:
)";
  const auto opt_in = testing::load_yaml(head + "    matchLabels: {policy.example.com/enforce: \"true\"}\n");
  CHECK(testing::of_rule(testing::evaluate(opt_in), "webhook-self-lockout").empty());
  const auto opt_out =
      testing::load_yaml(head + "    matchExpressions: [{key: policy.example.com/skip, operator: DoesNotExist}]\n");
  const auto f = testing::of_rule(testing::evaluate(opt_out), "webhook-self-lockout");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "in kube-system, webhook-system:"));
}

TEST_CASE("webhook-self-lockout: Ignore, custom groups, excluded or opt-in namespaces, cluster scope -> nothing") {
  for (const char* name : {"pass.failure-policy-ignore", "pass.custom-resources-only", "pass.namespaces-excluded",
                           "pass.opt-in-label", "pass.cluster-scoped-only"}) {
    INFO(name);
    CHECK(fixture_findings("webhook-self-lockout", name).empty());
  }
}

TEST_CASE("webhook-self-lockout: a NotIn on another label that names the namespace shows intent -> nothing") {
  // cert-manager's shape: `name NotIn [cert-manager]` on its own namespace label.
  const auto set = testing::load_yaml(R"(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: v}
webhooks:
- name: pods.example.com
  failurePolicy: Fail
  namespaceSelector:
    matchExpressions:
    - {key: name, operator: NotIn, values: [webhook-system, kube-system]}
  clientConfig: {service: {name: webhook-service, namespace: webhook-system}}
  rules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}]
)");
  CHECK(testing::of_rule(testing::evaluate(set), "webhook-self-lockout").empty());
}

// -------------------------------------------------- webhook-timeout-too-long

TEST_CASE("webhook-timeout-too-long: fail-closed on pods cluster-wide with timeoutSeconds 30 -> warn at timeoutSeconds") {
  const auto f = fixture_findings("webhook-timeout-too-long", "fail.pods-fail-closed");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "webhooks[0].timeoutSeconds");
  CHECK(f[0].message ==
        "webhook \"pods.example.com\" fails closed on pods cluster-wide with timeoutSeconds 30s: while it hangs, "
        "each of those writes waits 30s and is then rejected");
  // Clients do not time out first: kubectl and client-go set no timeout.
  CHECK_FALSE(contains(f[0].message, "clients"));
  CHECK(contains(f[0].fix, "15 or less (the API default is 10)"));
}

TEST_CASE("webhook-timeout-too-long: an opt-out namespaceSelector does not narrow leases -> warn") {
  const auto f = fixture_findings("webhook-timeout-too-long", "fail.leases-opt-out-selector");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "fails closed on leases"));
}

TEST_CASE("webhook-timeout-too-long: own API group, Ignore, opted-in selectors, low-volume kinds -> info with the reason") {
  struct Case {
    const char* fixture;
    const char* reason;
  };
  const Case cases[] = {
      {"pass.own-group-timeout-30", "it matches no high-volume built-in resource"},
      {"pass.low-volume-builtin", "it matches no high-volume built-in resource"},
      {"pass.pods-ignore", "failurePolicy Ignore then admits the request"},
      {"pass.pods-opted-in", "its selectors limit it to opted-in objects"},
      {"pass.namespaces-opted-in", "its selectors limit it to opted-in objects"},
  };
  for (const Case& c : cases) {
    INFO(c.fixture);
    const auto f = fixture_findings("webhook-timeout-too-long", c.fixture);
    REQUIRE(f.size() == 1);
    CHECK(f[0].severity == Severity::kInfo);
    CHECK(contains(f[0].message, "for up to 30s"));
    CHECK(contains(f[0].message, c.reason));
  }
}

TEST_CASE("webhook-timeout-too-long: 10, 15 and unset -> nothing") {
  for (const char* name : {"pass.timeout-10", "pass.timeout-15", "pass.timeout-unset"}) {
    INFO(name);
    CHECK(fixture_findings("webhook-timeout-too-long", name).empty());
  }
}

// ----------------------------------------------- apiservice-insecure-skip-tls

TEST_CASE("apiservice-insecure-skip-tls: insecureSkipTLSVerify true -> warn") {
  const auto f = fixture_findings("apiservice-insecure-skip-tls", "fail.insecure-skip");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.insecureSkipTLSVerify");
  CHECK(contains(f[0].message, "webhook-service.webhook-system.svc"));
  CHECK(contains(f[0].fix, "spec.caBundle"));
}

TEST_CASE("apiservice-insecure-skip-tls: caBundle or explicit false -> nothing") {
  CHECK(fixture_findings("apiservice-insecure-skip-tls", "pass.ca-bundle").empty());
  CHECK(fixture_findings("apiservice-insecure-skip-tls", "pass.explicit-false").empty());
}

// ---------------------------------------------- webhook-rule-matches-nothing

namespace {
const char* const kMatchesNothing = "webhook-rule-matches-nothing";
}  // namespace

TEST_CASE("webhook-rule-matches-nothing: a singular resource warns while a plural, a subresource and a wildcard do not") {
  const auto f = fixture_findings(kMatchesNothing, "fail.crd-singular");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "webhooks[0].rules[0].resources[0]");
  CHECK(f[0].message ==
        "webhook \"widgets.example.com\" rule names \"widget\", but group example.com serves \"widgets\": the API "
        "server never calls it for that kind");
  CHECK(f[0].fix == "use the plural resource name: widgets");
  for (const char* name : {"pass.crd-plural", "pass.crd-declared-subresource", "pass.wildcards"}) {
    INFO(name);
    CHECK(fixture_findings(kMatchesNothing, name).empty());
  }
}

TEST_CASE("webhook-rule-matches-nothing: the kind as written and a built-in singular -> the plural") {
  const auto kind = fixture_findings(kMatchesNothing, "fail.crd-kind");
  REQUIRE(kind.size() == 1);
  CHECK(kind[0].fix == "use the plural resource name: widgets");
  const auto pod = fixture_findings(kMatchesNothing, "fail.builtin-singular");
  REQUIRE(pod.size() == 1);
  CHECK(contains(pod[0].message, "but the core group (\"\") serves \"pods\""));
  CHECK(pod[0].fix == "use the plural resource name: pods");
}

TEST_CASE("webhook-rule-matches-nothing: a misspelt CRD plural warns; a name no CRD of the group comes near is info") {
  const auto typo = fixture_findings(kMatchesNothing, "fail.crd-typo");
  REQUIRE(typo.size() == 1);
  CHECK(typo[0].severity == Severity::kWarn);
  CHECK(contains(typo[0].message, "rule names \"widgtes\", but group example.com serves \"widgets\""));
  CHECK(typo[0].fix == "use the plural resource name: widgets");
  // A retired kind (or one whose CRD is installed apart): nothing of it
  // exists beside this view, so no policy is off.
  const auto retired = fixture_findings(kMatchesNothing, "pass.crd-retired-kind");
  REQUIRE(retired.size() == 1);
  CHECK(retired[0].severity == Severity::kInfo);
  CHECK(retired[0].path == "webhooks[0].rules[0].resources[1]");
  CHECK(contains(retired[0].message, "rule names \"gadgetpools\", which nothing in group example.com serves"));
  CHECK(retired[0].fix == "remove the entry if the kind was retired; if its CRD is installed separately, nothing to do");
}

TEST_CASE("webhook-rule-matches-nothing: a built-in resource under another group -> names the group that serves it") {
  const auto f = fixture_findings(kMatchesNothing, "fail.builtin-wrong-group");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "webhooks[0].rules[0].resources[1]");
  CHECK(contains(f[0].message, "\"deployments\", which the core group (\"\") does not serve (group apps does)"));
  CHECK(f[0].fix == "add \"apps\" to apiGroups, or move deployments to a rule of that group");
  CHECK(fixture_findings(kMatchesNothing, "pass.builtin-plurals").empty());
}

TEST_CASE("webhook-rule-matches-nothing: an undeclared subresource -> what to change; an unserved version is still matched") {
  // matchPolicy Equivalent maps the rule's version through every listed one.
  CHECK(fixture_findings(kMatchesNothing, "pass.crd-unserved-version").empty());
  const auto sub = fixture_findings(kMatchesNothing, "fail.crd-undeclared-subresource");
  REQUIRE(sub.size() == 1);
  CHECK(contains(sub[0].message, "CRD widgets.example.com declares no scale subresource"));
  CHECK(sub[0].fix == "declare subresources.scale in CRD widgets.example.com, or match widgets itself");
}

TEST_CASE("webhook-rule-matches-nothing: groups the view cannot speak for say nothing") {
  for (const char* name : {"pass.unknown-group", "pass.any-group"}) {
    INFO(name);
    CHECK(fixture_findings(kMatchesNothing, name).empty());
  }
  // Without the CRD, example.com is unknown; the built-in groups are known
  // without any view.
  const auto crd = testing::load_fixture("rules/webhook-rule-matches-nothing/fail.crd-singular.yaml");
  CHECK(testing::of_rule(testing::no_context_findings(crd), kMatchesNothing).empty());
  const auto pod = testing::load_fixture("rules/webhook-rule-matches-nothing/fail.builtin-singular.yaml");
  CHECK(testing::of_rule(testing::no_context_findings(pod), kMatchesNothing).size() == 1);
  // An APIService serving the group: its resources are the aggregated server's.
  const auto aggregated = testing::load_yaml(testing::read_file(testing::fixtures_dir() +
                                                                "/rules/webhook-rule-matches-nothing/fail.crd-singular.yaml") +
                                             R"(
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.example.com}
spec:
  group: example.com
  version: v1beta1
  service: {name: api, namespace: example}
)");
  CHECK(testing::of_rule(testing::evaluate(aggregated), kMatchesNothing).empty());
}

TEST_CASE("webhook-rule-matches-nothing: the cluster audit reports it as warn too") {
  const auto set = testing::load_fixture("rules/webhook-rule-matches-nothing/fail.crd-singular.yaml");
  const auto f = run_with(set, 0, Operation::kCreate, nullptr, true, kMatchesNothing);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
}

// ------------------------------------------------------------ whole installs

TEST_CASE("webhook rules: a cert-manager-style install lints without deny or warn") {
  const auto set = testing::load_fixture("lint/cert-manager-style.yaml");
  const auto all = testing::evaluate_all(set);
  for (const auto& f : all) {
    if (f.severity != Severity::kInfo) {
      FAIL_CHECK(f.rule << " " << policy::severity_name(f.severity) << " on " << f.object.kind << "/"
                        << f.object.name << " at " << f.path << ": " << f.message);
    }
  }
  CHECK(set.objects.size() == 8);
}

TEST_CASE("webhook rules: the cert-manager-style install through the lint binary exits 0 with no deny") {
  const std::string cmd = std::string(WIRECHECK_BINARY) + " lint --no-color --fail-on warn -f " +
                          testing::fixtures_dir() + "/lint/cert-manager-style.yaml > /dev/null 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("webhook rules: cert-manager v1.10.1 static install -> none of these rules fire") {
  const std::string shared = testing::shared_dir();
  core::ManifestSet set;
  core::load_path(shared + "/corpus/cert-manager-v1.10.1-static-install/cert-manager.yaml", set);
  REQUIRE(set.errors.empty());
  const auto all = testing::evaluate_all(set);
  for (const char* rule : {"webhook-missing-ca-bundle", "webhook-ca-bundle-invalid", "webhook-service-missing",
                           "webhook-self-lockout", "webhook-timeout-too-long", "apiservice-insecure-skip-tls",
                           "webhook-rule-matches-nothing",
                           "certificate-missing-service-san", "certificate-incomplete-service-sans"}) {
    INFO(rule);
    CHECK(testing::of_rule(all, rule).empty());
  }
}


TEST_CASE("webhook-ca-bundle-invalid: expiry is judged at the engine's clock, not the wall clock") {
  const auto set = testing::load_fixture("rules/webhook-ca-bundle-invalid/fail.expired.yaml");
  policy::ObjectIndex ctx;
  ctx.add_all(set.objects);
  auto at = [&](std::int64_t unix_seconds) {
    const policy::Engine engine(policy::Settings::defaults(), [unix_seconds] { return unix_seconds; });
    return testing::of_rule(engine.evaluate(set.objects[0], nullptr, Operation::kCreate, ctx),
                            "webhook-ca-bundle-invalid");
  };
  // 2000-06-01: the CA (valid 2000-01-01 .. 2001-01-01) is fine and far from expiry.
  CHECK(at(959817600).empty());
  // 2000-12-20: within the 30-day window -> warn.
  const auto soon = at(977270400);
  REQUIRE(soon.size() == 1);
  CHECK(soon[0].severity == Severity::kWarn);
  // 2002-01-01: expired -> deny.
  const auto late = at(1009843200);
  REQUIRE(late.size() == 1);
  CHECK(late[0].severity == Severity::kDeny);
}

// ------------------------------- webhook-missing-ca-bundle: run-time injectors

namespace {

// A view that knows only some kinds, like the server's cache before it
// watches RBAC: everything else is unknown.
class PartialContext final : public policy::Context {
 public:
  PartialContext(const policy::ObjectIndex& all, std::vector<core::Kind> known)
      : all_(all), known_(std::move(known)) {}
  bool knows(core::Kind k) const override {
    return std::find(known_.begin(), known_.end(), k) != known_.end();
  }
  bool complete() const override { return false; }
  const core::Object* find(core::Kind k, std::string_view ns, std::string_view name) const override {
    return knows(k) ? all_.find(k, ns, name) : nullptr;
  }
  std::vector<const core::Object*> list(core::Kind k, std::string_view ns) const override {
    return knows(k) ? all_.list(k, ns) : std::vector<const core::Object*>{};
  }
  std::vector<const core::Object*> list_all(core::Kind k) const override {
    return knows(k) ? all_.list_all(k) : std::vector<const core::Object*>{};
  }

 private:
  const policy::ObjectIndex& all_;
  std::vector<core::Kind> known_;
};

const char* const kMissing = "webhook-missing-ca-bundle";

}  // namespace

TEST_CASE("webhook-missing-ca-bundle: a certgen Job allowed to patch this configuration -> info naming it, no warn") {
  const auto f = fixture_findings(kMissing, "pass.injector-certgen-job");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(f[0].path == "webhooks[0].clientConfig.caBundle");
  CHECK(f[0].message ==
        "caBundle is empty in the manifest; it may be injected at run time by Job shop/shop-certgen: its "
        "ServiceAccount may update validatingwebhookconfigurations/shop-validator");
}

TEST_CASE("webhook-missing-ca-bundle: a cert-rotating controller (wildcard verbs) and the default account -> info") {
  const auto crd = fixture_findings(kMissing, "pass.injector-rotating-controller");
  REQUIRE(crd.size() == 1);
  CHECK(crd[0].severity == Severity::kInfo);
  CHECK(contains(crd[0].message, "injected at run time by Deployment tools/tools-controller"));
  const auto api = fixture_findings(kMissing, "pass.injector-apiservice-default-account");
  REQUIRE(api.size() == 1);
  CHECK(api[0].severity == Severity::kInfo);
  CHECK(contains(api[0].message, "metrics-api: its ServiceAccount may"));
}

TEST_CASE("webhook-missing-ca-bundle: RBAC that cannot inject this object -> still warn") {
  for (const char* name : {"fail.injector-other-object", "fail.injector-read-only", "fail.injector-account-unused",
                           "fail.injector-rolebinding-only"}) {
    INFO(name);
    const auto f = fixture_findings(kMissing, name);
    REQUIRE(f.size() == 1);
    CHECK(f[0].severity == Severity::kWarn);
  }
}

TEST_CASE("webhook-missing-ca-bundle: a view without RBAC kinds keeps warn (the rule is not skipped)") {
  const auto set = testing::load_fixture("rules/webhook-missing-ca-bundle/pass.injector-certgen-job.yaml");
  policy::ObjectIndex all;
  all.add_all(set.objects);
  const PartialContext no_rbac(all, {core::Kind::kService, core::Kind::kJob, core::Kind::kDeployment});
  const policy::Engine engine;
  const auto f = testing::of_rule(engine.evaluate(set.objects[0], nullptr, Operation::kCreate, no_rbac), kMissing);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  // And with nothing known at all (admission without a cluster view).
  const policy::EmptyContext none;
  const auto g = testing::of_rule(engine.evaluate(set.objects[0], nullptr, Operation::kCreate, none), kMissing);
  REQUIRE(g.size() == 1);
  CHECK(g[0].severity == Severity::kWarn);
}

TEST_CASE("webhook-missing-ca-bundle: injector known in the complete view but bundle still empty -> warn") {
  const auto set = testing::load_fixture("rules/webhook-missing-ca-bundle/pass.injector-certgen-job.yaml");
  const auto f = run_with(set, 0, Operation::kCreate, nullptr, true, kMissing);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].fix, "Job shop/shop-certgen"));
}

TEST_CASE("webhook-missing-ca-bundle: UPDATE dropping a bundle an injector re-injects -> warn, not deny") {
  // kubectl replace / GitOps replace-sync of a manifest that never had the CA.
  const auto set = testing::load_fixture("rules/webhook-missing-ca-bundle/pass.injector-certgen-job.yaml");
  const auto before = testing::load_yaml(R"(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: shop-validator}
webhooks:
  - name: orders.shop.example.org
    clientConfig: {caBundle: Cg==, service: {name: shop-webhook, namespace: shop}}
)");
  const auto f = run_with(set, 0, Operation::kUpdate, &before.objects[0], false, kMissing);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "until Job shop/shop-certgen re-injects it"));
}

TEST_CASE("webhook-missing-ca-bundle: UPDATE dropping the bundle of an annotated object -> warn, not deny") {
  const std::string annotated = R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
  annotations: {cert-manager.io/inject-ca-from: webhook-system/serving-cert}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  conversion:
    strategy: Webhook
    webhook:
      clientConfig: {)";
  const auto before = testing::load_yaml(annotated + "caBundle: Cg==, service: {name: webhook-service, namespace: webhook-system}}\n");
  const auto after = testing::load_yaml(annotated + "service: {name: webhook-service, namespace: webhook-system}}\n");
  const auto f = run_with(after, 0, Operation::kUpdate, &before.objects[0], false, kMissing);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "the CA injector re-injects it"));
  // CREATE of the same annotated object: nothing at all.
  CHECK(run_with(after, 0, Operation::kCreate, nullptr, false, kMissing).empty());
}

TEST_CASE("webhook-missing-ca-bundle: 18 webhooks without a bundle -> one finding listing every path") {
  std::string yaml = R"(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: many}
webhooks:
)";
  for (int i = 0; i < 18; ++i) {
    yaml += "  - name: h" + std::to_string(i) +
            ".example.com\n    clientConfig: {service: {name: webhook-service, namespace: webhook-system}}\n";
  }
  const auto set = testing::load_yaml(yaml + "---" + kService);
  const auto f = testing::of_rule(testing::evaluate(set), kMissing);
  REQUIRE(f.size() == 1);
  CHECK(f[0].paths.size() == 18);
  CHECK(f[0].paths[17] == "webhooks[17].clientConfig.caBundle");
  // Same condition, same Service: one message, no "(+N more)".
  CHECK_FALSE(contains(f[0].message, "more)"));
}
