// KubeConfig: where the API server is and how to authenticate to it, from
// the pod's service account (in-cluster) or from a kubeconfig file, the two
// ways kubectl and client-go find a cluster. Only what wirecheck's client
// uses is read: server, certificate-authority(-data), token(-file),
// client-certificate/key(-data), insecure-skip-tls-verify. Exec plugins and
// auth providers are not supported and are reported as an error.
//
// Pure values; loading reads files and returns errors as values.
#pragma once

#include <string>
#include <string_view>

#include "wirecheck/result.hpp"

namespace wirecheck::cluster {

struct KubeConfig {
  std::string server;        // "https://host:port"
  std::string host;          // parsed from server
  int port = 443;
  std::string base_path;     // path prefix of server ("" mostly)
  std::string ca_file;       // PEM file to verify the server with
  std::string ca_pem;        // or the PEM text itself (certificate-authority-data)
  bool insecure_skip_verify = false;  // only when the kubeconfig says so
  std::string token;         // static bearer token
  std::string token_file;    // re-read on every request (rotating SA tokens)
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string origin;        // "in-cluster" or "<file> (context <name>)" for logs
};

// In-cluster: KUBERNETES_SERVICE_HOST/PORT and the files under
// `sa_dir` (default /var/run/secrets/kubernetes.io/serviceaccount).
core::Result<KubeConfig> in_cluster_config(
    std::string_view sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// A kubeconfig file; `context` "" means current-context. Relative file paths
// in it are relative to the file's directory (as kubectl does).
core::Result<KubeConfig> load_kubeconfig(const std::string& path, const std::string& context = "");

// What `serve --cluster` uses: --kubeconfig if given, else $KUBECONFIG (first
// entry), else in-cluster when KUBERNETES_SERVICE_HOST is set, else
// ~/.kube/config.
core::Result<KubeConfig> resolve_config(const std::string& kubeconfig_flag, const std::string& context);

// Splits "https://host:port/prefix". Only https is accepted.
core::Status parse_server(std::string_view server, KubeConfig& out);

// The current bearer token: the static token, or the token file re-read now.
// "" when none is configured; an error when the file cannot be read.
core::Result<std::string> current_token(const KubeConfig& config);

}  // namespace wirecheck::cluster
