// deploy/ renders with `kubectl kustomize` (skipped when kubectl is absent)
// and the rendered manifests pass wirecheck's own lint with no deny finding.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "server_fixture.hpp"

using namespace wirecheck::servertest;

namespace {

int run(const std::string& command, std::string& output) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (fgets(buf, sizeof buf, p) != nullptr) output += buf;
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("deploy: every overlay renders with kubectl kustomize and lints without deny", "[server][deploy]") {
  std::string which;
  if (run("command -v kubectl", which) != 0) {
    WARN("kubectl not found: skipping the kustomize render of deploy/overlays/*");
    return;
  }
  TempDir dir;
  for (const char* overlay : {"enforce", "warn", "audit"}) {
    INFO(overlay);
    const std::string rendered = dir.file(std::string(overlay) + ".yaml");
    std::string out;
    REQUIRE(run("kubectl kustomize " + std::string(WIRECHECK_SOURCE_DIR) + "/deploy/overlays/" + overlay + " > " +
                    rendered,
                out) == 0);
    const std::string yaml = read_text(rendered);
    CHECK_THAT(yaml, Catch::Contains("kind: ValidatingWebhookConfiguration"));
    CHECK_THAT(yaml, Catch::Contains("path: /validate/" + std::string(overlay)));
    CHECK_THAT(yaml, Catch::Contains("cert-manager.io/inject-ca-from: wirecheck-system/wirecheck-serving-cert"));
    std::string lint;
    const int code = run(std::string(WIRECHECK_BINARY) + " lint --no-color --fail-on deny -f " + rendered, lint);
    INFO(lint);
    CHECK(code == 0);
    CHECK_THAT(lint, Catch::Contains("0 deny"));
  }
}
