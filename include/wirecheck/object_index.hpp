// ObjectIndex: the in-memory Context over a fixed set of objects (the
// manifests given to `lint`, a test's fixture documents). Built once, then
// read-only: safe for concurrent readers. It does not own the objects; they
// must outlive the index.
//
// Every lookup rules make goes through a hash index, so linting n objects
// costs O(n) whatever the namespace layout: by name, by selectable label
// pair (per kind and namespace, and per kind across namespaces), by
// annotation pair, Services by one pair of their selector, Certificates by
// the Secret they write, client configs and route backends by the Service
// they name, monitors by the namespaces they look in.
//
// The index keys view the objects' own text (namespace, name, label and
// annotation pairs, selector, secret name, ...) instead of copying it: the
// objects must also stay unmodified while the index lives. Each kind has
// its own tables, so asking about a kind the input does not hold (most
// workload kinds, for most Service selectors) finds an empty table without
// touching memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wirecheck/context.hpp"

namespace wirecheck::policy {

class ObjectIndex final : public Context {
 public:
  // `complete` marks a whole-cluster view (audit).
  explicit ObjectIndex(bool complete = false) : complete_(complete) {}

  void add(const core::Object& object);
  template <typename Range>
  void add_all(const Range& objects) {
    for (const core::Object& o : objects) add(o);
  }

  // An object (already added) that lint placed in `default` only because the
  // input did not say where it goes: find() then also answers a lookup of
  // its kind and name from any namespace, since the install may be applied
  // to the namespace the reference names.
  void add_defaulted(const core::Object& object);

  // A kind whose objects could not be read (an audit LIST that failed):
  // rules that need it are skipped instead of seeing it as empty.
  void mark_unknown(core::Kind kind) { unknown_[static_cast<std::size_t>(kind)] = true; }

  bool knows(core::Kind kind) const override { return !unknown_[static_cast<std::size_t>(kind)]; }
  bool complete() const override { return complete_; }
  // Lint and the one-shot audit evaluate every indexed object.
  bool judges_whole_view() const override { return true; }
  const core::Object* find(core::Kind kind, std::string_view ns,
                           std::string_view name) const override;
  std::vector<const core::Object*> list(core::Kind kind, std::string_view ns) const override;
  std::vector<const core::Object*> list_all(core::Kind kind) const override;
  std::vector<const core::Object*> list_matching(core::Kind kind, std::string_view ns,
                                                 const core::LabelSelector& selector) const override;
  std::vector<const core::Object*> list_all_matching(core::Kind kind,
                                                     const core::LabelSelector& selector) const override;
  std::vector<const core::Object*> list_all_annotated(core::Kind kind, std::string_view key,
                                                      std::string_view value) const override;
  std::vector<const core::Object*> services_selecting(std::string_view ns,
                                                      const core::StringMap& labels) const override;
  std::vector<const core::Object*> certificates_writing(
      std::string_view ns, std::initializer_list<std::string_view> secret_names) const override;
  std::vector<const core::Object*> list_all_calling(core::Kind kind, std::string_view ns,
                                                    std::string_view name) const override;
  std::vector<const core::Object*> list_all_monitoring(core::Kind kind, std::string_view ns) const override;
  std::vector<const core::Object*> list_all_routing_to(core::Kind kind, std::string_view ns,
                                                       std::string_view name) const override;

  // An indexed object and its position in the order added, which orders
  // results merged from several lists.
  struct Entry {
    std::size_t seq;
    const core::Object* object;
  };

 private:
  // Up to three parts (each table uses a fixed number) and their hash,
  // computed once when the key is made.
  struct Key {
    std::array<std::string_view, 3> parts;
    std::size_t hash;
    explicit Key(std::string_view a, std::string_view b = {}, std::string_view c = {});
    friend bool operator==(const Key& x, const Key& y) { return x.hash == y.hash && x.parts == y.parts; }
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const noexcept { return key.hash; }
  };
  // The entries of one key, in the order added.
  using Postings = std::vector<Entry>;
  using Table = std::unordered_map<Key, Postings, KeyHash>;
  // The first object added under a key.
  using FirstTable = std::unordered_map<Key, Entry, KeyHash>;
  // Everything indexed about one kind.
  struct KindTables {
    Postings all;
    Table by_ns;          // ns
    FirstTable by_name;   // ns, name (first added wins, as a scan would)
    Table labeled;        // ns, key, value
    Table labeled_all;    // key, value
    Table annotated;      // key, value
    FirstTable defaulted; // name: objects placed in `default` by lint
    Table calling;        // ns, name of a Service a client config calls
    Table monitoring;     // ns a monitor looks in
    Postings monitoring_any;  // monitors that look in every namespace
    Table routing;        // ns, name of a Service a route's backend names
  };

  // Appends `e` to the list of `key` unless it is already its last entry
  // (an object naming the same Service or namespace twice).
  static void add_once(Table& table, const Key& key, const Entry& e);

  static const Postings* lookup(const Table& table, const Key& key);
  // The objects of several lists, each once, in the order added.
  static std::vector<const core::Object*> merged(std::vector<Entry> found);
  // Objects of `all` that `selector` matches, looked up through the shortest
  // list of `pairs` keyed by the namespace (none: every namespace) and a
  // matchLabels pair.
  static std::vector<const core::Object*> matching(const Table& pairs, const Postings* all,
                                                   std::optional<std::string_view> ns,
                                                   const core::LabelSelector& selector);

  bool complete_;
  std::array<bool, core::kKindCount> unknown_{};
  std::size_t seq_ = 0;
  std::array<KindTables, core::kKindCount> kinds_;
  Table selecting_;  // ns, key, value: Services by the first pair of their selector
  Table by_secret_;  // ns, secret: Certificates by spec.secretName
};

}  // namespace wirecheck::policy
