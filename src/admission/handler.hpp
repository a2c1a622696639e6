// AdmissionHandler: one AdmissionReview body in, one answer out. It joins
// the decision layers: parse (review.hpp) -> engine -> decide (decision.hpp)
// -> build (response.hpp). Transport (HTTP, TLS, limits) is the server's job;
// logging and metrics are too: the handler returns an Outcome with what they
// need and never logs.
//
// The handler is the admission boundary: nothing escapes it. An object it
// could not check (past its decode limits, or its evaluation past the time
// budget) and an exception while evaluating (allocation failure included)
// take one path: an allowed answer with a `wirecheck: not checked` warning
// and audit annotation (fail-open, the default), or a denial with code 500
// (fail-closed). Never a silent allow: the Outcome says `not_checked` (and
// `internal_error` for exceptions) for the log line and the metrics. One
// exception: a DELETE of an object past its limits is allowed even
// fail-closed, or such an object could never be removed.
//
// Thread-safety: immutable after construction; `handle` may run on many
// threads at once (one simdjson parser per thread). The engine must outlive
// the handler.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "admission/decision.hpp"
#include "admission/mode.hpp"
#include "wirecheck/context.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/object.hpp"

namespace wirecheck::admission {

// Where the handler gets the cluster view for one request. The server without
// cache hands out an EmptyContext; a cache hands out a consistent snapshot.
using ContextSource = std::function<std::shared_ptr<const policy::Context>()>;

// A source that always returns EmptyContext (context-needing rules skip).
ContextSource empty_context_source();

struct HandlerOptions {
  bool fail_closed = false;
  // Wall time from the start of `handle` after which no further rule runs
  // and the object is answered as not checked. Rules are linear in the
  // object and objects are capped, so this is a safety net far above the
  // normal microseconds to milliseconds; it stays below the API server's
  // shortest sensible webhook timeout so the answer is ours, not a timeout.
  std::chrono::milliseconds evaluation_budget{1000};
};

struct Outcome {
  int http_status = 200;  // 200 for every decision, 400 for a bad review
  std::string body;       // JSON

  // For logs and metrics. Strings are copies: the parser is reused later.
  bool parsed = false;
  std::string uid;
  std::string api_version;
  std::string kind;       // request.kind.kind as sent
  core::Kind kind_id = core::Kind::kOther;
  std::string ns;
  std::string name;
  std::string operation;  // as sent ("CREATE", ...)
  std::string user;
  bool dry_run = false;
  Mode mode = Mode::kWarn;
  bool inspected = false;  // some enabled rule looks at this kind and operation
  bool allowed = true;
  std::vector<policy::Finding> findings;
  // Rules that matched but could not run for lack of cluster context.
  std::vector<policy::SkippedRule> skipped;
  bool internal_error = false;
  // Why the object was not checked ("object_limit", "budget",
  // "out_of_memory", "internal_error"); empty when it was checked.
  std::string not_checked;
  std::string error;       // why the body was rejected, not checked, or the internal error
};

class AdmissionHandler {
 public:
  AdmissionHandler(const policy::Engine& engine, ContextSource context, HandlerOptions options);

  // `data` must be followed by SIMDJSON_PADDING readable bytes. Never throws.
  void handle(const char* data, std::size_t size, Mode mode, Outcome& out) const noexcept;

 private:
  const policy::Engine& engine_;
  ContextSource context_;
  HandlerOptions options_;
};

}  // namespace wirecheck::admission
