// Transaction keys for request matching (RFC 3261 §17.2.3) and response matching (§17.1.3).
#include "sip/transaction/detail/matching.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include <charconv>

namespace b2b::sip::detail {

namespace {

constexpr std::string_view magic_cookie = "z9hG4bK";

void append_number(std::string& out, unsigned long v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool has_rfc3261_branch(const via& v) noexcept {
    return v.branch.size() > magic_cookie.size() && v.branch.starts_with(magic_cookie);
}

std::string_view server_method(const message& m) noexcept {
    return m.method() == method::ack ? std::string_view{"INVITE"} : m.method_text();
}

bool server_key(std::string& out, const message& m, std::string_view method_text) {
    out.clear();
    const via& top = m.vias().front();
    if (has_rfc3261_branch(top)) {
        // §17.2.3: branch, sent-by and method. Hosts compare case-insensitively (§19.1.4);
        // a missing port is the transport's default (§18.2.1).
        out.reserve(top.branch.size() + top.host.size() + method_text.size() + 12);
        out += top.branch;
        out += '\n';
        for (const char c : top.host) {
            out += lower(c);
        }
        out += ':';
        const bool tls = boost::algorithm::iequals(top.transport, "TLS");
        append_number(out, top.port != 0 ? top.port : (tls ? 5061U : 5060U));
        out += '\n';
        out += method_text;
        return true;
    }
    // §17.2.3, RFC 2543 fallback. A leading character that no branch can start with keeps
    // these keys apart from RFC 3261 ones.
    out += '\x01';
    out += m.request_uri().text;
    out += '\n';
    out += m.from().tag;
    out += '\n';
    out += m.call_id();
    out += '\n';
    append_number(out, m.cseq().seq);
    out += '\n';
    out += method_text;
    out += '\n';
    out += top.text;
    return false;
}

void client_key(std::string& out, std::string_view branch, std::string_view method_text) {
    out.clear();
    out.reserve(branch.size() + method_text.size() + 1);
    out += branch;
    out += '\n';
    out += method_text;
}

}  // namespace b2b::sip::detail
