// Character classes of the RFC 3261 §25.1 grammar and the small scanners built on them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace b2b::sip::detail {

// One bit per character class; a 256-entry table answers "is c in class X" in one load.
enum char_class : std::uint16_t {
    cc_alpha = 1U << 0,
    cc_digit = 1U << 1,
    cc_hex = 1U << 2,
    cc_token = 1U << 3,       // token
    cc_word = 1U << 4,        // word (Call-ID)
    cc_user = 1U << 5,        // user: unreserved / user-unreserved ('%' escapes apart)
    cc_password = 1U << 6,    // password ('%' escapes apart)
    cc_param = 1U << 7,       // paramchar ('%' escapes apart)
    cc_hnv = 1U << 8,         // hname / hvalue chars ('%' escapes apart)
    cc_host = 1U << 9,        // hostname / IPv4 characters (alphanum, '-', '.', '_')
    cc_scheme = 1U << 10,     // scheme characters after the first
    cc_uric = 1U << 11,       // uric (reserved / unreserved) plus '[' ']' for opaque URIs
    cc_gen_value = 1U << 12,  // unquoted gen-value: token / host (with ':' '[' ']')
};

constexpr bool in_set(char c, std::string_view set) noexcept {
    for (char s : set) {
        if (s == c) return true;
    }
    return false;
}

constexpr std::array<std::uint16_t, 256> make_char_table() noexcept {
    std::array<std::uint16_t, 256> t{};
    constexpr std::string_view mark = "-_.!~*'()";
    constexpr std::string_view token_extra = "-.!%*_+`'~";
    constexpr std::string_view word_extra = "-.!%*_+`'~()<>:\\\"/[]?{}";
    // '#' is not in RFC 3261's user set, but PBXs put feature codes ("*72#") in user parts
    // unescaped; refusing them would break real dial plans.
    constexpr std::string_view user_extra = "&=+$,;?/#";
    constexpr std::string_view password_extra = "&=+$,";
    constexpr std::string_view param_extra = "[]/:&+$";
    constexpr std::string_view hnv_extra = "[]/?:+$";
    constexpr std::string_view reserved = ";/?:@&=+$,";
    for (int i = 0; i < 256; ++i) {
        const char c = static_cast<char>(i);
        std::uint16_t v = 0;
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        const bool alnum = alpha || digit;
        const bool unreserved = alnum || in_set(c, mark);
        if (alpha) v |= cc_alpha;
        if (digit) v |= cc_digit;
        if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= cc_hex;
        if (alnum || in_set(c, token_extra)) v |= cc_token | cc_gen_value;
        if (alnum || in_set(c, word_extra)) v |= cc_word;
        if (unreserved || in_set(c, user_extra)) v |= cc_user;
        if (unreserved || in_set(c, password_extra)) v |= cc_password;
        if (unreserved || in_set(c, param_extra)) v |= cc_param;
        if (unreserved || in_set(c, hnv_extra)) v |= cc_hnv;
        if (alnum || c == '-' || c == '.' || c == '_') v |= cc_host;
        if (alnum || c == '+' || c == '-' || c == '.') v |= cc_scheme;
        if (unreserved || in_set(c, reserved) || c == '[' || c == ']') v |= cc_uric;
        if (c == ':' || c == '[' || c == ']') v |= cc_gen_value;
        t[static_cast<std::size_t>(i)] = v;
    }
    return t;
}

inline constexpr std::array<std::uint16_t, 256> char_table = make_char_table();

constexpr bool is(char c, std::uint16_t cls) noexcept {
    return (char_table[static_cast<unsigned char>(c)] & cls) != 0;
}

constexpr bool is_wsp(char c) noexcept {
    return c == ' ' || c == '\t';
}
constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

/// Skips SP, HT and folds (CRLF followed by SP or HT) from `i`; returns how many octets.
constexpr std::size_t skip_lws(std::string_view s, std::size_t& i) noexcept {
    const std::size_t start = i;
    while (i < s.size()) {
        const char c = s[i];
        if (is_wsp(c)) {
            ++i;
        } else if (c == '\r' && i + 2 < s.size() && s[i + 1] == '\n' && is_wsp(s[i + 2])) {
            i += 3;
        } else {
            break;
        }
    }
    return i - start;
}

/// Advances `i` over characters of `cls` and well-formed %HH escapes. Returns false at a
/// malformed escape (i then points at its '%').
constexpr bool scan_escaped(std::string_view s, std::size_t& i, std::uint16_t cls) noexcept {
    while (i < s.size()) {
        const char c = s[i];
        if (is(c, cls)) {
            ++i;
        } else if (c == '%') {
            if (i + 2 < s.size() && is(s[i + 1], cc_hex) && is(s[i + 2], cc_hex)) {
                i += 3;
            } else {
                return false;
            }
        } else {
            break;
        }
    }
    return true;
}

/// `s[i]` is '"'. Moves `i` past the closing quote of a quoted-string (RFC 3261 §25.1:
/// qdtext, UTF-8, folds and quoted-pairs, which may escape any octet but CR and LF).
/// Returns false when the string is unterminated or holds a raw control character.
constexpr bool scan_quoted(std::string_view s, std::size_t& i) noexcept {
    ++i;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"') {
            ++i;
            return true;
        }
        if (c == '\\') {
            if (i + 1 >= s.size()) return false;
            const auto d = static_cast<unsigned char>(s[i + 1]);
            if (d == '\r' || d == '\n' || d > 0x7F) return false;
            i += 2;
        } else if (c == '\r') {
            if (i + 2 < s.size() && s[i + 1] == '\n' && is_wsp(s[i + 2])) {
                i += 3;
            } else {
                return false;
            }
        } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return false;
        } else {
            ++i;
        }
    }
    return false;
}

/// Decimal digits from `i` into `value`; false when there are none or the number exceeds
/// `limit` (the scan still stops at the first non-digit, so `i` is usable for messages).
constexpr bool scan_number(std::string_view s, std::size_t& i, std::uint64_t limit,
                           std::uint64_t& value) noexcept {
    const std::size_t start = i;
    bool over = false;
    value = 0;
    while (i < s.size() && is_digit(s[i])) {
        if (!over) {
            value = value * 10 + static_cast<std::uint64_t>(s[i] - '0');
            if (value > limit) over = true;
        }
        ++i;
    }
    return i > start && !over;
}

}  // namespace b2b::sip::detail
