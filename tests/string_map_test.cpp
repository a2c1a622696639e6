#include "wirecheck/string_map.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using wirecheck::core::find_value;
using wirecheck::core::StringList;
using wirecheck::core::StringMap;

TEST_CASE("string map: keeps entries in insertion order, empty keys and values included", "[string_map]") {
  const StringMap m{{"app.kubernetes.io/name", "shop"}, {"", "no key"}, {"flag", ""}};
  REQUIRE(m.size() == 3);
  std::vector<std::string> seen;
  for (const auto& [k, v] : m) seen.push_back(std::string(k) + "=" + std::string(v));
  CHECK(seen == std::vector<std::string>{"app.kubernetes.io/name=shop", "=no key", "flag="});
  CHECK(m.front().first == "app.kubernetes.io/name");
  CHECK(m[2].second.empty());
}

TEST_CASE("string map: find_value answers like the pointer it replaces", "[string_map]") {
  const StringMap m{{"team", "payments"}, {"team", "second"}, {"empty", ""}};
  CHECK(find_value(m, "team") == "payments");  // the first of a repeated key
  CHECK(find_value(m, "empty") != nullptr);
  CHECK(find_value(m, "empty")->empty());
  CHECK(find_value(m, "absent") == nullptr);
  CHECK(find_value(m, "absent") != std::string("payments"));
  CHECK_FALSE(find_value(StringMap{}, "team"));
}

TEST_CASE("string map: copies are deep and compare by content", "[string_map]") {
  StringMap a{{"k", "v"}};
  StringMap b = a;
  b.emplace_back("k2", "v2");
  CHECK(a.size() == 1);
  CHECK_FALSE(a == b);
  b.erase_if([](const auto& kv) { return kv.first == "k2"; });
  CHECK(a == b);
  StringMap moved = std::move(b);
  CHECK(moved == a);
  a = StringMap{};
  CHECK(a.empty());
  CHECK(a.begin() == a.end());
  CHECK(a == StringMap{});
}

TEST_CASE("string list: keeps strings in order and converts from a vector of strings", "[string_map]") {
  StringList args = std::vector<std::string>{"--metrics-bind-address=127.0.0.1:8080", "", "9090"};
  REQUIRE(args.size() == 3);
  CHECK(args.front() == "--metrics-bind-address=127.0.0.1:8080");
  CHECK(args[1].empty());
  CHECK(args.back() == "9090");
  std::vector<std::string> seen(args.begin(), args.end());
  CHECK(seen == std::vector<std::string>{"--metrics-bind-address=127.0.0.1:8080", "", "9090"});
  StringList copy = args;
  copy.push_back("--v=2");
  CHECK(args.size() == 3);
  CHECK(copy.back() == "--v=2");
  CHECK_FALSE(copy == args);
  CHECK(StringList{} == StringList(std::vector<std::string>{}));
}
