// The SIP message parser (RFC 3261 §7, §20, §25): one copy of the input, then views into it.
#include <algorithm>
#include <cstring>
#include <new>

#include "sip/message/detail/chars.hpp"
#include "sip/message/detail/host.hpp"
#include "sip/message/detail/message_access.hpp"
#include "sip/message/detail/quote.hpp"
#include "sip/message/message.hpp"
#include "sip/message/text.hpp"
#include "sip/message/values.hpp"

namespace b2b::sip {

namespace {

using namespace detail;
using access = detail::message_access;

parse_error header_error(errc code, header_id id, std::string_view what) {
    std::string d(canonical_name(id));
    if (!d.empty()) d += ": ";
    d += what;
    return {code, std::move(d)};
}

parse_error value_error(header_id id, std::string_view what) {
    return header_error(errc::bad_header_value, id, what);
}

// ---------------------------------------------------------------------------------------
// Header parameters: *( SEMI generic-param ), generic-param = token [ EQUAL gen-value ],
// with SEMI and EQUAL allowing LWS on both sides (RFC 3261 §25.1). `i` is where the list may
// start (after a URI, '>' or sent-by); on return it is past the last parameter and `end`
// marks that spot. `on_param(name, value, has_value)` returns an error text or nullptr.
// Each pass consumes a ';', so the loop is bounded by the value's length.
template <class OnParam>
const char* scan_params(std::string_view s, std::size_t& i, std::size_t& end, OnParam&& on_param) {
    const std::size_t n = s.size();
    for (;;) {
        std::size_t k = i;
        skip_lws(s, k);
        if (k >= n || s[k] != ';') return nullptr;
        i = k + 1;
        skip_lws(s, i);
        const std::size_t name_start = i;
        while (i < n && is(s[i], cc_token)) ++i;
        if (i == name_start) return "empty parameter";
        const std::string_view name = s.substr(name_start, i - name_start);
        end = i;
        std::string_view value;
        bool has_value = false;
        k = i;
        skip_lws(s, k);
        if (k < n && s[k] == '=') {
            i = k + 1;
            skip_lws(s, i);
            const std::size_t value_start = i;
            if (i < n && s[i] == '"') {
                if (!scan_quoted(s, i)) return "unterminated quoted string in a parameter";
            } else {
                while (i < n && is(s[i], cc_gen_value)) ++i;
            }
            if (i == value_start) return "parameter without a value after '='";
            value = s.substr(value_start, i - value_start);
            has_value = true;
            end = i;
        }
        if (const char* e = on_param(name, value, has_value)) return e;
    }
}

// ---------------------------------------------------------------------------------------
// Via (RFC 3261 §20.42): sent-protocol LWS sent-by *( SEMI via-params ).
const char* scan_via_parm(std::string_view s, std::size_t& i, via& v) {
    const std::size_t n = s.size();
    const std::size_t start = i;
    const auto token = [&](std::string_view& out) {
        const std::size_t b = i;
        while (i < n && is(s[i], cc_token)) ++i;
        out = s.substr(b, i - b);
        return i > b;
    };
    // SLASH = SWS "/" SWS
    const auto slash = [&] {
        skip_lws(s, i);
        if (i >= n || s[i] != '/') return false;
        ++i;
        skip_lws(s, i);
        return true;
    };
    if (!token(v.protocol_name)) return "missing protocol name";
    if (!slash()) return "expected '/' in sent-protocol";
    if (!token(v.protocol_version)) return "missing protocol version";
    if (!slash()) return "expected '/' in sent-protocol";
    if (!token(v.transport)) return "missing transport";
    if (skip_lws(s, i) == 0) return "expected whitespace before sent-by";
    if (!scan_host(s, i, v.host, v.host_type)) return "bad sent-by host";
    std::size_t k = i;
    skip_lws(s, k);
    if (k < n && s[k] == ':') {
        i = k + 1;
        skip_lws(s, i);
        if (!scan_port(s, i, v.port)) return "bad sent-by port";
    }
    std::size_t end = i;
    k = i;
    skip_lws(s, k);
    const std::size_t params_start = k;
    const char* e = scan_params(
        s, i, end,
        [&](std::string_view name, std::string_view value, bool has_value) -> const char* {
            if (iequals(name, "branch")) {
                if (!has_value || value.front() == '"') {
                    return "branch must be a token";
                }
                if (v.branch.empty()) v.branch = value;
            } else if (iequals(name, "received")) {
                if (!has_value) return "received without a value";
                v.received = value;
            } else if (iequals(name, "rport")) {
                v.has_rport = true;
                if (has_value) {
                    std::size_t j = 0;
                    if (!scan_port(value, j, v.rport) || j != value.size()) {
                        return "bad rport";
                    }
                }
            }
            return nullptr;
        });
    if (e != nullptr) return e;
    if (end > params_start) v.params = s.substr(params_start, end - params_start);
    v.text = s.substr(start, end - start);
    return nullptr;
}

template <class Vec>
std::optional<parse_error> parse_via_list(std::string_view s, Vec& out) {
    std::size_t i = 0;
    for (;;) {
        via v;
        if (const char* e = scan_via_parm(s, i, v)) return parse_error{errc::bad_via, e};
        out.push_back(v);
        skip_lws(s, i);
        if (i >= s.size()) return std::nullopt;
        if (s[i] != ',') {
            return parse_error{errc::bad_via, "unexpected character after a via-parm"};
        }
        ++i;
        skip_lws(s, i);
        if (i >= s.size() || s[i] == ',') {
            return parse_error{errc::bad_via, "empty list element"};
        }
    }
}

// ---------------------------------------------------------------------------------------
// name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1). `list` means the
// value may continue with ',' (Contact, Route, Record-Route).
std::optional<parse_error> scan_name_addr(std::string_view s, std::size_t& i, name_addr& out,
                                          header_id id, bool list, bool brackets_required) {
    const std::size_t n = s.size();
    const std::size_t start = i;
    bool bracket = false;
    if (i < n && s[i] == '"') {
        if (!scan_quoted(s, i)) return value_error(id, "unterminated quoted string");
        out.display_name = s.substr(start, i - start);
        skip_lws(s, i);
        if (i >= n || s[i] != '<')
            return value_error(id, "quoted display name not followed by <URI>");
        bracket = true;
    } else if (i < n && s[i] == '<') {
        bracket = true;
    } else {
        // *(token LWS) followed by '<' is a display name. RFC 4475 §3.1.1.6: "caller<sip:..>"
        // (no LWS) is accepted too. Anything else is an addr-spec starting at `start`.
        std::size_t j = i;
        std::size_t last = i;
        for (;;) {
            const std::size_t t = j;
            while (j < n && is(s[j], cc_token)) ++j;
            if (j == t) break;
            last = j;
            skip_lws(s, j);
            if (j < n && s[j] == '<') {
                bracket = true;
                break;
            }
        }
        if (bracket) {
            out.display_name = s.substr(start, last - start);
            i = j;
        }
    }

    std::string_view uri_text;
    if (bracket) {
        ++i;
        const std::size_t uri_start = i;
        while (i < n && s[i] != '>') {
            // RFC 4475 §3.1.2.14: no LWS inside the brackets.
            if (is_wsp(s[i]) || s[i] == '\r' || s[i] == '\n')
                return value_error(id, "whitespace inside <...>");
            ++i;
        }
        if (i >= n) return value_error(id, "missing '>'");
        uri_text = s.substr(uri_start, i - uri_start);
        ++i;
        out.bracketed = true;
    } else {
        if (brackets_required) return value_error(id, "URI must be enclosed in <>");
        const std::size_t uri_start = i;
        // RFC 3261 §20.10: without <>, parameters after the URI are header parameters, and
        // a URI holding ',', ';' or '?' must use the name-addr form.
        while (i < n && s[i] != ';' && s[i] != ',' && !is_wsp(s[i]) && s[i] != '\r') {
            if (s[i] == '?') return value_error(id, "'?' in a URI not enclosed in <>");
            ++i;
        }
        uri_text = s.substr(uri_start, i - uri_start);
    }
    auto u = parse_uri(uri_text);
    const bool stray_comma = !bracket && !list && i < n && s[i] == ',';
    if (!u || stray_comma) {
        // "Bell, Alexander <sip:...>" (RFC 4475 §3.1.2.15) lands here as an addr-spec.
        const std::size_t lt = s.find('<', start);
        const std::size_t next = list ? s.find(',', start) : std::string_view::npos;
        if (!bracket && lt != std::string_view::npos && lt < next) {
            return value_error(id, "display name with non-token characters must be quoted");
        }
        if (uri_text.empty()) return value_error(id, "missing URI");
        if (stray_comma) return value_error(id, "',' in a URI not enclosed in <>");
        return header_error(errc::bad_uri, id, u.error().detail);
    }
    out.uri = u.value();

    const std::size_t after_uri = i;
    std::size_t end = i;
    std::size_t k = i;
    skip_lws(s, k);
    const std::size_t params_start = k;
    const char* e = scan_params(
        s, i, end,
        [&](std::string_view name, std::string_view value, bool has_value) -> const char* {
            if (iequals(name, "tag")) {
                if (!has_value || value.front() == '"') {
                    return "tag must be a token";
                }
                if (out.tag.empty()) out.tag = value;
            }
            return nullptr;
        });
    if (e != nullptr) return value_error(id, e);
    if (end > after_uri) out.params = s.substr(params_start, end - params_start);
    out.text = s.substr(start, end - start);
    return std::nullopt;
}

std::optional<parse_error> parse_single_name_addr(std::string_view s, name_addr& out,
                                                  header_id id) {
    std::size_t i = 0;
    if (auto e = scan_name_addr(s, i, out, id, false, false)) return e;
    skip_lws(s, i);
    if (i != s.size()) return value_error(id, "unexpected character after the address");
    return std::nullopt;
}

template <class Vec>
std::optional<parse_error> parse_name_addr_list(std::string_view s, Vec& out, header_id id,
                                                bool brackets_required) {
    std::size_t i = 0;
    for (;;) {
        name_addr na;
        if (auto e = scan_name_addr(s, i, na, id, true, brackets_required)) return e;
        out.push_back(na);
        skip_lws(s, i);
        if (i >= s.size()) return std::nullopt;
        if (s[i] != ',') return value_error(id, "unexpected character after the address");
        ++i;
        skip_lws(s, i);
        if (i >= s.size() || s[i] == ',') return value_error(id, "empty list element");
    }
}

// ---------------------------------------------------------------------------------------
// Scalar headers.

// callid = word [ "@" word ] (RFC 3261 §25.1). The Call-ID is opaque to us, only ever
// compared, and devices in the field put base64 padding ('=') and other non-word characters
// in it: refusing those would drop calls for no gain. So any visible ASCII is accepted;
// whitespace, control characters and non-ASCII octets are still errors.
std::optional<parse_error> parse_call_id(std::string_view s) {
    if (s.empty()) return value_error(header_id::call_id, "empty value");
    std::size_t i = 0;
    while (i < s.size() && s[i] > ' ' && s[i] < 0x7f) ++i;
    if (i != s.size()) return value_error(header_id::call_id, "bad character");
    return std::nullopt;
}

// CSeq = 1*DIGIT LWS Method; the number is below 2^31 (RFC 3261 §8.1.1.5).
std::optional<parse_error> parse_cseq(std::string_view s, cseq_value& out) {
    std::size_t i = 0;
    std::uint64_t v = 0;
    if (!scan_number(s, i, 0x7FFFFFFFU, v)) {
        if (i == 0) return parse_error{errc::bad_cseq, "missing sequence number"};
        return parse_error{errc::bad_cseq,
                           "sequence number " +
                               std::string(s.substr(0, std::min<std::size_t>(i, 40))) +
                               " exceeds 2^31-1"};
    }
    if (skip_lws(s, i) == 0)
        return parse_error{errc::bad_cseq, "expected whitespace after the sequence number"};
    const std::size_t m = i;
    while (i < s.size() && is(s[i], cc_token)) ++i;
    if (i == m) return parse_error{errc::bad_cseq, "missing method"};
    if (i != s.size()) return parse_error{errc::bad_cseq, "unexpected character after the method"};
    out.seq = static_cast<std::uint32_t>(v);
    out.method_text = s.substr(m);
    out.method = method_from_string(out.method_text);
    return std::nullopt;
}

std::optional<parse_error> parse_max_forwards(std::string_view s, unsigned& out) {
    std::size_t i = 0;
    std::uint64_t v = 0;
    const bool ok = scan_number(s, i, 255, v);
    if (i == 0 || i != s.size())
        return parse_error{errc::bad_max_forwards, "not a number: " + quote(s)};
    if (!ok) return parse_error{errc::bad_max_forwards, "value " + quote(s) + " exceeds 255"};
    out = static_cast<unsigned>(v);
    return std::nullopt;
}

// Content-Length = 1*DIGIT. Larger than any message we could hold means garbage.
constexpr std::uint64_t max_content_length = 1ULL << 40;

std::optional<parse_error> parse_content_length(std::string_view s, std::size_t& out) {
    std::size_t i = 0;
    std::uint64_t v = 0;
    const bool ok = scan_number(s, i, max_content_length, v);
    if (i == 0 || i != s.size() || !ok) {
        return parse_error{errc::bad_content_length,
                           "not a non-negative decimal number: " + quote(s)};
    }
    out = static_cast<std::size_t>(v);
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Start line (RFC 3261 §7.1, §7.2).

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; "SIP" is case-insensitive (§7.1).
std::optional<parse_error> check_version(std::string_view v) {
    if (!istarts_with(v, "SIP/"))
        return parse_error{errc::bad_version, "expected SIP/2.0, got " + quote(v)};
    std::size_t i = 4;
    const std::size_t major = i;
    while (i < v.size() && is_digit(v[i])) ++i;
    if (i == major || i >= v.size() || v[i] != '.') {
        return parse_error{errc::bad_version, "expected SIP/2.0, got " + quote(v)};
    }
    const std::size_t minor = ++i;
    while (i < v.size() && is_digit(v[i])) ++i;
    if (i == minor || i != v.size())
        return parse_error{errc::bad_version, "expected SIP/2.0, got " + quote(v)};
    if (v.substr(4) != "2.0") return parse_error{errc::version_not_supported, quote(v)};
    return std::nullopt;
}

std::optional<parse_error> parse_request_line(std::string_view line, message& m) {
    // Method SP Request-URI SP SIP-Version: exactly one SP each (RFC 3261 §7.1,
    // RFC 4475 §3.1.2.9, §3.1.2.10).
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp1 == 0 || sp2 == sp1) {
        return parse_error{errc::bad_start_line, "expected Method SP Request-URI SP SIP-Version"};
    }
    const std::string_view method = line.substr(0, sp1);
    const std::string_view version = line.substr(sp2 + 1);
    const std::string_view ruri = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (version.empty())
        return parse_error{errc::bad_start_line, "whitespace at the end of the request line"};
    if (ruri.empty() || ruri.front() == ' ' || ruri.back() == ' ') {
        return parse_error{errc::bad_start_line, "more than one SP between request line elements"};
    }
    if (!is_token(method))
        return parse_error{errc::bad_method, "method is not a token: " + quote(method)};
    if (auto e = check_version(version)) return e;
    if (ruri.front() == '<')
        return parse_error{errc::bad_request_uri, "Request-URI enclosed in <>"};
    for (char c : ruri) {
        if (is_wsp(c)) return parse_error{errc::bad_request_uri, "whitespace in the Request-URI"};
    }
    auto u = parse_uri(ruri);
    if (!u) return parse_error{errc::bad_request_uri, std::move(u.error().detail)};
    if (u.value().is_sip_or_sips() && !u.value().headers.empty()) {
        // RFC 3261 §19.1.1 table: headers are not allowed in a Request-URI.
        return parse_error{errc::bad_request_uri, "headers not allowed in Request-URI"};
    }
    access::is_request(m) = true;
    access::method_text(m) = method;
    access::method(m) = method_from_string(method);
    access::version(m) = version;
    access::request_uri(m) = u.value();
    return std::nullopt;
}

std::optional<parse_error> parse_status_line(std::string_view line, message& m) {
    // SIP-Version SP Status-Code SP Reason-Phrase
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos)
        return parse_error{errc::bad_start_line, "expected SIP-Version SP Status-Code"};
    const std::string_view version = line.substr(0, sp);
    if (auto e = check_version(version)) return e;
    const std::string_view rest = line.substr(sp + 1);
    std::size_t i = 0;
    while (i < rest.size() && is_digit(rest[i])) ++i;
    if (i != 3)
        return parse_error{errc::bad_status_code,
                           "status code is not three digits: " + quote(rest.substr(0, 20))};
    const int status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    if (status < 100 || status > 699) {
        return parse_error{errc::bad_status_code,
                           "status code " + quote(rest.substr(0, 3)) + " out of 100..699"};
    }
    std::string_view reason;
    if (rest.size() > 3) {
        // A missing SP before an empty reason is accepted (RFC 4475 §3.1.1.13 liberal
        // receiver); anything else after the code must be SP.
        if (rest[3] != ' ')
            return parse_error{errc::bad_status_code, "expected SP after the status code"};
        reason = rest.substr(4);
    }
    for (char c : reason) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) {
            return parse_error{errc::bad_reason_phrase, "control character in the reason phrase"};
        }
    }
    access::is_request(m) = false;
    access::version(m) = version;
    access::status(m) = status;
    access::reason(m) = reason;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------

/// Parses the header section and body of the message in `s` (the message's own buffer).
class parser {
  public:
    parser(message& m, std::string_view s, framing f) : m_(m), s_(s), framing_(f) {}

    std::optional<parse_error> run();

  private:
    // Header section from offset `p` (after the start line), then the body.
    std::optional<parse_error> headers(std::size_t p);
    std::optional<parse_error> header(header_id id, std::string_view value);

    message& m_;
    std::string_view s_;
    framing framing_;
    bool seen_call_id_ = false;
    bool seen_cseq_ = false;
    bool seen_max_forwards_ = false;
    bool conflicting_length_ = false;
};

std::optional<parse_error> parser::run() {
    const std::string_view s = s_;

    // Start line.
    const std::size_t eol = s.find('\n');
    if (eol == std::string_view::npos)
        return parse_error{errc::headers_not_terminated, "no CRLF after the start line"};
    if (eol == 0 || s[eol - 1] != '\r')
        return parse_error{errc::bad_start_line, "start line not terminated by CRLF"};
    const std::string_view line = s.substr(0, eol - 1);
    if (line.find('\r') != std::string_view::npos)
        return parse_error{errc::bad_start_line, "CR inside the start line"};
    if (istarts_with(line, "SIP/")) {
        if (auto e = parse_status_line(line, m_)) return e;
    } else {
        if (auto e = parse_request_line(line, m_)) return e;
    }
    std::optional<parse_error> e = headers(eol + 1);
    // A header section without its empty line is a truncated message (or RFC 4475 §3.1.2.15's
    // archived file): say so rather than report whatever header the cut happened to break.
    // Checked only on failure, to keep the common path to one scan of the bytes.
    if (e && e->code != errc::headers_not_terminated &&
        s.find("\r\n\r\n", eol - 1) == std::string_view::npos) {
        return parse_error{errc::headers_not_terminated, "no empty line after the headers"};
    }
    return e;
}

std::optional<parse_error> parser::headers(std::size_t p) {
    const std::string_view s = s_;
    const std::size_t n = s.size();
    // Header lines until the empty line. Each pass consumes one logical header (at least
    // one physical line), so the loop is bounded by the number of lines in `s`.
    std::size_t body_start = 0;
    for (;;) {
        if (p >= n)
            return parse_error{errc::headers_not_terminated, "no empty line after the headers"};
        if (s[p] == '\r') {
            if (p + 1 >= n)
                return parse_error{errc::headers_not_terminated, "no empty line after the headers"};
            if (s[p + 1] != '\n') return parse_error{errc::bad_header_line, "bare CR"};
            body_start = p + 2;
            break;
        }
        if (s[p] == '\n') return parse_error{errc::bad_header_line, "bare LF"};
        if (is_wsp(s[p]))
            return parse_error{errc::bad_header_line, "continuation line without a header"};

        // One logical header: a line plus its continuation lines (RFC 3261 §7.3.1).
        const std::size_t start = p;
        std::size_t content_end = 0;
        do {
            const std::size_t q = s.find('\n', p);
            if (q == std::string_view::npos) {
                return parse_error{errc::headers_not_terminated,
                                   "header line not terminated by CRLF"};
            }
            if (q == p || s[q - 1] != '\r') return parse_error{errc::bad_header_line, "bare LF"};
            if (s.substr(p, q - 1 - p).find('\r') != std::string_view::npos) {
                return parse_error{errc::bad_header_line, "bare CR"};
            }
            content_end = q - 1;
            p = q + 1;
        } while (p < n && is_wsp(s[p]));

        const std::string_view content = s.substr(start, content_end - start);
        std::size_t k = 0;
        while (k < content.size() && is(content[k], cc_token)) ++k;
        const std::string_view name = content.substr(0, k);
        // HCOLON = *( SP / HT ) ":" SWS
        while (k < content.size() && is_wsp(content[k])) ++k;
        if (k >= content.size() || content[k] != ':') {
            if (content.find(':') == std::string_view::npos) {
                return parse_error{errc::bad_header_line, "no ':' in " + quote(content)};
            }
            return parse_error{
                errc::bad_header_name,
                "header name is not a token: " + quote(content.substr(0, content.find(':')))};
        }
        if (name.empty()) return parse_error{errc::bad_header_name, "empty header name"};
        const std::string_view value = trim_lws(content.substr(k + 1));

        header_field h;
        h.id = header_id_from_name(name);
        h.name = name;
        h.value = value;
        h.raw = s.substr(start, p - start);
        access::headers(m_).push_back(h);
        if (auto e = header(h.id, value)) return e;
    }

    // Body (RFC 3261 §18.3, §20.14).
    const std::size_t available = n - body_start;
    const auto& cl = access::content_length(m_);
    std::size_t size = n;
    if (cl) {
        if (framing_ == framing::stream && conflicting_length_) {
            return parse_error{errc::bad_content_length, "conflicting Content-Length values"};
        }
        if (*cl > available) {
            return parse_error{errc::content_length_exceeds_body,
                               "Content-Length " + std::to_string(*cl) + " but only " +
                                   std::to_string(available) + " octets follow the headers"};
        }
        size = body_start + *cl;
    } else if (framing_ == framing::stream) {
        return parse_error{errc::content_length_required,
                           "a stream transport requires Content-Length"};
    }
    access::body(m_) = s.substr(body_start, size - body_start);
    access::size(m_) = size;
    return std::nullopt;
}

std::optional<parse_error> parser::header(header_id id, std::string_view value) {
    switch (id) {
        case header_id::via:
            return parse_via_list(value, access::vias(m_));
        case header_id::from:
        case header_id::to: {
            // A repeated From or To is parsed for grammar but only the first is kept:
            // validate_request() reports the duplicate (RFC 4475 §3.3.8).
            name_addr& slot = id == header_id::from ? access::from(m_) : access::to(m_);
            if (slot.text.empty()) return parse_single_name_addr(value, slot, id);
            name_addr ignored;
            return parse_single_name_addr(value, ignored, id);
        }
        case header_id::contact:
            if (value == "*") {
                if (!access::contacts(m_).empty())
                    return value_error(id, "'*' mixed with addresses");
                access::contact_star(m_) = true;
                return std::nullopt;
            }
            if (access::contact_star(m_)) return value_error(id, "'*' mixed with addresses");
            return parse_name_addr_list(value, access::contacts(m_), id, false);
        case header_id::route:
            return parse_name_addr_list(value, access::routes(m_), id, true);
        case header_id::record_route:
            return parse_name_addr_list(value, access::record_routes(m_), id, true);
        case header_id::call_id:
            if (auto e = parse_call_id(value)) return e;
            if (!seen_call_id_) access::call_id(m_) = value;
            seen_call_id_ = true;
            return std::nullopt;
        case header_id::cseq: {
            cseq_value c;
            if (auto e = parse_cseq(value, c)) return e;
            if (!seen_cseq_) access::cseq(m_) = c;
            seen_cseq_ = true;
            return std::nullopt;
        }
        case header_id::max_forwards: {
            unsigned v = 0;
            if (auto e = parse_max_forwards(value, v)) return e;
            if (!seen_max_forwards_) access::max_forwards(m_) = v;
            seen_max_forwards_ = true;
            return std::nullopt;
        }
        case header_id::content_length: {
            std::size_t v = 0;
            if (auto e = parse_content_length(value, v)) return e;
            auto& cl = access::content_length(m_);
            if (!cl) {
                cl = v;
            } else if (*cl != v) {
                // RFC 4475 §3.3.9: the framing is ambiguous. A datagram keeps the first value and
                // validate_*() refuses the message; a stream cannot be framed at all.
                conflicting_length_ = true;
            }
            return std::nullopt;
        }
        default:
            return std::nullopt;
    }
}

}  // namespace

parse_result<message> parse_message(std::string_view bytes, framing f,
                                    std::size_t max_size) noexcept {
    // RFC 3261 §7.5: CRLFs before the start line are ignored (keep-alives, RFC 5626 §3.5.1).
    std::size_t lead = 0;
    while (lead < bytes.size() && (bytes[lead] == '\r' || bytes[lead] == '\n')) ++lead;
    bytes.remove_prefix(lead);
    if (bytes.empty()) return parse_error{errc::empty_message, {}};
    if (bytes.size() > max_size) {
        return parse_error{
            errc::message_too_large,
            std::to_string(bytes.size()) + " octets, limit " + std::to_string(max_size)};
    }

    // The one copy of the input: every view of the message points into it.
    std::unique_ptr<char[]> buffer(new (std::nothrow) char[bytes.size()]);
    if (!buffer) return parse_error{errc::message_too_large, "out of memory"};
    std::memcpy(buffer.get(), bytes.data(), bytes.size());
    const std::string_view s(buffer.get(), bytes.size());

    // Built in place inside the result: a message is a few kB of inline storage, not worth
    // moving around.
    parse_result<message> result(boost::system::in_place_value);
    message& m = *result.operator->();
    access::buffer(m) = std::move(buffer);
    parser p(m, s, f);
    // One return statement of the named result, so it is constructed in the caller (NRVO).
    if (auto e = p.run()) result = parse_result<message>(std::move(*e));
    return result;
}

parse_result<name_addr> parse_name_addr(std::string_view value) noexcept {
    name_addr out;
    if (auto e = parse_single_name_addr(trim_lws(value), out, header_id::other))
        return std::move(*e);
    return out;
}

parse_result<std::vector<name_addr>> parse_route_list(std::string_view value) noexcept {
    std::vector<name_addr> out;
    if (auto e = parse_name_addr_list(trim_lws(value), out, header_id::other, true)) return std::move(*e);
    return out;
}

// ---------------------------------------------------------------------------------------
// Stream framing (RFC 3261 §18.3): find the empty line, then Content-Length.

parse_result<stream_frame> frame_stream(std::string_view buffer, std::size_t max_size,
                                        std::size_t* searched) noexcept {
    stream_frame frame;
    while (frame.leading_crlf < buffer.size() &&
           (buffer[frame.leading_crlf] == '\r' || buffer[frame.leading_crlf] == '\n')) {
        ++frame.leading_crlf;
    }
    const std::string_view s = buffer.substr(frame.leading_crlf);
    if (s.empty()) return frame;

    // Look for the end of the header section only within max_size octets, and not again
    // through what an earlier call searched (3 octets back: the CRLFCRLF may straddle).
    const std::size_t window = std::min(s.size(), max_size);
    std::size_t from = 0;
    if (searched != nullptr && *searched > frame.leading_crlf + 3) from = *searched - frame.leading_crlf - 3;
    const std::size_t end = s.substr(0, window).find("\r\n\r\n", std::min(from, window));
    if (searched != nullptr) *searched = frame.leading_crlf + (end == std::string_view::npos ? window : end);
    if (end == std::string_view::npos) {
        if (s.size() >= max_size) {
            return parse_error{errc::message_too_large,
                               "header section exceeds " + std::to_string(max_size) + " octets"};
        }
        return frame;  // need more
    }
    const std::size_t header_size = end + 4;

    // Scan header lines for Content-Length (long or compact form); folded values are joined
    // by looking at the continuation lines that follow.
    std::optional<std::size_t> length;
    const std::string_view section = s.substr(0, end + 2);
    std::size_t p = section.find('\n');
    p = p == std::string_view::npos ? section.size() : p + 1;  // skip the start line
    while (p < section.size()) {
        const std::size_t start = p;
        std::size_t q = section.find('\n', p);
        if (q == std::string_view::npos) q = section.size() - 1;
        p = q + 1;
        while (p < section.size() && is_wsp(section[p])) {
            q = section.find('\n', p);
            if (q == std::string_view::npos) q = section.size() - 1;
            p = q + 1;
        }
        const std::string_view logical = section.substr(start, p - start);
        const std::size_t colon = logical.find(':');
        if (colon == std::string_view::npos) continue;  // the parser will report it
        const std::string_view name = trim_lws(logical.substr(0, colon));
        if (!iequals(name, "content-length") && !iequals(name, "l")) continue;
        std::size_t v = 0;
        if (auto e = parse_content_length(trim_lws(logical.substr(colon + 1)), v))
            return std::move(*e);
        if (length && *length != v)
            return parse_error{errc::bad_content_length, "conflicting Content-Length values"};
        length = v;
    }
    if (!length)
        return parse_error{errc::content_length_required,
                           "a stream transport requires Content-Length"};
    if (*length > max_size || header_size + *length > max_size) {
        return parse_error{errc::message_too_large,
                           "Content-Length " + std::to_string(*length) + " exceeds the limit"};
    }
    if (s.size() >= header_size + *length) frame.size = header_size + *length;
    return frame;
}

}  // namespace b2b::sip
