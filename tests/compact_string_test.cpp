#include "wirecheck/compact_string.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

using wirecheck::core::CompactString;

namespace {

// Lengths around the inline/heap boundary, and a long one.
const std::vector<std::size_t> kLengths = {0, 1, 14, 15, 16, 17, 200};

std::string text_of(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<char>('a' + i % 26);
  return s;
}

}  // namespace

TEST_CASE("compact string: 16 bytes, holds every length around the inline limit, NUL-terminated", "[compact_string]") {
  STATIC_REQUIRE(sizeof(CompactString) == 16);
  STATIC_REQUIRE(CompactString::kInlineCapacity == 15);
  for (std::size_t n : kLengths) {
    const std::string text = text_of(n);
    const CompactString s(text);
    INFO("length " << n);
    CHECK(s.size() == n);
    CHECK(s.length() == n);
    CHECK(s.empty() == (n == 0));
    CHECK(std::string_view(s) == text);
    CHECK(std::string(s.data(), s.size()) == text);
    CHECK(s.c_str()[n] == '\0');
    CHECK(std::string(s.c_str()) == text);
    CHECK(std::string(s.begin(), s.end()) == text);
  }
  const CompactString empty;
  CHECK(empty.empty());
  CHECK(empty.size() == 0);
  CHECK(*empty.c_str() == '\0');
  CHECK(empty == "");
}

TEST_CASE("compact string: copies are deep, moves leave the source empty", "[compact_string]") {
  for (std::size_t n : kLengths) {
    INFO("length " << n);
    const std::string text = text_of(n);
    CompactString a(text);
    CompactString b = a;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the point
    CHECK(b == a);
    if (n > 0) CHECK(b.data() != a.data());
    a = "changed";
    CHECK(b == text);

    CompactString moved = std::move(b);
    CHECK(moved == text);
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
    b = moved;
    CHECK(b == text);

    CompactString target("a text longer than fifteen characters");
    target = std::move(moved);
    CHECK(target == text);
    CHECK(moved.empty());  // NOLINT(bugprone-use-after-move)
  }
}

TEST_CASE("compact string: assignment between inline and heap, from strings, views, literals and itself", "[compact_string]") {
  CompactString s;
  for (std::size_t from : kLengths) {
    for (std::size_t to : kLengths) {
      INFO(from << " -> " << to);
      s = std::string_view(text_of(from));
      CHECK(s == text_of(from));
      s = text_of(to);
      CHECK(s == text_of(to));
    }
  }
  s = "literal";
  CHECK(s == "literal");
  const CompactString& same = s;
  s = same;
  CHECK(s == "literal");

  // A view of its own characters, inline and on the heap.
  s = "0123456789";
  s.assign(std::string_view(s).substr(2));
  CHECK(s == "23456789");
  s = text_of(40);
  s.assign(std::string_view(s).substr(10, 20));
  CHECK(s == text_of(40).substr(10, 20));
  s.assign(std::string_view(s).substr(0, 3));
  CHECK(s == "klm");
}

TEST_CASE("compact string: compares with strings, views, literals and itself, either side", "[compact_string]") {
  const CompactString http("http");
  const std::string http_string = "http";
  const std::string_view http_view = "http";
  CHECK(http == "http");
  CHECK("http" == http);
  CHECK(http == http_string);
  CHECK(http_string == http);
  CHECK(http == http_view);
  CHECK(http_view == http);
  CHECK(http == CompactString("http"));
  CHECK(http != "https");
  CHECK("https" != http);
  CHECK(http != std::string("htt"));
  CHECK(http < "https");
  CHECK(std::string("a") < http);
  CHECK(http > std::string_view("abc"));
  CHECK(CompactString(text_of(20)) != CompactString(text_of(21)));
  CHECK(CompactString(text_of(20)) < CompactString(text_of(21)));
  CHECK(CompactString() == std::string());
}

TEST_CASE("compact string: concatenates into a std::string from either side", "[compact_string]") {
  const CompactString name("manager");
  const CompactString long_name(text_of(30));
  const std::string s = "container ";
  CHECK("container " + name + " fails" == "container manager fails");
  CHECK(s + name == "container manager");
  CHECK(std::string("the ") + name == "the manager");
  CHECK(name + s == "managercontainer ");
  CHECK(name + std::string(" x") == "manager x");
  CHECK(name + "!" == "manager!");
  CHECK('[' + name + ']' == "[manager]");
  CHECK(name + long_name == "manager" + text_of(30));
  CHECK(CompactString() + "" == "");
  std::string appended = "x=";
  appended += name;
  appended.append(long_name);
  CHECK(appended == "x=manager" + text_of(30));
}

TEST_CASE("compact string: reads like a string (conversions, search, streaming, hashing, map keys)", "[compact_string]") {
  const CompactString host("127.0.0.1");
  const std::string_view view = host;
  const std::string copy(host);
  CHECK(view == "127.0.0.1");
  CHECK(copy == "127.0.0.1");
  // A field never becomes a temporary std::string unasked (a view into it
  // would dangle); a temporary CompactString does, as a temporary string would.
  STATIC_REQUIRE_FALSE(std::is_convertible_v<const CompactString&, std::string>);
  STATIC_REQUIRE(std::is_convertible_v<CompactString&&, std::string>);
  STATIC_REQUIRE(std::is_convertible_v<const CompactString&, std::string_view>);
  const std::string from_temporary = CompactString("x");
  CHECK(from_temporary == "x");
  CHECK(host.find('.') == 3);
  CHECK(host.find("0.0") == 4);
  CHECK(host.rfind('.') == 7);
  CHECK(host.find(':') == CompactString::npos);
  CHECK(host.starts_with("127."));
  CHECK(host.ends_with('1'));
  CHECK(host.substr(4) == "0.0.1");
  CHECK(host.compare("127.0.0.1") == 0);
  CHECK(host[0] == '1');
  CHECK(host.front() == '1');
  CHECK(host.back() == '1');
  CHECK(host.str() == copy);

  const bool pod_ip = host.empty();
  const std::string target = pod_ip ? "the pod IP" : host;  // a literal and a field in one conditional
  CHECK(target == "127.0.0.1");
  const std::string_view chosen = pod_ip ? std::string_view("x") : std::string_view(host);
  CHECK(chosen == "127.0.0.1");

  std::ostringstream out;
  out << host << '|' << CompactString(text_of(16));
  CHECK(out.str() == "127.0.0.1|" + text_of(16));

  std::unordered_set<CompactString> seen{CompactString("a"), CompactString(text_of(20))};
  CHECK(seen.count(CompactString("a")) == 1);
  CHECK(std::hash<CompactString>()(host) == std::hash<std::string_view>()("127.0.0.1"));

  std::map<std::string, int, std::less<>> by_name{{"127.0.0.1", 1}};
  CHECK(by_name.find(host) != by_name.end());
  std::map<CompactString, int> ordered{{CompactString("b"), 2}, {CompactString("a"), 1}};
  CHECK(ordered.begin()->first == "a");
}
