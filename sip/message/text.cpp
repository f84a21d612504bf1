// Text helpers for SIP values: case folding, trimming, unquoting, parameter lookup.
#include "sip/message/text.hpp"

#include "sip/message/detail/chars.hpp"

namespace b2b::sip {

std::string_view trim_lws(std::string_view s) noexcept {
    const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && ws(s[b])) ++b;
    while (e > b && ws(s[e - 1])) --e;
    return s.substr(b, e - b);
}

bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        if (!detail::is(c, detail::cc_token)) return false;
    }
    return true;
}

std::string unquote(std::string_view s) {
    s = trim_lws(s);
    if (s.empty() || s.front() != '"') return std::string(s);
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '"') break;
        if (c == '\\' && i + 1 < s.size()) {
            out += s[++i];
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string_view> find_param(std::string_view s, std::string_view name) noexcept {
    using detail::skip_lws;
    std::size_t i = 0;
    // Each pass consumes at least one octet, so the loop ends within s.size() passes.
    while (i < s.size()) {
        skip_lws(s, i);
        if (i < s.size() && s[i] == ';') {
            ++i;
            skip_lws(s, i);
        }
        const std::size_t name_start = i;
        while (i < s.size() && s[i] != '=' && s[i] != ';' && s[i] != ',' && !detail::is_wsp(s[i]) &&
               s[i] != '\r' && s[i] != '"') {
            ++i;
        }
        const std::string_view pname = s.substr(name_start, i - name_start);
        skip_lws(s, i);
        std::optional<std::string_view> value = std::string_view{};
        if (i < s.size() && s[i] == '=') {
            ++i;
            skip_lws(s, i);
            const std::size_t vstart = i;
            if (i < s.size() && s[i] == '"') {
                if (!detail::scan_quoted(s, i)) i = s.size();
            } else {
                while (i < s.size() && s[i] != ';' && s[i] != ',' && !detail::is_wsp(s[i]) &&
                       s[i] != '\r') {
                    ++i;
                }
            }
            value = s.substr(vstart, i - vstart);
        }
        if (!pname.empty() && iequals(pname, name)) return value;
        // Skip whatever does not belong to a parameter, up to the next ';'.
        while (i < s.size() && s[i] != ';') {
            if (s[i] == '"') {
                if (!detail::scan_quoted(s, i)) return std::nullopt;
            } else {
                ++i;
            }
        }
    }
    return std::nullopt;
}

}  // namespace b2b::sip
