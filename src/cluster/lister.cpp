#include "cluster/lister.hpp"

#include <algorithm>
#include <cctype>

#include "core/decode_dom.hpp"
#include "wirecheck/engine.hpp"

namespace wirecheck::cluster {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;

constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

// Whether the object is run by a controller whose own object is cached
// (a Deployment's ReplicaSets, a CronJob's Jobs, every controller's Pods):
// its template is already checked there, and caching it would multiply memory.
bool controlled_by_cached_workload(element item) {
  simdjson::dom::array owners;
  if (item["metadata"]["ownerReferences"].get_array().get(owners) != SUCCESS) return false;
  for (element owner : owners) {
    bool controller = false;
    if (owner["controller"].get_bool().get(controller) != SUCCESS || !controller) continue;
    const std::string_view api_version = string_at(owner, "apiVersion");
    const std::string_view group = api_version.substr(0, api_version.find('/') == std::string_view::npos
                                                             ? 0
                                                             : api_version.find('/'));
    if (core::is_workload(core::kind_from(group, string_at(owner, "kind")))) return true;
  }
  return false;
}

void shrink(core::Container& c) {
  // env only feeds `$(VAR)` expansion of the command line; without a
  // reference it is the largest part of a container and says nothing.
  if (!c.command_references_env()) c.env.clear();
  c.env.shrink_to_fit();
  c.ports.shrink_to_fit();
}

// What no rule reads of a cached object is dropped: annotations, except on
// the kinds whose CA-injection annotations rules look up (webhook
// configurations, CRDs, APIServices), and never the last-applied copy of the
// whole object; the env of containers whose command line references no
// variable. Exemption annotations stay on every kind: the audit reviews
// cached objects, and an exempted object must stay exempted there. Vectors
// lose their growth slack.
void compact(core::Object& object) {
  auto& annotations = object.meta.annotations;
  const bool keeps_annotations = object.kind == core::Kind::kValidatingWebhookConfiguration ||
                                 object.kind == core::Kind::kMutatingWebhookConfiguration ||
                                 object.kind == core::Kind::kCustomResourceDefinition ||
                                 object.kind == core::Kind::kAPIService;
  annotations.erase_if([keeps_annotations](const auto& kv) {
    if (kv.first == kLastApplied) return true;
    return !keeps_annotations && !kv.first.starts_with(policy::kExemptionPrefix);
  });
  if (auto* t = std::get_if<core::PodTemplate>(&object.spec)) {
    for (auto* list : {&t->containers, &t->init_containers}) {
      list->shrink_to_fit();
      for (core::Container& c : *list) shrink(c);
    }
  }
}

}  // namespace

std::string_view string_at(simdjson::simdjson_result<element> e, std::string_view key) {
  element parent;
  return e.get(parent) == SUCCESS ? string_at(parent, key) : std::string_view();
}

std::string_view string_at(element e, std::string_view key) {
  std::string_view s;
  return e[key].get_string().get(s) == SUCCESS ? s : std::string_view();
}

std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

core::Result<std::string> discover_version(ApiClient& client, const WatchedKind& kind,
                                           simdjson::dom::parser& parser) {
  for (std::string_view version : kind.versions) {
    auto res = client.get(group_version_path(kind.group, version));
    if (!res) return core::Result<std::string>::failure(res.error());
    if (res->status == 404) continue;
    if (res->status != 200) return core::Result<std::string>::failure("HTTP " + std::to_string(res->status));
    element doc;
    simdjson::dom::array resources;
    if (parser.parse(res->body).get(doc) != SUCCESS || doc["resources"].get_array().get(resources) != SUCCESS) {
      return core::Result<std::string>::failure("discovery answer is not an APIResourceList");
    }
    for (element r : resources) {
      if (string_at(r, "name") == kind.resource) return std::string(version);
    }
  }
  return std::string();
}

ObjectPtr cache_object(element item, core::Kind kind, std::string_view api_version) {
  if (controlled_by_cached_workload(item)) return nullptr;
  core::Object object = core::decode_list_item(item, api_version, core::kind_name(kind));
  if (object.kind != kind) return nullptr;
  compact(object);
  return std::make_shared<const core::Object>(std::move(object));
}

core::Result<KindList> list_kind(ApiClient& client, const WatchedKind& kind, const std::string& version,
                                 std::size_t page_size, simdjson::dom::parser& parser,
                                 const std::atomic<bool>* stopping) {
  using R = core::Result<KindList>;
  const std::string collection = group_version_path(kind.group, version) + "/" + std::string(kind.resource);
  const std::string api_version = kind.group.empty() ? version : std::string(kind.group) + "/" + version;
  KindList out;
  std::string cont;
  do {
    std::string path = collection + "?limit=" + std::to_string(page_size);
    if (!cont.empty()) path += "&continue=" + url_escape(cont);
    auto res = client.get(path);
    if (stopping != nullptr && *stopping) return R::failure("stopped");
    if (!res) return R::failure(res.error());
    if (res->status == 410 && !cont.empty()) {
      // The continue token expired between pages: start the list again.
      out.objects.clear();
      cont.clear();
      continue;
    }
    if (res->status != 200) {
      return R::failure("HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 200));
    }
    element doc;
    simdjson::dom::array items;
    if (parser.parse(res->body).get(doc) != SUCCESS || !doc.is_object()) {
      return R::failure("list answer is not JSON");
    }
    out.resource_version = std::string(string_at(doc["metadata"], "resourceVersion"));
    cont = std::string(string_at(doc["metadata"], "continue"));
    if (doc["items"].get_array().get(items) == SUCCESS) {
      for (element item : items) {
        if (ObjectPtr o = cache_object(item, kind.kind, api_version)) out.objects.push_back(std::move(o));
      }
    }
  } while (!cont.empty() && (stopping == nullptr || !*stopping));
  if (stopping != nullptr && *stopping) return R::failure("stopped");
  return out;
}

}  // namespace wirecheck::cluster
