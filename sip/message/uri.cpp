// URI parsing (RFC 3261 §19.1, §25.1), comparison (§19.1.4) and %HH decoding.
#include "sip/message/uri.hpp"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <cstring>

#include <algorithm>
#include <iterator>
#include <tuple>
#include <utility>
#include <vector>

#include "sip/message/detail/chars.hpp"
#include "sip/message/detail/host.hpp"
#include "sip/message/detail/quote.hpp"
#include "sip/message/text.hpp"

namespace b2b::sip {

namespace detail {

bool valid_ipv4(std::string_view s) noexcept {
    // One pass: four parts of 1-3 digits, each at most 255, separated by three dots.
    int dots = 0;
    int digits = 0;
    unsigned part = 0;
    for (char c : s) {
        if (is_digit(c)) {
            part = part * 10 + static_cast<unsigned>(c - '0');
            if (++digits > 3 || part > 255) return false;
        } else if (c == '.') {
            if (digits == 0 || ++dots > 3) return false;
            digits = 0;
            part = 0;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

bool valid_ipv6(std::string_view s) noexcept {
    if (s.empty()) return false;
    std::size_t i = 0;
    int groups = 0;
    bool compressed = false;
    if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = true;
        i = 2;
        if (i == s.size()) return true;
    } else if (s[0] == ':') {
        return false;
    }
    // Each pass consumes one group and its separator; at most 8 groups are accepted.
    while (i < s.size()) {
        std::size_t j = i;
        while (j < s.size() && is(s[j], cc_hex)) ++j;
        if (j < s.size() && s[j] == '.') {
            if (!valid_ipv4(s.substr(i))) return false;
            groups += 2;
            i = s.size();
            break;
        }
        if (j == i || j - i > 4) return false;
        ++groups;
        if (groups > 8) return false;
        i = j;
        if (i == s.size()) break;
        if (s[i] != ':') return false;
        ++i;
        if (i < s.size() && s[i] == ':') {
            if (compressed) return false;
            compressed = true;
            ++i;
        } else if (i == s.size()) {
            return false;  // a single trailing ':'
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

namespace {

bool valid_hostname(std::string_view h) noexcept {
    // hostname = *( domainlabel "." ) toplabel [ "." ]; labels do not start or end with '-'.
    // '_' is tolerated: it appears in real host names and in SRV-style labels.
    if (h.back() == '.') h.remove_suffix(1);
    if (h.empty()) return false;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= h.size(); ++i) {
        if (i == h.size() || h[i] == '.') {
            if (i == start) return false;
            if (h[start] == '-' || h[i - 1] == '-') return false;
            start = i + 1;
        }
    }
    return true;
}

}  // namespace

bool scan_host(std::string_view s, std::size_t& i, std::string_view& host,
               host_kind& kind) noexcept {
    const std::size_t start = i;
    if (i < s.size() && s[i] == '[') {
        const std::size_t close = s.find(']', i);
        if (close == std::string_view::npos) return false;
        if (!valid_ipv6(s.substr(i + 1, close - i - 1))) return false;
        host = s.substr(start, close + 1 - start);
        kind = host_kind::ipv6;
        i = close + 1;
        return true;
    }
    bool numeric = true;
    while (i < s.size() && is(s[i], cc_host)) {
        if (!is_digit(s[i]) && s[i] != '.') numeric = false;
        ++i;
    }
    if (i == start) return false;
    host = s.substr(start, i - start);
    if (numeric) {
        // Digits and dots only: not a host name (a toplabel starts with a letter), so it
        // must be an IPv4 address.
        kind = host_kind::ipv4;
        return valid_ipv4(host);
    }
    kind = host_kind::name;
    return valid_hostname(host);
}

bool scan_port(std::string_view s, std::size_t& i, std::uint16_t& port) noexcept {
    std::uint64_t v = 0;
    if (!scan_number(s, i, 65535, v) || v == 0) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}

}  // namespace detail

namespace {

parse_error uri_error(std::string_view what, std::string_view text) {
    std::string d(what);
    d += " in ";
    d += detail::quote(text, 64);
    return {errc::bad_uri, std::move(d)};
}

}  // namespace

std::optional<std::string_view> uri::param(std::string_view name) const noexcept {
    return find_param(params, name);
}

std::string_view uri::transport() const noexcept {
    return param("transport").value_or(std::string_view{});
}

std::string_view uri::host_without_brackets() const noexcept {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        return host.substr(1, host.size() - 2);
    }
    return host;
}

parse_result<uri> parse_uri(std::string_view text) noexcept {
    using namespace detail;
    uri u;
    u.text = text;
    const std::size_t n = text.size();
    if (n == 0) return parse_error{errc::bad_uri, "empty URI"};
    if (!is(text[0], cc_alpha)) return uri_error("no scheme", text);
    std::size_t i = 1;
    while (i < n && is(text[i], cc_scheme)) ++i;
    if (i >= n || text[i] != ':') return uri_error("no scheme", text);
    u.scheme = text.substr(0, i);
    ++i;
    if (iequals(u.scheme, "sip")) {
        u.sip = true;
    } else if (iequals(u.scheme, "sips")) {
        u.sips = true;
    } else {
        // absoluteURI (RFC 3261 §25.1, RFC 2396): passed through, never routed on.
        u.opaque = text.substr(i);
        if (u.opaque.empty()) return uri_error("empty URI after the scheme", text);
        std::size_t k = i;
        if (!scan_escaped(text, k, cc_uric) || k != n) return uri_error("bad character", text);
        return u;
    }

    // userinfo: the first '@' ends it (user may hold ';', '?', '/', RFC 3261 §19.1.1).
    const std::size_t at = text.find('@', i);
    if (at != std::string_view::npos) {
        const std::string_view userinfo = text.substr(i, at - i);
        u.has_user = true;
        const std::size_t colon = userinfo.find(':');
        u.user = userinfo.substr(0, colon);
        std::size_t k = 0;
        if (!scan_escaped(u.user, k, cc_user) || k != u.user.size()) {
            return uri_error("bad user part", text);
        }
        if (colon != std::string_view::npos) {
            u.password = userinfo.substr(colon + 1);
            k = 0;
            if (!scan_escaped(u.password, k, cc_password) || k != u.password.size()) {
                return uri_error("bad password", text);
            }
        }
        i = at + 1;
    }

    if (!scan_host(text, i, u.host, u.host_type)) return uri_error("bad host", text);
    if (i < n && text[i] == ':') {
        ++i;
        if (!scan_port(text, i, u.port)) return uri_error("bad port", text);
    }

    if (i < n && text[i] == ';') {
        const std::size_t start = i;
        while (i < n && text[i] == ';') {
            ++i;
            std::size_t k = i;
            if (!scan_escaped(text, i, cc_param)) return uri_error("bad escape", text);
            if (i == k) return uri_error("empty parameter", text);
            if (i < n && text[i] == '=') {
                k = ++i;
                if (!scan_escaped(text, i, cc_param)) return uri_error("bad escape", text);
                if (i == k) return uri_error("empty parameter value", text);
            }
        }
        u.params = text.substr(start, i - start);
    }

    if (i < n && text[i] == '?') {
        const std::size_t start = ++i;
        for (;;) {
            const std::size_t k = i;
            if (!scan_escaped(text, i, cc_hnv)) return uri_error("bad escape", text);
            if (i == k) return uri_error("empty header name", text);
            if (i >= n || text[i] != '=') return uri_error("header without '='", text);
            ++i;
            if (!scan_escaped(text, i, cc_hnv)) return uri_error("bad escape", text);
            if (i < n && text[i] == '&') {
                ++i;
                continue;
            }
            break;
        }
        u.headers = text.substr(start, i - start);
    }

    if (i != n) return uri_error("unexpected character", text);
    return u;
}

namespace {

// An IP literal (IPv6 with or without brackets) as its family and network-order octets.
struct ip_octets {
    int family = 0;  // AF_INET or AF_INET6; 0 when the text is no IP literal
    std::array<unsigned char, 16> bytes{};
};

// A dotted quad valid_ipv4 accepted, leading zeros ("010") included, as four octets.
std::array<unsigned char, 4> ipv4_octets(std::string_view s) noexcept {
    std::array<unsigned char, 4> out{};
    std::size_t part = 0;
    unsigned value = 0;
    for (const char c : s) {
        if (c == '.') {
            out[part++] = static_cast<unsigned char>(value);
            value = 0;
        } else {
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
    }
    out[part] = static_cast<unsigned char>(value);
    return out;
}

ip_octets parse_ip(std::string_view s) noexcept {
    ip_octets out;
    const bool bracketed = s.size() >= 2 && s.front() == '[' && s.back() == ']';
    if (bracketed) s = s.substr(1, s.size() - 2);
    // The grammar checks come first: inet_pton takes forms SIP does not (e.g. a zone index).
    const bool v6 = detail::valid_ipv6(s);
    if (!v6 && (bracketed || !detail::valid_ipv4(s))) return out;
    if (v6) {
        // inet_pton needs a NUL-terminated string; the longest IPv6 text is 45 octets.
        std::array<char, 64> text{};
        if (s.size() >= text.size()) return out;
        std::memcpy(text.data(), s.data(), s.size());
        // An IPv4 tail may have leading zeros ("::ffff:010.0.0.1"), as valid_ipv4 allows and
        // inet_pton refuses: it is written again without them (never longer than it was).
        if (s.find('.') != std::string_view::npos) {
            std::size_t at = s.rfind(':') + 1;
            const auto quad = ipv4_octets(s.substr(at));
            for (std::size_t k = 0; k < quad.size(); ++k) {
                if (k != 0) text[at++] = '.';
                const unsigned v = quad[k];
                if (v >= 100) text[at++] = static_cast<char>('0' + v / 100);
                if (v >= 10) text[at++] = static_cast<char>('0' + v / 10 % 10);
                text[at++] = static_cast<char>('0' + v % 10);
            }
            text[at] = '\0';
        }
        if (inet_pton(AF_INET6, text.data(), out.bytes.data()) != 1) return out;
        out.family = AF_INET6;
        return out;
    }
    // valid_ipv4 allows leading zeros ("010"), which inet_pton refuses: decode by hand.
    const auto quad = ipv4_octets(s);
    std::copy(quad.begin(), quad.end(), out.bytes.begin());
    out.family = AF_INET;
    return out;
}

}  // namespace

bool same_ip_address(std::string_view a, std::string_view b) noexcept {
    const ip_octets x = parse_ip(a);
    const ip_octets y = parse_ip(b);
    return x.family != 0 && x.family == y.family && x.bytes == y.bytes;
}

std::string unescape(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '%' && i + 2 < raw.size() && detail::is(raw[i + 1], detail::cc_hex) &&
            detail::is(raw[i + 2], detail::cc_hex)) {
            const auto hex = [](char h) {
                return h <= '9' ? h - '0' : (ascii_lower(h) - 'a' + 10);
            };
            out += static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::string escape_user(std::string_view user) {
    static constexpr std::string_view allowed = "-_.!~*'()&=+$,;?/";
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(user.size());
    for (const char c : user) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x80 && std::isalnum(u) != 0) || allowed.find(c) != std::string_view::npos) {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0x0f];
        }
    }
    return out;
}

namespace {

// RFC 3261 §19.1.4: "Characters other than those in the 'reserved' set are equivalent to
// their '%' HEX HEX encoding." Escapes of reserved characters therefore stay escaped (with
// upper-case hex so "%3b" and "%3B" compare equal); the rest are decoded. `fold` lowers
// ASCII letters for the case-insensitive components.
std::string normalize(std::string_view raw, bool fold) {
    constexpr std::string_view reserved = ";/?:@&=+$,";
    std::string out;
    out.reserve(raw.size());
    const auto hex = [](char h) { return h <= '9' ? h - '0' : (ascii_lower(h) - 'a' + 10); };
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%' && i + 2 < raw.size() && detail::is(raw[i + 1], detail::cc_hex) &&
            detail::is(raw[i + 2], detail::cc_hex)) {
            const char decoded = static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
            if (reserved.find(decoded) != std::string_view::npos) {
                constexpr std::string_view digits = "0123456789ABCDEF";
                const auto u = static_cast<unsigned char>(decoded);
                out += '%';
                out += digits[u >> 4];
                out += digits[u & 0xF];
                i += 2;
                continue;
            }
            c = decoded;
            i += 2;
        }
        out += fold ? ascii_lower(c) : c;
    }
    return out;
}

struct param_entry {
    std::string name;
    std::string value;
    bool has_value = false;
    bool operator<(const param_entry& o) const {
        return std::tie(name, value, has_value) < std::tie(o.name, o.value, o.has_value);
    }
    bool operator==(const param_entry& o) const = default;
};

// Splits "a=1;b" (params, sep ';') or "h=v&g=w" (headers, sep '&') into normalized entries.
std::vector<param_entry> split_entries(std::string_view s, char sep) {
    std::vector<param_entry> out;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t end = s.find(sep, i);
        if (end == std::string_view::npos) end = s.size();
        const std::string_view item = s.substr(i, end - i);
        if (!item.empty()) {
            const std::size_t eq = item.find('=');
            param_entry e;
            e.name = normalize(item.substr(0, eq), true);
            if (eq != std::string_view::npos) {
                e.value = normalize(item.substr(eq + 1), true);
                e.has_value = true;
            }
            out.push_back(std::move(e));
        }
        i = end + 1;
    }
    return out;
}

const param_entry* find_entry(const std::vector<param_entry>& v, std::string_view name) {
    for (const auto& e : v) {
        if (e.name == name) return &e;
    }
    return nullptr;
}

// Whether `name` has the same values, in the same order, in both lists. A parameter written
// twice (RFC 3261 §25.1 does not forbid it) compares as the list of its values, so that every
// URI is equivalent to itself.
bool same_entries(const std::vector<param_entry>& a, const std::vector<param_entry>& b, std::string_view name) {
    const auto named = [name](const param_entry& e) { return e.name == name; };
    auto x = std::find_if(a.begin(), a.end(), named);
    auto y = std::find_if(b.begin(), b.end(), named);
    while (x != a.end() && y != b.end()) {
        if (!(*x == *y)) return false;
        x = std::find_if(std::next(x), a.end(), named);
        y = std::find_if(std::next(y), b.end(), named);
    }
    return x == a.end() && y == b.end();
}

}  // namespace

bool equivalent(const uri& a, const uri& b) {
    if (!a.is_sip_or_sips() || !b.is_sip_or_sips()) {
        return !a.is_sip_or_sips() && !b.is_sip_or_sips() && a.text == b.text;
    }
    if (a.sips != b.sips) return false;
    // User and password are case-sensitive; host is not (§19.1.4).
    if (a.has_user != b.has_user) return false;
    if (normalize(a.user, false) != normalize(b.user, false)) return false;
    if (normalize(a.password, false) != normalize(b.password, false)) return false;
    // IPv6 references are equal as addresses, whatever their text form (RFC 5954 §4).
    if (a.host_type == host_kind::ipv6 && b.host_type == host_kind::ipv6) {
        if (!same_ip_address(a.host, b.host)) return false;
    } else if (normalize(a.host, true) != normalize(b.host, true)) {
        return false;
    }
    // An absent port is not 5060: they may resolve differently.
    if (a.port != b.port) return false;

    const auto pa = split_entries(a.params.empty() ? a.params : a.params.substr(1), ';');
    const auto pb = split_entries(b.params.empty() ? b.params : b.params.substr(1), ';');
    // These must match when present in either URI; any other parameter only when present
    // in both.
    for (std::string_view name : {"user", "ttl", "method", "maddr", "transport"}) {
        if (!same_entries(pa, pb, name)) return false;
    }
    for (const auto& x : pa) {
        if (find_entry(pb, x.name) != nullptr && !same_entries(pa, pb, x.name)) return false;
    }

    // Header components are never ignored; their order does not matter.
    auto ha = split_entries(a.headers, '&');
    auto hb = split_entries(b.headers, '&');
    std::sort(ha.begin(), ha.end());
    std::sort(hb.begin(), hb.end());
    return ha == hb;
}

}  // namespace b2b::sip
