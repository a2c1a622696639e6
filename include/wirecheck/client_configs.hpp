// Client configs: one view over the three places a Kubernetes object tells
// the API server to call a service over TLS (admission webhooks, CRD
// conversion webhooks, APIServices), so the webhook and certificate rules
// and the audit's live prober walk them the same way and report the same
// field paths. Views point into the object; it must outlive them.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/object.hpp"

namespace wirecheck::core {

// Annotations that make a controller fill `caBundle` after apply: an empty
// bundle on such an object is expected, not a bug.
inline constexpr std::array<std::string_view, 4> kCaInjectionAnnotations = {
    "cert-manager.io/inject-ca-from",
    "cert-manager.io/inject-ca-from-secret",
    "cert-manager.io/inject-apiserver-ca",
    "service.beta.openshift.io/inject-cabundle",
};
inline constexpr std::string_view kInjectCaFrom = "cert-manager.io/inject-ca-from";

// The first injection annotation on the object, or nullptr.
inline const std::string_view* ca_injection_annotation(const Object& o) {
  for (const std::string_view& key : kCaInjectionAnnotations) {
    if (o.annotation(key)) return &key;
  }
  return nullptr;
}

// One TLS client configuration of an object.
struct ClientConfigView {
  std::string key;          // webhook name; "" for CRDs and APIServices (one per object)
  std::string label;        // for messages: `webhook "x"`, `conversion webhook`, `APIService`
  std::string base_path;    // "webhooks[0].clientConfig", "spec.conversion.webhook.clientConfig", "spec"
  std::string service_path;
  std::string ca_bundle_path;
  const ServiceReference* service = nullptr;  // nullptr when URL-backed / local
  const std::string* ca_bundle = nullptr;
  const Webhook* webhook = nullptr;  // admission webhooks only
  bool insecure_skip_tls_verify = false;   // APIService only
  // A CRD that serves a single version never converts: the API server never
  // calls its conversion webhook, whatever the client config says.
  bool never_called = false;
};

// Every client configuration the API server will use for `o`: each webhook
// of a webhook configuration, the conversion webhook of a CRD whose strategy
// is Webhook, the service of a non-local APIService.
inline std::vector<ClientConfigView> client_configs(const Object& o) {
  std::vector<ClientConfigView> out;
  if (const WebhookConfiguration* wc = o.webhook_configuration()) {
    for (const Webhook& w : wc->webhooks) {
      if (!w.client_config.present) continue;
      ClientConfigView v;
      v.key = w.name;
      v.label = "webhook \"" + w.name + "\"";
      v.base_path = "webhooks[" + std::to_string(w.index) + "].clientConfig";
      v.service_path = v.base_path + ".service";
      v.ca_bundle_path = v.base_path + ".caBundle";
      if (w.client_config.service.present) v.service = &w.client_config.service;
      v.ca_bundle = &w.client_config.ca_bundle;
      v.webhook = &w;
      out.push_back(std::move(v));
    }
  } else if (const CustomResourceDefinition* crd = o.crd()) {
    // A leftover client config under strategy None is never called.
    if (crd->conversion_strategy == "Webhook" && crd->conversion.present) {
      ClientConfigView v;
      v.label = "conversion webhook";
      v.base_path = crd->conversion_path;
      v.service_path = v.base_path + ".service";
      v.ca_bundle_path = v.base_path + ".caBundle";
      if (crd->conversion.service.present) v.service = &crd->conversion.service;
      v.ca_bundle = &crd->conversion.ca_bundle;
      v.never_called = crd->served_versions.size() == 1;
      out.push_back(std::move(v));
    }
  } else if (const APIService* api = o.api_service()) {
    // Without spec.service the API server serves the group itself (local).
    if (api->service.present) {
      ClientConfigView v;
      v.label = "APIService";
      v.base_path = "spec";
      v.service_path = "spec.service";
      v.ca_bundle_path = "spec.caBundle";
      v.service = &api->service;
      v.ca_bundle = &api->ca_bundle;
      v.insecure_skip_tls_verify = api->insecure_skip_tls_verify;
      out.push_back(std::move(v));
    }
  }
  return out;
}

// "<ns>/<name>" of a referenced Service, for messages.
inline std::string service_id(const ServiceReference& s) { return s.ns + "/" + s.name; }

// The name the API server puts in SNI and verifies for a service-backed call.
// An unrendered manifest may lack the namespace: say so rather than "svc..svc".
inline std::string service_dns_name(const ServiceReference& s) {
  return s.name + "." + (s.ns.empty() ? std::string("<namespace>") : s.ns) + ".svc";
}

}  // namespace wirecheck::core
