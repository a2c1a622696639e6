#include "loopback.hpp"

#include "rules/names.hpp"

#include <algorithm>
#include <cctype>
#include <list>
#include <unordered_map>

namespace wirecheck::rules {

namespace {

// One whitespace-separated word of the command line and where it came from.
// `text` views the container's own string, or CommandLine::owned when
// expansion or quote removal changed it: building the words allocates
// nothing for a command line without `$` or quotes.
struct Word {
  std::string_view text;
  bool in_args = false;     // args[index], else command[index]
  std::uint32_t index = 0;
};

// "args[2]", "command[0]".
std::string word_path(const Word& w) {
  return (w.in_args ? "args[" : "command[") + std::to_string(w.index) + "]";
}

struct CommandLine {
  std::vector<Word> words;
  // Texts that differ from the container's strings. A list: its strings
  // never move, so views into them stay valid, and an empty one allocates
  // nothing.
  std::list<std::string> owned;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_quote(char c) { return c == '"' || c == '\''; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Shell scripts (`sh -c "exec /app --bind-address=127.0.0.1:8080"`) carry
// flags inside one argument; splitting on whitespace finds them too. Quotes
// around a word are a shell's, not part of the value. `text` must outlive
// `line` (the container's string, or one of line.owned).
void append_words(std::string_view text, bool in_args, std::uint32_t index, CommandLine& line) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i == start) break;
    std::string_view word = text.substr(start, i - start);
    if (std::any_of(word.begin(), word.end(), is_quote)) {
      std::string& unquoted = line.owned.emplace_back(word);
      std::erase_if(unquoted, is_quote);
      word = unquoted;
    }
    line.words.push_back({word, in_args, index});
  }
}

// Expansion may add at most this many bytes per container, env values and
// command line together: a value can reference earlier ones several times,
// so unbounded expansion doubles with every variable (30 of them reach a
// terabyte). Real command lines add a few hundred bytes.
constexpr std::size_t kExpansionBudget = 64 * 1024;

template <typename Lookup>
std::string expand(std::string_view text, const Lookup& lookup, std::size_t& budget) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      ++i;
      continue;
    }
    char next = text[i + 1];
    if (next == '$') {  // escape: "$$" -> "$", so "$$(VAR)" stays "$(VAR)"
      out += '$';
      i += 2;
      continue;
    }
    if (next != '(') {
      out += '$';
      out += next;
      i += 2;
      continue;
    }
    std::size_t close = text.find(')', i + 2);
    if (close == std::string_view::npos) {  // unterminated: kept as written
      out += "$(";
      i += 2;
      continue;
    }
    std::string_view name = text.substr(i + 2, close - i - 2);
    const std::string_view written = text.substr(i, close - i + 1);
    const std::string* value = lookup(name);
    // Past the budget a reference stays as written: unresolved, as if the
    // variable were only known at runtime.
    if (value != nullptr && value->size() <= written.size() + budget) {
      if (value->size() > written.size()) budget -= value->size() - written.size();
      out += *value;
    } else {
      out.append(written);
    }
    i = close + 1;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> literal_env_within(const core::Container& container,
                                                                    std::size_t& budget) {
  // Workloads can carry hundreds of env vars (the 200 KB benchmark fixture has
  // 320), a hostile one ten thousand: index by name instead of searching, and
  // expand only values that reference other variables. `known[i]` is false
  // once a later valueFrom entry makes the name a runtime-only value.
  std::vector<std::pair<std::string, std::string>> vars;
  std::vector<bool> known;
  std::unordered_map<std::string, std::size_t> position;
  const auto defined_so_far = [&](std::string_view name) -> const std::string* {
    const auto it = position.find(std::string(name));
    return it != position.end() && known[it->second] ? &vars[it->second].second : nullptr;
  };
  for (const core::EnvVar& env : container.env) {
    std::string value;
    if (env.has_value) {
      value = env.value.find("$(") == std::string::npos ? env.value
                                                         : expand(env.value, defined_so_far, budget);
    }
    const auto [it, inserted] = position.try_emplace(env.name, vars.size());
    if (inserted) {
      vars.emplace_back(env.name, std::move(value));
      known.push_back(env.has_value);
    } else {
      vars[it->second].second = std::move(value);
      known[it->second] = env.has_value;
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (known[i]) out.push_back(std::move(vars[i]));
  }
  return out;
}

CommandLine command_line(const core::Container& container) {
  // The env only matters when the command line references it.
  std::size_t budget = kExpansionBudget;
  const auto vars = container.command_references_env() ? literal_env_within(container, budget)
                                               : std::vector<std::pair<std::string, std::string>>{};
  // Indexed once: a reference costs a lookup, not a scan of the env.
  std::unordered_map<std::string_view, const std::string*> by_name;
  for (const auto& [name, value] : vars) by_name.emplace(name, &value);
  const auto lookup = [&](std::string_view name) -> const std::string* {
    const auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  };
  CommandLine line;
  line.words.reserve(container.command.size() + container.args.size());
  const auto add = [&](const auto& texts, bool in_args) {  // command or args
    for (std::size_t i = 0; i < texts.size(); ++i) {
      std::string_view text = texts[i];
      // Only a `$` can change a text ("$(VAR)", "$$").
      if (text.find('$') != std::string_view::npos) text = line.owned.emplace_back(expand(text, lookup, budget));
      append_words(text, in_args, static_cast<std::uint32_t>(i), line);
    }
  };
  add(container.command, false);
  add(container.args, true);
  return line;
}

// "--metrics-addr" / "-metrics-addr" -> "metrics-addr" (Go's flag package
// accepts both prefixes).
std::string_view flag_name(std::string_view flag) {
  if (flag.starts_with("--")) return flag.substr(2);
  if (flag.starts_with("-")) return flag.substr(1);
  return flag;
}

// The last value of a wanted flag: `--flag=value` in one word, or
// `--flag value` in two (`separate`).
struct FlagValue {
  std::string_view name;   // normalised ("metrics-addr")
  std::string_view value;
  std::size_t word = 0;    // the flag's word
  bool separate = false;
};

// The flag as written after expansion: "--host=127.0.0.1" or "--host 127.0.0.1".
std::string written_of(const FlagValue& v, const std::vector<Word>& words) {
  std::string out(words[v.word].text);
  if (v.separate) {
    out += ' ';
    out += words[v.word + 1].text;
  }
  return out;
}

std::string path_of(const FlagValue& v, const std::vector<Word>& words) { return word_path(words[v.word]); }

// The last value of every flag `wanted(name)` accepts (normalised names), in
// both `--flag=value` and `--flag value` forms, in order of first
// appearance. Few flags are wanted, so a flat vector searched in place.
template <typename Wanted>
std::vector<FlagValue> last_values(const std::vector<Word>& words, const Wanted& wanted) {
  std::vector<FlagValue> found;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string_view word = words[i].text;
    if (word.size() < 2 || word[0] != '-' || word == "--") continue;
    std::string_view name = flag_name(word);
    FlagValue v{name, {}, i, false};
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      v.value = name.substr(eq + 1);
      v.name = name.substr(0, eq);
    } else {
      v.separate = true;
    }
    if (!wanted(v.name)) continue;
    if (v.separate) {
      if (i + 1 >= words.size() || words[i + 1].text.starts_with("-")) continue;
      v.value = words[i + 1].text;
    }
    const auto same = std::find_if(found.begin(), found.end(), [&](const FlagValue& f) { return f.name == v.name; });
    if (same == found.end()) {
      found.push_back(v);
    } else {
      *same = v;
    }
  }
  return found;
}

const FlagValue* value_of(const std::vector<FlagValue>& values, std::string_view name) {
  const auto it = std::find_if(values.begin(), values.end(), [&](const FlagValue& f) { return f.name == name; });
  return it == values.end() ? nullptr : &*it;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::int64_t> parse_port(std::string_view s) {
  s = trim(s);
  if (!all_digits(s) || s.size() > 5) return std::nullopt;
  std::int64_t port = 0;
  for (char c : s) port = port * 10 + (c - '0');
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

std::string strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::string(host);
}

// The scheme ("http") and the rest of a URL-ish value; scheme "" when none.
std::pair<std::string, std::string_view> split_scheme(std::string_view value) {
  if (auto pos = value.find("://"); pos != std::string_view::npos) {
    return {lower(value.substr(0, pos)), value.substr(pos + 3)};
  }
  return {"", value};
}

// host[:port] part of a URL-ish value: up to the first '/' (IPv6 literals are
// bracketed, so they hold no '/').
std::string_view authority(std::string_view rest) {
  if (auto slash = rest.find('/'); slash != std::string_view::npos) return rest.substr(0, slash);
  return rest;
}

}  // namespace

std::string expand_k8s_vars(std::string_view text,
                            const std::vector<std::pair<std::string, std::string>>& vars) {
  std::size_t budget = kExpansionBudget;
  return expand(
      text,
      [&](std::string_view name) -> const std::string* {
        auto it = std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
        return it == vars.end() ? nullptr : &it->second;
      },
      budget);
}

std::vector<std::pair<std::string, std::string>> literal_env(const core::Container& container) {
  std::size_t budget = kExpansionBudget;
  return literal_env_within(container, budget);
}


BindHost classify_host(std::string_view host) {
  std::string h = lower(strip_brackets(trim(host)));
  if (h.empty() || h == "0.0.0.0" || h == "::" || h == "*" || h == "0:0:0:0:0:0:0:0") {
    return BindHost::kAllInterfaces;
  }
  if (h == "localhost" || h == "ip6-localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1") {
    return BindHost::kLoopback;
  }
  // 127.0.0.0/8: a dotted quad starting with 127.
  if (h.starts_with("127.") && std::count(h.begin(), h.end(), '.') == 3 &&
      std::all_of(h.begin(), h.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); })) {
    return BindHost::kLoopback;
  }
  return BindHost::kOther;
}

std::optional<HostPort> parse_host_port(std::string_view value) {
  value = trim(value);
  auto [scheme, rest] = split_scheme(value);
  std::string_view auth = authority(rest);
  if (auth.starts_with("[")) {
    auto close = auth.find(']');
    if (close == std::string_view::npos || close + 1 >= auth.size() || auth[close + 1] != ':') {
      return std::nullopt;
    }
    auto port = parse_port(auth.substr(close + 2));
    if (!port) return std::nullopt;
    return HostPort{std::string(auth.substr(1, close - 1)), *port};
  }
  auto colon = auth.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = auth.substr(0, colon);
  // An unbracketed IPv6 address is ambiguous ("::1:8080"); Go rejects it too.
  if (host.find(':') != std::string_view::npos) return std::nullopt;
  auto port = parse_port(auth.substr(colon + 1));
  if (!port) return std::nullopt;
  return HostPort{std::string(host), *port};
}

namespace {

// The flag names (normalised) whose values find_binds reads.
std::vector<std::string_view> bind_flag_names(const policy::Settings& settings) {
  std::vector<std::string_view> names;
  for (const std::string& f : settings.listen_flags) names.push_back(flag_name(f));
  for (const policy::HostPortFlag& p : settings.host_port_flags) {
    names.push_back(flag_name(p.host_flag));
    names.push_back(flag_name(p.port_flag));
  }
  return names;
}

std::vector<Bind> binds_of(const CommandLine& line, const policy::Settings& settings,
                           const std::vector<std::string_view>& wanted) {
  if (wanted.empty()) return {};
  const std::vector<Word>& words = line.words;
  const std::vector<FlagValue> values = last_values(
      words, [&](std::string_view name) { return std::find(wanted.begin(), wanted.end(), name) != wanted.end(); });
  if (values.empty()) return {};

  std::vector<Bind> binds;
  for (const std::string& flag : settings.listen_flags) {
    const FlagValue* v = value_of(values, flag_name(flag));
    if (v == nullptr) continue;
    auto hp = parse_host_port(v->value);
    if (!hp) continue;  // no port (e.g. an IP-only --bind-address): nothing to judge
    Bind b;
    b.flag = flag;
    b.written = written_of(*v, words);
    b.host = strip_brackets(hp->host);
    b.port = hp->port;
    b.kind = classify_host(hp->host);
    b.path = path_of(*v, words);
    binds.push_back(std::move(b));
  }
  for (const policy::HostPortFlag& pair : settings.host_port_flags) {
    const FlagValue* host = value_of(values, flag_name(pair.host_flag));
    const FlagValue* port = value_of(values, flag_name(pair.port_flag));
    Bind b;
    b.pair = true;
    if (port != nullptr) {
      auto number = parse_port(port->value);
      if (!number) continue;  // unresolved $(VAR) or garbage: unknown
      b.port = *number;
    } else if (host != nullptr && pair.default_port) {
      b.port = *pair.default_port;
      b.port_defaulted = true;
    } else {
      continue;
    }
    b.flag = pair.host_flag;
    if (host != nullptr) {
      b.host = strip_brackets(trim(host->value));
      b.kind = classify_host(host->value);
      b.written = written_of(*host, words);
      if (port != nullptr) b.written += " " + written_of(*port, words);
      b.path = path_of(*host, words);
    } else {
      b.kind = BindHost::kDefault;
      b.written = written_of(*port, words);
      b.path = path_of(*port, words);
    }
    binds.push_back(std::move(b));
  }
  return binds;
}

std::vector<Upstream> upstreams_of(const CommandLine& line) {
  const std::vector<FlagValue> values =
      last_values(line.words, [](std::string_view name) { return name == "upstream"; });
  std::vector<Upstream> out;
  if (values.empty()) return out;
  const FlagValue& v = values.front();
  auto [scheme, rest] = split_scheme(trim(v.value));
  std::string_view auth = authority(rest);
  Upstream u;
  u.written = written_of(v, line.words);
  u.path = path_of(v, line.words);
  if (auto hp = parse_host_port(auth)) {
    u.host = strip_brackets(hp->host);
    u.port = hp->port;
  } else if (!auth.empty() && (scheme == "http" || scheme == "https")) {
    u.host = strip_brackets(auth);
    u.port = scheme == "https" ? 443 : 80;
  } else {
    return out;
  }
  // An empty host in a URL is not "all interfaces": it is no address at all.
  if (u.host.empty()) return out;
  u.kind = classify_host(u.host);
  out.push_back(std::move(u));
  return out;
}

}  // namespace

std::vector<Bind> find_binds(const core::Container& container, const policy::Settings& settings) {
  return binds_of(command_line(container), settings, bind_flag_names(settings));
}

std::vector<Upstream> find_upstreams(const core::Container& container) { return upstreams_of(command_line(container)); }

PodBinds::PodBinds(const core::PodTemplate& pod, const policy::Settings& settings) {
  // One reading of each command line gives both its binds and its upstreams.
  const std::vector<std::string_view> wanted = bind_flag_names(settings);
  for (const auto* list : {&pod.containers, &pod.init_containers}) {
    for (const core::Container& c : *list) {
      const CommandLine line = command_line(c);
      for (Bind& b : binds_of(line, settings, wanted)) binds_.push_back({&c, std::move(b)});
      for (Upstream& u : upstreams_of(line)) upstreams_.push_back({&c, std::move(u)});
    }
  }
  // First matches in pod order, so that lookups answer what a scan of
  // binds_ would, in constant time: rules look up a port per probe or per
  // upstream, and a pod may have a thousand of each.
  for (std::size_t i = 0; i < binds_.size(); ++i) {
    const ContainerBind& cb = binds_[i];
    By& by = by_port_[cb.bind.port];
    if (cb.bind.kind == BindHost::kLoopback) {
      if (by.loopback == kNone) by.loopback = i;
      continue;
    }
    if (by.reachable == kNone) by.reachable = i;
    if (cb.bind.kind != BindHost::kAllInterfaces && cb.bind.kind != BindHost::kDefault) continue;
    if (by.all_first == kNone) {
      by.all_first = i;
    } else if (by.all_other == kNone && binds_[by.all_first].container != cb.container) {
      by.all_other = i;
    }
  }
}

const ContainerBind* PodBinds::at(std::int64_t port, std::size_t By::*which) const {
  const auto it = by_port_.find(port);
  if (it == by_port_.end() || it->second.*which == kNone) return nullptr;
  return &binds_[it->second.*which];
}

const ContainerBind* PodBinds::loopback(std::int64_t port) const { return at(port, &By::loopback); }

const ContainerBind* PodBinds::reachable(std::int64_t port) const { return at(port, &By::reachable); }

const ContainerBind* PodBinds::all_interfaces(std::int64_t port,
                                              const core::Container* except) const {
  // The first such bind, or when that one is `except`'s, the first by any
  // other container.
  const ContainerBind* first = at(port, &By::all_first);
  if (first == nullptr || first->container != except) return first;
  return at(port, &By::all_other);
}

const PodBinds& pod_binds(const policy::RuleInput& in, const core::PodTemplate& pod) {
  return in.memo.get<PodBinds>(&pod, [&] { return PodBinds(pod, in.settings); });
}

std::string rebind_all_interfaces(const Bind& bind) {
  if (bind.pair) return bind.flag + "=0.0.0.0";
  return bind.flag + "=:" + std::to_string(bind.port);
}

std::string rebind_loopback(const Bind& bind) {
  if (bind.pair) return bind.flag + "=127.0.0.1";
  return bind.flag + "=127.0.0.1:" + std::to_string(bind.port);
}

std::string format_host_port(std::string_view host, std::int64_t port) {
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

}  // namespace wirecheck::rules
