// Manifest loading: multi-document YAML, Lists, JSON, YAML scalar typing, and
// broken documents reported with file and line while the rest still load.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "wirecheck/manifest.hpp"

using namespace wirecheck::core;

TEST_CASE("manifest: multi-document YAML keeps every object and the line it starts at") {
  ManifestSet set;
  load_stream(R"(# leading comment
apiVersion: v1
kind: Service
metadata: {name: a, namespace: n}
---
# only a comment
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: b
...
--- 
apiVersion: v1
kind: Service
metadata: {name: c}
)",
              "multi.yaml", set);
  REQUIRE(set.errors.empty());
  REQUIRE(set.objects.size() == 3);
  CHECK(set.objects[0].name() == "a");
  CHECK(set.objects[0].source().file == "multi.yaml");
  CHECK(set.objects[0].source().line == 2);
  CHECK(set.objects[1].source().line == 8);
  CHECK(set.objects[1].kind == Kind::kDeployment);
  CHECK(set.objects[2].name() == "c");
  CHECK(set.objects[2].source().line == 14);
}

TEST_CASE("manifest: a broken document is reported with its line and the others still load") {
  ManifestSet set;
  load_stream(R"(apiVersion: v1
kind: Service
metadata: {name: first}
---
apiVersion: v1
kind: Service
metadata: {name: [unclosed
---
apiVersion: v1
kind: Service
metadata: {name: third}
---
just a string
---
metadata: {name: no-kind}
)",
              "broken.yaml", set);
  REQUIRE(set.objects.size() == 2);
  CHECK(set.objects[0].name() == "first");
  CHECK(set.objects[1].name() == "third");
  CHECK(set.objects[1].source().line == 9);
  REQUIRE(set.errors.size() == 3);
  CHECK(set.errors[0].file == "broken.yaml");
  CHECK(set.errors[0].line >= 5);
  CHECK(set.errors[0].line <= 8);
  CHECK(set.errors[0].message.find("YAML") != std::string::npos);
  CHECK(set.errors[1].line == 13);
  CHECK(set.errors[1].message.find("not a mapping") != std::string::npos);
  CHECK(set.errors[2].message.find("apiVersion/kind") != std::string::npos);
}

TEST_CASE("manifest: kind List and *List items are expanded with their own lines") {
  ManifestSet set;
  load_stream(R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: one}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: two}
)",
              "list.yaml", set);
  REQUIRE(set.errors.empty());
  REQUIRE(set.objects.size() == 2);
  CHECK(set.objects[0].source().line == 4);
  CHECK(set.objects[1].source().line == 7);
  ManifestSet services;
  load_stream(R"({"apiVersion":"v1","kind":"ServiceList","items":[{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}]})",
              "list.json", services);
  REQUIRE(services.objects.size() == 1);
  CHECK(services.objects[0].name() == "x");
}

TEST_CASE("manifest: YAML scalars are typed like Kubernetes reads them") {
  ManifestSet set;
  load_stream(R"(apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  selector: {app: "true", version: "1"}
  ports:
  - {name: a, port: 8443, targetPort: "8443"}
  - {name: b, port: 80, targetPort: https}
  - {name: c, port: 81, targetPort: 9090}
)",
              "types.yaml", set);
  REQUIRE(set.errors.empty());
  const Service* svc = set.objects.at(0).service();
  REQUIRE(svc != nullptr);
  // Quoted values stay strings (selector values must be strings to count).
  CHECK(*find_value(svc->selector, "app") == "true");
  CHECK(*find_value(svc->selector, "version") == "1");
  CHECK_FALSE(svc->ports[0].target_port.is_int);
  CHECK(svc->ports[0].target_port.str == "8443");
  CHECK(svc->ports[1].target_port.str == "https");
  CHECK(svc->ports[2].target_port.is_int);
  CHECK(svc->ports[2].target_port.num == 9090);
}

TEST_CASE("manifest: a path that does not exist is an error, a directory is read recursively") {
  ManifestSet set;
  load_path("/nonexistent/wirecheck.yaml", set);
  REQUIRE(set.errors.size() == 1);
  CHECK(set.errors[0].message.find("no such file") != std::string::npos);
  ManifestSet dir;
  load_path(wirecheck::testing::fixtures_dir() + "/rules", dir);
  CHECK(dir.errors.empty());
  CHECK(dir.objects.size() > 10);
}

TEST_CASE("manifest: garbage bytes never crash the loader") {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 7919) % 256));
  ManifestSet set;
  load_stream(junk, "junk", set);
  CHECK(set.objects.empty());
  ManifestSet tabs;
  load_stream("\t\t- [\n---\n{{{{\n---\n: : :\n", "tabs", tabs);
  CHECK(tabs.objects.empty());
  CHECK_FALSE(tabs.errors.empty());
}

TEST_CASE("manifest: invalid UTF-8 in a document keeps the object, bad bytes become U+FFFD") {
  ManifestSet set;
  load_stream("apiVersion: v1\nkind: Service\nmetadata: {name: \"bad\xb8name\", namespace: n}\n", "utf8.yaml", set);
  CHECK(set.errors.empty());
  REQUIRE(set.objects.size() == 1);
  CHECK(set.objects[0].name() == "bad\xEF\xBF\xBDname");
}
