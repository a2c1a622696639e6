// cert-manager Certificate rules (src/rules/certificates.cpp): which Service a
// Certificate serves (its dnsNames, or a webhook's inject-ca-from) and which
// names it must carry for it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support.hpp"

using namespace wirecheck;
using testing::contains;
using testing::fixture_findings;
using policy::Severity;

namespace {

std::vector<policy::Finding> run_yaml(const std::string& yaml, std::string_view rule) {
  return testing::yaml_findings(std::string(rule), yaml);
}

std::string certificate(const std::string& dns_names, const std::string& name = "serving-cert") {
  return R"(
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: )" + name + R"(, namespace: op-system}
spec:
  secretName: webhook-server-cert
  issuerRef: {kind: Issuer, name: selfsigned}
  dnsNames: )" + dns_names + "\n";
}

const char* const kService = R"(
apiVersion: v1
kind: Service
metadata: {name: op-webhook, namespace: op-system}
spec:
  selector: {app: op}
  ports: [{port: 443, targetPort: 9443}]
)";

const char* const kInjectingWebhook = R"(
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: op-mutator
  annotations: {cert-manager.io/inject-ca-from: op-system/serving-cert}
webhooks:
- name: mutate.op.example.com
  clientConfig: {service: {name: op-webhook, namespace: op-system}}
)";

}  // namespace

// ------------------------------------------- certificate-missing-service-san

TEST_CASE("certificate-missing-service-san: injected by a webhook, lacking <svc>.<ns>.svc -> deny naming the injector") {
  const auto f = fixture_findings("certificate-missing-service-san", "fail.injected-webhook-lacks-svc");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.dnsNames");
  CHECK(contains(f[0].message, "ValidatingWebhookConfiguration example-validator"));
  CHECK(contains(f[0].message, "webhook-service.webhook-system.svc"));
  CHECK(f[0].fix == "add webhook-service.webhook-system.svc to spec.dnsNames");
}

TEST_CASE("certificate-missing-service-san: injected by a CRD or APIService -> deny, Service need not be in the input") {
  const auto crd = fixture_findings("certificate-missing-service-san", "fail.injected-crd-wrong-service");
  REQUIRE(crd.size() == 1);
  CHECK(crd[0].severity == Severity::kDeny);
  CHECK(contains(crd[0].message, "CustomResourceDefinition widgets.example.com"));
  const auto api = fixture_findings("certificate-missing-service-san", "fail.injected-apiservice-no-service-in-input");
  REQUIRE(api.size() == 1);
  CHECK(api[0].severity == Severity::kDeny);
  CHECK(contains(api[0].message, "APIService v1beta1.metrics.example.com"));
}

TEST_CASE("certificate-missing-service-san: names a Service by short forms only, nothing injects -> warn") {
  const auto f = fixture_findings("certificate-missing-service-san", "fail.short-names-only");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "webhook-system/webhook-service"));
  CHECK(contains(f[0].fix, "webhook-service.webhook-system.svc"));
}

TEST_CASE("certificate-missing-service-san: a dnsName match plus injection for the same Service -> one deny") {
  const auto f = run_yaml(certificate("[op-webhook.op-system]") + "---" + kService + "---" + kInjectingWebhook,
                          "certificate-missing-service-san");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "MutatingWebhookConfiguration op-mutator"));
}

TEST_CASE("certificate-missing-service-san: SAN comparison ignores case") {
  CHECK(run_yaml(certificate("[OP-WEBHOOK.op-system.SVC]") + "---" + kInjectingWebhook,
                 "certificate-missing-service-san")
            .empty());
}

TEST_CASE("certificate-missing-service-san: complete names, wildcard, unrelated, other injected cert -> nothing") {
  for (const char* name : {"pass.all-forms", "pass.kubebuilder-scaffold", "pass.wildcard", "pass.unrelated-names",
                           "pass.other-certificate-injected"}) {
    INFO(name);
    CHECK(fixture_findings("certificate-missing-service-san", name).empty());
  }
}

TEST_CASE("certificate-missing-service-san: a URL-backed injector names no Service -> nothing") {
  const auto f = run_yaml(certificate("[op.example.com]") + R"(---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: url-validator
  annotations: {cert-manager.io/inject-ca-from: op-system/serving-cert}
webhooks:
- name: v.op.example.com
  clientConfig: {url: "https://op.example.com/validate"}
)",
                          "certificate-missing-service-san");
  CHECK(f.empty());
}

// --------------------------------------- certificate-incomplete-service-sans

TEST_CASE("certificate-incomplete-service-sans: no .svc.cluster.local (external-secrets shape) -> info") {
  const auto f = fixture_findings("certificate-incomplete-service-sans", "fail.no-cluster-local");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(f[0].path == "spec.dnsNames");
  CHECK(contains(f[0].message, "webhook-service.webhook-system.svc.cluster.local"));
  CHECK(f[0].fix == "add webhook-service.webhook-system.svc.cluster.local to spec.dnsNames");
}

TEST_CASE("certificate-incomplete-service-sans: no short forms -> info listing both") {
  const auto f = fixture_findings("certificate-incomplete-service-sans", "fail.no-short-forms");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(contains(f[0].message, "webhook-service.webhook-system, webhook-service:"));
}

TEST_CASE("certificate-incomplete-service-sans: all forms or no Service served -> nothing") {
  CHECK(fixture_findings("certificate-incomplete-service-sans", "pass.all-forms").empty());
  CHECK(fixture_findings("certificate-incomplete-service-sans", "pass.no-service").empty());
}

TEST_CASE("certificate rules: a Service in another namespace is named by <svc>.<ns> without the short form") {
  // The short `<svc>` name only resolves inside the Certificate's namespace.
  const auto f = run_yaml(certificate("[api.other, api.other.svc, api.other.svc.cluster.local]") + R"(---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: other}
spec: {ports: [{port: 443}]}
)",
                          "certificate-incomplete-service-sans");
  CHECK(f.empty());
}

TEST_CASE("certificate rules: external-secrets chart -> info only, on the webhook Certificate") {
  const std::string shared = testing::shared_dir();
  core::ManifestSet set;
  core::load_path(shared + "/corpus/external-secrets-chart-0.9.20-certmanager/rendered.yaml", set);
  REQUIRE(set.errors.empty());
  const auto all = testing::evaluate_all(set);
  CHECK(testing::of_rule(all, "certificate-missing-service-san").empty());
  const auto info = testing::of_rule(all, "certificate-incomplete-service-sans");
  REQUIRE(info.size() == 1);
  CHECK(info[0].object.name == "external-secrets-webhook");
  CHECK(info[0].severity == Severity::kInfo);
}
