// The Kubernetes API client (Beast over net::TlsClient) against a scripted
// TLS server that writes its answers byte by byte: framing, streaming,
// cancel, keep-alive and what is verified. Waits are bounded waits for an
// outcome, never assertions on speed.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>

#include "cluster/api_client.hpp"
#include "loopback_listener.hpp"
#include "scripted_https_server.hpp"

using namespace wirecheck;
using namespace wirecheck::clustertest;
using servertest::eventually;
using servertest::Pem;
using servertest::TempDir;
using servertest::TestCert;

namespace {

constexpr const char* kEvent1 = R"({"type":"ADDED","object":{"metadata":{"name":"one","resourceVersion":"2"}}})" "\n";
constexpr const char* kEvent2 = R"({"type":"MODIFIED","object":{"metadata":{"name":"one","resourceVersion":"3"}}})" "\n";
constexpr const char* kEvent3 = R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"4"}}})" "\n";

struct Pki {
  std::unique_ptr<TestCert> ca = TestCert::ca("api client test CA");
  Pem serving(const std::string& sans = "DNS:localhost,IP:127.0.0.1", const std::string& cn = "apiserver") const {
    return ca->issue(cn, 2, sans)->pem();
  }
  cluster::KubeConfig config(int port, const std::string& host = "127.0.0.1", const std::string& path = "") const {
    cluster::KubeConfig cfg;
    REQUIRE(cluster::parse_server("https://" + host + ":" + std::to_string(port) + path, cfg).ok());
    cfg.ca_pem = ca->pem().cert;
    return cfg;
  }
};

// Answers every request on every connection with 200 and `body`, keep-alive.
ScriptedHttpsServer::Script answer_all(const std::string& body, std::atomic<int>* requests = nullptr) {
  return [body, requests](ScriptedConnection& c, int) {
    while (!c.read_request().empty()) {
      if (requests != nullptr) ++*requests;
      c.send(http_answer(200, body));
    }
  };
}

// Cuts `bytes` at every offset in `cuts` and sends the pieces as separate records.
void send_in_pieces(ScriptedConnection& c, const std::string& bytes, std::vector<std::size_t> cuts) {
  std::size_t from = 0;
  cuts.push_back(bytes.size());
  for (const std::size_t to : cuts) {
    c.send(bytes.substr(from, to - from));
    from = to;
  }
}

}  // namespace

TEST_CASE("api client: a watch body reaches on_data as it arrives, cut anywhere (head, chunk size, CRLF, event)",
          "[cluster][api-client]") {
  Pki pki;
  std::atomic<bool> first_event_seen{false};
  std::atomic<bool> rest_waited_for_first{false};
  ScriptedHttpsServer server(pki.serving(), [&](ScriptedConnection& c, int) {
    REQUIRE(c.read_request().rfind("GET /api/v1/services?watch=1 HTTP/1.1\r\n", 0) == 0);
    send_in_pieces(c, kChunkedHead, {5, 17, kChunkedHead.size() - 2});
    const std::string first = http_chunk(kEvent1);
    // Inside the size line, between CR and LF, inside the event, before the trailing CRLF.
    send_in_pieces(c, first, {1, 3, 10, first.size() - 2, first.size() - 1});
    // The rest only once the client has handed the first event on.
    rest_waited_for_first = eventually([&] { return first_event_seen.load() || server.stopping(); });
    send_in_pieces(c, http_chunk(kEvent2) + http_chunk(kEvent3) + "0\r\n\r\n", {7});
    c.client_closed();
  });
  cluster::ApiClient client(pki.config(server.port()));
  std::string data;
  auto status = client.stream("/api/v1/services?watch=1", std::chrono::milliseconds(60000), [&](std::string_view d) {
    data.append(d);
    if (data.size() >= std::string(kEvent1).size()) first_event_seen = true;
    return true;
  });
  REQUIRE(status.ok());
  CHECK(*status == 200);
  CHECK(rest_waited_for_first);
  CHECK(data == std::string(kEvent1) + kEvent2 + kEvent3);
}

TEST_CASE("api client: cancel() from another thread ends a watch blocked in a read, the connection is closed",
          "[cluster][api-client]") {
  Pki pki;
  std::atomic<bool> closed_by_client{false};
  ScriptedHttpsServer server(pki.serving(), [&](ScriptedConnection& c, int) {
    c.read_request();
    c.send(kChunkedHead + http_chunk(kEvent1));
    closed_by_client = c.client_closed();  // nothing more: the client's read blocks
  });
  cluster::ApiClientOptions options;
  options.read_timeout = std::chrono::milliseconds(600000);
  cluster::ApiClient client(pki.config(server.port()), options);
  std::atomic<bool> got_event{false};
  auto watch = std::async(std::launch::async, [&] {
    return client.stream("/api/v1/services?watch=1", std::chrono::milliseconds(600000), [&](std::string_view) {
      got_event = true;
      return true;
    });
  });
  REQUIRE(eventually([&] { return got_event.load(); }));
  client.cancel();
  REQUIRE(watch.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  const auto status = watch.get();
  REQUIRE_FALSE(status.ok());
  CHECK(status.error() == "GET /api/v1/services?watch=1: cancelled");
  CHECK(eventually([&] { return closed_by_client.load(); }));
}

TEST_CASE("api client: cancel() during a TLS handshake the server never answers ends the connect",
          "[cluster][api-client]") {
  // A listening socket nobody accepts from: TCP connects, the ClientHello is never answered.
  const testing::LoopbackListener listener = testing::listen_on_loopback(4);
  const int fd = listener.fd;
  Pki pki;
  cluster::ApiClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(600000);
  cluster::ApiClient client(pki.config(listener.port), options);
  auto request = std::async(std::launch::async, [&] { return client.get("/api"); });
  // Once the connection waits in the accept queue, the client is in its handshake.
  REQUIRE(eventually([&] {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }));
  client.cancel();
  const bool ended = request.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  ::close(fd);
  REQUIRE(ended);
  const auto response = request.get();
  REQUIRE_FALSE(response.ok());
  CHECK(response.error() == "GET /api: cancelled");
}

TEST_CASE("api client: a cancel between two requests ends the next request only", "[cluster][api-client]") {
  Pki pki;
  ScriptedHttpsServer server(pki.serving(), answer_all(R"({"kind":"APIVersions"})"));
  cluster::ApiClient client(pki.config(server.port()));
  REQUIRE(client.get("/api").ok());
  client.cancel();
  const auto cancelled = client.get("/api");
  REQUIRE_FALSE(cancelled.ok());
  CHECK(cancelled.error() == "GET /api: cancelled");
  const auto after = client.get("/api");
  REQUIRE(after.ok());
  CHECK(after->status == 200);
  CHECK(after->body == R"({"kind":"APIVersions"})");
}

TEST_CASE("api client: a server that closes in the middle of a watch ends it with an error, after what it sent",
          "[cluster][api-client]") {
  Pki pki;
  ScriptedHttpsServer server(pki.serving(), [&](ScriptedConnection& c, int) {
    c.read_request();
    c.send(kChunkedHead + http_chunk(kEvent1) + "40\r\n{\"type\":\"ADD");  // no final chunk
  });
  cluster::ApiClient client(pki.config(server.port()));
  std::string data;
  const auto status = client.stream("/api/v1/services?watch=1", std::chrono::milliseconds(60000),
                                    [&](std::string_view d) {
                                      data.append(d);
                                      return true;
                                    });
  REQUIRE_FALSE(status.ok());
  CHECK(status.error() ==
        "GET /api/v1/services?watch=1: connection closed by the server in the middle of the body");
  CHECK(data == std::string(kEvent1) + "{\"type\":\"ADD");
}

TEST_CASE("api client: a watch answered with an error status returns it, its body in error_body, not on_data",
          "[cluster][api-client]") {
  Pki pki;
  const std::string gone = R"({"kind":"Status","code":410,"reason":"Expired"})";
  ScriptedHttpsServer expired(pki.serving(), [&](ScriptedConnection& c, int) {
    c.read_request();
    c.send(http_answer(410, gone));
    c.client_closed();
  });
  cluster::ApiClient client(pki.config(expired.port()));
  bool called = false;
  std::string error_body;
  const auto status = client.stream(
      "/api/v1/services?watch=1", std::chrono::milliseconds(60000),
      [&](std::string_view) {
        called = true;
        return true;
      },
      &error_body);
  REQUIRE(status.ok());
  CHECK(*status == 410);
  CHECK(error_body == gone);
  CHECK_FALSE(called);
}

TEST_CASE("api client: on_data returning false ends the stream with its status and drops the connection",
          "[cluster][api-client]") {
  Pki pki;
  ScriptedHttpsServer server(pki.serving(), [&](ScriptedConnection& c, int index) {
    if (index == 0) {
      c.read_request();
      c.send(kChunkedHead + http_chunk(kEvent1));
      c.client_closed();
      return;
    }
    while (!c.read_request().empty()) c.send(http_answer(200, "{}"));
  });
  cluster::ApiClient client(pki.config(server.port()));
  const auto status = client.stream("/api/v1/services?watch=1", std::chrono::milliseconds(60000),
                                    [](std::string_view) { return false; });
  REQUIRE(status.ok());
  CHECK(*status == 200);
  // The unread rest of the watch must not become the next answer.
  const auto next = client.get("/api");
  REQUIRE(next.ok());
  CHECK(next->body == "{}");
  CHECK(server.connections() == 2);
}

TEST_CASE("api client: the server's name is verified as Go does (DNS SANs, IP SANs, never the Common Name)",
          "[cluster][api-client]") {
  struct Row {
    std::string host;  // in the kubeconfig's server URL
    std::string sans;
    std::string cn;
    bool trusted;
  };
  const auto row = GENERATE(Row{"localhost", "DNS:localhost", "apiserver", true},
                            Row{"localhost", "DNS:other.example", "apiserver", false},
                            Row{"localhost", "", "localhost", false},
                            Row{"127.0.0.1", "IP:127.0.0.1", "apiserver", true},
                            Row{"127.0.0.1", "DNS:localhost", "127.0.0.1", false},
                            Row{"127.0.0.1", "DNS:127.0.0.1", "apiserver", false});
  CAPTURE(row.host, row.sans, row.cn);
  Pki pki;
  std::atomic<int> requests{0};
  ScriptedHttpsServer server(pki.serving(row.sans, row.cn), answer_all("{}", &requests));
  cluster::ApiClient client(pki.config(server.port(), row.host));
  const auto response = client.get("/api");
  if (row.trusted) {
    REQUIRE(response.ok());
    CHECK(response->status == 200);
    CHECK(requests == 1);
  } else {
    REQUIRE_FALSE(response.ok());
    CHECK(response.error().rfind("GET /api: certificate verification failed: ", 0) == 0);
    CHECK(requests == 0);
  }
}

TEST_CASE("api client: a server no configured CA signed is refused; insecure-skip-tls-verify accepts it",
          "[cluster][api-client]") {
  Pki pki;
  Pki other;
  ScriptedHttpsServer server(other.serving("DNS:other.example"), answer_all("{}"));
  auto cfg = pki.config(server.port());
  SECTION("verified") {
    cluster::ApiClient client(cfg);
    const auto response = client.get("/api");
    REQUIRE_FALSE(response.ok());
    CHECK(response.error().rfind("GET /api: certificate verification failed: ", 0) == 0);
  }
  SECTION("insecure-skip-tls-verify") {
    cfg.insecure_skip_verify = true;
    cluster::ApiClient client(cfg);
    const auto response = client.get("/api");
    REQUIRE(response.ok());
    CHECK(response->status == 200);
  }
}

TEST_CASE("api client: the CA from a file verifies the server as the CA from -data does", "[cluster][api-client]") {
  Pki pki;
  TempDir dir;
  ScriptedHttpsServer server(pki.serving(), answer_all("{}"));
  auto cfg = pki.config(server.port());
  cfg.ca_file = pki.ca->write(dir.path(), "ca");
  cfg.ca_pem.clear();
  cluster::ApiClient client(cfg);
  REQUIRE(client.get("/api").ok());
  cfg.ca_file = dir.file("missing.crt");
  cluster::ApiClient missing(cfg);
  const auto response = missing.get("/api");
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().find("cannot load CA file") != std::string::npos);
}

TEST_CASE("api client: the client certificate from the kubeconfig's data is presented", "[cluster][api-client]") {
  Pki pki;
  const Pem client_pair = pki.ca->issue("wirecheck-client", 3, "", true)->pem();
  std::string presented;
  ScriptedHttpsServer server(
      pki.serving(),
      [&](ScriptedConnection& c, int) {
        presented = c.peer_common_name();
        while (!c.read_request().empty()) c.send(http_answer(200, "{}"));
      },
      pki.ca->pem().cert);
  auto cfg = pki.config(server.port());
  SECTION("with the pair") {
    cfg.client_cert_pem = client_pair.cert;
    cfg.client_key_pem = client_pair.key;
    cluster::ApiClient client(cfg);
    const auto response = client.get("/api");
    REQUIRE(response.ok());
    CHECK(response->status == 200);
    CHECK(presented == "wirecheck-client");
  }
  SECTION("without one the server's refusal is named") {
    cluster::ApiClient client(cfg);
    const auto response = client.get("/api");
    REQUIRE_FALSE(response.ok());
    CHECK(response.error().find("client certificate required") != std::string::npos);
  }
  SECTION("a key that is not PEM") {
    cfg.client_cert_pem = client_pair.cert;
    cfg.client_key_pem = "not a key";
    cluster::ApiClient client(cfg);
    const auto response = client.get("/api");
    REQUIRE_FALSE(response.ok());
    CHECK(response.error().find("cannot load client certificate") != std::string::npos);
  }
}

TEST_CASE("api client: consecutive requests share one connection; one the server closed while idle is replaced",
          "[cluster][api-client]") {
  Pki pki;
  std::atomic<bool> first_closed{false};
  ScriptedHttpsServer server(pki.serving(), [&](ScriptedConnection& c, int index) {
    if (index == 0) {
      c.read_request();
      c.send(http_answer(200, "a"));
      c.read_request();
      c.send(http_answer(200, "b"));
      c.close();
      first_closed = true;
      return;
    }
    while (!c.read_request().empty()) c.send(http_answer(200, "c"));
  });
  cluster::ApiClient client(pki.config(server.port()));
  CHECK(client.get("/api")->body == "a");
  CHECK(client.get("/api")->body == "b");
  CHECK(server.connections() == 1);
  REQUIRE(eventually([&] { return first_closed.load(); }));
  const auto third = client.get("/api");
  REQUIRE(third.ok());
  CHECK(third->body == "c");
  CHECK(server.connections() == 2);
}

TEST_CASE("api client: a GET the server drops unanswered on a reused connection is sent again; a POST is not",
          "[cluster][api-client]") {
  Pki pki;
  std::atomic<int> dropped{0};
  // The first connection answers one request, then drops the next unanswered.
  ScriptedHttpsServer server(pki.serving(), [&](ScriptedConnection& c, int index) {
    if (index == 0) {
      c.read_request();
      c.send(http_answer(200, "first"));
      if (!c.read_request().empty()) ++dropped;
      return;
    }
    while (!c.read_request().empty()) c.send(http_answer(200, "again"));
  });
  cluster::ApiClient client(pki.config(server.port()));
  REQUIRE(client.get("/api")->body == "first");
  SECTION("GET") {
    const auto retried = client.get("/api");
    REQUIRE(retried.ok());
    CHECK(retried->body == "again");
    CHECK(dropped == 1);
    CHECK(server.connections() == 2);
  }
  SECTION("POST") {
    const auto post = client.send("POST", "/apis/coordination.k8s.io/v1/namespaces/x/leases", "{}");
    REQUIRE_FALSE(post.ok());
    CHECK(post.error() == "POST /apis/coordination.k8s.io/v1/namespaces/x/leases: "
                          "connection closed by the server before an answer");
    CHECK(dropped == 1);
    CHECK(server.connections() == 1);
  }
}

TEST_CASE("api client: a write carries method, base path, content type, body and the token read again",
          "[cluster][api-client]") {
  Pki pki;
  TempDir dir;
  std::mutex mutex;
  std::vector<std::string> requests;
  ScriptedHttpsServer server(pki.serving(), [&](ScriptedConnection& c, int) {
    for (std::string r = c.read_request(); !r.empty(); r = c.read_request()) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        requests.push_back(r);
      }
      c.send(http_answer(201, R"({"kind":"PolicyReport"})"));
    }
  });
  auto cfg = pki.config(server.port(), "127.0.0.1", "/prefix");
  cfg.token_file = dir.file("token");
  servertest::write_text(cfg.token_file, "token-1\n");
  cluster::ApiClient client(cfg);
  const std::string body = "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n";
  const auto written = client.send("PATCH", "/apis/wgpolicyk8s.io/v1alpha2/namespaces/a/policyreports/r?fieldManager=wirecheck",
                                   body, "application/apply-patch+yaml");
  REQUIRE(written.ok());
  CHECK(written->status == 201);
  CHECK(written->body == R"({"kind":"PolicyReport"})");
  servertest::write_text(cfg.token_file, "token-2\n");
  REQUIRE(client.get("/api").ok());
  std::lock_guard<std::mutex> lock(mutex);
  REQUIRE(requests.size() == 2);
  const std::string& patch = requests[0];
  CHECK(patch.rfind("PATCH /prefix/apis/wgpolicyk8s.io/v1alpha2/namespaces/a/policyreports/r?fieldManager=wirecheck "
                    "HTTP/1.1\r\n",
                    0) == 0);
  CHECK(patch.find("\r\nContent-Type: application/apply-patch+yaml\r\n") != std::string::npos);
  CHECK(patch.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  CHECK(patch.find("\r\nAuthorization: Bearer token-1\r\n") != std::string::npos);
  CHECK(patch.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n") != std::string::npos);
  CHECK(patch.substr(patch.size() - body.size()) == body);
  const std::string& get = requests[1];
  CHECK(get.rfind("GET /prefix/api HTTP/1.1\r\n", 0) == 0);
  CHECK(get.find("\r\nAuthorization: Bearer token-2\r\n") != std::string::npos);
  CHECK(get.find("Content-Length") == std::string::npos);
}

TEST_CASE("api client: answers delimited by Content-Length, by chunks and by the connection's end are read whole",
          "[cluster][api-client]") {
  const std::string large(100 * 1024 + 7, 'x');  // several times the decoding buffer
  struct Row {
    std::string name;
    std::string answer;
    std::vector<std::size_t> cuts;  // where the answer is cut into records
    bool close_after;
  };
  const std::string content_length = http_answer(200, large);
  const std::size_t head_end = content_length.find("\r\n\r\n") + 4;
  const auto row = GENERATE_COPY(
      Row{"content-length", content_length, {}, false},
      Row{"content-length, head and body in separate records", content_length, {head_end}, false},
      Row{"chunked", kChunkedHead + http_chunk(large.substr(0, 70000)) + http_chunk(large.substr(70000)) + "0\r\n\r\n",
          {kChunkedHead.size()}, false},
      Row{"until the connection ends", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + large, {50},
          true});
  CAPTURE(row.name);
  Pki pki;
  ScriptedHttpsServer server(pki.serving(), [&](ScriptedConnection& c, int) {
    c.read_request();
    send_in_pieces(c, row.answer, row.cuts);
    if (!row.close_after) c.client_closed();
  });
  cluster::ApiClient client(pki.config(server.port()));
  const auto response = client.get("/api/v1/configmaps?limit=500");
  REQUIRE(response.ok());
  CHECK(response->status == 200);
  CHECK(response->body == large);
}

TEST_CASE("api client: an answer that is not HTTP is an error, not a status", "[cluster][api-client]") {
  Pki pki;
  ScriptedHttpsServer server(pki.serving(), [&](ScriptedConnection& c, int) {
    c.read_request();
    c.send("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    c.client_closed();
  });
  cluster::ApiClient client(pki.config(server.port()));
  const auto response = client.get("/api");
  REQUIRE_FALSE(response.ok());
  CHECK(response.error().rfind("GET /api: malformed HTTP answer: ", 0) == 0);
}
