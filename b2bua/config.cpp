// Loading and validating the YAML configuration.
#include "b2bua/config.hpp"

#include "b2bua/detail/config_sections.hpp"
#include "b2bua/detail/yaml_fields.hpp"

#include "sip/message/uri.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/predicate.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <yaml-cpp/yaml.h>

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace b2b::b2bua {

namespace {

using namespace detail;  // the YAML field readers


listen_address parse_listen(const std::string& text, const std::string& field) {
    listen_address out;
    std::string rest = text;
    if (auto scheme = text.find("://"); scheme != std::string::npos) {
        if (!sip::transport_from_string(text.substr(0, scheme), out.transport)) {
            fail(field, "'" + text.substr(0, scheme) + "' is not a supported transport (udp, tcp, tls)");
        }
        rest = text.substr(scheme + 3);
    }
    out.address = host_port(rest, field);
    return out;
}

sip::endpoint resolve(const std::string& host, std::uint16_t port, const std::string& field) {
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(host, ec);
    if (!ec) return {addr, port};
    // A name: resolved once, here, at load time (no DNS on the call path).
    boost::asio::io_context io;
    boost::asio::ip::udp::resolver resolver(io);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) fail(field, "cannot resolve host '" + host + "': " + ec.message());
    return {results.begin()->endpoint().address(), port};
}

// The peer a URI names: domain for the Request-URI, transport, and its address. A host name
// is resolved once here for a PBX (`by_dns` false); a trunk's is left to DNS at run time
// (RFC 3263, b2bua::trunk_targets), so that no lookup blocks and the provider may move.
void parse_peer_uri(routing::trunk& t, const std::string& text, const std::string& field, bool by_dns = false) {
    t.uri = text;
    auto parsed = sip::parse_uri(t.uri);
    if (!parsed) fail(field, "'" + t.uri + "' is not a valid URI: " + parsed.error().what());
    if (!parsed->is_sip_or_sips()) fail(field, "'" + t.uri + "' is not a sip: or sips: URI");
    if (parsed->host.empty()) fail(field, "'" + t.uri + "' has no host");
    if (auto tp = parsed->transport(); !tp.empty()) {
        if (!sip::transport_from_string(tp, t.transport)) {
            fail(field, "transport '" + std::string(tp) + "' is not supported (udp, tcp, tls)");
        }
    }
    if (parsed->is_sips()) {
        // RFC 3261 §26.2.2: a sips: URI is reached over TLS (";transport=tcp" names TLS over
        // TCP there); there is no sips: over UDP.
        if (t.transport == sip::transport_kind::udp && !parsed->transport().empty()) {
            fail(field, "sips: is TLS over TCP: transport=udp does not go with it");
        }
        t.sips = true;
        t.transport = sip::transport_kind::tls;
    }
    // RFC 3261 §19.1.2: 5061 is the default port of sips: and of transport=tls.
    const std::uint16_t port = parsed->port ? parsed->port : sip::default_port(t.transport);
    t.host = std::string(parsed->host_without_brackets());
    t.domain = std::string(parsed->host);
    if (parsed->port) t.domain += ":" + std::to_string(parsed->port);
    const std::string host(parsed->host_without_brackets());
    boost::system::error_code ec;
    if (by_dns && (boost::asio::ip::make_address(host, ec), ec)) {
        t.dns_host = host;
        t.uri_port = parsed->port;
        // A sips: URI names TLS as surely as transport=tls does: its A/AAAA on 5061 (the SRV
        // and NAPTR steps are for URIs that leave the transport open).
        t.uri_transport = !parsed->transport().empty() || t.sips;
        return;
    }
    t.address = resolve(host, port, field);
}

void parse_credentials(routing::trunk& t, const YAML::Node& n, const std::string& field) {
    if (n["username"]) t.username = scalar(n["username"], field + ".username");
    if (n["password"]) t.password = scalar(n["password"], field + ".password");
    if (!t.username.empty() && t.password.empty()) fail(field + ".password", "is required when username is set");
}

// inbound_from: "203.0.113.0/24", "203.0.113.7" (the address, any port) or "203.0.113.7:5060".
void parse_inbound_from(routing::trunk& t, const YAML::Node& n, const std::string& field) {
    const auto list = string_list(n, field);
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto item = field + "[" + std::to_string(i) + "]";
        const std::string& text = list[i];
        const bool has_port = text.find('/') == std::string::npos &&
                              (text.front() == '[' || std::count(text.begin(), text.end(), ':') == 1);
        if (has_port) {
            t.inbound_endpoints.push_back(host_port(text, item));
        } else {
            t.inbound_networks.push_back(network(text, item));
        }
    }
}

routing::identity_policy identity_policy(const YAML::Node& n, const std::string& field) {
    const auto v = scalar(n, field);
    if (v == "pass") return routing::identity_policy::pass;
    if (v == "strip") return routing::identity_policy::strip;
    if (v == "set") return routing::identity_policy::set;
    fail(field, "'" + v + "' is not one of pass, strip, set");
}

// A user part we write ourselves: a number, or a name made of URI user characters.
std::string user_part(const YAML::Node& n, const std::string& field) {
    auto v = non_empty(n, field);
    const bool ok = std::all_of(v.begin(), v.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0 || std::string_view("+-_.!~*'()&=$,;?/").find(ch) != std::string_view::npos;
    });
    if (!ok) fail(field, "'" + v + "' is not a valid SIP user part (digits, letters, + - _ . and the like)");
    return v;
}

// The caller identity keys (trunks and inbound routes alike).
void parse_identity(routing::trunk& t, const YAML::Node& n, const std::string& field) {
    if (n["from_user"]) t.from_user = user_part(n["from_user"], field + ".from_user");
    if (n["asserted_identity"]) t.asserted_identity = identity_policy(n["asserted_identity"], field + ".asserted_identity");
    if (n["asserted_user"]) {
        t.asserted_user = user_part(n["asserted_user"], field + ".asserted_user");
        // Naming the asserted user is asking for it to be set; only a contrary choice is an error.
        if (!n["asserted_identity"]) t.asserted_identity = routing::identity_policy::set;
        if (t.asserted_identity != routing::identity_policy::set) {
            fail(field + ".asserted_user", "is only used with asserted_identity: set");
        }
    }
    if (n["privacy"]) t.privacy = identity_policy(n["privacy"], field + ".privacy");
}

// The trunk keys of failover, limits and health checks (routing::trunk_selection_policy).
void parse_trunk_selection(const YAML::Node& n, const std::string& field, routing::trunk_selection_policy& p) {
    if (n["max_calls"]) p.max_calls = static_cast<std::size_t>(integer(n["max_calls"], field + ".max_calls", 0, 10000000));
    if (n["max_cps"]) p.max_cps = static_cast<std::uint32_t>(integer(n["max_cps"], field + ".max_cps", 0, 100000));
    if (n["invite_timeout_ms"]) {
        p.invite_timeout = std::chrono::milliseconds(integer(n["invite_timeout_ms"], field + ".invite_timeout_ms", 100, 300000));
    }
    if (n["options_interval_s"]) {
        p.options_interval = std::chrono::seconds(integer(n["options_interval_s"], field + ".options_interval_s", 0, 3600));
    }
    if (n["down_after"]) p.down_after = static_cast<unsigned>(integer(n["down_after"], field + ".down_after", 1, 100));
    if (n["up_after"]) p.up_after = static_cast<unsigned>(integer(n["up_after"], field + ".up_after", 1, 100));
}

routing::trunk parse_trunk(const YAML::Node& n, const std::string& field) {
    expect_map(n, field);
    only_keys(n, field,
              {"name", "uri", "username", "password", "from_domain", "reuse_nonce", "inbound_from", "identify_by",
               // caller identity (parse_identity)
               "from_user", "asserted_identity", "asserted_user", "privacy",
               // trunk selection (parse_trunk_selection)
               "max_calls", "max_cps", "invite_timeout_ms", "options_interval_s", "down_after", "up_after",
               // registration with the provider
               "register", "register_expires"});
    routing::trunk t;
    if (!n["name"]) fail(field + ".name", "is required");
    t.name = non_empty(n["name"], field + ".name");
    if (!n["uri"]) fail(field + ".uri", "is required");
    parse_peer_uri(t, non_empty(n["uri"], field + ".uri"), field + ".uri", true);
    parse_credentials(t, n, field);
    if (n["from_domain"]) t.from_domain = non_empty(n["from_domain"], field + ".from_domain");
    if (n["reuse_nonce"]) t.reuse_nonce = boolean(n["reuse_nonce"], field + ".reuse_nonce");
    if (n["inbound_from"]) parse_inbound_from(t, n["inbound_from"], field + ".inbound_from");
    if (n["identify_by"]) {
        const auto v = scalar(n["identify_by"], field + ".identify_by");
        if (v == "address") {
            t.identify_by = routing::source_identification::address;
        } else if (v == "address_port") {
            t.identify_by = routing::source_identification::address_port;
        } else if (v == "none") {
            t.identify_by = routing::source_identification::none;
        } else {
            fail(field + ".identify_by", "'" + v + "' is not one of address, address_port, none");
        }
    }
    parse_identity(t, n, field);
    parse_trunk_selection(n, field, t.selection);
    if (n["register"]) t.registers = boolean(n["register"], field + ".register");
    if (n["register_expires"]) {
        // Providers may grant as little as 20 s; below 10 s a refresh would race its answer.
        t.register_expires = std::chrono::seconds(integer(n["register_expires"], field + ".register_expires", 10, 86400));
    }
    if (t.registers && t.username.empty()) {
        fail(field + ".username", "is required with register: true (it names the account registered, sip:username@host)");
    }
    return t;
}

user_account parse_user(const YAML::Node& n, const std::string& field) {
    expect_map(n, field);
    only_keys(n, field, {"username", "password", "ha1", "ha1_sha256", "allowed_sources", "max_calls", "max_cps"});
    user_account u;
    if (!n["username"]) fail(field + ".username", "is required");
    u.username = non_empty(n["username"], field + ".username");
    if (n["password"]) u.password = non_empty(n["password"], field + ".password");
    if (n["ha1"]) {
        u.ha1_md5 = boost::algorithm::to_lower_copy(non_empty(n["ha1"], field + ".ha1"));
        if (u.ha1_md5.size() != 32 || !is_hex(u.ha1_md5)) fail(field + ".ha1", "must be 32 hex digits (MD5 of user:realm:password)");
    }
    if (n["ha1_sha256"]) {
        u.ha1_sha256 = boost::algorithm::to_lower_copy(non_empty(n["ha1_sha256"], field + ".ha1_sha256"));
        if (u.ha1_sha256.size() != 64 || !is_hex(u.ha1_sha256)) {
            fail(field + ".ha1_sha256", "must be 64 hex digits (SHA-256 of user:realm:password)");
        }
    }
    if (u.password.empty() && u.ha1_md5.empty() && u.ha1_sha256.empty()) {
        fail(field, "user '" + u.username + "' needs a password, ha1 or ha1_sha256");
    }
    if (n["allowed_sources"]) u.allowed_sources = network_list(n["allowed_sources"], field + ".allowed_sources");
    if (n["max_calls"]) u.max_calls = static_cast<std::size_t>(integer(n["max_calls"], field + ".max_calls", 0, 10000000));
    if (n["max_cps"]) u.max_cps = static_cast<std::uint32_t>(integer(n["max_cps"], field + ".max_cps", 0, 100000));
    return u;
}

// A non-empty list of digest algorithm names without repeats, upper-cased.
std::vector<std::string> algorithm_list(const YAML::Node& n, const std::string& field) {
    auto algs = string_list(n, field);
    if (algs.empty()) fail(field, "must name at least one algorithm");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < algs.size(); ++i) {
        auto up = boost::algorithm::to_upper_copy(algs[i]);
        if (up != "MD5" && up != "SHA-256" && up != "SHA-512-256") {
            fail(field + "[" + std::to_string(i) + "]", "'" + algs[i] + "' is not supported (MD5, SHA-256, SHA-512-256)");
        }
        if (!seen.insert(up).second) fail(field + "[" + std::to_string(i) + "]", "'" + algs[i] + "' is listed twice");
        algs[i] = up;
    }
    return algs;
}

// sip.tls: PEM file names, checked for presence here and read at start (tls_context).
void parse_tls(const YAML::Node& n, config& c) {
    expect_map(n, "sip.tls");
    only_keys(n, "sip.tls", {"certificate", "key", "ca"});
    auto& t = c.sip.tls;
    if (n["certificate"]) t.certificate = non_empty(n["certificate"], "sip.tls.certificate");
    if (n["key"]) t.key = non_empty(n["key"], "sip.tls.key");
    if (n["ca"]) t.ca = non_empty(n["ca"], "sip.tls.ca");
    if (!t.certificate.empty() && t.key.empty()) fail("sip.tls.key", "is required with sip.tls.certificate");
    if (t.certificate.empty() && !t.key.empty()) fail("sip.tls.certificate", "is required with sip.tls.key");
}

// http: { listen: "127.0.0.1:9090", max_connections: 256, max_connections_per_source: 16,
//         header_timeout_s: 10, body_timeout_s: 30 }
void parse_http(const YAML::Node& n, config& c) {
    expect_map(n, "http");
    only_keys(n, "http", {"listen", "max_connections", "max_connections_per_source", "header_timeout_s", "body_timeout_s"});
    auto& h = c.http;
    if (n["listen"]) {
        // "" turns the server off (and with it /metrics and the admin API).
        const auto text = scalar(n["listen"], "http.listen");
        if (text.empty()) {
            h.listen.reset();
        } else {
            h.listen = host_port(text, "http.listen");
        }
    }
    if (n["max_connections"]) {
        h.max_connections = static_cast<std::size_t>(integer(n["max_connections"], "http.max_connections", 1, 100000));
    }
    if (n["max_connections_per_source"]) {
        h.max_connections_per_source = static_cast<std::size_t>(
            integer(n["max_connections_per_source"], "http.max_connections_per_source", 0, 100000));
    }
    if (n["header_timeout_s"]) h.header_timeout = std::chrono::seconds(integer(n["header_timeout_s"], "http.header_timeout_s", 1, 3600));
    if (n["body_timeout_s"]) h.body_timeout = std::chrono::seconds(integer(n["body_timeout_s"], "http.body_timeout_s", 1, 3600));
}

// admin: { token_file: /etc/b2bua/admin.token, tls: { certificate: ..., key: ... }, failures_kept: 1000 }
void parse_admin(const YAML::Node& n, config& c) {
    expect_map(n, "admin");
    only_keys(n, "admin", {"token", "token_file", "tls", "failures_kept"});
    auto& a = c.admin;
    if (n["token"]) a.token = non_empty(n["token"], "admin.token");
    if (n["token_file"]) a.token_file = non_empty(n["token_file"], "admin.token_file");
    if (!a.token.empty() && !a.token_file.empty()) fail("admin.token_file", "give either admin.token or admin.token_file, not both");
    if (n["failures_kept"]) {
        a.failures_kept = static_cast<std::size_t>(integer(n["failures_kept"], "admin.failures_kept", 10, 1000000));
    }
    if (const auto& t = n["tls"]; given(t)) {
        expect_map(t, "admin.tls");
        only_keys(t, "admin.tls", {"certificate", "key"});
        if (!t["certificate"]) fail("admin.tls.certificate", "is required with admin.tls");
        if (!t["key"]) fail("admin.tls.key", "is required with admin.tls");
        a.tls.certificate = non_empty(t["certificate"], "admin.tls.certificate");
        a.tls.key = non_empty(t["key"], "admin.tls.key");
    }
}

bool listens_on(const config& c, sip::transport_kind k) {
    return std::any_of(c.sip.listen.begin(), c.sip.listen.end(), [k](const listen_address& l) { return l.transport == k; });
}

// A peer reached over TLS needs a tls:// listener: our Via and Contact name its address
// (RFC 3261 §18.1.1), and the peer's requests in the dialog come back to it.
void check_tls_peer(const config& c, const routing::trunk& t, const std::string& field) {
    if (t.transport == sip::transport_kind::tls && !listens_on(c, sip::transport_kind::tls)) {
        fail(field, "'" + t.uri + "' is reached over TLS: sip.listen needs a tls:// address");
    }
}

// The CPUs this process may run on (its affinity mask: a container's cpuset or `taskset`, not
// the host's count), 1..64.
std::size_t cores_available() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::size_t n = 0;
    if (::sched_getaffinity(0, sizeof(set), &set) == 0) n = static_cast<std::size_t>(CPU_COUNT(&set));
    if (n == 0) n = std::thread::hardware_concurrency();
    return std::clamp<std::size_t>(n, 1, 64);
}

void parse_sip(const YAML::Node& n, config& c) {
    expect_map(n, "sip");
    only_keys(n, "sip", {"listen", "advertise", "t1_ms", "t2_ms", "t4_ms", "max_message_size", "workers", "tcp", "tls"});
    // Default: one event loop per core this process may run on; "auto" says so explicitly.
    if (const auto& w = n["workers"]; given(w) && !(w.IsScalar() && w.Scalar() == "auto")) {
        c.sip.workers = static_cast<std::size_t>(integer(w, "sip.workers", 1, 64));
    } else {
        c.sip.workers = cores_available();
    }
    if (const auto& t = n["tls"]; given(t)) parse_tls(t, c);
    if (const auto& t = n["tcp"]; given(t)) {
        expect_map(t, "sip.tcp");
        only_keys(t, "sip.tcp", {"idle_timeout_s", "max_connections", "max_connections_per_source",
                                 "max_outbound_connections"});
        // Long calls over TCP keep their connection through CRLF keep-alives (RFC 5626 §3.5.1);
        // a PBX that sends none must send something within this time.
        if (t["idle_timeout_s"]) {
            c.sip.tcp_idle_timeout = std::chrono::seconds(integer(t["idle_timeout_s"], "sip.tcp.idle_timeout_s", 1, 86400));
        }
        auto count = [&](const char* key, std::size_t& out, long long lo) {
            if (t[key]) out = static_cast<std::size_t>(integer(t[key], std::string("sip.tcp.") + key, lo, 1000000));
        };
        count("max_connections", c.sip.tcp_max_connections, 1);
        count("max_connections_per_source", c.sip.tcp_max_connections_per_source, 0);
        count("max_outbound_connections", c.sip.tcp_max_outbound_connections, 1);
    }
    if (!n["listen"]) fail("sip.listen", "is required");
    auto list = string_list(n["listen"], "sip.listen");
    if (list.empty()) fail("sip.listen", "must name at least one address");
    for (std::size_t i = 0; i < list.size(); ++i) {
        c.sip.listen.push_back(parse_listen(list[i], "sip.listen[" + std::to_string(i) + "]"));
        if (c.sip.listen.back().transport == sip::transport_kind::tls && c.sip.tls.certificate.empty()) {
            fail("sip.tls.certificate", "is required with a tls:// address in sip.listen (sip.listen[" +
                                            std::to_string(i) + "])");
        }
    }
    if (n["advertise"]) c.sip.advertised_host = advertised_host_port(n["advertise"], "sip.advertise");
    for (std::size_t i = 0; i < c.sip.listen.size(); ++i) {
        if (c.sip.listen[i].address.address.is_unspecified() && c.sip.advertised_host.empty()) {
            // Our Via and Contact must name an address the peers can reach.
            fail("sip.advertise", "is required when sip.listen[" + std::to_string(i) + "] is a wildcard address");
        }
    }
    if (n["t1_ms"]) c.sip.t1 = std::chrono::milliseconds(integer(n["t1_ms"], "sip.t1_ms", 1, 60000));
    if (n["t2_ms"]) c.sip.t2 = std::chrono::milliseconds(integer(n["t2_ms"], "sip.t2_ms", 1, 600000));
    if (n["t4_ms"]) c.sip.t4 = std::chrono::milliseconds(integer(n["t4_ms"], "sip.t4_ms", 1, 600000));
    if (c.sip.t2 < c.sip.t1) fail("sip.t2_ms", "must not be smaller than sip.t1_ms");
    if (n["max_message_size"]) {
        c.sip.max_message_size = static_cast<std::size_t>(integer(n["max_message_size"], "sip.max_message_size", 1500, 65535));
    }
}

// downstream.registrar: the bindings PBXs register with us (RFC 3261 §10.3).
void parse_registrar(const YAML::Node& n, config::downstream_section& d) {
    const std::string field = "downstream.registrar";
    expect_map(n, field);
    only_keys(n, field, {"min_expires", "max_expires", "default_expires", "keepalive_s", "max_bindings"});
    auto& p = d.registrar;
    const auto seconds = [&](const char* key, std::chrono::seconds& out) {
        if (n[key]) out = std::chrono::seconds(integer(n[key], field + "." + key, 1, 7 * 86400));
    };
    seconds("min_expires", p.min_expires);
    seconds("max_expires", p.max_expires);
    seconds("default_expires", p.default_expires);
    if (n["keepalive_s"]) d.registrar_keepalive = std::chrono::seconds(integer(n["keepalive_s"], field + ".keepalive_s", 0, 3600));
    if (n["max_bindings"]) p.max_bindings = static_cast<std::size_t>(integer(n["max_bindings"], field + ".max_bindings", 1, 1000));
    if (p.max_expires < p.min_expires) {
        fail(field + ".max_expires", std::to_string(p.max_expires.count()) + " is below min_expires (" +
                                         std::to_string(p.min_expires.count()) + ")");
    }
    if (p.default_expires < p.min_expires || p.default_expires > p.max_expires) {
        fail(field + ".default_expires", std::to_string(p.default_expires.count()) + " is outside min_expires..max_expires (" +
                                             std::to_string(p.min_expires.count()) + ".." +
                                             std::to_string(p.max_expires.count()) + ")");
    }
}

void parse_downstream(const YAML::Node& n, config& c) {
    expect_map(n, "downstream");
    only_keys(n, "downstream",
              {"realm", "users", "challenge", "algorithms", "algorithms_for", "nonce_ttl_s", "nonce_secret",
               "nonce_table_size", "allowed_sources", "registrar"});
    if (!n["realm"]) fail("downstream.realm", "is required");
    c.downstream.realm = non_empty(n["realm"], "downstream.realm");
    if (c.downstream.realm.find('"') != std::string::npos) fail("downstream.realm", "must not contain '\"'");
    if (n["users"]) {
        const auto& users = n["users"];
        if (!users.IsSequence()) fail("downstream.users", "must be a list" + at_line(users));
        std::set<std::string> seen;
        for (std::size_t i = 0; i < users.size(); ++i) {
            auto field = "downstream.users[" + std::to_string(i) + "]";
            auto u = parse_user(users[i], field);
            if (!seen.insert(u.username).second) fail(field + ".username", "'" + u.username + "' is listed twice");
            c.downstream.users.push_back(std::move(u));
        }
    }
    if (n["challenge"]) {
        c.downstream.challenge_status = static_cast<int>(integer(n["challenge"], "downstream.challenge", 401, 407));
        if (c.downstream.challenge_status != 401 && c.downstream.challenge_status != 407) {
            fail("downstream.challenge", "must be 401 or 407");
        }
    }
    if (n["algorithms"]) c.downstream.algorithms = algorithm_list(n["algorithms"], "downstream.algorithms");
    if (n["algorithms_for"]) {
        const auto& rules = n["algorithms_for"];
        if (!rules.IsSequence()) fail("downstream.algorithms_for", "must be a list" + at_line(rules));
        for (std::size_t i = 0; i < rules.size(); ++i) {
            const auto field = "downstream.algorithms_for[" + std::to_string(i) + "]";
            expect_map(rules[i], field);
            only_keys(rules[i], field, {"sources", "algorithms"});
            config::downstream_section::algorithms_rule rule;
            if (!rules[i]["sources"]) fail(field + ".sources", "is required");
            rule.sources = network_list(rules[i]["sources"], field + ".sources");
            if (rule.sources.empty()) fail(field + ".sources", "must name at least one address or CIDR");
            if (!rules[i]["algorithms"]) fail(field + ".algorithms", "is required");
            rule.algorithms = algorithm_list(rules[i]["algorithms"], field + ".algorithms");
            c.downstream.algorithms_for.push_back(std::move(rule));
        }
    }
    if (n["allowed_sources"]) {
        c.downstream.allowed_sources = network_list(n["allowed_sources"], "downstream.allowed_sources");
        if (c.downstream.allowed_sources.empty()) {
            fail("downstream.allowed_sources", "must name at least one address or CIDR (leave it out to allow any)");
        }
    }
    if (n["registrar"]) parse_registrar(n["registrar"], c.downstream);
    if (n["nonce_ttl_s"]) c.downstream.nonce_ttl = std::chrono::seconds(integer(n["nonce_ttl_s"], "downstream.nonce_ttl_s", 5, 86400));
    if (n["nonce_secret"]) {
        c.downstream.nonce_secret = non_empty(n["nonce_secret"], "downstream.nonce_secret");
        if (c.downstream.nonce_secret.size() < 16) fail("downstream.nonce_secret", "must be at least 16 characters");
    }
    if (n["nonce_table_size"]) {
        c.downstream.nonce_table_size =
            static_cast<std::size_t>(integer(n["nonce_table_size"], "downstream.nonce_table_size", 1024, 16777216));
    }
}

void parse_upstream(const YAML::Node& n, config& c) {
    expect_map(n, "upstream");
    only_keys(n, "upstream", {"trunks"});
    if (!n["trunks"]) fail("upstream.trunks", "is required");
    const auto& trunks = n["trunks"];
    if (!trunks.IsSequence()) fail("upstream.trunks", "must be a list" + at_line(trunks));
    std::set<std::string> names;
    for (std::size_t i = 0; i < trunks.size(); ++i) {
        auto field = "upstream.trunks[" + std::to_string(i) + "]";
        auto t = parse_trunk(trunks[i], field);
        if (!names.insert(t.name).second) fail(field + ".name", "'" + t.name + "' is listed twice");
        check_tls_peer(c, t, field + ".uri");
        c.upstream.trunks.push_back(std::move(t));
    }
}

// What a route puts in front of a number.
std::string number_prefix(const YAML::Node& n, const std::string& field) {
    auto v = scalar(n, field);
    const bool ok = std::all_of(v.begin(), v.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '+' || ch == '*' || ch == '#';
    });
    if (!ok) fail(field, "'" + v + "' may hold only digits, letters, +, * and #");
    return v;
}

// A route's trunks (`trunk: one`, or `trunks: [ first, second ]` tried in order) and its
// number rewriting (`strip`, then `prepend`).
void parse_route_trunks(const YAML::Node& n, const std::string& field, const config& c, routing::route& r) {
    if (n["trunk"] && n["trunks"]) fail(field + ".trunks", "give either trunk or trunks, not both");
    if (n["trunk"]) {
        r.trunks.push_back(non_empty(n["trunk"], field + ".trunk"));
    } else if (n["trunks"]) {
        r.trunks = string_list(n["trunks"], field + ".trunks");
        if (r.trunks.empty()) fail(field + ".trunks", "must name at least one trunk");
    } else {
        fail(field + ".trunks", "is required (or trunk)");
    }
    const std::string list_field = field + (n["trunk"] ? ".trunk" : ".trunks");
    for (std::size_t j = 0; j < r.trunks.size(); ++j) {
        const std::string f = n["trunk"] ? list_field : list_field + "[" + std::to_string(j) + "]";
        if (r.trunks[j].empty()) fail(f, "must not be empty");
        const bool known = std::any_of(c.upstream.trunks.begin(), c.upstream.trunks.end(),
                                       [&](const routing::trunk& t) { return t.name == r.trunks[j]; });
        if (!known) fail(f, "no trunk named '" + r.trunks[j] + "' in upstream.trunks");
        if (std::find(r.trunks.begin(), r.trunks.begin() + static_cast<std::ptrdiff_t>(j), r.trunks[j]) !=
            r.trunks.begin() + static_cast<std::ptrdiff_t>(j)) {
            fail(f, "'" + r.trunks[j] + "' is listed twice");
        }
    }
    if (n["strip"]) r.strip = static_cast<std::size_t>(integer(n["strip"], field + ".strip", 0, 64));
    if (n["prepend"]) r.prepend = number_prefix(n["prepend"], field + ".prepend");
}

void parse_routes(const YAML::Node& n, config& c) {
    if (!n.IsSequence()) fail("routes", "must be a list" + at_line(n));
    for (std::size_t i = 0; i < n.size(); ++i) {
        auto field = "routes[" + std::to_string(i) + "]";
        expect_map(n[i], field);
        only_keys(n[i], field, {"prefix", "trunk", "trunks", "strip", "prepend"});
        routing::route r;
        if (n[i]["prefix"]) r.prefix = scalar(n[i]["prefix"], field + ".prefix");
        parse_route_trunks(n[i], field, c, r);
        c.routes.push_back(std::move(r));
    }
}

// inbound_routes: calls from trunks to a PBX, by dialled number.
// The PBX of an inbound route without a `name`: "pbx1" for the first route... Its name is the
// `peer` label of the auth metrics, which must never be an address or a user name (bounded, and
// nothing of the network in a label).
std::string default_pbx_name(std::size_t route) { return "pbx" + std::to_string(route + 1); }

void parse_inbound_routes(const YAML::Node& n, config& c) {
    if (!n.IsSequence()) fail("inbound_routes", "must be a list" + at_line(n));
    for (std::size_t i = 0; i < n.size(); ++i) {
        const auto field = "inbound_routes[" + std::to_string(i) + "]";
        expect_map(n[i], field);
        only_keys(n[i], field, {"prefix", "to", "name", "username", "password", "strip", "prepend", "caller_strip",
                                "caller_prepend", "asserted_identity", "asserted_user", "privacy"});
        routing::inbound_route r;
        if (n[i]["prefix"]) r.prefix = scalar(n[i]["prefix"], field + ".prefix");
        if (!n[i]["to"]) {
            fail(field + ".to", "is required (the PBX's SIP URI, e.g. sip:10.0.0.5:5060, or { registered: USER })");
        }
        if (const auto& to = n[i]["to"]; to.IsMap()) {
            only_keys(to, field + ".to", {"registered"});
            if (!to["registered"]) fail(field + ".to.registered", "is required (the PBX account whose bindings take the calls)");
            r.registered_user = non_empty(to["registered"], field + ".to.registered");
            const bool known = std::any_of(c.downstream.users.begin(), c.downstream.users.end(),
                                           [&](const user_account& u) { return u.username == r.registered_user; });
            if (!known) fail(field + ".to.registered", "no user named '" + r.registered_user + "' in downstream.users");
            r.target.name = n[i]["name"] ? non_empty(n[i]["name"], field + ".name") : default_pbx_name(i);
        } else {
            parse_peer_uri(r.target, non_empty(to, field + ".to"), field + ".to");
            check_tls_peer(c, r.target, field + ".to");
            if (auto u = sip::parse_uri(r.target.uri); u && !u->user.empty()) r.user = std::string(u->user);
            r.target.name = n[i]["name"] ? non_empty(n[i]["name"], field + ".name") : default_pbx_name(i);
        }
        parse_credentials(r.target, n[i], field);
        if (n[i]["strip"]) r.strip = static_cast<std::size_t>(integer(n[i]["strip"], field + ".strip", 0, 64));
        if (n[i]["prepend"]) r.prepend = number_prefix(n[i]["prepend"], field + ".prepend");
        if (n[i]["caller_strip"]) {
            r.caller_strip = static_cast<std::size_t>(integer(n[i]["caller_strip"], field + ".caller_strip", 0, 64));
        }
        if (n[i]["caller_prepend"]) r.caller_prepend = number_prefix(n[i]["caller_prepend"], field + ".caller_prepend");
        parse_identity(r.target, n[i], field);
        c.inbound_routes.push_back(std::move(r));
    }
}

// dns: { servers: [ "127.0.0.1:5353" ] }
void parse_dns(const YAML::Node& n, config& c) {
    expect_map(n, "dns");
    only_keys(n, "dns", {"servers"});
    if (!n["servers"]) return;
    const auto servers = string_list(n["servers"], "dns.servers");
    if (servers.empty()) fail("dns.servers", "must name at least one address:port (leave it out for /etc/resolv.conf)");
    for (std::size_t i = 0; i < servers.size(); ++i) {
        c.dns.servers.push_back(host_port(servers[i], "dns.servers[" + std::to_string(i) + "]"));
    }
}

}  // namespace

bool valid_log_level(std::string_view level) noexcept {
    for (auto l : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
        if (level == l) return true;
    }
    return false;
}

config parse_config(std::string_view yaml_text) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
        throw config_error("config: YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (!root.IsMap()) throw config_error("config: the document must be a mapping with sip, downstream, upstream, routes");
    only_keys(root, "", {"sip", "downstream", "upstream", "routes", "inbound_routes", "http", "log", "calls", "dns", "admin",
                         "data_dir", "cdrs", "security", "overload", "cluster"});

    config c;
    try {
        if (!root["sip"]) fail("sip", "is required");
        parse_sip(root["sip"], c);
        if (!root["downstream"]) fail("downstream", "is required");
        parse_downstream(root["downstream"], c);
        if (!root["upstream"]) fail("upstream", "is required");
        parse_upstream(root["upstream"], c);
        if (given(root["routes"])) parse_routes(root["routes"], c);
        // No routes is allowed: a fresh install gets its trunks and routes through the admin API,
        // and until then a PBX's call is answered 404 (counted as no_route); the start warns.
        if (given(root["inbound_routes"])) parse_inbound_routes(root["inbound_routes"], c);
        if (given(root["dns"])) parse_dns(root["dns"], c);
        if (given(root["http"])) parse_http(root["http"], c);
        if (given(root["admin"])) parse_admin(root["admin"], c);
        if (given(root["security"])) parse_security(root["security"], c);
        if (given(root["overload"])) parse_overload(root["overload"], c);
        if (given(root["cluster"])) parse_cluster(root["cluster"], c);
        if (given(root["data_dir"])) c.data_dir = non_empty(root["data_dir"], "data_dir");
        if (const auto& k = root["cdrs"]; given(k)) {
            expect_map(k, "cdrs");
            only_keys(k, "cdrs", {"keep_days", "file"});
            if (k["keep_days"]) c.cdrs.keep = std::chrono::hours(24 * integer(k["keep_days"], "cdrs.keep_days", 1, 3650));
            if (k["file"]) c.cdrs.file = scalar(k["file"], "cdrs.file");
        }
        if (const auto& l = root["log"]; given(l)) {
            expect_map(l, "log");
            only_keys(l, "log", {"level"});
            if (l["level"]) {
                c.log.level = non_empty(l["level"], "log.level");
                if (!valid_log_level(c.log.level)) {
                    fail("log.level", "'" + c.log.level + "' is not one of trace, debug, info, warn, error, critical, off");
                }
            }
        }
        if (const auto& k = root["calls"]; given(k)) {
            expect_map(k, "calls");
            only_keys(k, "calls", {"max_ringing_s", "max_calls", "max_duration_s", "drain_s", "session_expires_s", "min_se_s"});
            if (k["max_ringing_s"]) c.calls.max_ringing = std::chrono::seconds(integer(k["max_ringing_s"], "calls.max_ringing_s", 1, 3600));
            if (k["max_calls"]) c.calls.max_calls = static_cast<std::size_t>(integer(k["max_calls"], "calls.max_calls", 0, 10000000));
            if (k["max_duration_s"]) {
                c.calls.max_duration = std::chrono::seconds(integer(k["max_duration_s"], "calls.max_duration_s", 0, 7 * 24 * 3600));
            }
            if (k["drain_s"]) c.calls.drain = std::chrono::seconds(integer(k["drain_s"], "calls.drain_s", 0, 3600));
            // RFC 4028 §4, §5: no session interval is shorter than 90 s.
            if (k["min_se_s"]) c.calls.min_se = std::chrono::seconds(integer(k["min_se_s"], "calls.min_se_s", 90, 86400));
            if (k["session_expires_s"]) {
                c.calls.session_expires = std::chrono::seconds(integer(k["session_expires_s"], "calls.session_expires_s", 0, 86400));
            }
            if (c.calls.session_expires.count() != 0 && c.calls.session_expires < c.calls.min_se) {
                fail("calls.session_expires_s", std::to_string(c.calls.session_expires.count()) +
                                                    " is below calls.min_se_s (" + std::to_string(c.calls.min_se.count()) +
                                                    "); 0 asks for no session timer");
            }
        }
    } catch (const YAML::Exception& e) {
        // Type conversions inside yaml-cpp: report them as config errors, not crashes.
        throw config_error("config: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    return c;
}

config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(path + ": cannot open the configuration file");
    std::ostringstream text;
    text << in.rdbuf();
    try {
        return parse_config(text.str());
    } catch (const config_error& e) {
        throw config_error(path + ": " + e.what());
    }
}

}  // namespace b2b::b2bua
