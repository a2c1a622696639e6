// The decoder is total: any JSON object decodes, wrong types leave defaults,
// int-or-string fields keep what was written.
#include <catch2/catch.hpp>

#include "wirecheck/decode.hpp"

#include "core/decode_dom.hpp"

using namespace wirecheck::core;

TEST_CASE("decode: a Deployment's template, containers, ports, env and probes") {
  const auto r = decode_object(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "demo", "labels": {"app": "web"},
                 "annotations": {"ignore.wirecheck.dev/x": "because"}},
    "spec": {"template": {"metadata": {"labels": {"app": "web", "tier": "api"}},
      "spec": {"hostNetwork": true,
        "initContainers": [{"name": "init", "image": "busybox"},
                           {"name": "proxy", "restartPolicy": "Always"}],
        "containers": [
          {"name": "app", "args": ["--listen=127.0.0.1:8080", 9090], "command": ["/app"],
           "env": [{"name": "PORT", "value": "8080"}, {"name": "SECRET", "valueFrom": {"secretKeyRef": {}}}],
           "ports": [{"name": "http", "containerPort": 8080}, {"containerPort": 9090, "protocol": "UDP"}],
           "readinessProbe": {"httpGet": {"port": "http", "path": "/readyz", "scheme": "HTTPS"}},
           "livenessProbe": {"tcpSocket": {"port": 8080, "host": "127.0.0.1"}},
           "startupProbe": {"grpc": {"port": 9090}}},
          {"name": "sidecar", "readinessProbe": {"exec": {"command": ["true"]}}}]}}}})");
  REQUIRE(r.ok());
  const Object& o = r.value();
  CHECK(o.kind == Kind::kDeployment);
  CHECK(o.group() == "apps");
  CHECK(o.ref.ns == "demo");
  CHECK(*o.annotation("ignore.wirecheck.dev/x") == "because");
  const PodTemplate* t = o.pod_template();
  REQUIRE(t != nullptr);
  CHECK(t->spec_path == "spec.template.spec");
  CHECK(t->host_network);
  CHECK(*find_value(t->labels, "tier") == "api");
  REQUIRE(t->containers.size() == 2);
  REQUIRE(t->init_containers.size() == 2);
  CHECK_FALSE(t->init_containers[0].sidecar);
  CHECK(t->init_containers[1].sidecar);
  CHECK(t->init_containers[1].init);
  CHECK(t->container_path(t->init_containers[0]) == "spec.template.spec.initContainers[0]");
  const Container& app = t->containers[0];
  CHECK(app.args == StringList{"--listen=127.0.0.1:8080", "9090"});
  REQUIRE(app.env.size() == 2);
  CHECK(app.env[0].has_value);
  CHECK_FALSE(app.env[1].has_value);
  CHECK(app.port_named("http")->container_port == 8080);
  CHECK(app.port_numbered(9090)->protocol == "UDP");
  CHECK(app.readiness.handler == Probe::Handler::kHttpGet);
  CHECK_FALSE(app.readiness.port.is_int);
  CHECK(app.readiness.port.str == "http");
  CHECK(app.liveness.handler == Probe::Handler::kTcpSocket);
  CHECK(app.liveness.port.num == 8080);
  CHECK(app.liveness.host == "127.0.0.1");
  CHECK(app.startup.handler == Probe::Handler::kGrpc);
  CHECK(t->containers[1].readiness.handler == Probe::Handler::kExec);
  CHECK(t->container_path(t->containers[1]) == "spec.template.spec.containers[1]");
}

TEST_CASE("decode: CronJob and Pod templates sit at their own paths") {
  auto cron = decode_object(R"({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c"},
    "spec":{"jobTemplate":{"spec":{"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"x"}]}}}}}})");
  REQUIRE(cron.ok());
  CHECK(cron->pod_template()->spec_path == "spec.jobTemplate.spec.template.spec");
  CHECK(cron->pod_template()->containers.size() == 1);
  auto pod = decode_object(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"p"}},
    "spec":{"containers":[{"name":"x"}]}})");
  REQUIRE(pod.ok());
  CHECK(pod->pod_template()->spec_path == "spec");
  CHECK(*find_value(pod->pod_template()->labels, "app") == "p");
}

TEST_CASE("decode: wrong types and missing fields leave defaults instead of failing") {
  const auto r = decode_object(R"({"apiVersion": 7, "kind": "Service", "metadata": "nope",
    "spec": {"selector": ["x"], "ports": [{"port": "eighty", "targetPort": {"a": 1}}, 12, null]}})");
  REQUIRE(r.ok());
  CHECK(r->ref.api_version.empty());
  CHECK(r->name().empty());
  REQUIRE(r->service() != nullptr);
  CHECK_FALSE(r->service()->has_selector);

  const auto s = decode_object(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": 5},
    "spec": {"selector": {"app": 1}, "ports": [{"port": "eighty", "targetPort": {"a": 1}}, 12, null]}})");
  REQUIRE(s.ok());
  const Service* svc = s->service();
  REQUIRE(svc != nullptr);
  CHECK(s->name().empty());
  CHECK_FALSE(svc->has_selector);  // non-string selector values are ignored
  REQUIRE(svc->ports.size() == 3);
  CHECK(svc->ports[0].port == 0);
  CHECK_FALSE(svc->ports[0].target_port.set);
  CHECK(svc->ports[2].index == 2);
}

TEST_CASE("decode: Service targetPort keeps int-or-string as written") {
  const auto s = decode_object(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"m","namespace":"n"},
    "spec":{"selector":{"app":"a"},"ports":[{"name":"https","port":8443,"targetPort":"https"},
                                            {"port":80,"targetPort":8080},{"port":9090}]}})");
  REQUIRE(s.ok());
  const Service* svc = s->service();
  CHECK(svc->has_selector);
  CHECK(svc->ports[0].target_port.str == "https");
  CHECK(svc->ports[1].target_port.is_int);
  CHECK(svc->ports[1].target_port.to_string() == "8080");
  CHECK_FALSE(svc->ports[2].target_port.set);
  CHECK(svc->port_named("https") == &svc->ports[0]);
}

TEST_CASE("decode: ServiceMonitor endpoints with current and deprecated TLS and auth fields") {
  const auto m = decode_object(R"({"apiVersion":"monitoring.coreos.com/v1","kind":"ServiceMonitor",
    "metadata":{"name":"sm","namespace":"mon"},
    "spec":{"selector":{"matchLabels":{"app":"a"},"matchExpressions":[{"key":"tier","operator":"In","values":["x"]}]},
      "namespaceSelector":{"matchNames":["a","b"]},
      "endpoints":[{"port":"https","scheme":"HTTPS","tlsConfig":{"serverName":"s.n.svc","insecureSkipVerify":true,
          "ca":{"secret":{"name":"ca-sec","key":"ca.crt"}},"cert":{"configMap":{"name":"cm","key":"c"}},
          "keySecret":{"name":"key-sec","key":"k"}}},
        {"bearerTokenFile":"/var/run/token","tlsConfig":{"caFile":"/etc/ca.crt"}},
        {"basicAuth":{}}]}})");
  REQUIRE(m.ok());
  const Monitor* mon = m->monitor();
  REQUIRE(mon != nullptr);
  CHECK_FALSE(mon->pod_monitor);
  CHECK(mon->endpoints_path() == "spec.endpoints");
  CHECK(mon->target_namespaces("mon") == std::vector<std::string>{"a", "b"});
  REQUIRE(mon->endpoints.size() == 3);
  const TlsConfig& tls = mon->endpoints[0].tls;
  CHECK(tls.present);
  CHECK(tls.server_name == "s.n.svc");
  CHECK(tls.insecure_skip_verify);
  CHECK(tls.ca.secret_name == "ca-sec");
  CHECK(tls.cert.configmap_name == "cm");
  CHECK(tls.key_secret_name == "key-sec");
  CHECK(tls.has_tls_material());
  CHECK_FALSE(mon->endpoints[0].has_auth);
  CHECK(mon->endpoints[1].has_auth);
  CHECK(mon->endpoints[1].tls.ca_file == "/etc/ca.crt");
  CHECK(mon->endpoints[1].tls.has_tls_material());
  CHECK(mon->endpoints[2].has_auth);
  CHECK(mon->endpoints[2].index == 2);
  CHECK(mon->selector.matches({{"app", "a"}, {"tier", "x"}}));
  CHECK_FALSE(mon->selector.matches({{"app", "a"}, {"tier", "y"}}));
}

TEST_CASE("decode: PodMonitor uses podMetricsEndpoints and namespaceSelector any") {
  const auto m = decode_object(R"({"apiVersion":"monitoring.coreos.com/v1","kind":"PodMonitor","metadata":{"name":"pm","namespace":"x"},
    "spec":{"namespaceSelector":{"any":true},"selector":{},"podMetricsEndpoints":[{"portNumber":9090},{"targetPort":8080}]}})");
  REQUIRE(m.ok());
  const Monitor* mon = m->monitor();
  CHECK(mon->pod_monitor);
  CHECK(mon->namespace_any);
  CHECK(mon->target_namespaces("x").empty());
  CHECK(mon->endpoints[0].has_port_number);
  CHECK(mon->endpoints[0].port_number == 9090);
  CHECK(mon->endpoints[1].target_port.num == 8080);
  CHECK(mon->selector.present);
  CHECK(mon->selector.matches({{"any", "thing"}}));  // empty selector matches everything
}

TEST_CASE("decode: webhook configurations, CRD conversion (v1 and v1beta1), APIService, Certificate") {
  const auto w = decode_object(R"({"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration",
    "metadata":{"name":"v","annotations":{"cert-manager.io/inject-ca-from":"ns/cert"}},
    "webhooks":[{"name":"a.example.com","failurePolicy":"Ignore","timeoutSeconds":30,
      "clientConfig":{"service":{"name":"svc","namespace":"ns","path":"/validate"},"caBundle":"Zm9v"},
      "namespaceSelector":{"matchExpressions":[{"key":"k","operator":"NotIn","values":["kube-system"]}]},
      "rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"*"}]},
     {"name":"b.example.com","clientConfig":{"url":"https://x"}}]})");
  REQUIRE(w.ok());
  const auto* cfg = w->webhook_configuration();
  REQUIRE(cfg != nullptr);
  REQUIRE(cfg->webhooks.size() == 2);
  const Webhook& a = cfg->webhooks[0];
  CHECK(a.client_config.service.present);
  CHECK(a.client_config.service.port == 443);
  CHECK(a.client_config.ca_bundle == "Zm9v");
  CHECK(*a.timeout_seconds == 30);
  CHECK_FALSE(a.fails_closed());
  CHECK(a.rules[0].resources == std::vector<std::string>{"pods"});
  CHECK(a.namespace_selector.match_expressions[0].op == "NotIn");
  CHECK(cfg->webhooks[1].fails_closed());
  CHECK_FALSE(cfg->webhooks[1].client_config.service.present);

  const auto v1 = decode_object(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"w.e"},
    "spec":{"group":"e","names":{"plural":"w"},"conversion":{"strategy":"Webhook","webhook":{"clientConfig":{"service":{"name":"s","namespace":"n","port":9443}}}}}})");
  REQUIRE(v1.ok());
  CHECK(v1->crd()->conversion_path == "spec.conversion.webhook.clientConfig");
  CHECK(v1->crd()->conversion.service.port == 9443);
  const auto v1beta1 = decode_object(R"({"apiVersion":"apiextensions.k8s.io/v1beta1","kind":"CustomResourceDefinition","metadata":{"name":"w.e"},
    "spec":{"conversion":{"strategy":"Webhook","webhookClientConfig":{"service":{"name":"s","namespace":"n"}}}}})");
  REQUIRE(v1beta1.ok());
  CHECK(v1beta1->crd()->conversion_path == "spec.conversion.webhookClientConfig");
  CHECK(v1beta1->crd()->conversion.service.name == "s");

  const auto api = decode_object(R"({"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1.x"},
    "spec":{"group":"x","version":"v1","service":{"name":"s","namespace":"n"},"insecureSkipTLSVerify":true}})");
  REQUIRE(api.ok());
  CHECK(api->api_service()->service.present);
  CHECK(api->api_service()->insecure_skip_tls_verify);
  CHECK(api->ns().empty());

  const auto cert = decode_object(R"({"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"name":"c","namespace":"n"},
    "spec":{"secretName":"tls","dnsNames":["s.n.svc","s.n.svc.cluster.local"]}})");
  REQUIRE(cert.ok());
  CHECK(cert->certificate()->secret_name == "tls");
  CHECK(cert->certificate()->dns_names.size() == 2);
  // A Certificate outside cert-manager.io is not ours.
  CHECK(decode_object(R"({"apiVersion":"example.com/v1","kind":"Certificate"})")->kind == Kind::kOther);
}

TEST_CASE("decode: text that is not a JSON object is an error, never a crash") {
  CHECK_FALSE(decode_object("").ok());
  CHECK_FALSE(decode_object("{").ok());
  CHECK_FALSE(decode_object("[1,2]").ok());
  CHECK_FALSE(decode_object("\"str\"").ok());
  CHECK(decode_object("{").error().find("invalid JSON") != std::string::npos);
  CHECK(decode_object("{}").ok());
}

TEST_CASE("decode: label selectors follow Kubernetes semantics for every operator") {
  LabelSelector s;
  s.present = true;
  s.match_expressions = {{"env", "In", {"prod", "stage"}}, {"skip", "DoesNotExist", {}},
                         {"team", "Exists", {}}, {"tier", "NotIn", {"db"}}};
  CHECK(s.matches({{"env", "prod"}, {"team", "a"}}));
  CHECK(s.matches({{"env", "stage"}, {"team", "a"}, {"tier", "web"}}));
  CHECK_FALSE(s.matches({{"env", "dev"}, {"team", "a"}}));
  CHECK_FALSE(s.matches({{"env", "prod"}, {"team", "a"}, {"skip", ""}}));
  CHECK_FALSE(s.matches({{"env", "prod"}}));
  CHECK_FALSE(s.matches({{"env", "prod"}, {"team", "a"}, {"tier", "db"}}));
  LabelSelector bad;
  bad.match_expressions = {{"k", "Matches", {}}};
  CHECK_FALSE(bad.matches({{"k", "v"}}));
}

TEST_CASE("decode: a thread's parser gives back the buffers a large document grew, small ones stay warm") {
  std::string big = R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","annotations":{"a":")";
  big.append(2u << 20, 'x');
  big += R"("}}})";
  REQUIRE(decode_object(big).ok());
  CHECK(thread_parser().capacity() >= big.size());
  release_large_thread_parser(1u << 20);
  CHECK(thread_parser().capacity() == 0);
  REQUIRE(decode_object(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"small"}})").ok());
  const std::size_t warm = thread_parser().capacity();
  CHECK(warm > 0);
  release_large_thread_parser(1u << 20);
  CHECK(thread_parser().capacity() == warm);
  // Decoding still works after a release.
  CHECK(decode_object(big)->name() == "s");
}

TEST_CASE("decode: numbers outside int64 (1e308, -1e308, 2^63) are not integers, never a cast") {
  // Casting such a double to int64 is undefined behaviour (UBSan:
  // float-cast-overflow); they are simply not valid ports.
  const auto r = decode_object(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
    "spec": {"ports": [{"port": 1e308, "targetPort": -1e308}, {"port": 9223372036854775808.0},
                       {"port": 8080.0, "targetPort": 1.5}]}})");
  REQUIRE(r.ok());
  const Service* s = r.value().service();
  REQUIRE(s != nullptr);
  REQUIRE(s->ports.size() == 3);
  CHECK(s->ports[0].port == 0);
  CHECK_FALSE(s->ports[0].target_port.set);
  CHECK(s->ports[1].port == 0);
  CHECK(s->ports[2].port == 8080);
  CHECK_FALSE(s->ports[2].target_port.set);
}

namespace {

std::string deployment_with_containers(std::size_t n, const std::string& container) {
  std::string list;
  for (std::size_t i = 0; i < n; ++i) list += (i > 0 ? "," : "") + container;
  return R"({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
    "spec": {"template": {"spec": {"containers": [)" + list + "]}}}}";
}

}  // namespace

TEST_CASE("decode: an object past a list cap is marked over its limits, not expanded") {
  const auto within = decode_object(deployment_with_containers(kDecodeLimits.containers, "{}"));
  REQUIRE(within.ok());
  CHECK_FALSE(within.value().over_limit);
  CHECK(within.value().pod_template()->containers.size() == kDecodeLimits.containers);

  const auto over = decode_object(deployment_with_containers(kDecodeLimits.containers + 1, "{}"));
  REQUIRE(over.ok());
  const OverLimit& limit = over.value().over_limit;
  REQUIRE(limit);
  CHECK(limit.what == "containers");
  CHECK(limit.count == kDecodeLimits.containers + 1);
  CHECK(limit.limit == kDecodeLimits.containers);
  CHECK(over.value().pod_template()->containers.empty());  // the list was skipped
  CHECK(over.value().name() == "d");                       // but the object is still named
}

TEST_CASE("decode: caps count per object across containers, and the next object starts afresh") {
  // 11 containers x 1,000 env entries: each list is small, the object is not.
  std::string env = R"({"name": "c", "env": [)";
  for (int i = 0; i < 1000; ++i) env += std::string(i > 0 ? "," : "") + R"({"name": "V"})";
  env += "]}";
  const auto r = decode_object(deployment_with_containers(11, env));
  REQUIRE(r.ok());
  REQUIRE(r.value().over_limit);
  CHECK(r.value().over_limit.what == "env entries");
  CHECK(r.value().over_limit.count == 11000);

  const auto next = decode_object(deployment_with_containers(2, env));
  REQUIRE(next.ok());
  CHECK_FALSE(next.value().over_limit);
  CHECK(next.value().pod_template()->containers[1].env.size() == 1000);
}

TEST_CASE("decode: every list counts toward the entry cap (labels, webhook rules' strings)") {
  std::string labels;
  for (std::size_t i = 0; i <= kDecodeLimits.entries; ++i) {
    labels += (i > 0 ? "," : "") + std::string("\"k") + std::to_string(i) + "\": \"v\"";
  }
  const auto r = decode_object(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "labels": {)" +
                               labels + "}}}");
  REQUIRE(r.ok());
  REQUIRE(r.value().over_limit);
  CHECK(r.value().over_limit.what == "list entries");
  CHECK(r.value().meta.labels.empty());
}

TEST_CASE("decode: RBAC roles, bindings and the pod's service account") {
  const auto role = decode_object(R"({
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "patcher"},
    "rules": [{"apiGroups": ["admissionregistration.k8s.io"],
               "resources": ["validatingwebhookconfigurations"],
               "verbs": ["get", "update", "patch"], "resourceNames": ["hooks"]},
              {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}, 7]})");
  REQUIRE(role.ok());
  CHECK(role.value().kind == Kind::kClusterRole);
  const Role* r = role.value().role();
  REQUIRE(r != nullptr);
  REQUIRE(r->rules.size() == 2);
  CHECK(r->rules[0].resources == std::vector<std::string>{"validatingwebhookconfigurations"});
  CHECK(r->rules[0].verbs.size() == 3);
  CHECK(r->rules[0].resource_names == std::vector<std::string>{"hooks"});
  CHECK(r->rules[1].non_resource_urls == std::vector<std::string>{"/metrics"});

  const auto binding = decode_object(R"({
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
    "metadata": {"name": "b", "namespace": "ops"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "patcher"},
    "subjects": [{"kind": "ServiceAccount", "name": "certgen", "namespace": "ops"},
                 {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "admins"}]})");
  REQUIRE(binding.ok());
  CHECK(binding.value().kind == Kind::kRoleBinding);
  const RoleBinding* b = binding.value().role_binding();
  REQUIRE(b != nullptr);
  CHECK(b->role_ref.kind == "ClusterRole");
  CHECK(b->role_ref.name == "patcher");
  REQUIRE(b->subjects.size() == 2);
  CHECK(b->subjects[0].kind == "ServiceAccount");
  CHECK(b->subjects[0].ns == "ops");
  CHECK(b->subjects[1].api_group == "rbac.authorization.k8s.io");
  CHECK(decode_object(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding"})")
            .value()
            .kind == Kind::kClusterRoleBinding);
  CHECK(decode_object(R"({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role"})").value().kind ==
        Kind::kRole);

  const auto job = decode_object(R"({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
    "spec": {"template": {"spec": {"serviceAccountName": "certgen", "containers": []}}}})");
  CHECK(job.value().pod_template()->service_account_name == "certgen");
  const auto legacy = decode_object(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
    "spec": {"serviceAccount": "old", "containers": []}})");
  CHECK(legacy.value().pod_template()->service_account_name == "old");
}
