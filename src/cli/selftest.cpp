// `wirecheck selftest`: checks a running webhook end to end the way the API
// server would call it. It sends a canary AdmissionReview (dry run) of a
// ServiceMonitor that breaks `servicemonitor-tls-servername` and reports
// three checks separately: the webhook is reachable, its certificate
// verifies for the URL's host name with the given CA, and the answer is the
// expected denial (enforce) or warning (warn).
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/serve_flags.hpp"
#include "server/https_client.hpp"

namespace wirecheck::cli {
namespace {

constexpr const char* kSelftestUsage =
    "usage: wirecheck selftest --url https://HOST:PORT/validate --ca-file FILE [--wait 60s]\n"
    "                          [--client-cert-file F --client-key-file F]\n";

constexpr std::string_view kCanaryRule = "servicemonitor-tls-servername";

std::string random_uid() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string uid = "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx";
  for (char& c : uid) {
    if (c == 'x') c = "0123456789abcdef"[hex(rd)];
  }
  return uid;
}

std::string canary_review(const std::string& uid) {
  const nlohmann::json object = {
      {"apiVersion", "monitoring.coreos.com/v1"},
      {"kind", "ServiceMonitor"},
      {"metadata", {{"name", "wirecheck-selftest-canary"}, {"namespace", "wirecheck-selftest"}}},
      {"spec",
       {{"selector", {{"matchLabels", {{"app", "wirecheck-selftest-canary"}}}}},
        {"endpoints",
         nlohmann::json::array({{{"port", "https"},
                                 {"scheme", "https"},
                                 {"tlsConfig", {{"ca", {{"secret", {{"name", "canary-tls"}, {"key", "ca.crt"}}}}}}}}})}}}};
  const nlohmann::json review = {
      {"kind", "AdmissionReview"},
      {"apiVersion", "admission.k8s.io/v1"},
      {"request",
       {{"uid", uid},
        {"kind", {{"group", "monitoring.coreos.com"}, {"version", "v1"}, {"kind", "ServiceMonitor"}}},
        {"resource", {{"group", "monitoring.coreos.com"}, {"version", "v1"}, {"resource", "servicemonitors"}}},
        {"name", "wirecheck-selftest-canary"},
        {"namespace", "wirecheck-selftest"},
        {"operation", "CREATE"},
        {"userInfo", {{"username", "wirecheck-selftest"}}},
        {"object", object},
        {"oldObject", nullptr},
        {"dryRun", true},
        {"options", {{"kind", "CreateOptions"}, {"apiVersion", "meta.k8s.io/v1"}}}}}};
  return review.dump();
}

// Checks the answer; returns "" when it is the expected denial or warning.
std::string check_answer(const server::HttpResponse& response, const std::string& uid, std::string& what) {
  if (response.status != 200) return "HTTP status " + std::to_string(response.status) + ": " + response.body;
  const auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_discarded() || !json.contains("response")) return "answer is not an AdmissionReview: " + response.body;
  const auto& r = json["response"];
  if (r.value("uid", "") != uid) return "answer does not echo the request uid";
  if (!r.value("allowed", true)) {
    const std::string message = r.contains("status") ? r["status"].value("message", "") : "";
    if (message.find(kCanaryRule) != std::string::npos) {
      what = "denied by " + std::string(kCanaryRule) + " (enforce)";
      return {};
    }
    return "denied, but not by " + std::string(kCanaryRule) + ": " + message;
  }
  for (const auto& w : r.value("warnings", nlohmann::json::array())) {
    if (w.is_string() && w.get<std::string>().find("wirecheck/" + std::string(kCanaryRule)) != std::string::npos) {
      what = "allowed with warning wirecheck/" + std::string(kCanaryRule) + " (warn)";
      return {};
    }
  }
  return "allowed without the expected warning (audit mode, or the rule is disabled?)";
}

}  // namespace

int run_selftest(const Args& args) {
  std::string url;
  server::HttpsClientOptions options;
  std::chrono::milliseconds wait{0};
  FlagReader flags(args);
  while (!flags.done()) {
    const std::string flag = flags.next_flag();
    if (flag == "--help" || flag == "-h") {
      std::fputs(kSelftestUsage, stdout);
      return 0;
    }
    const auto value = flags.value();
    if (!value) {
      std::fprintf(stderr, "wirecheck selftest: %s needs a value\n%s", flag.c_str(), kSelftestUsage);
      return 2;
    }
    if (flag == "--url") url = *value;
    else if (flag == "--ca-file") options.ca_file = *value;
    else if (flag == "--client-cert-file") options.client_cert_file = *value;
    else if (flag == "--client-key-file") options.client_key_file = *value;
    else if (flag == "--wait") {
      const auto d = parse_duration(*value);
      if (!d) {
        std::fprintf(stderr, "wirecheck selftest: bad --wait %s\n", value->c_str());
        return 2;
      }
      wait = *d;
    } else {
      std::fprintf(stderr, "wirecheck selftest: unknown option %s\n%s", flag.c_str(), kSelftestUsage);
      return 2;
    }
  }
  std::string target;
  if (url.empty() || options.ca_file.empty() || !server::parse_https_url(url, options.host, options.port, target)) {
    std::fprintf(stderr, "wirecheck selftest: --url https://HOST:PORT/PATH and --ca-file are required\n%s",
                 kSelftestUsage);
    return 2;
  }

  const std::string uid = random_uid();
  const std::string body = canary_review(uid);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  server::HttpsClient client(options);
  while (!client.connect()) {
    if (client.failed_stage() != server::HttpsClient::Stage::kConnect ||
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  const std::string endpoint = options.host + ":" + std::to_string(options.port);
  if (!client.connected()) {
    if (client.failed_stage() == server::HttpsClient::Stage::kConnect) {
      std::printf("reachable:   FAIL %s\ncertificate: not checked\ndecision:    not checked\n", client.error().c_str());
    } else {
      std::printf("reachable:   ok (%s)\ncertificate: FAIL %s (host %s, CA %s)\ndecision:    not checked\n",
                  endpoint.c_str(), client.error().c_str(), options.host.c_str(), options.ca_file.c_str());
    }
    return 1;
  }
  std::printf("reachable:   ok (%s)\n", endpoint.c_str());
  std::printf("certificate: ok (verified for %s with %s; %s)\n", options.host.c_str(), options.ca_file.c_str(),
              client.tls_version().c_str());
  server::HttpResponse response;
  if (!client.post(target + (target.find('?') == std::string::npos ? "?timeout=10s" : ""), body, response)) {
    std::printf("decision:    FAIL %s\n", client.error().c_str());
    return 1;
  }
  std::string what;
  const std::string problem = check_answer(response, uid, what);
  if (!problem.empty()) {
    std::printf("decision:    FAIL %s\n", problem.c_str());
    return 1;
  }
  std::printf("decision:    ok (%s)\n", what.c_str());
  return 0;
}

}  // namespace wirecheck::cli
