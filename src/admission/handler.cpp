#include "admission/handler.hpp"

#include <algorithm>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>

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

// An answer lists at most this many denials and warnings, then counts the
// rest, and keeps each audit annotation to a few KB: an object with
// thousands of findings (a pod of a thousand containers) must not make a
// response of megabytes. `wirecheck lint` lists every finding.
constexpr std::size_t kMaxListed = 20;
constexpr std::size_t kMaxAnnotationBytes = 4096;

void bound_answer(Decision& decision) {
  if (decision.warnings.size() > kMaxListed) {
    const std::size_t more = decision.warnings.size() - kMaxListed;
    decision.warnings.resize(kMaxListed);
    decision.warnings.push_back("wirecheck: " + std::to_string(more) +
                                " more warnings not shown (wirecheck lint lists them all)");
  }
  // The denial message is a summary line, then one line per denial.
  std::size_t lines = 0;
  for (std::size_t at = decision.message.find('\n'); at != std::string::npos;
       at = decision.message.find('\n', at + 1)) {
    if (++lines == kMaxListed + 1) {
      const auto more = static_cast<std::size_t>(
          std::count(decision.message.begin() + static_cast<std::ptrdiff_t>(at), decision.message.end(), '\n'));
      decision.message.resize(at);
      decision.message += "\n... and " + std::to_string(more) + " more (wirecheck lint lists them all)";
      break;
    }
  }
  for (auto& annotation : decision.audit_annotations) {
    annotation.second = truncate_utf8(std::move(annotation.second), kMaxAnnotationBytes);
  }
}

// The answer for an object that was not checked: allowed with a warning and
// an audit annotation (so even audit logs record it), or denied (code 500).
Decision not_checked_decision(bool deny, Mode mode, std::string_view subject, const std::string& why) {
  Decision decision;
  if (deny) {
    decision.allowed = false;
    decision.code = 500;
    decision.reason = "InternalError";
    decision.message = "wirecheck: " + std::string(subject) + " denied (fail-closed): " + why;
  } else {
    if (mode != Mode::kAudit) {
      decision.warnings.push_back(
          truncate_utf8("wirecheck: " + why + "; allowed without checks (fail-open)", kMaxWarningBytes));
    }
    decision.audit_annotations.emplace_back("not-checked", why);
  }
  return decision;
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
  const auto deadline = std::chrono::steady_clock::now() + options_.evaluation_budget;
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
        policy::Evaluation evaluation =
            engine_.check(object, is_delete ? &object : (old_object ? &*old_object : nullptr),
                          request.operation, *context, deadline);
        if (evaluation.not_checked) {
          out.not_checked = policy::not_checked_label(evaluation.not_checked->reason);
          out.error = std::move(evaluation.not_checked->message);
          const bool deny = options_.fail_closed &&
                            !(is_delete && evaluation.not_checked->reason ==
                                               policy::NotChecked::Reason::kObjectLimit);
          const Decision decision = not_checked_decision(deny, mode, subject_of(request), out.error);
          out.allowed = decision.allowed;
          out.http_status = 200;
          out.body = build_review_response(request.api_version, request.uid, decision);
          return;
        }
        out.findings = std::move(evaluation.findings);
        out.skipped = std::move(evaluation.skipped);
      }
    }
    Decision decision = decide(out.findings, mode, subject_of(request));
    bound_answer(decision);
    out.allowed = decision.allowed;
    out.http_status = 200;
    out.body = build_review_response(request.api_version, request.uid, decision);
    return;
  } catch (const std::bad_alloc&) {
    // Decoding is bounded, so this is memory pressure from elsewhere; it must
    // not pass for a decision either way: it follows --fail-closed like any
    // internal error, and says so.
    out.not_checked = "out_of_memory";
    out.error = "out of memory";
  } catch (const std::exception& e) {
    out.not_checked = "internal_error";
    out.error = e.what();
  } catch (...) {
    out.not_checked = "internal_error";
    out.error = "unknown exception";
  }
  // Internal error: answer anyway, echoing what we know. Free the findings
  // first: after an allocation failure this path needs a little memory.
  try {
    out.internal_error = true;
    std::vector<policy::Finding>().swap(out.findings);
    std::vector<policy::SkippedRule>().swap(out.skipped);
    const Decision decision = not_checked_decision(
        options_.fail_closed, mode, "this object",
        "not checked: internal error while evaluating it (" + out.error + ")");
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
