// Readers of YAML fields for the configuration loader.
#include "b2bua/detail/yaml_fields.hpp"

#include "b2bua/config.hpp"
#include "sip/message/uri.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace b2b::b2bua::detail {

[[noreturn]] void fail(const std::string& field, const std::string& problem) {
    throw config_error(field + ": " + problem);
}

std::string at_line(const YAML::Node& n) {
    const auto mark = n.Mark();
    if (mark.line < 0) return "";
    return " (line " + std::to_string(mark.line + 1) + ")";
}

// Rejects keys that the section does not define: a misspelt key must not be ignored.
void only_keys(const YAML::Node& map, const std::string& field, std::initializer_list<std::string_view> allowed) {
    for (const auto& kv : map) {
        // A YAML complex key ("? a: 1", "[a]: 1") is a mapping or a list, not a name.
        if (!kv.first.IsScalar()) fail(field.empty() ? "config" : field, "a key must be a plain name" + at_line(kv.first));
        const auto key = kv.first.as<std::string>();
        bool ok = false;
        for (auto a : allowed) ok = ok || key == a;
        if (!ok) {
            std::string list;
            for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
            fail(field.empty() ? key : field + "." + key,
                 "unknown key" + at_line(kv.first) + "; expected one of: " + list);
        }
    }
}

// Whether an optional section was given a value. A section written with nothing under it
// ("calls:" followed only by comments, as when every example in it is commented out) is
// YAML null, and means the same as leaving the section out: all defaults.
bool given(const YAML::Node& n) { return n && !n.IsNull(); }

const YAML::Node& expect_map(const YAML::Node& n, const std::string& field) {
    if (!n.IsMap()) fail(field, "must be a mapping" + at_line(n));
    return n;
}

std::string scalar(const YAML::Node& n, const std::string& field) {
    if (!n.IsScalar()) fail(field, "must be a single value" + at_line(n));
    return n.as<std::string>();
}

std::string non_empty(const YAML::Node& n, const std::string& field) {
    auto s = scalar(n, field);
    if (s.empty()) fail(field, "must not be empty");
    return s;
}

bool boolean(const YAML::Node& n, const std::string& field) {
    const std::string v = scalar(n, field);
    if (v != "true" && v != "false") fail(field, "must be true or false, not '" + v + "'");
    return v == "true";
}

long long integer(const YAML::Node& n, const std::string& field, long long lo, long long hi) {
    const auto s = scalar(n, field);
    long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) fail(field, "'" + s + "' is not an integer");
    if (v < lo || v > hi) {
        fail(field, std::to_string(v) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return v;
}

// "127.0.0.1:5070", "[::1]:5070" (a port is required).
sip::endpoint host_port(const std::string& text, const std::string& field) {
    std::string host;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            fail(field, "'" + text + "' must be [IPv6]:port");
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) fail(field, "'" + text + "' has no port (expected address:port)");
        host = text.substr(0, colon);
        // "::1:5070" is itself an IPv6 address: the brackets say where the port starts.
        if (host.find(':') != std::string::npos) fail(field, "'" + text + "' must be [IPv6]:port");
        port = text.substr(colon + 1);
    }
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(host, ec);
    if (ec) fail(field, "'" + host + "' is not an IP address");
    unsigned p = 0;
    auto [ptr, pec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (pec != std::errc() || ptr != port.data() + port.size() || p > 65535) {
        fail(field, "'" + port + "' is not a port number");
    }
    return {addr, static_cast<std::uint16_t>(p)};
}

std::vector<std::string> string_list(const YAML::Node& n, const std::string& field) {
    std::vector<std::string> out;
    if (n.IsScalar()) {
        out.push_back(n.as<std::string>());
        return out;
    }
    if (!n.IsSequence()) fail(field, "must be a list" + at_line(n));
    for (std::size_t i = 0; i < n.size(); ++i) out.push_back(scalar(n[i], field + "[" + std::to_string(i) + "]"));
    return out;
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128).
auth::ip_network network(const std::string& text, const std::string& field) {
    const auto net = auth::ip_network::parse(text);
    if (!net) fail(field, "'" + text + "' is not an address or CIDR");
    if (!net->is_canonical()) {
        fail(field, "'" + text + "' has bits set past the /" + std::to_string(net->prefix_length()) +
                        " prefix; write the network address");
    }
    return *net;
}

std::vector<auth::ip_network> network_list(const YAML::Node& n, const std::string& field) {
    std::vector<auth::ip_network> out;
    const auto list = string_list(n, field);
    for (std::size_t i = 0; i < list.size(); ++i) out.push_back(network(list[i], field + "[" + std::to_string(i) + "]"));
    return out;
}

// "host", "host:port", "[IPv6]" or "[IPv6]:port" (sip.advertise, cluster.contact), written into
// Via sent-bys and Contacts as it is, so it must be a valid hostport (RFC 3261 §25.1; an IPv6 address in
// brackets, RFC 5118 §4.2).
std::string advertised_host_port(const YAML::Node& n, const std::string& field) {
    const std::string text = non_empty(n, field);
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(text, ec);
    if (!ec) {
        fail(field, "'" + text + "': an IPv6 address goes in brackets, e.g. [" + text + "] or [" + text + "]:5060");
    }
    const std::string as_uri = "sip:" + text;
    const auto u = sip::parse_uri(as_uri);
    if (!u || u->has_user || !u->params.empty() || !u->headers.empty()) {
        fail(field, "'" + text + "' is not host or host:port (a name, an IPv4 address or [IPv6], port 1-65535)");
    }
    return text;
}

}  // namespace b2b::b2bua::detail
