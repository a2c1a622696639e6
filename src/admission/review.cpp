#include "admission/review.hpp"

namespace wirecheck::admission {
namespace {

std::string_view string_or_empty(simdjson::dom::object obj, std::string_view key) {
  std::string_view value;
  if (obj.at_key(key).get_string().get(value) != simdjson::SUCCESS) return {};
  return value;
}

// Client text quoted in an error (answered and logged): enough to recognise it.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 64;
  if (text.size() <= kMax) return "'" + std::string(text) + "'";
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(text.substr(0, cut)) + "...' (" + std::to_string(text.size()) + " bytes)";
}

// A present, non-null JSON object.
bool object_field(simdjson::dom::object obj, std::string_view key, simdjson::dom::element& out) {
  simdjson::dom::element element;
  if (obj.at_key(key).get(element) != simdjson::SUCCESS) return false;
  if (element.type() != simdjson::dom::element_type::OBJECT) return false;
  out = element;
  return true;
}

}  // namespace

bool parse_review(simdjson::dom::parser& parser, const char* data, std::size_t size,
                  ReviewRequest& out, std::string& error) {
  simdjson::dom::element doc;
  if (auto err = parser.parse(data, size, false).get(doc); err != simdjson::SUCCESS) {
    error = std::string("body is not valid JSON: ") + simdjson::error_message(err);
    return false;
  }
  simdjson::dom::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) {
    error = "body is not a JSON object";
    return false;
  }
  const std::string_view api_version = string_or_empty(root, "apiVersion");
  if (api_version == kAdmissionV1 || api_version == kAdmissionV1beta1) out.api_version = api_version;
  simdjson::dom::object request;
  simdjson::dom::element request_element;
  // A default-constructed element has no tape: never touch it unless found.
  const bool has_request = object_field(root, "request", request_element);
  if (has_request) {
    request = request_element.get_object().value_unsafe();
    out.uid = string_or_empty(request, "uid");
  }
  if (out.api_version.empty()) {
    error = api_version.empty() ? "not an AdmissionReview: apiVersion missing"
                                : "unsupported AdmissionReview apiVersion " + quoted(api_version) +
                                      " (want admission.k8s.io/v1 or v1beta1)";
    return false;
  }
  if (string_or_empty(root, "kind") != kAdmissionReviewKind) {
    error = "not an AdmissionReview: kind must be AdmissionReview";
    return false;
  }
  if (!has_request) {
    error = "AdmissionReview has no request";
    return false;
  }
  if (out.uid.empty()) {
    error = "AdmissionReview request has no uid";
    return false;
  }
  out.operation_text = string_or_empty(request, "operation");
  const auto op = policy::parse_operation(out.operation_text);
  if (!op) {
    error = "AdmissionReview request has an unknown operation " + quoted(out.operation_text);
    return false;
  }
  out.operation = *op;
  simdjson::dom::element kind;
  if (object_field(request, "kind", kind)) {
    const auto kind_object = kind.get_object().value_unsafe();
    out.kind.group = string_or_empty(kind_object, "group");
    out.kind.version = string_or_empty(kind_object, "version");
    out.kind.kind = string_or_empty(kind_object, "kind");
  }
  if (out.kind.kind.empty()) {
    error = "AdmissionReview request has no kind";
    return false;
  }
  out.name = string_or_empty(request, "name");
  out.ns = string_or_empty(request, "namespace");
  simdjson::dom::element user;
  if (object_field(request, "userInfo", user)) {
    out.username = string_or_empty(user.get_object().value_unsafe(), "username");
  }
  bool dry_run = false;
  if (request.at_key("dryRun").get_bool().get(dry_run) == simdjson::SUCCESS) out.dry_run = dry_run;
  out.has_object = object_field(request, "object", out.object);
  out.has_old_object = object_field(request, "oldObject", out.old_object);
  return true;
}

}  // namespace wirecheck::admission
