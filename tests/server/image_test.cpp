// The runtime stage of the Dockerfile installs only the packages named in
// its RUNTIME_PACKAGES line: every shared library the binary loads must come
// from one of them, or the image fails at start with "error while loading
// shared libraries"; and a package none of them comes from is dead weight
// in the image (libcpp-httplib0.11, zlib1g and libbrotli1 stayed listed once
// nothing loaded them). Checked against this machine's build with ldd + dpkg
// -S (the image is built on the same Debian release).
#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "server_fixture.hpp"
#include "support.hpp"

using namespace wirecheck::servertest;

namespace {

// Runs `command`; appends its output to `output`.
int run(const std::string& command, std::string& output) {
  const auto result = wirecheck::testing::run_command(command + " 2>/dev/null");
  output += result.out;
  return result.exit_code;
}

std::set<std::string> runtime_packages() {
  const std::string dockerfile = read_text(std::string(WIRECHECK_SOURCE_DIR) + "/Dockerfile");
  std::smatch m;
  REQUIRE(std::regex_search(dockerfile, m, std::regex("ARG RUNTIME_PACKAGES=\"([^\"]*)\"")));
  std::istringstream words(m[1].str());
  std::set<std::string> out;
  for (std::string w; words >> w;) out.insert(w);
  return out;
}

// The package owning a library path. With merged /usr, ldd's /lib path and
// dpkg's record can differ by the /usr prefix or a symlink: try each form.
std::string owning_package(const std::string& path) {
  std::vector<std::string> candidates = {path};
  if (path.rfind("/usr/", 0) == 0) candidates.push_back(path.substr(4));
  else candidates.push_back("/usr" + path);
  std::string real;
  run("readlink -f '" + path + "'", real);
  while (!real.empty() && real.back() == '\n') real.pop_back();
  if (!real.empty()) {
    candidates.push_back(real);
    candidates.push_back(real.rfind("/usr/", 0) == 0 ? real.substr(4) : "/usr" + real);
  }
  for (const auto& c : candidates) {
    std::string out;
    if (run("dpkg -S '" + c + "'", out) != 0) continue;
    const auto colon = out.find(':');
    if (colon != std::string::npos) return out.substr(0, colon);
  }
  return {};
}

}  // namespace

TEST_CASE("image: every shared library of the binary comes from a runtime package of the Dockerfile",
          "[server][image]") {
  const auto packages = runtime_packages();
  std::string ldd;
  REQUIRE(run(std::string("ldd ") + WIRECHECK_BINARY, ldd) == 0);
  std::istringstream lines(ldd);
  int libraries = 0;
  std::set<std::string> providing;
  for (std::string line; std::getline(lines, line);) {
    // "libssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)";
    // linux-vdso has no file.
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"((/[^ ]+) \(0x)"))) continue;
    const std::string path = m[1].str();
    // Sanitizer builds (make test-sanitize) add their runtimes; no image is built from them.
    if (path.find("libasan") != std::string::npos || path.find("libubsan") != std::string::npos) continue;
    ++libraries;
    const std::string package = owning_package(path);
    INFO(path << " belongs to " << (package.empty() ? std::string("no package") : package));
    CHECK(packages.count(package) == 1);
    providing.insert(package);
  }
  // libc, libm, the loader, libstdc++, libgcc_s, libssl, libcrypto,
  // simdjson: fewer means ldd's output was not read.
  CHECK(libraries >= 5);
  for (const std::string& package : packages) {
    if (package == "ca-certificates") continue;  // trust roots, not a library
    INFO(package << " is in RUNTIME_PACKAGES but provides no library the binary loads");
    CHECK(providing.count(package) == 1);
  }
}
