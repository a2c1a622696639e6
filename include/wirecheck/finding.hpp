// Finding: one thing wrong with one object, as every front end reports it
// (lint text/JSON/SARIF, admission warnings and denials, audit annotations,
// metrics). Plain data.
#pragma once

#include <string>
#include <vector>

#include "wirecheck/object.hpp"
#include "wirecheck/severity.hpp"

namespace wirecheck::policy {

struct Finding {
  std::string rule;
  Severity severity = Severity::kWarn;
  core::ObjectRef object;
  std::string path;               // the first (most severe) entry's field path
  // Every entry the finding covers (webhooks of one configuration, endpoints
  // of one monitor, ports of one Service), most severe first; `path` is
  // paths[0]. One finding per object and rule, however many entries trip it.
  std::vector<std::string> paths;
  std::string message;
  std::string fix;
  // What is missing, when several objects can share it: findings of one rule
  // with the same cause ("Service ns/x does not exist") are one line in text
  // output; JSON and SARIF keep one result per object and carry the key.
  std::string cause;
  bool exempted = false;        // ignore.wirecheck.dev/<rule> with a reason
  std::string exemption_reason;
  core::SourceLocation source;  // lint only
};

}  // namespace wirecheck::policy
