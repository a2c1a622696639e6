// The typed object model. Every Kubernetes object wirecheck looks at is
// decoded once, at the edge (decode.hpp), into these small structs holding only
// what the rules use. Rules never see JSON. Decoding is total: a missing field
// or a field of the wrong type leaves the default value here (empty string,
// empty list, `present == false`), it never throws.
//
// Field paths: every struct that sits in a list keeps enough (its index, its
// name, the path prefix of its parent) for a rule to build the JSON path of
// the field it reports, e.g.
// `spec.template.spec.containers[1].readinessProbe.httpGet.port`.
//
// Objects are immutable after decoding and safe to share between threads.
// The cluster cache stores them, so they stay compact: no raw JSON is kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "wirecheck/compact_string.hpp"
#include "wirecheck/string_list.hpp"
#include "wirecheck/string_map.hpp"

namespace wirecheck::core {

// Kinds wirecheck understands. Everything else decodes as kOther (still
// counted, never checked).
enum class Kind : std::uint8_t {
  kOther,
  kPod,
  kDeployment,
  kStatefulSet,
  kDaemonSet,
  kReplicaSet,
  kJob,
  kCronJob,
  kService,
  kServiceMonitor,
  kPodMonitor,
  kValidatingWebhookConfiguration,
  kMutatingWebhookConfiguration,
  kCustomResourceDefinition,
  kAPIService,
  kCertificate,
  kRole,
  kClusterRole,
  kRoleBinding,
  kNamespace,         // labels only: what namespaceSelectors match
  kIngress,           // networking.k8s.io Ingress: Service backends
  kHTTPRoute,         // gateway.networking.k8s.io HTTPRoute / GRPCRoute: Service backends
  kPrometheus,        // monitoring.coreos.com Prometheus
  kPrometheusAgent,   // monitoring.coreos.com PrometheusAgent
  kProbe,             // monitoring.coreos.com Probe: labels, TLS and credentials
  kConfigMap,         // key names only (what monitors reference)
  kSecret,            // key names only, never values
  kClusterRoleBinding,  // keep last: kKindCount is derived from it
};

// Number of Kind values (kOther included): size arrays indexed by Kind with
// this, so adding a kind cannot overflow them.
inline constexpr std::size_t kKindCount = static_cast<std::size_t>(Kind::kClusterRoleBinding) + 1;

// "Deployment", "ServiceMonitor", ... ("" for kOther).
std::string_view kind_name(Kind kind);
// Kind from the API group ("" for core) and the kind string. Group is needed
// because e.g. `Certificate` exists outside cert-manager.io.
Kind kind_from(std::string_view group, std::string_view kind);
bool is_workload(Kind kind);
// Whether objects of `kind` live in a namespace (false for the cluster-scoped
// kinds and for kOther, whose scope is unknown).
bool is_namespaced(Kind kind);
// Every kind that carries a pod template (safe to call during static
// initialisation, where rules are registered).
const std::vector<Kind>& workload_kinds();

// An object's identity as written. Object holds it once: name() and ns()
// read it.
struct ObjectRef {
  CompactString api_version;
  CompactString kind;
  CompactString ns;  // empty for cluster-scoped objects
  CompactString name;  // metadata.name, else metadata.generateName
};

struct Metadata {
  StringMap labels;
  StringMap annotations;
};

// An int-or-string field (ports, targetPort). `set == false` when absent.
struct IntOrString {
  bool set = false;
  bool is_int = false;
  std::int64_t num = 0;
  CompactString str;

  // "8080" or "https" or "" when unset.
  std::string to_string() const;
};

struct LabelSelectorRequirement {
  CompactString key;
  CompactString op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};

// metav1.LabelSelector. `present == false` when the field is absent.
// An empty present selector matches everything (Kubernetes semantics).
struct LabelSelector {
  bool present = false;
  StringMap match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;

  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
  // Unknown operators match nothing.
  bool matches(const StringMap& labels) const;
};

// ---------------------------------------------------------------- workloads

struct ContainerPort {
  CompactString name;
  std::int64_t container_port = 0;
  CompactString protocol;  // empty means TCP
};

// Not compacted: the cluster cache drops a container's env unless its command
// line references it.
struct EnvVar {
  std::string name;
  std::string value;
  bool has_value = false;  // false for valueFrom or absent value
};

struct Probe {
  enum class Handler : std::uint8_t { kNone, kHttpGet, kTcpSocket, kGrpc, kExec };
  bool present = false;
  Handler handler = Handler::kNone;
  IntOrString port;   // httpGet/tcpSocket port, grpc port (always int)
  CompactString host;   // httpGet/tcpSocket host ("" = pod IP)

  // "httpGet" / "tcpSocket" / "grpc" / "exec" / "".
  std::string_view handler_name() const;
};

struct Container {
  CompactString name;
  StringList command;
  StringList args;
  std::vector<EnvVar> env;
  std::vector<ContainerPort> ports;
  Probe liveness;
  Probe readiness;
  Probe startup;
  bool init = false;   // from initContainers
  // An init container with restartPolicy: Always (a native sidecar): it runs
  // beside the regular containers and its named ports serve Services.
  bool sidecar = false;
  std::size_t index = 0;  // position within containers[] / initContainers[]

  // "containers[1]" or "initContainers[0]" (relative to the pod spec path).
  std::string path_segment() const;
  const ContainerPort* port_named(std::string_view name) const;
  const ContainerPort* port_numbered(std::int64_t number) const;
  // Whether `command` or `args` reference a variable (`$(NAME)`): only then
  // does `env` say anything about the process (the kubelet expands it into
  // the command line; rules read env for nothing else).
  bool command_references_env() const;
};

// A pod template wherever it sits: Pod (spec), Deployment & co
// (spec.template.spec), CronJob (spec.jobTemplate.spec.template.spec).
struct PodTemplate {
  StringMap labels;             // template metadata labels (Pod: metadata labels)
  std::vector<Container> containers;       // regular containers
  std::vector<Container> init_containers;  // initContainers
  bool host_network = false;
  // spec.serviceAccountName, else the deprecated spec.serviceAccount; ""
  // when unset (the pod then runs as the namespace's `default` account).
  CompactString service_account_name;
  std::string_view spec_path;  // "spec.template.spec", "spec", ... (static text)

  // "<spec_path>.containers[1]".
  std::string container_path(const Container& c) const;
};

// --------------------------------------------------------------- services

struct ServicePort {
  CompactString name;
  std::int64_t port = 0;
  IntOrString target_port;  // unset means "same as port"
  CompactString protocol;
  std::size_t index = 0;
};

struct Service {
  CompactString type;         // ClusterIP, NodePort, ExternalName, ...
  bool has_selector = false;
  bool headless = false;    // spec.clusterIP: None (pod DNS records, no virtual IP)
  StringMap selector;       // spec.selector (equality only)
  std::vector<ServicePort> ports;

  const ServicePort* port_named(std::string_view name) const;
};

// ------------------------------------------------------------- monitoring

// SecretKeySelector / ConfigMapKeySelector pair used by prometheus-operator
// for `tlsConfig.ca` and `tlsConfig.cert` (`{secret: {...}}` or
// `{configMap: {...}}`).
struct SecretOrConfigMap {
  CompactString secret_name;
  CompactString secret_key;
  CompactString configmap_name;
  CompactString configmap_key;
  bool empty() const { return secret_name.empty() && configmap_name.empty(); }
};

struct TlsConfig {
  bool present = false;
  CompactString server_name;
  bool insecure_skip_verify = false;
  SecretOrConfigMap ca;
  SecretOrConfigMap cert;
  CompactString key_secret_name;  // keySecret.name
  CompactString key_secret_key;   // keySecret.key
  // Deprecated file-based fields.
  CompactString ca_file;
  CompactString cert_file;
  CompactString key_file;

  // True when CA or client-certificate material is configured in any shape.
  bool has_tls_material() const;
};

// A ConfigMap or Secret key a scrape's credentials come from
// (authorization.credentials, bearerTokenSecret, basicAuth, oauth2).
struct KeyReference {
  bool config_map = false;      // false: a Secret
  CompactString name;
  CompactString key;
  std::string_view field;       // "authorization.credentials", ... (static text)
};

struct MonitorEndpoint {
  CompactString port;          // named port
  IntOrString target_port;   // deprecated targetPort
  bool has_port_number = false;  // PodMonitor portNumber
  std::int64_t port_number = 0;
  CompactString scheme;        // as written ("" when unset)
  CompactString path;
  TlsConfig tls;
  // Any of bearerTokenFile, bearerTokenSecret, authorization, basicAuth, oauth2.
  bool has_auth = false;
  // The scrape carries a bearer token (authorization of type Bearer or
  // unset, bearerTokenSecret, bearerTokenFile): what kube-rbac-proxy and
  // controller-runtime's metrics filter authenticate.
  bool sends_token = false;
  CompactString bearer_token_file;
  std::vector<KeyReference> credential_refs;
  // A relabeling writes __address__: the scrape address (and port) comes
  // from relabeling on purpose.
  bool relabels_address = false;
  std::size_t index = 0;
};

struct Monitor {
  bool pod_monitor = false;
  LabelSelector selector;
  bool namespace_any = false;             // namespaceSelector.any
  std::vector<std::string> namespace_names;  // namespaceSelector.matchNames
  std::vector<MonitorEndpoint> endpoints;  // endpoints / podMetricsEndpoints

  // "spec.endpoints" or "spec.podMetricsEndpoints".
  std::string_view endpoints_path() const;
  // Namespaces the monitor looks in; empty with namespace_any.
  std::vector<std::string> target_namespaces(std::string_view own_ns) const;
};

// monitoring.coreos.com Probe: the scrape settings of its one implicit
// endpoint (at `spec`), for the TLS and credential checks.
struct ProbeSpec {
  MonitorEndpoint endpoint;
};

// ConfigMap and Secret: the names of their keys (data, binaryData,
// stringData), never a value.
struct DataKeys {
  std::vector<std::string> keys;
};

// --------------------------------------------------- webhooks & friends

struct ServiceReference {
  bool present = false;
  std::string ns;
  std::string name;
  std::string path;
  std::int64_t port = 443;  // API default
};

// admissionregistration / apiextensions WebhookClientConfig.
struct WebhookClientConfig {
  bool present = false;
  std::string url;
  ServiceReference service;
  std::string ca_bundle;  // base64 text as written; empty when absent
};

struct RuleWithOperations {
  std::vector<std::string> operations;
  std::vector<std::string> api_groups;
  std::vector<std::string> api_versions;
  std::vector<std::string> resources;
  std::string scope;  // "", "*", "Cluster", "Namespaced"
};

struct Webhook {
  std::string name;
  WebhookClientConfig client_config;
  std::string failure_policy;  // as written; "" = API default (Fail)
  std::optional<std::int64_t> timeout_seconds;
  LabelSelector namespace_selector;
  LabelSelector object_selector;
  std::vector<RuleWithOperations> rules;
  std::size_t match_conditions = 0;  // matchConditions entries (CEL, not evaluated)
  std::size_t index = 0;

  // failurePolicy Fail, explicit or defaulted.
  bool fails_closed() const { return failure_policy.empty() || failure_policy == "Fail"; }
};

struct WebhookConfiguration {
  bool mutating = false;
  std::vector<Webhook> webhooks;
};

struct CustomResourceDefinition {
  std::string group;
  std::string plural;
  std::string kind;   // spec.names.kind
  std::string scope;  // "Namespaced" (the API default) or "Cluster"
  // spec.versions[].name with served: true (v1beta1's spec.version counts).
  std::vector<std::string> served_versions;
  // A served version declares the status / scale subresource.
  bool status_subresource = false;
  bool scale_subresource = false;
  std::string conversion_strategy;  // "", "None", "Webhook"
  WebhookClientConfig conversion;   // present when a client config exists
  // "spec.conversion.webhook.clientConfig" (v1) or
  // "spec.conversion.webhookClientConfig" (v1beta1).
  std::string conversion_path;
};

struct APIService {
  std::string group;
  std::string version;
  ServiceReference service;  // absent = local APIService
  std::string ca_bundle;
  bool insecure_skip_tls_verify = false;
};

struct Certificate {
  CompactString secret_name;
  CompactString common_name;
  std::vector<std::string> dns_names;
};

// ------------------------------------------------------------------- RBAC

// rbac.authorization.k8s.io PolicyRule. Empty `resource_names` means every
// object of the resources.
struct PolicyRule {
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;  // "pods", "pods/status", "*"
  std::vector<std::string> verbs;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;
};

// Role and ClusterRole. Rules of an aggregated ClusterRole are filled in by
// the controller manager from the ClusterRoles its selectors match; only the
// rules written in the object are here, and `aggregation` holds the
// selectors (aggregationRule.clusterRoleSelectors) so that a view can
// resolve them.
struct Role {
  std::vector<PolicyRule> rules;
  std::vector<LabelSelector> aggregation;
};

struct RoleRef {
  CompactString api_group;
  CompactString kind;  // Role or ClusterRole
  CompactString name;
};

struct Subject {
  CompactString kind;  // ServiceAccount, User, Group
  CompactString name;
  CompactString ns;    // ServiceAccount only; "" means the binding's namespace (RoleBinding)
  CompactString api_group;
};

// RoleBinding and ClusterRoleBinding.
struct RoleBinding {
  RoleRef role_ref;
  std::vector<Subject> subjects;
};

// --------------------------------------------------- traffic into Services

// A Service an Ingress or Gateway route sends traffic to, and on which port.
struct BackendRef {
  CompactString service;
  CompactString ns;          // "" = the route's own namespace
  std::int64_t port_number = 0;
  CompactString port_name;   // Ingress `port.name`
  std::string path;          // JSON path of the backend, for messages
};

// Ingress (spec.defaultBackend, rules[].http.paths[].backend) and
// HTTPRoute / GRPCRoute (rules[].backendRefs with kind Service).
struct Routes {
  std::vector<BackendRef> backends;
};

// ------------------------------------------------ prometheus-operator

// Prometheus and PrometheusAgent: which monitors they select and as whom
// they scrape. A selector with `present == false` is nil (the operator:
// a nil monitor selector selects nothing, a nil namespace selector means
// the object's own namespace only).
struct PrometheusSpec {
  LabelSelector service_monitor_selector;
  LabelSelector service_monitor_namespace_selector;
  LabelSelector pod_monitor_selector;
  LabelSelector pod_monitor_namespace_selector;
  LabelSelector probe_selector;
  LabelSelector probe_namespace_selector;
  CompactString service_account_name;  // "" = prometheus-operator's default
  StringMap pod_labels;                // spec.podMetadata.labels
};

// ------------------------------------------------------ custom resources

// What a custom resource (any kind of a non-core API group we do not model)
// says about the pods an operator creates for it: the labels in
// spec.podMetadata.labels, spec.template.metadata.labels or spec.labels
// (merged, in that order).
struct CustomResource {
  StringMap pod_labels;
};

// Where an object came from in lint input (empty in admission).
struct SourceLocation {
  std::string file;
  int line = 0;
};

// A value most objects lack, held out of line so that it costs one pointer
// where it is absent; copied with its owner.
template <typename T>
class Rare {
 public:
  Rare() = default;
  Rare(const Rare& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  Rare& operator=(const Rare& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Rare(Rare&&) noexcept = default;
  Rare& operator=(Rare&&) noexcept = default;
  ~Rare() = default;

  const T* get() const { return value_.get(); }
  void set(T value) { value_ = std::make_unique<T>(std::move(value)); }

 private:
  std::unique_ptr<T> value_;
};

// A spec held out of line: CRDs and APIServices are few but their specs are
// the largest, and a variant is as big as its largest alternative, in every
// Object (the cluster cache holds tens of thousands). Immutable, so copies
// share it.
template <typename T>
class Boxed {
 public:
  Boxed(T value) : value_(std::make_shared<const T>(std::move(value))) {}  // NOLINT: implicit on purpose
  const T& get() const { return *value_; }

 private:
  std::shared_ptr<const T> value_;
};

// Decoding caps every list at limits far above any real object (decode.hpp);
// an object past one is marked here instead of being decoded in full, and
// the engine reports it as not checked rather than evaluating a partial view.
struct OverLimit {
  std::string_view what;     // "containers", "env entries", ... (static text); empty: within limits
  std::uint32_t count = 0;   // entries of that kind the object carries (at least)
  std::uint32_t limit = 0;

  explicit operator bool() const { return !what.empty(); }
};

using Spec = std::variant<std::monostate, PodTemplate, Service, Monitor, WebhookConfiguration,
                          Boxed<CustomResourceDefinition>, Boxed<APIService>, Certificate, Role, RoleBinding,
                          CustomResource, Routes, Boxed<PrometheusSpec>, Boxed<ProbeSpec>, DataKeys>;

// One decoded object. The cluster cache holds tens of thousands of them, so
// nothing is stored twice: the group, name and namespace are read from `ref`,
// and the lint-only source location is held out of line.
struct Object {
  Kind kind = Kind::kOther;
  // Annotated `helm.sh/hook: test` (or test-success / test-failure): a Pod
  // or Job that `helm test` runs; not part of the running install. Set at
  // decode time, so it survives the cluster cache dropping annotations.
  bool helm_test_hook = false;
  ObjectRef ref;        // apiVersion, kind, namespace, name as written
  Metadata meta;
  Spec spec;
  OverLimit over_limit;

  // Typed accessors; nullptr when the object is of another shape.
  const PodTemplate* pod_template() const { return std::get_if<PodTemplate>(&spec); }
  const Service* service() const { return std::get_if<Service>(&spec); }
  const Monitor* monitor() const { return std::get_if<Monitor>(&spec); }
  const WebhookConfiguration* webhook_configuration() const {
    return std::get_if<WebhookConfiguration>(&spec);
  }
  const CustomResourceDefinition* crd() const { return unboxed<CustomResourceDefinition>(); }
  const APIService* api_service() const { return unboxed<APIService>(); }
  const Certificate* certificate() const { return std::get_if<Certificate>(&spec); }
  // Role / ClusterRole.
  const Role* role() const { return std::get_if<Role>(&spec); }
  // RoleBinding / ClusterRoleBinding.
  const RoleBinding* role_binding() const { return std::get_if<RoleBinding>(&spec); }
  // Objects of kind kOther from a custom API group (a dot in the group).
  const CustomResource* custom_resource() const { return std::get_if<CustomResource>(&spec); }
  // Ingress / HTTPRoute.
  const Routes* routes() const { return std::get_if<Routes>(&spec); }
  // Prometheus / PrometheusAgent.
  const PrometheusSpec* prometheus() const { return unboxed<PrometheusSpec>(); }
  // Probe.
  const ProbeSpec* probe() const { return unboxed<ProbeSpec>(); }
  // ConfigMap / Secret.
  const DataKeys* data_keys() const { return std::get_if<DataKeys>(&spec); }

  const CompactString& name() const { return ref.name; }
  const CompactString& ns() const { return ref.ns; }
  // API group from apiVersion ("" for core).
  std::string_view group() const;
  // Where the object came from in lint input; no file and line 0 elsewhere.
  const SourceLocation& source() const;
  void set_source(SourceLocation where) { source_.set(std::move(where)); }
  FoundValue annotation(std::string_view key) const {
    return find_value(meta.annotations, key);
  }

 private:
  template <typename T>
  const T* unboxed() const {
    const auto* boxed = std::get_if<Boxed<T>>(&spec);
    return boxed != nullptr ? &boxed->get() : nullptr;
  }

  Rare<SourceLocation> source_;
};

}  // namespace wirecheck::core
