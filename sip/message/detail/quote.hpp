// Quoting message octets inside error details: short, single-quoted, printable ASCII only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace b2b::sip::detail {

/// `'text'` with anything outside printable ASCII shown as '?' and at most `max` octets,
/// so a detail can go into a log line or a reason phrase as it is.
inline std::string quote(std::string_view s, std::size_t max = 40) {
    std::string out = "'";
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        out += (u >= 0x20 && u < 0x7F) ? s[i] : '?';
    }
    if (s.size() > max) out += "...";
    out += "'";
    return out;
}

}  // namespace b2b::sip::detail
