// One watch line at a time into a Store: what each event type does, and that
// lines which are not events (or events missing their metadata) change
// nothing and never throw.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include "cluster/store.hpp"
#include "cluster/watch_event.hpp"
#include "cluster/watched_kinds.hpp"

using namespace wirecheck;
using Result = cluster::WatchEventOutcome::Result;

namespace {

struct Fixture {
  const cluster::WatchedKind& kind = *cluster::watched_kind(core::Kind::kService);
  cluster::Store store;
  simdjson::dom::parser parser;

  cluster::WatchEventOutcome apply(std::string_view line) {
    return cluster::apply_watch_event(parser, line, kind, "v1", store);
  }
  std::size_t services() const { return store.snapshot()->count(core::Kind::kService); }
};

constexpr std::string_view kAdded =
    R"({"type":"ADDED","object":{"kind":"Service","metadata":{"name":"m","namespace":"a","resourceVersion":"7"},)"
    R"("spec":{"ports":[{"name":"https","port":443,"targetPort":"https"}]}}})";

}  // namespace

TEST_CASE("watch event: ADDED, MODIFIED and DELETED reach the store with their resourceVersion") {
  Fixture f;
  auto out = f.apply(kAdded);
  CHECK(out.result == Result::kApplied);
  CHECK(out.resource_version == "7");
  REQUIRE(f.services() == 1);
  const core::Object* stored = f.store.snapshot()->find(core::Kind::kService, "a", "m");
  REQUIRE(stored != nullptr);
  CHECK(stored->ref.api_version == "v1");

  out = f.apply(R"({"type":"DELETED","object":{"kind":"Service","metadata":{"name":"m","namespace":"a","resourceVersion":"8"}}})");
  CHECK(out.result == Result::kApplied);
  CHECK(out.resource_version == "8");
  CHECK(f.services() == 0);
}

TEST_CASE("watch event: bookmarks move the resourceVersion only; 410 expires, other errors carry the message") {
  Fixture f;
  auto out = f.apply(R"({"type":"BOOKMARK","object":{"kind":"Service","metadata":{"resourceVersion":"99"}}})");
  CHECK(out.result == Result::kBookmark);
  CHECK(out.resource_version == "99");
  CHECK(f.services() == 0);

  CHECK(f.apply(R"({"type":"ERROR","object":{"kind":"Status","code":410}})").result == Result::kExpired);
  out = f.apply(R"({"type":"ERROR","object":{"kind":"Status","code":500,"message":"etcd down"}})");
  CHECK(out.result == Result::kError);
  CHECK(out.detail == "etcd down");
}

TEST_CASE("watch event: what is not an event leaves the store unchanged") {
  Fixture f;
  REQUIRE(f.apply(kAdded).result == Result::kApplied);
  for (const std::string_view line : {
           std::string_view(R"({"type":"ADDED"})"),
           std::string_view(R"({"object":{}})"),
           std::string_view(R"({"type":7,"object":{}})"),
           std::string_view(R"({"type":"ADDED","object":[]})"),
           std::string_view(R"({"type":"ADDED","object":{"metadata":)"),
           std::string_view("not json"),
       }) {
    INFO(line);
    CHECK(f.apply(line).result == Result::kMalformed);
  }
  const auto unknown = f.apply(R"({"type":"SOMETHING","object":{}})");
  CHECK(unknown.result == Result::kUnknownType);
  CHECK(unknown.detail == "SOMETHING");
  CHECK(f.services() == 1);
}

TEST_CASE("watch event: a change to an object without a name is malformed, not a throw") {
  Fixture f;
  REQUIRE(f.apply(kAdded).result == Result::kApplied);
  for (const std::string_view line : {
           std::string_view(R"({"type":"DELETED","object":{"kind":"Service"}})"),
           std::string_view(R"({"type":"DELETED","object":{"kind":"Service","metadata":"x"}})"),
           std::string_view(R"({"type":"MODIFIED","object":{"kind":"Service","metadata":5}})"),
           std::string_view(R"({"type":"ADDED","object":{"kind":"Service","metadata":{"namespace":"a"}}})"),
       }) {
    INFO(line);
    CHECK(f.apply(line).result == Result::kMalformed);
  }
  const auto bookmark = f.apply(R"({"type":"BOOKMARK","object":{}})");
  CHECK(bookmark.result == Result::kBookmark);
  CHECK(bookmark.resource_version.empty());
  CHECK(f.services() == 1);
}
