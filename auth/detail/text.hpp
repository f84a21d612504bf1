// Small text helpers shared by the auth sources: ASCII case folding, hex, SIP character classes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace b2b::auth::detail {

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

constexpr bool is_hex_digit(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// SP or HTAB.
constexpr bool is_wsp(char c) noexcept {
    return c == ' ' || c == '\t';
}

/// RFC 3261 §25.1 token characters, plus the extra RFC 7230 tchar ones ("#$&^|") that HTTP
/// stacks emit: accepting them costs nothing and they cannot be confused with separators here.
constexpr bool is_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '-':
        case '.':
        case '!':
        case '%':
        case '*':
        case '_':
        case '+':
        case '`':
        case '\'':
        case '~':
        case '#':
        case '$':
        case '&':
        case '^':
        case '|':
            return true;
        default:
            return false;
    }
}

constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_token_char(c)) return false;
    return true;
}

/// Lower-case hex of raw bytes.
std::string to_hex(std::span<const std::uint8_t> bytes);

std::string to_lower(std::string_view s);

/// A peer-supplied value made safe for a log line: control bytes become '?', and anything past
/// `max` bytes is cut and marked with "...". Bytes >= 0x80 (UTF-8) are kept.
std::string printable(std::string_view s, std::size_t max = 100);

/// Strips SP, HTAB, CR and LF from both ends.
std::string_view trim_lws(std::string_view s) noexcept;

}  // namespace b2b::auth::detail
