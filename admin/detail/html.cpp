// HTML escaping for the status page.
#include "admin/detail/html.hpp"

#include <cstdint>

namespace b2b::admin::detail {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629 §4: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
    const auto tail = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
    const std::uint8_t lead = b(0);
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return tail(1) ? 2 : 0;
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (!tail(1) || !tail(2)) return 0;
        if (lead == 0xE0 && b(1) < 0xA0) return 0;  // overlong
        if (lead == 0xED && b(1) > 0x9F) return 0;  // surrogates
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (!tail(1) || !tail(2) || !tail(3)) return 0;
        if (lead == 0xF0 && b(1) < 0x90) return 0;  // overlong
        if (lead == 0xF4 && b(1) > 0x8F) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
    out.reserve(out.size() + text.size());
    while (!text.empty()) {
        const char c = text.front();
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: {
                const auto u = static_cast<std::uint8_t>(c);
                const bool control = (u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7F;
                const std::size_t n = control ? 0 : utf8_sequence(text);
                if (n == 0) {
                    out += replacement;
                    text.remove_prefix(1);
                } else {
                    out.append(text.substr(0, n));
                    text.remove_prefix(n);
                }
                continue;
            }
        }
        text.remove_prefix(1);
    }
}

std::string escape(std::string_view text) {
    std::string out;
    append_escaped(out, text);
    return out;
}

}  // namespace b2b::admin::detail
