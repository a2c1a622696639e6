// Transport rows of the issue: 405, 415, 411, 404, 413 before the body is
// read (and the connection closed), 400 for non-JSON or non-AdmissionReview
// bodies with a JSON error body, TLS version and ALPN.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "server_fixture.hpp"

using namespace wirecheck;
using namespace wirecheck::servertest;

namespace {

std::string request_head(const std::string& method, const std::string& target, int port,
                         const std::string& headers) {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + headers +
         "\r\n";
}

// One handshake with 127.0.0.1:port from a client limited to `max_version`
// that prefers AES-256 (the server's order must win), offering `session` for
// resumption when not null. Sends a request and reads the answer, so a TLS 1.3
// ticket has arrived. Returns the session to resume next time.
struct Handshake {
  std::string cipher;
  bool reused = false;
  SSL_SESSION* session = nullptr;
};
Handshake handshake(int port, int max_version, SSL_SESSION* session) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(ctx, max_version);
  REQUIRE(SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                       "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256") == 1);
  REQUIRE(SSL_CTX_set_ciphersuites(ctx, "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256") == 1);
  const int fd = tcp_connect(port);
  REQUIRE(fd >= 0);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (session != nullptr) SSL_set_session(ssl, session);
  REQUIRE(SSL_connect(ssl) == 1);
  const std::string request = "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0);
  char buf[4096];
  REQUIRE(SSL_read(ssl, buf, sizeof buf) > 0);
  Handshake out{SSL_get_cipher_name(ssl), SSL_session_reused(ssl) == 1, SSL_get1_session(ssl)};
  // The client closes first, with close_notify: an end of stream without it
  // would mark the session not resumable.
  SSL_shutdown(ssl);
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return out;
}

json status_body(const server::HttpResponse& r) {
  const json body = json::parse(r.body, nullptr, false);
  REQUIRE_FALSE(body.is_discarded());
  return body;
}

}  // namespace

TEST_CASE("transport: bad requests are refused with the right status and a JSON body", "[server]") {
  Harness harness;
  auto client = harness.client();
  server::HttpResponse r;

  SECTION("wrong method -> 405 with Allow: POST") {
    REQUIRE(client->get("/validate", r));
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST");
    CHECK(status_body(r)["code"] == 405);
  }
  SECTION("wrong content type -> 415") {
    REQUIRE(client->post("/validate", servicemonitor_review(good_endpoints()).dump(), r, "text/plain"));
    CHECK(r.status == 415);
    CHECK(status_body(r)["reason"] == "UnsupportedMediaType");
  }
  SECTION("content type with parameters is accepted") {
    REQUIRE(client->post("/validate", servicemonitor_review(good_endpoints()).dump(), r,
                         "Application/JSON; charset=utf-8"));
    CHECK(r.status == 200);
  }
  SECTION("unknown path -> 404") {
    REQUIRE(client->post("/mutate", "{}", r));
    CHECK(r.status == 404);
    CHECK(status_body(r)["code"] == 404);
  }
  SECTION("chunked body -> 411") {
    REQUIRE(client->send_raw(request_head("POST", "/validate", harness.port(),
                                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n") +
                             "2\r\n{}\r\n0\r\n\r\n"));
    REQUIRE(client->read_response(r));
    CHECK(r.status == 411);
  }
  SECTION("non-JSON body -> 400 with a JSON error body") {
    REQUIRE(client->post("/validate", "this is not json", r));
    CHECK(r.status == 400);
    const json body = status_body(r);
    CHECK(body["response"]["allowed"] == false);
    CHECK(body["response"]["status"]["code"] == 400);
    CHECK_THAT(body["response"]["status"]["message"].get<std::string>(), Catch::Contains("not valid JSON"));
  }
  SECTION("JSON that is not an AdmissionReview -> 400") {
    REQUIRE(client->post("/validate", R"({"kind":"Deployment","apiVersion":"apps/v1"})", r));
    CHECK(r.status == 400);
    REQUIRE(client->post("/validate", R"([1,2,3])", r));
    CHECK(r.status == 400);
  }
  SECTION("an AdmissionReview with a bad request still echoes its uid in the 400") {
    json review = servicemonitor_review(good_endpoints(), "uid-bad-op");
    review["request"]["operation"] = "EXPLODE";
    REQUIRE(client->post("/validate", review.dump(), r));
    CHECK(r.status == 400);
    CHECK(status_body(r)["response"]["uid"] == "uid-bad-op");
  }
  SECTION("the connection survives refusals without a body") {
    REQUIRE(client->get("/validate", r));
    REQUIRE(client->post("/validate", servicemonitor_review(good_endpoints()).dump(), r));
    CHECK(r.status == 200);
  }
}

TEST_CASE("transport: body over the limit -> 413 before the body is sent and the connection closed", "[server]") {
  Harness harness;  // default limit 8 MiB
  auto client = harness.client();
  // Announce 9 MiB, send none of it: the answer must come anyway.
  REQUIRE(client->send_raw(request_head("POST", "/validate?timeout=10s", harness.port(),
                                        "Content-Type: application/json\r\nContent-Length: 9437184\r\n")));
  server::HttpResponse r;
  REQUIRE(client->read_response(r));
  CHECK(r.status == 413);
  CHECK(json::parse(r.body)["code"] == 413);
  CHECK(client->peer_closed(std::chrono::milliseconds(3000)));
  CHECK_THAT(harness.metrics().render(), Catch::Contains("wirecheck_http_rejected_requests_total{code=\"413\"} 1"));
}

TEST_CASE("transport: the body limit is configurable", "[server]") {
  Harness harness(with_body_limit(1024));
  auto client = harness.client();
  server::HttpResponse r;
  REQUIRE(client->post("/validate", servicemonitor_review(good_endpoints()).dump(), r));
  CHECK(r.status == 413);
  auto second = harness.client();
  REQUIRE(second->post("/validate", R"({"kind":"AdmissionReview"})", r));
  CHECK(r.status == 400);
}

TEST_CASE("transport: TLS 1.3 with ALPN http/1.1 and no SNI for an IP while TLS 1.1 is refused", "[server]") {
  Harness harness;
  auto client = harness.client();
  REQUIRE(client->connect());
  CHECK(client->tls_version() == "TLSv1.3");
  CHECK(client->negotiated_alpn() == "http/1.1");
  auto by_name = std::make_unique<server::HttpsClient>(harness.client_options("localhost"));
  CHECK(by_name->connect());

  CHECK_FALSE(tls11_handshake_succeeds(harness.port()));
}

TEST_CASE("transport: the server's cipher order (AES-128-GCM first) wins and tickets resume sessions", "[server][tls]") {
  Harness harness;
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    const Handshake full = handshake(harness.port(), version, nullptr);
    CHECK_FALSE(full.reused);
    CHECK(full.cipher == (version == TLS1_3_VERSION ? "TLS_AES_128_GCM_SHA256" : "ECDHE-ECDSA-AES128-GCM-SHA256"));
    REQUIRE(full.session != nullptr);
    const Handshake resumed = handshake(harness.port(), version, full.session);
    CHECK(resumed.reused);
    SSL_SESSION_free(full.session);
    SSL_SESSION_free(resumed.session);
  }
}
