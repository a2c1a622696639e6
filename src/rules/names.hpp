// Names and text shared by rule families: ASCII case folding, edit distance, joining, and TLS
// certificate name verification (the way Go's crypto/x509, and so the API
// server and Prometheus, match a DNS name against a certificate's SANs).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wirecheck::rules {

std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// Edit distance for "did you mean": insertions, deletions, substitutions
// and transpositions of adjacent characters, one edit each (optimal string
// alignment).
std::size_t edit_distance(std::string_view a, std::string_view b);
// The items with `sep` between them ("a, b, c").
std::string join(const std::vector<std::string>& items, std::string_view sep);

// Whether a certificate SAN verifies `name`: equal ignoring case, or a `*.`
// wildcard covering exactly one leftmost label.
bool san_covers(std::string_view san, std::string_view name);

}  // namespace wirecheck::rules
