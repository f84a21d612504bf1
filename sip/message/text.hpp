// Text helpers for SIP values: ASCII case folding, LWS trimming, quoted strings, parameters.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace b2b::sip {

/// ASCII-only lower-casing: SIP names are ASCII (RFC 3261 §7.3.1) and must never be folded
/// through the C locale.
constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Case-insensitive ASCII equality (header names, parameter names, schemes, hosts).
/// Inline: the parser calls it for every header name and parameter.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

/// Case-insensitive ASCII prefix test.
constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// Removes SP, HT, CR and LF at both ends, so a folded value (CRLF followed by SP or HT)
/// loses the fold at its edges but keeps any inside.
std::string_view trim_lws(std::string_view s) noexcept;

/// True when `s` is a non-empty RFC 3261 token (§25.1).
bool is_token(std::string_view s) noexcept;

/// When `s` (trimmed) is a quoted-string, returns its content with quoted-pairs resolved
/// ("\"a\\\"b\"" gives `a"b`); otherwise returns the trimmed text unchanged. An unterminated
/// quoted string yields what follows the opening quote.
std::string unquote(std::string_view s);

/// Looks up `name` (case-insensitive) in a raw parameter list such as ";a=1 ; b = \"x;y\";c"
/// as held by `uri::params`, `via::params` or `name_addr::params`. LWS around ';' and '='
/// and quoted values are understood. Returns the value as written (quotes kept), an empty
/// view for a parameter without '=', or nullopt when absent. Never reads past `params`.
std::optional<std::string_view> find_param(std::string_view params, std::string_view name) noexcept;

/// Calls `fn(item)` for each item of a comma-separated header value (RFC 3261 §7.3.1), trimmed,
/// empty items skipped, until `fn` returns true; returns whether it did. Commas inside a
/// quoted string or inside <...> do not split ("Doe, John" <sip:a@b>, <tel:+1>).
template <class Fn>
bool any_item_of(std::string_view value, Fn&& fn) {
    bool quoted = false;
    bool angled = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        const char c = i < value.size() ? value[i] : ',';
        if (quoted) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                quoted = false;
            }
            continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            angled = true;
        } else if (c == '>') {
            angled = false;
        } else if (c == ',' && !angled) {
            if (const auto item = trim_lws(value.substr(start, i - start)); !item.empty() && fn(item)) return true;
            start = i + 1;
        }
    }
    return false;
}

}  // namespace b2b::sip
