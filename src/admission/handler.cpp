#include "admission/handler.hpp"

#include <exception>
#include <stdexcept>
#include <optional>

#include "admission/response.hpp"
#include "admission/review.hpp"
#include "core/decode_dom.hpp"

namespace wirecheck::admission {

ContextSource empty_context_source() {
  auto empty = std::make_shared<const policy::EmptyContext>();
  return [empty] { return std::shared_ptr<const policy::Context>(empty); };
}

AdmissionHandler::AdmissionHandler(const policy::Engine& engine, ContextSource context,
                                   HandlerOptions options)
    : engine_(engine), context_(std::move(context)), options_(options) {}

namespace {

std::string subject_of(const ReviewRequest& request) {
  std::string subject(request.kind.kind);
  subject += ' ';
  if (!request.ns.empty()) {
    subject += request.ns;
    subject += '/';
  }
  subject += request.name.empty() ? std::string_view("<unnamed>") : request.name;
  return subject;
}

// Fills request.name (and an empty request.ns) from the object's metadata.
void identity_from(simdjson::dom::element object, ReviewRequest& request) {
  std::string_view value;
  if (object["metadata"]["name"].get_string().get(value) == simdjson::SUCCESS) request.name = value;
  if (request.ns.empty() && object["metadata"]["namespace"].get_string().get(value) == simdjson::SUCCESS) {
    request.ns = value;
  }
}

}  // namespace

void AdmissionHandler::handle(const char* data, std::size_t size, Mode mode,
                              Outcome& out) const noexcept {
  out.mode = mode;
  ReviewRequest request;
  try {
    std::string error;
    if (!parse_review(core::thread_parser(), data, size, request, error)) {
      out.http_status = 400;
      out.uid.assign(request.uid);
      out.api_version.assign(request.api_version);
      out.error = std::move(error);
      out.allowed = false;
      out.body = build_bad_review(request.api_version, request.uid, out.error);
      return;
    }
    out.parsed = true;
    out.uid.assign(request.uid);
    out.api_version.assign(request.api_version);
    out.kind.assign(request.kind.kind);
    out.kind_id = core::kind_from(request.kind.group, request.kind.kind);
    // Collection deletes (the namespace controller) send no request.name:
    // the identity is in oldObject.
    if (request.name.empty() && request.has_old_object) identity_from(request.old_object, request);
    out.ns.assign(request.ns);
    out.name.assign(request.name);
    out.operation.assign(request.operation_text);
    out.user.assign(request.username);
    out.dry_run = request.dry_run;

    out.inspected = engine_.inspects(out.kind_id, request.operation);
    if (out.inspected) {
      // DELETE: the object being deleted is oldObject; rules see it as the object.
      const bool is_delete = request.operation == policy::Operation::kDelete;
      const bool has_subject = is_delete ? request.has_old_object : request.has_object;
      if (has_subject) {
        const core::Object object =
            core::decode_element(is_delete ? request.old_object : request.object);
        std::optional<core::Object> old_object;
        if (!is_delete && request.has_old_object) old_object = core::decode_element(request.old_object);
        const std::shared_ptr<const policy::Context> context = context_();
        if (!context) throw std::runtime_error("no cluster context available");
        out.findings = engine_.evaluate(object, is_delete ? &object : (old_object ? &*old_object : nullptr),
                                        request.operation, *context, &out.skipped);
      }
    }
    const Decision decision = decide(out.findings, mode, subject_of(request));
    out.allowed = decision.allowed;
    out.http_status = 200;
    out.body = build_review_response(request.api_version, request.uid, decision);
    return;
  } catch (const std::exception& e) {
    out.error = e.what();
  } catch (...) {
    out.error = "unknown exception";
  }
  // Internal error: answer anyway, echoing what we know.
  try {
    out.internal_error = true;
    out.findings.clear();
    out.skipped.clear();
    Decision decision;
    if (options_.fail_closed) {
      decision.allowed = false;
      decision.code = 500;
      decision.reason = "InternalError";
      decision.message = "wirecheck: internal error while evaluating this object (fail-closed): " + out.error;
    } else {
      decision.warnings.push_back(truncate_utf8(
          "wirecheck: internal error while evaluating this object; allowed without checks (fail-open): " +
              out.error,
          kMaxWarningBytes));
    }
    out.allowed = decision.allowed;
    out.http_status = 200;
    out.body = build_review_response(out.api_version, out.uid, decision);
  } catch (...) {
    // Out of memory while building a few hundred bytes: answer with a fixed body.
    out.http_status = 500;
    out.body.clear();
  }
}

}  // namespace wirecheck::admission
