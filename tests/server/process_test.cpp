// The `wirecheck` binary as operators run it: `make run`'s server
// (scripts/run-dev.sh with the dev certificate script) checked by
// `wirecheck selftest`, selftest naming the failing check, and the SIGTERM
// drain: readiness fails at once, requests keep being answered during
// --shutdown-delay with no failed request, then exit 0.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <httplib.h>
#include <regex>

#include "child_process.hpp"
#include "server_fixture.hpp"

using namespace wirecheck;
using namespace wirecheck::servertest;

namespace {

struct Run {
  int code;
  std::string output;
};

Run run_selftest(const std::string& url, const std::string& ca_file, const std::string& extra = "") {
  const std::string cmd =
      std::string(WIRECHECK_BINARY) + " selftest --url " + url + " --ca-file " + ca_file + " " + extra + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("process: selftest passes against make run's server and names what fails", "[server][process]") {
  TempDir dir;
  Child server({"/bin/bash", std::string(WIRECHECK_SOURCE_DIR) + "/scripts/run-dev.sh", WIRECHECK_BINARY,
                "127.0.0.1:0", "127.0.0.1:0"},
               dir.file("server.log"), {"CERT_DIR=" + dir.path()});
  int port = 0;
  int ops_port = 0;
  REQUIRE(server.wait_serving(port, ops_port));
  INFO(server.log());
  CHECK_THAT(server.log(), Catch::Contains("curl -sS --cacert"));

  const Run ok = run_selftest("https://127.0.0.1:" + std::to_string(port) + "/validate", dir.file("ca.crt"));
  INFO(ok.output);
  CHECK(ok.code == 0);
  CHECK_THAT(ok.output, Catch::Contains("reachable:   ok"));
  CHECK_THAT(ok.output, Catch::Contains("certificate: ok"));
  CHECK_THAT(ok.output, Catch::Contains("decision:    ok"));
  CHECK(run_selftest("https://localhost:" + std::to_string(port) + "/validate/enforce", dir.file("ca.crt")).code == 0);

  const Run audit = run_selftest("https://127.0.0.1:" + std::to_string(port) + "/validate/audit", dir.file("ca.crt"));
  CHECK(audit.code == 1);
  CHECK_THAT(audit.output, Catch::Contains("decision:    FAIL"));

  auto other_ca = TestCert::ca("not the webhook's CA");
  const std::string wrong_ca = other_ca->write(dir.path(), "wrong-ca");
  const Run bad_ca = run_selftest("https://127.0.0.1:" + std::to_string(port) + "/validate", wrong_ca);
  INFO(bad_ca.output);
  CHECK(bad_ca.code == 1);
  CHECK_THAT(bad_ca.output, Catch::Contains("reachable:   ok"));
  CHECK_THAT(bad_ca.output, Catch::Contains("certificate: FAIL"));

  kill(server.pid(), SIGTERM);
  CHECK(server.wait_exit(std::chrono::milliseconds(10000)) == 0);
}

TEST_CASE("process: selftest fails on a wrong host name and on an unreachable webhook", "[server][process]") {
  HarnessOptions ip_only;
  ip_only.sans = "IP:127.0.0.1";
  Harness harness(ip_only);
  const std::string ca = harness.dir().file("ca.crt");
  CHECK(run_selftest("https://127.0.0.1:" + std::to_string(harness.port()) + "/validate", ca).code == 0);

  const Run wrong_name = run_selftest("https://localhost:" + std::to_string(harness.port()) + "/validate", ca);
  INFO(wrong_name.output);
  CHECK(wrong_name.code == 1);
  CHECK_THAT(wrong_name.output, Catch::Contains("certificate: FAIL"));
  CHECK_THAT(wrong_name.output, Catch::Contains("hostname mismatch"));

  const Run down = run_selftest("https://127.0.0.1:" + std::to_string(free_port()) + "/validate", ca);
  CHECK(down.code == 1);
  CHECK_THAT(down.output, Catch::Contains("reachable:   FAIL"));
}

TEST_CASE("process: selftest against a server requiring client certificates says so", "[server][process]") {
  HarnessOptions options;
  options.client_auth = true;
  Harness harness(options);
  const std::string url = "https://127.0.0.1:" + std::to_string(harness.port()) + "/validate";
  const std::string ca = harness.dir().file("ca.crt");

  const Run anonymous = run_selftest(url, ca);
  INFO(anonymous.output);
  CHECK(anonymous.code == 1);
  CHECK_THAT(anonymous.output, Catch::Contains("client certificate required"));
  CHECK_THAT(anonymous.output, !Catch::Contains("no HTTP response"));

  auto stranger_ca = TestCert::ca("stranger CA");
  stranger_ca->issue("intruder", 31, "", /*client=*/true)->write(harness.dir().path(), "intruder");
  const Run intruder = run_selftest(url, ca, "--client-cert-file " + harness.dir().file("intruder.crt") +
                                                 " --client-key-file " + harness.dir().file("intruder.key"));
  INFO(intruder.output);
  CHECK(intruder.code == 1);
  CHECK_THAT(intruder.output, Catch::Contains("client certificate refused by the server"));

  harness.ca().issue("kube-apiserver", 32, "", /*client=*/true)->write(harness.dir().path(), "apiserver");
  const Run apiserver = run_selftest(url, ca, "--client-cert-file " + harness.dir().file("apiserver.crt") +
                                                  " --client-key-file " + harness.dir().file("apiserver.key"));
  INFO(apiserver.output);
  CHECK(apiserver.code == 0);
}

TEST_CASE("process: SIGTERM fails readiness at once then drains without failed requests and exits 0", "[server][process]") {
  TempDir dir;
  auto ca = TestCert::ca("drain CA");
  ca->write(dir.path(), "ca");
  ca->issue("server", 7, "IP:127.0.0.1")->write(dir.path(), "tls");
  Child server({WIRECHECK_BINARY, "serve", "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0",
                "--tls-cert-file", dir.file("tls.crt"), "--tls-private-key-file", dir.file("tls.key"),
                "--shutdown-delay", "1500ms"},
               dir.file("server.log"));
  int port = 0;
  int ops_port = 0;
  REQUIRE(server.wait_serving(port, ops_port));
  httplib::Client ops("127.0.0.1", ops_port);
  ops.set_read_timeout(2);
  auto ready = ops.Get("/readyz");
  REQUIRE(ready);
  REQUIRE(ready->status == 200);

  server::HttpsClientOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.ca_file = dir.file("ca.crt");
  const std::string body = servicemonitor_review(bad_endpoints()).dump();

  std::atomic<bool> stop{false};
  std::atomic<bool> terminated{false};
  std::atomic<int> ok_before{0}, ok_after{0}, failed{0}, closed_after{0};
  std::thread load([&] {
    server::HttpsClient client(options);
    while (!stop.load()) {
      server::HttpResponse r;
      const bool after = terminated.load();
      if (!client.post("/validate?timeout=10s", body, r) || r.status != 200) {
        failed.fetch_add(1);
        client.close();
        continue;
      }
      (after ? ok_after : ok_before).fetch_add(1);
      if (after && r.header("connection") == "close") closed_after.fetch_add(1);
    }
  });
  REQUIRE(eventually([&] { return ok_before.load() > 10; }));
  kill(server.pid(), SIGTERM);
  terminated = true;
  CHECK(eventually([&] {
    auto r = ops.Get("/readyz");
    return r && r->status == 503;
  }, std::chrono::milliseconds(1000)));
  // Keep loading through most of the drain period, then stop sending.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  stop = true;
  load.join();
  INFO(server.log());
  CHECK(failed.load() == 0);
  CHECK(ok_after.load() > 0);
  CHECK(closed_after.load() > 0);
  CHECK(server.wait_exit(std::chrono::milliseconds(10000)) == 0);
  CHECK_THAT(server.log(), Catch::Contains("\"msg\":\"stopped\""));
}
