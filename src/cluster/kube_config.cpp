#include "cluster/kube_config.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wirecheck::cluster {
namespace {

namespace fs = std::filesystem;
using core::Result;

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Result<std::string>::failure("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> base64_decode(const std::string& text, const std::string& what) {
  std::string clean;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') clean += c;
  }
  if (clean.empty() || clean.size() % 4 != 0) return Result<std::string>::failure(what + " is not base64");
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return Result<std::string>::failure(what + " is not base64");
  std::size_t len = static_cast<std::size_t>(n);
  if (clean.size() >= 1 && clean[clean.size() - 1] == '=') --len;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string scalar(const YAML::Node& node, const char* key) {
  const YAML::Node v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

std::string resolve_path(const std::string& file, const fs::path& dir) {
  if (file.empty()) return file;
  const fs::path p(file);
  return p.is_absolute() ? file : (dir / p).string();
}

// The body (`field`) of the entry named `name` in a kubeconfig list, e.g.
// named(root, "clusters", "cluster", "kind-dev").
YAML::Node named(const YAML::Node& root, const char* list, const char* field, const std::string& name) {
  const YAML::Node items = root[list];
  if (items && items.IsSequence()) {
    for (const YAML::Node& item : items) {
      if (item.IsMap() && scalar(item, "name") == name) return item[field];
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// `<field>-data` (base64) or `<field>` (a file), as PEM text.
core::Status pem_from(const YAML::Node& node, const std::string& field, const fs::path& dir, std::string& out) {
  const std::string data = scalar(node, (field + "-data").c_str());
  if (!data.empty()) {
    auto decoded = base64_decode(data, field + "-data");
    if (!decoded) return core::Status::failure(decoded.error());
    out = std::move(*decoded);
    return core::ok_status();
  }
  const std::string file = scalar(node, field.c_str());
  if (file.empty()) return core::ok_status();
  auto text = read_file(resolve_path(file, dir));
  if (!text) return core::Status::failure(field + ": " + text.error());
  out = std::move(*text);
  return core::ok_status();
}

}  // namespace

core::Status parse_server(std::string_view server, KubeConfig& out) {
  constexpr std::string_view kScheme = "https://";
  if (server.substr(0, kScheme.size()) != kScheme) {
    return core::Status::failure("server \"" + std::string(server) + "\" is not an https:// URL");
  }
  std::string_view rest = server.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  out.base_path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  std::string_view hostport = rest.substr(0, slash);
  std::string_view host = hostport;
  out.port = 443;
  if (!hostport.empty() && hostport.front() == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) return core::Status::failure("server has a bad IPv6 address");
    host = hostport.substr(1, close - 1);
    std::string_view tail = hostport.substr(close + 1);
    if (!tail.empty() && tail.front() == ':') {
      out.port = std::atoi(std::string(tail.substr(1)).c_str());
    }
  } else if (const std::size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    out.port = std::atoi(std::string(hostport.substr(colon + 1)).c_str());
  }
  if (host.empty() || out.port <= 0 || out.port > 65535) {
    return core::Status::failure("server \"" + std::string(server) + "\" has no usable host:port");
  }
  out.host = std::string(host);
  out.server = std::string(server);
  return core::ok_status();
}

core::Result<KubeConfig> in_cluster_config(std::string_view sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return Result<KubeConfig>::failure("not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  KubeConfig cfg;
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  if (auto s = parse_server("https://" + h + ":" + port, cfg); !s) return Result<KubeConfig>::failure(s.error());
  const std::string dir(sa_dir);
  cfg.token_file = dir + "/token";
  cfg.ca_file = dir + "/ca.crt";
  if (!fs::exists(cfg.token_file)) return Result<KubeConfig>::failure("no service-account token at " + cfg.token_file);
  if (!fs::exists(cfg.ca_file)) return Result<KubeConfig>::failure("no service-account CA at " + cfg.ca_file);
  cfg.origin = "in-cluster";
  return cfg;
}

core::Result<KubeConfig> load_kubeconfig(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Result<KubeConfig>::failure("kubeconfig " + path + ": " + e.what());
  }
  const auto fail = [&](const std::string& why) { return Result<KubeConfig>::failure("kubeconfig " + path + ": " + why); };
  if (!root.IsMap()) return fail("not a YAML mapping");
  const std::string context_name = context.empty() ? scalar(root, "current-context") : context;
  if (context_name.empty()) return fail("no current-context and no --context given");
  const YAML::Node ctx = named(root, "contexts", "context", context_name);
  if (!ctx || !ctx.IsMap()) return fail("no context named \"" + context_name + "\"");
  const std::string cluster_name = scalar(ctx, "cluster");
  const std::string user_name = scalar(ctx, "user");
  const YAML::Node cluster = named(root, "clusters", "cluster", cluster_name);
  if (!cluster || !cluster.IsMap()) return fail("context \"" + context_name + "\" names no known cluster \"" + cluster_name + "\"");
  const fs::path dir = fs::absolute(fs::path(path)).parent_path();

  KubeConfig cfg;
  cfg.origin = path + " (context " + context_name + ")";
  try {
    if (auto s = parse_server(scalar(cluster, "server"), cfg); !s) return fail(s.error());
    if (auto s = pem_from(cluster, "certificate-authority", dir, cfg.ca_pem); !s) return fail(s.error());
    cfg.insecure_skip_verify = scalar(cluster, "insecure-skip-tls-verify") == "true";
    const YAML::Node user = named(root, "users", "user", user_name);
    if (user && user.IsMap()) {
      if (user["exec"] || user["auth-provider"]) {
        return fail("user \"" + user_name + "\" uses an exec plugin or auth provider, which wirecheck does not run; "
                    "use a token, token file or client certificate");
      }
      cfg.token = scalar(user, "token");
      cfg.token_file = resolve_path(scalar(user, "tokenFile"), dir);
      if (auto s = pem_from(user, "client-certificate", dir, cfg.client_cert_pem); !s) return fail(s.error());
      if (auto s = pem_from(user, "client-key", dir, cfg.client_key_pem); !s) return fail(s.error());
      if (cfg.client_cert_pem.empty() != cfg.client_key_pem.empty()) {
        return fail("user \"" + user_name + "\" has a client certificate without key, or a key without certificate");
      }
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return cfg;
}

core::Result<KubeConfig> resolve_config(const std::string& kubeconfig_flag, const std::string& context) {
  if (!kubeconfig_flag.empty()) return load_kubeconfig(kubeconfig_flag, context);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string first(env);
    first = first.substr(0, first.find(':'));
    return load_kubeconfig(first, context);
  }
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host != nullptr && *host != '\0' && context.empty()) {
    return in_cluster_config();
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr) return core::Result<KubeConfig>::failure("no kubeconfig: set --kubeconfig or $KUBECONFIG");
  return load_kubeconfig(std::string(home) + "/.kube/config", context);
}

core::Result<std::string> current_token(const KubeConfig& config) {
  if (!config.token_file.empty()) {
    auto text = read_file(config.token_file);
    if (!text) return core::Result<std::string>::failure("token file: " + text.error());
    std::string token = std::move(*text);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    return token;
  }
  return config.token;
}

}  // namespace wirecheck::cluster
