// Response building: the AdmissionReview answer as the API server expects it
// (controller-runtime's shape). The response always uses the request's
// apiVersion and kind and echoes request.uid, on every path:
//   allowed: {"uid":..,"allowed":true,"status":{"metadata":{},"code":200}}
//   denied:  status {"metadata":{},"code":403,"reason":"Forbidden","message":..}
// Serialised by hand (fixed shape, measured faster than building a DOM);
// strings go through json_escape, which emits valid JSON for any input
// (invalid UTF-8 becomes U+FFFD).
#pragma once

#include <string>
#include <string_view>

#include "admission/decision.hpp"

namespace wirecheck::admission {

// Appends `text` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view text);

// The AdmissionReview answer for a decision. An empty api_version means v1.
std::string build_review_response(std::string_view api_version, std::string_view uid,
                                  const Decision& decision);

// Answer to a body that is not a usable AdmissionReview (sent with HTTP 400):
// an AdmissionReview, allowed=false, status code 400, echoing whatever uid
// and apiVersion could be read.
std::string build_bad_review(std::string_view api_version, std::string_view uid,
                             std::string_view message);

// A metav1.Status error body for transport-level rejections (404, 405, 411,
// 413, 415).
std::string build_status_error(int code, std::string_view reason, std::string_view message);

}  // namespace wirecheck::admission
