// ReviewRequest: the part of an AdmissionReview (admission.k8s.io/v1 or
// v1beta1) the webhook needs, read straight from a simdjson DOM. The body is
// parsed once; `object` / `oldObject` stay DOM elements so that only objects
// some rule inspects are decoded into the object model, and nothing is copied.
//
// Lifetime: every view and element points into the parser that parsed the
// body. They are valid until that parser parses again (the server uses one
// parser per thread and finishes a request before reading the next).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "wirecheck/severity.hpp"

namespace wirecheck::admission {

inline constexpr std::string_view kAdmissionV1 = "admission.k8s.io/v1";
inline constexpr std::string_view kAdmissionV1beta1 = "admission.k8s.io/v1beta1";
inline constexpr std::string_view kAdmissionReviewKind = "AdmissionReview";

struct GroupVersionKind {
  std::string_view group;
  std::string_view version;
  std::string_view kind;
};

struct ReviewRequest {
  std::string_view api_version;  // of the AdmissionReview; echoed in the response
  std::string_view uid;          // request.uid; echoed in the response
  GroupVersionKind kind;         // request.kind
  std::string_view name;
  std::string_view ns;
  std::string_view operation_text;
  policy::Operation operation = policy::Operation::kCreate;
  std::string_view username;
  bool dry_run = false;
  bool has_object = false;      // false for DELETE (`object: null`)
  bool has_old_object = false;  // false for CREATE (`oldObject: null`)
  simdjson::dom::element object;
  simdjson::dom::element old_object;
};

// Parses an AdmissionReview. `data` must be followed by at least
// SIMDJSON_PADDING readable bytes. Returns true on success. On failure
// `error` says why, and `out.api_version` / `out.uid` hold whatever could be
// read before the failure (so the error response can still echo them).
bool parse_review(simdjson::dom::parser& parser, const char* data, std::size_t size,
                  ReviewRequest& out, std::string& error);

}  // namespace wirecheck::admission
