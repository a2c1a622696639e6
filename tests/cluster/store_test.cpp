// Store and snapshots: indexed lookups, copy-on-write generations, and
// consistency while writers and readers run at once.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "cluster/store.hpp"

using namespace wirecheck;
using cluster::ObjectPtr;
using core::Kind;

namespace {

ObjectPtr service(const std::string& ns, const std::string& name, std::int64_t port = 80) {
  core::Object o;
  o.kind = Kind::kService;
  o.ref.ns = ns;
  o.ref.name = name;
  core::Service s;
  // Field by field: GCC 12 -O2 takes the braced temporary's IntOrString for
  // uninitialised (-Wmaybe-uninitialized, an error in CI).
  core::ServicePort& p = s.ports.emplace_back();
  p.name = "http";
  p.port = port;
  p.protocol = "TCP";
  o.spec = std::move(s);
  return std::make_shared<const core::Object>(std::move(o));
}

std::int64_t port_of(const core::Object* o) { return o->service()->ports[0].port; }

}  // namespace

TEST_CASE("store: lookups by kind, namespace and name, unknown until synced", "[cluster][store]") {
  cluster::Store store;
  CHECK_FALSE(store.snapshot()->knows(Kind::kService));
  CHECK(store.snapshot()->unknown_reason(Kind::kService) == "not_synced");
  store.replace(Kind::kService, {service("b", "y"), service("a", "x"), service("a", "w")});
  const auto snap = store.snapshot();
  CHECK(snap->knows(Kind::kService));
  CHECK_FALSE(snap->knows(Kind::kDeployment));
  CHECK(snap->find(Kind::kService, "a", "x") != nullptr);
  CHECK(snap->find(Kind::kService, "b", "x") == nullptr);
  CHECK(snap->find(Kind::kDeployment, "a", "x") == nullptr);
  const auto in_a = snap->list(Kind::kService, "a");
  REQUIRE(in_a.size() == 2);
  CHECK(in_a[0]->name() == "w");  // sorted by name
  CHECK(snap->list(Kind::kService, "zzz").empty());
  CHECK(snap->list_all(Kind::kService).size() == 3);
  CHECK(snap->count(Kind::kService) == 3);
}

TEST_CASE("store: a snapshot never changes, later writes show in later snapshots", "[cluster][store]") {
  cluster::Store store;
  store.replace(Kind::kService, {service("a", "x", 1)});
  const auto before = store.snapshot();
  store.upsert(service("a", "x", 2));
  store.upsert(service("a", "new", 3));
  store.erase(Kind::kService, "a", "x");
  store.erase(Kind::kService, "a", "absent");
  CHECK(port_of(before->find(Kind::kService, "a", "x")) == 1);
  CHECK(before->count(Kind::kService) == 1);
  const auto after = store.snapshot();
  CHECK(after->find(Kind::kService, "a", "x") == nullptr);
  CHECK(port_of(after->find(Kind::kService, "a", "new")) == 3);
  CHECK(after->count(Kind::kService) == 1);
  store.erase(Kind::kService, "a", "new");
  CHECK(store.snapshot()->list(Kind::kService, "a").empty());
  CHECK(store.snapshot()->total() == 0);
}

TEST_CASE("store: concurrent readers always see a consistent generation while writers apply events",
          "[cluster][store]") {
  // Writers move a pair of objects between states in one step each; each
  // generation must be self-consistent: count == listed, every listed object
  // found by name, and a snapshot read twice gives the same answer.
  cluster::Store store;
  std::vector<ObjectPtr> initial;
  for (int i = 0; i < 200; ++i) initial.push_back(service("ns" + std::to_string(i % 10), "s" + std::to_string(i)));
  store.replace(Kind::kService, initial);

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<long> reads{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 3000; ++i) {
        const std::string ns = "ns" + std::to_string((i + w) % 10);
        const std::string name = "w" + std::to_string(w) + "-" + std::to_string(i % 50);
        if (i % 3 == 2) store.erase(Kind::kService, ns, name);
        else store.upsert(service(ns, name, i));
      }
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&] {
      while (!stop) {
        const auto snap = store.snapshot();
        const auto all = snap->list_all(Kind::kService);
        if (all.size() != snap->count(Kind::kService)) ++failures;
        for (const core::Object* o : all) {
          if (snap->find(Kind::kService, o->ns(), o->name()) != o) ++failures;
        }
        if (snap->list_all(Kind::kService) != all) ++failures;
        ++reads;
      }
    });
  }
  threads[0].join();
  threads[1].join();
  stop = true;
  for (std::size_t i = 2; i < threads.size(); ++i) threads[i].join();
  CHECK(failures == 0);
  CHECK(reads > 0);
  // The 200 initial objects survive; every writer key ends in a known state.
  const auto snap = store.snapshot();
  for (int i = 0; i < 200; ++i) {
    CHECK(snap->find(Kind::kService, "ns" + std::to_string(i % 10), "s" + std::to_string(i)) != nullptr);
  }
  CHECK(snap->count(Kind::kService) == snap->list_all(Kind::kService).size());
}
