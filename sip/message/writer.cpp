// Outgoing message building, responses formed from requests (RFC 3261 §8.2.6), reason phrases.
#include "sip/message/writer.hpp"

#include <charconv>

#include "sip/message/detail/chars.hpp"
#include "sip/message/text.hpp"
#include "sip/message/uri.hpp"

namespace b2b::sip {

message_writer::message_writer(std::size_t reserve) {
    out_.reserve(reserve);
}

message_writer& message_writer::request_line(std::string_view method,
                                             std::string_view request_uri) {
    out_ += method;
    out_ += ' ';
    out_ += request_uri;
    out_ += " SIP/2.0\r\n";
    return *this;
}

message_writer& message_writer::status_line(int status, std::string_view reason) {
    out_ += "SIP/2.0 ";
    append(static_cast<long long>(status));
    out_ += ' ';
    out_ += reason;
    out_ += "\r\n";
    return *this;
}

message_writer& message_writer::header(std::string_view name, std::string_view value) {
    begin_header(name);
    out_ += value;
    out_ += "\r\n";
    return *this;
}

message_writer& message_writer::header(header_id id, std::string_view value) {
    // `other` has no name to write; callers use the string overload for extension headers.
    if (id == header_id::other) return *this;
    return header(canonical_name(id), value);
}

message_writer& message_writer::raw_line(std::string_view raw) {
    out_ += raw;
    if (!raw.ends_with("\r\n")) out_ += "\r\n";
    return *this;
}

std::string message_writer::finish(std::string_view body, std::string_view content_type) && {
    return finish(body, content_type);
}

std::string message_writer::finish(std::string_view body, std::string_view content_type) & {
    if (!body.empty() && !content_type.empty()) header("Content-Type", content_type);
    begin_header("Content-Length");
    append(static_cast<unsigned long long>(body.size()));
    out_ += "\r\n\r\n";
    out_ += body;
    return std::move(out_);
}

void message_writer::begin_header(std::string_view name) {
    out_ += name;
    out_ += ": ";
}

void message_writer::append(unsigned long long v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
}

void message_writer::append(long long v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
}

namespace {

// RFC 3261 §18.2.1 and RFC 3581 §4: the top via-parm of a request we received, stamped with
// where it really came from: `received` when the sent-by host is not the source address (or
// the client asked with `rport`), and `rport` given the source port when the client asked. A
// client behind NAT learns its public address; responses go there in any case.
std::string stamped_via(const via& v, std::string_view address, std::uint16_t port) {
    // §18.2.1 adds received when the sent-by "differs from the packet source address": an IPv6
    // sent-by in another text form ("[0:0::1]" for ::1) does not, so addresses are compared.
    const bool add_received = v.has_rport || !same_ip_address(v.host, address);
    const std::size_t params_at =
        v.params.empty() ? v.text.size() : static_cast<std::size_t>(v.params.data() - v.text.data());
    std::string out(v.text.substr(0, params_at));
    out.reserve(v.text.size() + address.size() + 24);
    std::string_view rest = v.params;
    while (!rest.empty()) {
        // Each param: ';' name ['=' value]. Ours replace any the client wrote.
        rest.remove_prefix(1);
        const std::size_t end = std::min(rest.find(';'), rest.size());
        const std::string_view param = rest.substr(0, end);
        const std::string_view name = trim_lws(param.substr(0, std::min(param.find('='), param.size())));
        if (!(iequals(name, "received") && add_received) && !(iequals(name, "rport") && v.has_rport)) {
            out += ';';
            out += param;
        }
        rest.remove_prefix(end);
    }
    if (add_received) {
        out += ";received=";
        out += address;
    }
    if (v.has_rport) {
        out += ";rport=";
        out += std::to_string(port);
    }
    return out;
}

}  // namespace

message_writer response_writer(const message& request, int status, std::string_view reason,
                               std::string_view to_tag) {
    message_writer w;
    w.status_line(status, reason.empty() ? default_reason(status) : reason);
    // RFC 3261 §8.2.6.2: Via values in order, From, To, Call-ID and CSeq copied as received,
    // the top one stamped with the request's source when the transaction layer noted it.
    bool top = request.source_port() != 0 && !request.vias().empty();
    for (const auto& h : request.headers()) {
        if (h.id != header_id::via) continue;
        const via& v = request.vias().front();
        const auto* value_begin = h.value.data();
        if (top && v.text.data() >= value_begin && v.text.data() + v.text.size() <= value_begin + h.value.size()) {
            const auto at = static_cast<std::size_t>(v.text.data() - value_begin);
            w.header_concat("Via", h.value.substr(0, at),
                            stamped_via(v, request.source_address(), request.source_port()),
                            h.value.substr(at + v.text.size()));
        } else {
            w.header(header_id::via, h.value);
        }
        top = false;
    }
    if (const auto* h = request.find(header_id::from)) w.header(header_id::from, h->value);
    if (const auto* h = request.find(header_id::to)) {
        if (request.to().tag.empty() && !to_tag.empty()) {
            w.header_concat("To", h->value, ";tag=", to_tag);
        } else {
            w.header(header_id::to, h->value);
        }
    }
    if (const auto* h = request.find(header_id::call_id)) w.header(header_id::call_id, h->value);
    if (const auto* h = request.find(header_id::cseq)) w.header(header_id::cseq, h->value);
    return w;
}

namespace {

// Headers a response must copy, found by a lenient scan of a request we could not parse.
struct copied_headers {
    std::string vias;  // "Via: ...\r\n" lines, in order
    std::string from;
    std::string to;
    std::string call_id;
    std::string cseq;
};

// Copies a value as written, turning line folds and stray CR/LF or NUL into SP so that the
// response cannot be broken by what the request carried.
std::string clean_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : trim_lws(v)) {
        out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
    }
    return out;
}

// Whether a To value already carries a tag parameter: a ';' outside quotes and <...>
// followed by "tag" and '='.
bool has_tag(std::string_view v) {
    bool in_quotes = false;
    bool in_brackets = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (in_quotes) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_quotes = false;
            }
            continue;
        }
        if (c == '"') {
            in_quotes = true;
        } else if (c == '<') {
            in_brackets = true;
        } else if (c == '>') {
            in_brackets = false;
        } else if (c == ';' && !in_brackets) {
            std::size_t k = i + 1;
            detail::skip_lws(v, k);
            if (istarts_with(v.substr(k), "tag")) {
                k += 3;
                detail::skip_lws(v, k);
                if (k < v.size() && v[k] == '=') return true;
            }
        }
    }
    return false;
}

std::string sanitize_reason(std::string_view reason, int status) {
    constexpr std::size_t max_reason = 120;
    std::string out;
    bool space = false;
    for (char c : reason) {
        if (out.size() >= max_reason) break;
        const auto u = static_cast<unsigned char>(c);
        if (u > 0x20 && u < 0x7F) {
            if (space && !out.empty()) out += ' ';
            space = false;
            out += c;
        } else {
            space = true;  // SP, HT, CTLs and non-ASCII collapse to one SP
        }
    }
    if (out.empty()) out = default_reason(status);
    if (out.empty()) out = "Error";
    return out;
}

}  // namespace

std::optional<std::string> make_error_response(std::string_view raw, int status,
                                               std::string_view reason, std::string_view to_tag) {
    std::size_t p = 0;
    while (p < raw.size() && (raw[p] == '\r' || raw[p] == '\n')) ++p;
    raw.remove_prefix(p);

    // Start line: a response is never answered, nor an ACK (RFC 3261 §17.2.1, §17.1.1.3).
    std::size_t eol = raw.find('\n');
    const std::string_view start = trim_lws(raw.substr(0, eol));
    if (start.empty() || istarts_with(start, "SIP/")) return std::nullopt;
    const std::string_view method = start.substr(0, start.find(' '));
    if (method == "ACK") return std::nullopt;

    copied_headers found;
    p = eol == std::string_view::npos ? raw.size() : eol + 1;
    // Each pass consumes one logical line; the scan stops at the empty line or the end.
    while (p < raw.size()) {
        const std::size_t line_start = p;
        std::size_t q = raw.find('\n', p);
        if (q == std::string_view::npos) q = raw.size();
        if (trim_lws(raw.substr(p, q - p)).empty()) break;  // the empty line ends the headers
        std::size_t line_end = q;
        p = q + 1;
        while (p < raw.size() && detail::is_wsp(raw[p])) {
            q = raw.find('\n', p);
            if (q == std::string_view::npos) q = raw.size();
            line_end = q;
            p = q + 1;
        }
        const std::string_view logical = raw.substr(line_start, line_end - line_start);
        const std::size_t colon = logical.find(':');
        if (colon == std::string_view::npos) continue;
        const header_id id = header_id_from_name(trim_lws(logical.substr(0, colon)));
        const std::string value = clean_value(logical.substr(colon + 1));
        switch (id) {
            case header_id::via:
                if (!value.empty()) {
                    found.vias += "Via: ";
                    found.vias += value;
                    found.vias += "\r\n";
                }
                break;
            case header_id::from:
                if (found.from.empty()) found.from = value;
                break;
            case header_id::to:
                if (found.to.empty()) found.to = value;
                break;
            case header_id::call_id:
                if (found.call_id.empty()) found.call_id = value;
                break;
            case header_id::cseq:
                if (found.cseq.empty()) found.cseq = value;
                break;
            default:
                break;
        }
    }
    if (found.vias.empty() || found.from.empty() || found.to.empty() || found.call_id.empty() ||
        found.cseq.empty()) {
        return std::nullopt;
    }

    message_writer w(256 + found.vias.size() + found.from.size() + found.to.size());
    w.status_line(status, sanitize_reason(reason, status));
    w.raw_line(found.vias);
    w.header(header_id::from, found.from);
    if (!to_tag.empty() && !has_tag(found.to)) {
        w.header_concat("To", found.to, ";tag=", to_tag);
    } else {
        w.header(header_id::to, found.to);
    }
    w.header(header_id::call_id, found.call_id);
    w.header(header_id::cseq, found.cseq);
    return std::move(w).finish();
}

std::string_view default_reason(int status) noexcept {
    switch (status) {
        // RFC 3261 §21 unless noted.
        case 100:
            return "Trying";
        case 180:
            return "Ringing";
        case 181:
            return "Call Is Being Forwarded";
        case 182:
            return "Queued";
        case 183:
            return "Session Progress";
        case 199:
            return "Early Dialog Terminated";  // RFC 6228
        case 200:
            return "OK";
        case 202:
            return "Accepted";  // RFC 3265
        case 204:
            return "No Notification";  // RFC 5839
        case 300:
            return "Multiple Choices";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Moved Temporarily";
        case 305:
            return "Use Proxy";
        case 380:
            return "Alternative Service";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 402:
            return "Payment Required";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 406:
            return "Not Acceptable";
        case 407:
            return "Proxy Authentication Required";
        case 408:
            return "Request Timeout";
        case 410:
            return "Gone";
        case 412:
            return "Conditional Request Failed";  // RFC 3903
        case 413:
            return "Request Entity Too Large";
        case 414:
            return "Request-URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 416:
            return "Unsupported URI Scheme";
        case 417:
            return "Unknown Resource-Priority";  // RFC 4412
        case 420:
            return "Bad Extension";
        case 421:
            return "Extension Required";
        case 422:
            return "Session Interval Too Small";  // RFC 4028
        case 423:
            return "Interval Too Brief";
        case 428:
            return "Use Identity Header";  // RFC 8224
        case 429:
            return "Provide Referrer Identity";  // RFC 3892
        case 433:
            return "Anonymity Disallowed";  // RFC 5079
        case 436:
            return "Bad Identity Info";  // RFC 8224
        case 437:
            return "Unsupported Credential";  // RFC 8224
        case 438:
            return "Invalid Identity Header";  // RFC 8224
        case 439:
            return "First Hop Lacks Outbound Support";  // RFC 5626
        case 440:
            return "Max-Breadth Exceeded";  // RFC 5393
        case 469:
            return "Bad Info Package";  // RFC 6086
        case 470:
            return "Consent Needed";  // RFC 5360
        case 480:
            return "Temporarily Unavailable";
        case 481:
            return "Call/Transaction Does Not Exist";
        case 482:
            return "Loop Detected";
        case 483:
            return "Too Many Hops";
        case 484:
            return "Address Incomplete";
        case 485:
            return "Ambiguous";
        case 486:
            return "Busy Here";
        case 487:
            return "Request Terminated";
        case 488:
            return "Not Acceptable Here";
        case 489:
            return "Bad Event";  // RFC 3265
        case 491:
            return "Request Pending";
        case 493:
            return "Undecipherable";
        case 494:
            return "Security Agreement Required";  // RFC 3329
        case 500:
            return "Server Internal Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Server Time-out";
        case 505:
            return "Version Not Supported";
        case 513:
            return "Message Too Large";
        case 580:
            return "Precondition Failure";  // RFC 3312
        case 600:
            return "Busy Everywhere";
        case 603:
            return "Decline";
        case 604:
            return "Does Not Exist Anywhere";
        case 606:
            return "Not Acceptable";
        case 607:
            return "Unwanted";  // RFC 8197
        case 608:
            return "Rejected";  // RFC 8688
        default:
            return "";
    }
}

bool add_header_if_absent(std::string& wire, std::string_view name, std::string_view value) {
    const std::size_t end = wire.find("\r\n\r\n");
    if (end == std::string::npos || wire.starts_with("\r\n")) return false;  // a CRLF keep-alive is no message
    // Header lines start after a CRLF; the start line is skipped by starting at the first one.
    for (std::size_t at = wire.find("\r\n"); at < end; at = wire.find("\r\n", at + 2)) {
        const std::string_view line = std::string_view(wire).substr(at + 2, end - at);
        if (line.size() > name.size() && iequals(line.substr(0, name.size()), name) &&
            (line[name.size()] == ':' || line[name.size()] == ' ' || line[name.size()] == '\t')) {
            return false;
        }
    }
    std::string field;
    field.reserve(name.size() + value.size() + 4);
    field.append(name).append(": ").append(value).append("\r\n");
    wire.insert(end + 2, field);
    return true;
}

}  // namespace b2b::sip
