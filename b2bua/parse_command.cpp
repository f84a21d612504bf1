// `b2bua parse`: a SIP message as JSON, for operators and tests.
#include "b2bua/parse_command.hpp"

#include <boost/json.hpp>

#include <ostream>

namespace b2b::b2bua {

namespace {

// JSON strings must be valid UTF-8: header values may hold any octet, so invalid sequences
// become U+FFFD (control characters are escaped by the serializer).
std::string utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        bool ok = len != 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 0x2;
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xef\xbf\xbd";
            ++i;
        }
    }
    return out;
}

boost::json::value str(std::string_view s) { return boost::json::value(utf8(s)); }

boost::json::value opt_str(std::string_view s) { return s.empty() ? boost::json::value(nullptr) : str(s); }

boost::json::object address(const sip::name_addr& a) {
    boost::json::object o;
    o["uri"] = opt_str(a.uri.text);
    o["tag"] = opt_str(a.tag);
    o["display_name"] = opt_str(a.display_name);
    return o;
}

}  // namespace

std::string message_to_json(const sip::message& m) {
    boost::json::object o;
    o["type"] = m.is_request() ? "request" : "response";
    if (m.is_request()) {
        o["method"] = str(m.method_text());
        o["request_uri"] = str(m.request_uri().text);
    } else {
        o["status"] = m.status();
        o["reason"] = str(m.reason());
    }
    o["version"] = str(m.version());
    o["call_id"] = opt_str(m.call_id());
    boost::json::object cseq;
    cseq["seq"] = m.cseq().seq;
    cseq["method"] = str(m.cseq().method_text);
    o["cseq"] = std::move(cseq);
    o["from"] = address(m.from());
    o["to"] = address(m.to());
    boost::json::array vias;
    for (const auto& v : m.vias()) {
        boost::json::object j;
        j["transport"] = str(v.transport);
        j["host"] = str(v.host);
        j["port"] = v.port ? boost::json::value(v.port) : boost::json::value(nullptr);
        j["branch"] = opt_str(v.branch);
        j["received"] = opt_str(v.received);
        if (!v.has_rport) {
            j["rport"] = nullptr;
        } else if (v.rport) {
            j["rport"] = v.rport;
        } else {
            j["rport"] = true;
        }
        vias.push_back(std::move(j));
    }
    o["via"] = std::move(vias);
    boost::json::array contacts;
    for (const auto& c : m.contacts()) contacts.push_back(address(c));
    o["contact"] = m.contact_is_star() ? boost::json::value("*") : boost::json::value(std::move(contacts));
    o["max_forwards"] = m.max_forwards() ? boost::json::value(*m.max_forwards()) : boost::json::value(nullptr);
    o["content_length"] =
        m.content_length() ? boost::json::value(static_cast<std::uint64_t>(*m.content_length())) : boost::json::value(nullptr);
    o["body_length"] = static_cast<std::uint64_t>(m.body().size());
    boost::json::array headers;
    for (const auto& h : m.headers()) headers.push_back(boost::json::array{str(h.name), str(h.value)});
    o["headers"] = std::move(headers);
    return boost::json::serialize(o);
}

int run_parse(std::string_view bytes, std::ostream& out, std::ostream& err) {
    auto parsed = sip::parse_message(bytes, sip::framing::datagram);
    if (!parsed) {
        err << "error: " << parsed.error().what() << '\n';
        return 1;
    }
    auto valid = parsed->is_request() ? sip::validate_request(*parsed) : sip::validate_response(*parsed);
    if (!valid) {
        err << "error: " << valid.error().what() << '\n';
        return 1;
    }
    out << message_to_json(*parsed) << '\n';
    return 0;
}

}  // namespace b2b::b2bua
