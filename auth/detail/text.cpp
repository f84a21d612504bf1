// Text helpers shared by the auth sources.
#include "auth/detail/text.hpp"

namespace b2b::auth::detail {

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0x0F];
    }
    return out;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

std::string printable(std::string_view s, std::size_t max) {
    const bool cut = s.size() > max;
    if (cut) s = s.substr(0, max);
    std::string out;
    out.reserve(s.size() + 3);
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7F) ? '?' : c;
    }
    if (cut) out += "...";
    return out;
}

std::string_view trim_lws(std::string_view s) noexcept {
    auto is_lws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && is_lws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_lws(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace b2b::auth::detail
