// A glance at an unparsed SIP message: enough to screen it before the parser runs.
#include "security/peek.hpp"

#include <algorithm>

namespace b2b::security {

namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower(x) == lower(y);
           });
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// The user part of a sip:, sips: or tel: URI (RFC 3261 §19.1.1, RFC 3966 §3), parameters cut.
std::string_view uri_user(std::string_view uri) noexcept {
    if (istarts_with(uri, "tel:")) {
        uri.remove_prefix(4);
        return uri.substr(0, uri.find(';'));
    }
    if (istarts_with(uri, "sip:")) {
        uri.remove_prefix(4);
    } else if (istarts_with(uri, "sips:")) {
        uri.remove_prefix(5);
    } else {
        return {};
    }
    const auto at = uri.find('@');
    if (at == std::string_view::npos) return {};
    auto user = uri.substr(0, at);
    user = user.substr(0, user.find(';'));  // user parameters (RFC 3261 §19.1.1: telephone-subscriber)
    return user.substr(0, user.find(':'));  // a password, never used but legal
}

}  // namespace

std::optional<start_line> peek_start_line(std::string_view bytes) noexcept {
    const auto eol = bytes.find('\n');
    auto line = bytes.substr(0, eol);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.starts_with("SIP/")) return start_line{false, {}, {}};
    const auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return std::nullopt;
    const auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return std::nullopt;
    start_line out;
    out.request = true;
    out.method = line.substr(0, sp1);
    out.user = uri_user(line.substr(sp1 + 1, sp2 - sp1 - 1));
    return out;
}

std::optional<std::string_view> peek_header(std::string_view bytes, std::string_view name,
                                            std::string_view compact) noexcept {
    // Skip the start line; stop at the empty line that ends the header section (§7).
    auto pos = bytes.find('\n');
    while (pos != std::string_view::npos && pos + 1 < bytes.size()) {
        const auto begin = pos + 1;
        const auto end = bytes.find('\n', begin);
        const auto line = bytes.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
        if (line.empty() || line == "\r") return std::nullopt;
        const auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            const auto field = trim(line.substr(0, colon));
            if (iequals(field, name) || (!compact.empty() && iequals(field, compact))) {
                return trim(line.substr(colon + 1));
            }
        }
        pos = end;
    }
    return std::nullopt;
}

bool contains_ignoring_case(std::string_view text, std::string_view needle) noexcept {
    if (needle.empty()) return true;
    return std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                       [](char x, char y) { return lower(x) == lower(y); }) != text.end();
}

}  // namespace b2b::security
