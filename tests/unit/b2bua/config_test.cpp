// The configuration file: the documented example, and errors that name the field.
#include "b2bua/config.hpp"

#include <gtest/gtest.h>

#include <sched.h>

#include <algorithm>

#include <string>

namespace b2b::b2bua {
namespace {

// The configuration issue #2 requires to keep working, verbatim.
const char* documented = R"(
sip:
  listen: [ "udp://127.0.0.1:5070", "tcp://127.0.0.1:5070" ]
downstream:              # the PBX side: we are the UAS
  realm: pbx.local
  users:
    - { username: pbxuser, password: pbxpass }
upstream:
  trunks:
    - name: carrier
      uri: "sip:127.0.0.1:5080"
      username: trunkuser
      password: trunkpass
routes:
  - { prefix: "", trunk: carrier }
http:
  listen: "127.0.0.1:9090"
log:
  level: info
)";

std::string error_of(const std::string& yaml) {
    try {
        parse_config(yaml);
    } catch (const config_error& e) {
        return e.what();
    }
    return "no error";
}

std::string with(std::string base, const std::string& from, const std::string& to) {
    auto at = base.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) base.replace(at, from.size(), to);
    return base;
}

TEST(config, documented_example_loads) {
    auto c = parse_config(documented);
    ASSERT_EQ(c.sip.listen.size(), 2u);
    EXPECT_EQ(c.sip.listen[0].transport, sip::transport_kind::udp);
    EXPECT_EQ(c.sip.listen[1].transport, sip::transport_kind::tcp);
    EXPECT_EQ(c.sip.listen[1].address.port, 5070);
    EXPECT_EQ(c.downstream.realm, "pbx.local");
    ASSERT_EQ(c.downstream.users.size(), 1u);
    EXPECT_EQ(c.downstream.users[0].password, "pbxpass");
    EXPECT_EQ(c.downstream.challenge_status, 407);
    // MD5 only unless configured: baresip 1.0.0 and SIPp 3.6.1 drop calls offered SHA-256.
    EXPECT_EQ(c.downstream.algorithms, (std::vector<std::string>{"MD5"}));
    EXPECT_TRUE(c.downstream.algorithms_for.empty());
    EXPECT_EQ(c.downstream.nonce_table_size, 65536u);
    ASSERT_EQ(c.upstream.trunks.size(), 1u);
    const auto& t = c.upstream.trunks[0];
    EXPECT_EQ(t.name, "carrier");
    EXPECT_EQ(t.domain, "127.0.0.1:5080");
    EXPECT_EQ(t.address.port, 5080);
    EXPECT_EQ(t.transport, sip::transport_kind::udp);
    EXPECT_EQ(t.username, "trunkuser");
    ASSERT_EQ(c.routes.size(), 1u);
    EXPECT_EQ(c.routes[0].prefix, "");
    ASSERT_TRUE(c.http.listen.has_value());
    EXPECT_EQ(c.http.listen->port, 9090);
    EXPECT_EQ(c.log.level, "info");
}

TEST(config, trunk_transport_and_defaults) {
    auto c = parse_config(with(documented, "\"sip:127.0.0.1:5080\"", "\"sip:127.0.0.1;transport=tcp\""));
    EXPECT_EQ(c.upstream.trunks[0].transport, sip::transport_kind::tcp);
    EXPECT_EQ(c.upstream.trunks[0].address.port, 5060);
    EXPECT_EQ(c.upstream.trunks[0].domain, "127.0.0.1");
}

TEST(config, reuse_nonce_is_off_unless_asked_and_checked) {
    EXPECT_FALSE(parse_config(documented).upstream.trunks.at(0).reuse_nonce);
    const std::string on = with(documented, "password: trunkpass", "password: trunkpass\n      reuse_nonce: true");
    EXPECT_TRUE(parse_config(on).upstream.trunks.at(0).reuse_nonce);
    const std::string bad = with(documented, "password: trunkpass", "password: trunkpass\n      reuse_nonce: sometimes");
    EXPECT_NE(error_of(bad).find("upstream.trunks[0].reuse_nonce"), std::string::npos) << error_of(bad);
}

TEST(config, session_timer_keys_default_and_are_checked) {
    const config defaults = parse_config(documented);
    EXPECT_EQ(defaults.calls.session_expires.count(), 1800);
    EXPECT_EQ(defaults.calls.min_se.count(), 90);
    const config set = parse_config(std::string(documented) + "calls:\n  session_expires_s: 600\n  min_se_s: 300\n");
    EXPECT_EQ(set.calls.session_expires.count(), 600);
    EXPECT_EQ(set.calls.min_se.count(), 300);
    EXPECT_EQ(parse_config(std::string(documented) + "calls:\n  session_expires_s: 0\n").calls.session_expires.count(), 0);
    // RFC 4028 §4: nothing under 90 s; and we never ask for less than we accept.
    EXPECT_NE(error_of(std::string(documented) + "calls:\n  min_se_s: 60\n").find("calls.min_se_s"), std::string::npos);
    const std::string below = error_of(std::string(documented) + "calls:\n  session_expires_s: 120\n  min_se_s: 300\n");
    EXPECT_NE(below.find("calls.session_expires_s"), std::string::npos) << below;
}

TEST(config, trunk_named_by_host_is_left_to_dns) {
    // No lookup at load: the name need not resolve here (".invalid" never does, RFC 6761).
    auto c = parse_config(with(documented, "\"sip:127.0.0.1:5080\"", "\"sip:provider.invalid\""));
    const auto& t = c.upstream.trunks[0];
    EXPECT_EQ(t.dns_host, "provider.invalid");
    EXPECT_EQ(t.uri_port, 0);
    EXPECT_FALSE(t.uri_transport);
    EXPECT_EQ(t.domain, "provider.invalid");
    EXPECT_TRUE(t.address.address.is_unspecified());
    c = parse_config(with(documented, "\"sip:127.0.0.1:5080\"", "\"sip:provider.invalid:5080;transport=tcp\""));
    EXPECT_EQ(c.upstream.trunks[0].uri_port, 5080);
    EXPECT_TRUE(c.upstream.trunks[0].uri_transport);
    EXPECT_EQ(c.upstream.trunks[0].transport, sip::transport_kind::tcp);
    // An address is no name.
    EXPECT_TRUE(parse_config(documented).upstream.trunks[0].dns_host.empty());
    EXPECT_TRUE(parse_config(documented).dns.servers.empty());  // the system's resolv.conf
}

TEST(config, dns_servers_and_errors) {
    auto c = parse_config(std::string(documented) + "dns:\n  servers: [ \"127.0.0.1:5353\", \"[::1]:53\" ]\n");
    ASSERT_EQ(c.dns.servers.size(), 2u);
    EXPECT_EQ(c.dns.servers[0].to_string(), "127.0.0.1:5353");
    EXPECT_EQ(c.dns.servers[1].to_string(), "[::1]:53");
    EXPECT_NE(error_of(std::string(documented) + "dns:\n  servers: [ \"127.0.0.1\" ]\n").find("dns.servers[0]"),
              std::string::npos);
    EXPECT_NE(error_of(std::string(documented) + "dns:\n  servers: [ \"ns.example:53\" ]\n").find("dns.servers[0]"),
              std::string::npos);
    EXPECT_NE(error_of(std::string(documented) + "dns:\n  server: [ \"127.0.0.1:53\" ]\n").find("dns.server"),
              std::string::npos);
    EXPECT_NE(error_of(std::string(documented) + "dns:\n  servers: []\n").find("dns.servers"), std::string::npos);
}

TEST(config, errors_name_the_field) {
    EXPECT_NE(error_of(with(documented, "realm: pbx.local", "realm: \"\"")).find("downstream.realm"), std::string::npos);
    EXPECT_NE(error_of(with(documented, "\"sip:127.0.0.1:5080\"", "\"http://x\"")).find("upstream.trunks[0].uri"),
              std::string::npos);
    EXPECT_NE(error_of(with(documented, "trunk: carrier", "trunk: nosuch")).find("routes[0].trunk"), std::string::npos);
    EXPECT_NE(error_of(with(documented, "\"udp://127.0.0.1:5070\"", "\"sctp://127.0.0.1:5070\"")).find("sip.listen[0]"),
              std::string::npos);
    EXPECT_NE(error_of(with(documented, "\"udp://127.0.0.1:5070\"", "\"udp://127.0.0.1\"")).find("sip.listen[0]"),
              std::string::npos);
    EXPECT_NE(error_of(with(documented, "level: info", "level: loud")).find("log.level"), std::string::npos);
    EXPECT_NE(error_of(with(documented, "password: pbxpass", "pasword: pbxpass")).find("downstream.users[0].pasword"),
              std::string::npos);
    EXPECT_NE(error_of(with(documented, "  realm: pbx.local", "  realm: pbx.local\n  algorithms: [ MD4 ]"))
                  .find("downstream.algorithms[0]"),
              std::string::npos);
    EXPECT_NE(error_of(with(documented, "listen: \"127.0.0.1:9090\"", "listen: \"127.0.0.1:99999\"")).find("http.listen"),
              std::string::npos);
    EXPECT_NE(error_of(with(documented, "      password: trunkpass\n", "")).find("upstream.trunks[0].password"),
              std::string::npos);
    EXPECT_NE(error_of(with(documented, "\"udp://127.0.0.1:5070\"", "\"udp://0.0.0.0:5070\"")).find("sip.advertise"),
              std::string::npos);
    EXPECT_NE(error_of("sip: [").find("YAML syntax error"), std::string::npos);
    EXPECT_NE(error_of("- just a list").find("mapping"), std::string::npos);
}

TEST(config, no_routes_is_a_fresh_install_not_an_error) {
    // The packaged configuration has no trunks and no routes: the admin API adds them.
    const auto c = parse_config(with(documented, "routes:\n  - { prefix: \"\", trunk: carrier }", ""));
    EXPECT_TRUE(c.routes.empty());
}

TEST(config, advertise_takes_a_host_with_an_optional_port) {
    const auto advertise = [](const std::string& value) {
        return with(documented, "  listen: [", "  advertise: \"" + value + "\"\n  listen: [");
    };
    for (const char* ok : {"sbc.example.net", "sbc.example.net:5062", "203.0.113.7", "203.0.113.7:5999",
                           "[2001:db8::1]", "[2001:db8::1]:5062"}) {
        EXPECT_EQ(parse_config(advertise(ok)).sip.advertised_host, ok);
    }
    // Each error names the field; a bare IPv6 address is ambiguous with a port (RFC 5118 §4.3).
    EXPECT_EQ(error_of(advertise("2001:db8::1")),
              "sip.advertise: '2001:db8::1': an IPv6 address goes in brackets, e.g. [2001:db8::1] or "
              "[2001:db8::1]:5060");
    for (const char* bad : {"sbc.example.net:0", "sbc.example.net:70000", "sbc.example.net:", "b2bua@sbc.example.net",
                            "sbc.example.net;transport=tcp", "[2001:db8::1", "[2001:db8:::1]", "sbc example", "300.1.1.1"}) {
        EXPECT_NE(error_of(advertise(bad)).find("sip.advertise: '" + std::string(bad) + "' is not host or host:port"),
                  std::string::npos)
            << bad << ": " << error_of(advertise(bad));
    }
    EXPECT_NE(error_of(advertise("")).find("sip.advertise"), std::string::npos);
}

TEST(config, ipv6_listeners_trunks_and_sources) {
    auto text = with(documented, "[ \"udp://127.0.0.1:5070\", \"tcp://127.0.0.1:5070\" ]",
                     "[ \"udp://127.0.0.1:5070\", \"udp://[::1]:5070\", \"tcp://[::1]:5070\" ]");
    text = with(text, "uri: \"sip:127.0.0.1:5080\"", "uri: \"sip:[::1]:5080;transport=tcp\"");
    text = with(text, "  realm: pbx.local\n", "  realm: pbx.local\n  allowed_sources: [ \"::1\", \"2001:db8::/32\" ]\n");
    const auto c = parse_config(text);
    ASSERT_EQ(c.sip.listen.size(), 3u);
    EXPECT_EQ(c.sip.listen[1].address.to_string(), "[::1]:5070");
    EXPECT_EQ(c.sip.listen[2].transport, sip::transport_kind::tcp);
    const auto& t = c.upstream.trunks.at(0);
    EXPECT_EQ(t.domain, "[::1]:5080");
    EXPECT_EQ(t.address.to_string(), "[::1]:5080");
    EXPECT_EQ(t.transport, sip::transport_kind::tcp);
    EXPECT_EQ(routing::request_uri_at(t, "+4930"), "sip:+4930@[::1]:5080;transport=tcp");
    ASSERT_EQ(c.downstream.allowed_sources.size(), 2u);
    EXPECT_TRUE(c.downstream.allowed_sources[0].contains(boost::asio::ip::make_address("::1")));
    EXPECT_TRUE(c.downstream.allowed_sources[1].contains(boost::asio::ip::make_address("2001:db8:1::5")));
    EXPECT_NE(error_of(with(documented, "uri: \"sip:127.0.0.1:5080\"", "uri: \"sip:::1:5080\"")).find("upstream.trunks[0].uri"),
              std::string::npos);
    EXPECT_NE(error_of(with(documented, "\"udp://127.0.0.1:5070\"", "\"udp://::1:5070\"")).find("sip.listen[0]"),
              std::string::npos);
}

TEST(config, drain_defaults_to_30_s_and_is_checked) {
    EXPECT_EQ(parse_config(documented).calls.drain, std::chrono::seconds(30));
    EXPECT_EQ(parse_config(documented + std::string("calls:\n  drain_s: 0\n")).calls.drain, std::chrono::seconds(0));
    EXPECT_EQ(parse_config(documented + std::string("calls:\n  drain_s: 120\n")).calls.drain, std::chrono::seconds(120));
    const std::string negative = error_of(documented + std::string("calls:\n  drain_s: -1\n"));
    EXPECT_NE(negative.find("calls.drain_s"), std::string::npos) << negative;
    const std::string typo = error_of(documented + std::string("calls:\n  drain: 10\n"));
    EXPECT_NE(typo.find("calls.drain"), std::string::npos) << typo;
}

TEST(config, duplicate_names_are_refused) {
    auto twice = with(documented, "    - { username: pbxuser, password: pbxpass }",
                      "    - { username: pbxuser, password: pbxpass }\n    - { username: pbxuser, password: x }");
    EXPECT_NE(error_of(twice).find("downstream.users[1].username"), std::string::npos);
}

TEST(config, ha1_instead_of_password) {
    auto c = parse_config(with(documented, "{ username: pbxuser, password: pbxpass }",
                               "{ username: pbxuser, ha1: 0123456789ABCDEF0123456789abcdef }"));
    EXPECT_EQ(c.downstream.users[0].ha1_md5, "0123456789abcdef0123456789abcdef");
    EXPECT_NE(error_of(with(documented, "{ username: pbxuser, password: pbxpass }", "{ username: pbxuser, ha1: 12 }"))
                  .find("downstream.users[0].ha1"),
              std::string::npos);
}

TEST(config, algorithms_for_sources) {
    auto c = parse_config(with(documented, "  realm: pbx.local\n",
                               "  realm: pbx.local\n"
                               "  algorithms: [ md5 ]\n"
                               "  nonce_table_size: 4096\n"
                               "  algorithms_for:\n"
                               "    - { sources: [ \"10.0.0.0/8\", \"::1/128\", \"127.0.0.2\" ], algorithms: [ SHA-256, MD5 ] }\n"
                               "    - { sources: \"2001:db8::/32\", algorithms: [ sha-512-256 ] }\n"));
    EXPECT_EQ(c.downstream.algorithms, (std::vector<std::string>{"MD5"}));
    EXPECT_EQ(c.downstream.nonce_table_size, 4096u);
    ASSERT_EQ(c.downstream.algorithms_for.size(), 2u);
    const auto& first = c.downstream.algorithms_for[0];
    ASSERT_EQ(first.sources.size(), 3u);
    EXPECT_EQ(first.sources[0].to_string(), "10.0.0.0/8");
    EXPECT_EQ(first.sources[1].to_string(), "::1/128");
    EXPECT_EQ(first.sources[2].to_string(), "127.0.0.2/32");  // a bare address is one host
    EXPECT_EQ(first.algorithms, (std::vector<std::string>{"SHA-256", "MD5"}));
    ASSERT_EQ(c.downstream.algorithms_for[1].sources.size(), 1u);
    EXPECT_EQ(c.downstream.algorithms_for[1].algorithms, (std::vector<std::string>{"SHA-512-256"}));
}

TEST(config, algorithms_for_errors_name_the_field) {
    const auto rule = [](const std::string& body) {
        return with(documented, "  realm: pbx.local\n", "  realm: pbx.local\n  algorithms_for:\n" + body);
    };
    EXPECT_EQ(error_of(rule("    - { sources: [ \"10.0.0.0/8\", \"10.0.0.300/8\" ], algorithms: [ MD5 ] }\n")),
              "downstream.algorithms_for[0].sources[1]: '10.0.0.300/8' is not an address or CIDR");
    EXPECT_NE(error_of(rule("    - { sources: [ \"10.0.0.0/33\" ], algorithms: [ MD5 ] }\n"))
                  .find("downstream.algorithms_for[0].sources[0]: '10.0.0.0/33' is not an address or CIDR"),
              std::string::npos);
    EXPECT_NE(error_of(rule("    - { sources: [ \"pbx.example\" ], algorithms: [ MD5 ] }\n"))
                  .find("downstream.algorithms_for[0].sources[0]"),
              std::string::npos);
    EXPECT_NE(error_of(rule("    - { sources: [ \"10.1.2.3/8\" ], algorithms: [ MD5 ] }\n"))
                  .find("downstream.algorithms_for[0].sources[0]: '10.1.2.3/8' has bits set past the /8"),
              std::string::npos);
    EXPECT_NE(error_of(rule("    - { sources: [ \"::1\" ], algorithms: [ MD5, SHA-1 ] }\n"))
                  .find("downstream.algorithms_for[0].algorithms[1]: 'SHA-1' is not supported"),
              std::string::npos);
    EXPECT_NE(error_of(rule("    - { sources: [ \"::1\" ], algorithms: [ MD5 ] }\n"
                            "    - { sources: [ \"::2\" ], algorithms: [ ] }\n"))
                  .find("downstream.algorithms_for[1].algorithms"),
              std::string::npos);
    EXPECT_NE(error_of(rule("    - { sources: [ ], algorithms: [ MD5 ] }\n")).find("downstream.algorithms_for[0].sources"),
              std::string::npos);
    EXPECT_NE(error_of(rule("    - { algorithms: [ MD5 ] }\n")).find("downstream.algorithms_for[0].sources: is required"),
              std::string::npos);
    EXPECT_NE(error_of(rule("    - { sources: [ \"::1\" ] }\n")).find("downstream.algorithms_for[0].algorithms: is required"),
              std::string::npos);
    EXPECT_NE(error_of(rule("    - { sources: [ \"::1\" ], algorithms: [ MD5 ], users: [] }\n"))
                  .find("downstream.algorithms_for[0].users"),
              std::string::npos);
    EXPECT_NE(error_of(rule("    sources: x\n")).find("downstream.algorithms_for: must be a list"), std::string::npos);
    EXPECT_NE(error_of(with(documented, "  realm: pbx.local\n", "  realm: pbx.local\n  nonce_table_size: 10\n"))
                  .find("downstream.nonce_table_size"),
              std::string::npos);
}

TEST(config, inbound_routes_inbound_from_and_allowed_sources) {
    auto text = with(documented, "      password: trunkpass\n",
                     "      password: trunkpass\n      inbound_from: [ \"198.51.100.0/24\", \"203.0.113.7:5070\", \"::1\" ]\n"
                     "      from_user: \"+4930999000\"\n      asserted_identity: set\n      privacy: strip\n"
                     "      identify_by: address_port\n");
    text = with(text, "  realm: pbx.local\n", "  realm: pbx.local\n  allowed_sources: [ 10.0.0.0/8 ]\n");
    text += R"(inbound_routes:
  - { prefix: "+4930", to: "sip:10.0.0.5:5060;transport=tcp", strip: 3, prepend: "0", username: in, password: pw, caller_strip: 2, caller_prepend: "+" }
  - { prefix: "", to: "sip:reception@10.0.0.5", name: office }
)";
    auto c = parse_config(text);
    const auto& t = c.upstream.trunks[0];
    ASSERT_EQ(t.inbound_networks.size(), 2u);
    EXPECT_EQ(t.inbound_networks[0].to_string(), "198.51.100.0/24");
    EXPECT_EQ(t.inbound_networks[1].to_string(), "::1/128");
    ASSERT_EQ(t.inbound_endpoints.size(), 1u);
    EXPECT_EQ(t.inbound_endpoints[0].to_string(), "203.0.113.7:5070");
    EXPECT_EQ(t.identify_by, routing::source_identification::address_port);
    EXPECT_EQ(t.from_user, "+4930999000");
    EXPECT_EQ(t.asserted_identity, routing::identity_policy::set);
    EXPECT_EQ(t.privacy, routing::identity_policy::strip);
    ASSERT_EQ(c.downstream.allowed_sources.size(), 1u);
    ASSERT_EQ(c.inbound_routes.size(), 2u);
    const auto& r0 = c.inbound_routes[0];
    EXPECT_EQ(r0.prefix, "+4930");
    EXPECT_EQ(r0.target.transport, sip::transport_kind::tcp);
    EXPECT_EQ(r0.target.address.to_string(), "10.0.0.5:5060");
    EXPECT_EQ(r0.target.name, "pbx1") << "no name: by its place, never an address (a metrics label)";
    EXPECT_EQ(r0.target.username, "in");
    EXPECT_EQ(r0.strip, 3u);
    EXPECT_EQ(r0.prepend, "0");
    EXPECT_TRUE(r0.user.empty());
    EXPECT_EQ(r0.caller_strip, 2u);
    EXPECT_EQ(r0.caller_prepend, "+");
    EXPECT_EQ(c.inbound_routes[1].user, "reception");
    EXPECT_EQ(c.inbound_routes[1].target.name, "office");
}

TEST(config, inbound_errors_name_the_field) {
    EXPECT_EQ(error_of(std::string(documented) + "inbound_routes:\n  - { prefix: \"\" }\n"),
              "inbound_routes[0].to: is required (the PBX's SIP URI, e.g. sip:10.0.0.5:5060, or { registered: USER })");
    EXPECT_EQ(error_of(std::string(documented) + "inbound_routes:\n  - { to: \"http://x\" }\n"),
              "inbound_routes[0].to: 'http://x' is not a sip: or sips: URI");
    EXPECT_EQ(error_of(std::string(documented) + "inbound_routes:\n  - { to: \"sip:10.0.0.5\", prepend: \"0 1\" }\n"),
              "inbound_routes[0].prepend: '0 1' may hold only digits, letters, +, * and #");
    EXPECT_EQ(error_of(std::string(documented) + "inbound_routes:\n  - { to: \"sip:10.0.0.5\", username: u }\n"),
              "inbound_routes[0].password: is required when username is set");
    EXPECT_EQ(error_of(with(documented, "      password: trunkpass\n",
                            "      password: trunkpass\n      inbound_from: [ \"10.1.2.3/8\" ]\n")),
              "upstream.trunks[0].inbound_from[0]: '10.1.2.3/8' has bits set past the /8 prefix; write the network address");
    EXPECT_EQ(error_of(with(documented, "      password: trunkpass\n",
                            "      password: trunkpass\n      inbound_from: [ \"sbc:5060\" ]\n")),
              "upstream.trunks[0].inbound_from[0]: 'sbc' is not an IP address");
    EXPECT_EQ(error_of(with(documented, "      password: trunkpass\n", "      password: trunkpass\n      identify_by: port\n")),
              "upstream.trunks[0].identify_by: 'port' is not one of address, address_port, none");
    EXPECT_EQ(error_of(with(documented, "      password: trunkpass\n", "      password: trunkpass\n      privacy: hide\n")),
              "upstream.trunks[0].privacy: 'hide' is not one of pass, strip, set");
    EXPECT_EQ(error_of(with(documented, "      password: trunkpass\n", "      password: trunkpass\n      asserted_identity: strip\n      asserted_user: \"+49\"\n")),
              "upstream.trunks[0].asserted_user: is only used with asserted_identity: set");
    EXPECT_EQ(error_of(with(documented, "      password: trunkpass\n", "      password: trunkpass\n      from_user: \"a b\"\n")),
              "upstream.trunks[0].from_user: 'a b' is not a valid SIP user part (digits, letters, + - _ . and the like)");
    EXPECT_EQ(error_of(with(documented, "  realm: pbx.local\n", "  realm: pbx.local\n  allowed_sources: [ office ]\n")),
              "downstream.allowed_sources[0]: 'office' is not an address or CIDR");
}

TEST(config, tcp_idle_timeout_defaults_and_is_checked) {
    EXPECT_EQ(parse_config(documented).sip.tcp_idle_timeout, std::chrono::seconds(600));
    const std::string set = with(documented, "  listen: [", "  tcp: { idle_timeout_s: 90 }\n  listen: [");
    EXPECT_EQ(parse_config(set).sip.tcp_idle_timeout, std::chrono::seconds(90));
    EXPECT_EQ(error_of(with(documented, "  listen: [", "  tcp: { idle_timeout_s: 0 }\n  listen: [")),
              "sip.tcp.idle_timeout_s: 0 is out of range 1..86400");
    EXPECT_EQ(error_of(with(documented, "  listen: [", "  tcp: { idle: 5 }\n  listen: [")),
              "sip.tcp.idle: unknown key (line 3); expected one of: idle_timeout_s, max_connections, "
              "max_connections_per_source, max_outbound_connections");
}

TEST(config, tcp_connection_budgets_default_and_are_checked) {
    const auto plain = parse_config(documented);
    EXPECT_EQ(plain.sip.tcp_max_connections, 4096u);
    EXPECT_EQ(plain.sip.tcp_max_connections_per_source, 64u);
    EXPECT_EQ(plain.sip.tcp_max_outbound_connections, 1024u);
    const auto set = parse_config(with(documented, "  listen: [",
        "  tcp: { max_connections: 100, max_connections_per_source: 0, max_outbound_connections: 7 }\n  listen: ["));
    EXPECT_EQ(set.sip.tcp_max_connections, 100u);
    EXPECT_EQ(set.sip.tcp_max_connections_per_source, 0u) << "0 = no per-source limit";
    EXPECT_EQ(set.sip.tcp_max_outbound_connections, 7u);
    EXPECT_EQ(error_of(with(documented, "  listen: [", "  tcp: { max_connections: 0 }\n  listen: [")),
              "sip.tcp.max_connections: 0 is out of range 1..1000000");
    EXPECT_EQ(error_of(with(documented, "  listen: [", "  tcp: { max_outbound_connections: many }\n  listen: [")),
              "sip.tcp.max_outbound_connections: 'many' is not an integer");
}

TEST(config, workers_default_to_the_cores_the_process_may_run_on) {
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(::sched_getaffinity(0, sizeof(set), &set), 0);
    const auto cores = std::clamp<std::size_t>(static_cast<std::size_t>(CPU_COUNT(&set)), 1, 64);
    EXPECT_EQ(parse_config(documented).sip.workers, cores);
    EXPECT_EQ(parse_config(with(documented, "  listen: [", "  workers: auto\n  listen: [")).sip.workers, cores);
    EXPECT_EQ(parse_config(with(documented, "  listen: [", "  workers: 3\n  listen: [")).sip.workers, 3u);
    EXPECT_EQ(error_of(with(documented, "  listen: [", "  workers: 0\n  listen: [")),
              "sip.workers: 0 is out of range 1..64");
    EXPECT_EQ(error_of(with(documented, "  listen: [", "  workers: many\n  listen: [")),
              "sip.workers: 'many' is not an integer");
}

TEST(config, http_budgets_and_timeouts_default_and_are_checked) {
    const auto plain = parse_config(documented);
    EXPECT_EQ(plain.http.max_connections, 256u);
    EXPECT_EQ(plain.http.max_connections_per_source, 16u);
    EXPECT_EQ(plain.http.header_timeout, std::chrono::seconds(10));
    EXPECT_EQ(plain.http.body_timeout, std::chrono::seconds(30));
    const auto set = parse_config(with(documented, "  listen: \"127.0.0.1:9090\"",
        "  listen: \"127.0.0.1:9090\"\n  max_connections: 64\n  max_connections_per_source: 0\n"
        "  header_timeout_s: 3\n  body_timeout_s: 5"));
    EXPECT_EQ(set.http.max_connections, 64u);
    EXPECT_EQ(set.http.max_connections_per_source, 0u) << "0 = no per-source limit";
    EXPECT_EQ(set.http.header_timeout, std::chrono::seconds(3));
    EXPECT_EQ(set.http.body_timeout, std::chrono::seconds(5));
    const auto in_http = [](const std::string& line) {
        return error_of(with(documented, "  listen: \"127.0.0.1:9090\"", "  listen: \"127.0.0.1:9090\"\n  " + line));
    };
    EXPECT_EQ(in_http("max_connections: 0"), "http.max_connections: 0 is out of range 1..100000");
    EXPECT_EQ(in_http("max_connections_per_source: -1"), "http.max_connections_per_source: -1 is out of range 0..100000");
    EXPECT_EQ(in_http("header_timeout_s: 0"), "http.header_timeout_s: 0 is out of range 1..3600");
    EXPECT_EQ(in_http("body_timeout_s: soon"), "http.body_timeout_s: 'soon' is not an integer");
    EXPECT_EQ(in_http("timeout_s: 3").substr(0, 30), "http.timeout_s: unknown key (l");
    // Off: no server, whatever its limits say.
    EXPECT_FALSE(parse_config(with(documented, "  listen: \"127.0.0.1:9090\"", "  listen: \"\"\n  max_connections: 8"))
                     .http.listen.has_value());
}

TEST(config, a_complex_key_is_an_error_naming_its_section_not_a_crash) {
    // Found by fuzz/config_fuzz: "? key: value" (a YAML complex key, here a mapping) escaped
    // parse_config as a yaml-cpp exception instead of config_error.
    EXPECT_EQ(error_of(with(documented, "log:\n  level: info", "log:\n? level: info")),
              "config: a key must be a plain name (line 19)");
    EXPECT_EQ(error_of(with(documented, "log:\n  level: info", "log:\n  [level, x]: info")),
              "log: a key must be a plain name (line 19)");
}

TEST(config, admin_tls_names_the_missing_file_key) {
    const auto c = parse_config(std::string(documented) + "admin:\n  tls: { certificate: /etc/b2bua/https.pem, key: /etc/b2bua/https.key }\n");
    EXPECT_EQ(c.admin.tls.certificate, "/etc/b2bua/https.pem");
    EXPECT_EQ(c.admin.tls.key, "/etc/b2bua/https.key");
    EXPECT_EQ(error_of(std::string(documented) + "admin:\n  tls: { certificate: /etc/b2bua/https.pem }\n"),
              "admin.tls.key: is required with admin.tls");
}

TEST(config, registration_keys_default_and_are_checked) {
    const auto plain = parse_config(documented);
    EXPECT_FALSE(plain.upstream.trunks.at(0).registers);
    EXPECT_EQ(plain.upstream.trunks.at(0).register_expires, std::chrono::seconds(600));
    EXPECT_EQ(plain.downstream.registrar.min_expires, std::chrono::seconds(60));
    EXPECT_EQ(plain.downstream.registrar.max_expires, std::chrono::seconds(3600));
    EXPECT_EQ(plain.downstream.registrar.default_expires, std::chrono::seconds(600));
    EXPECT_EQ(plain.downstream.registrar_keepalive, std::chrono::seconds(30));

    const auto c = parse_config(with(with(documented, "      password: trunkpass\n",
                                          "      password: trunkpass\n      register: true\n      register_expires: 20\n"),
                                     "  realm: pbx.local\n",
                                     "  realm: pbx.local\n  registrar: { min_expires: 10, max_expires: 300, "
                                     "default_expires: 120, keepalive_s: 0, max_bindings: 3 }\n") +
                                "inbound_routes:\n  - { prefix: \"\", to: { registered: pbxuser } }\n");
    EXPECT_TRUE(c.upstream.trunks.at(0).registers);
    EXPECT_EQ(c.upstream.trunks.at(0).register_expires, std::chrono::seconds(20));
    EXPECT_EQ(c.downstream.registrar.min_expires, std::chrono::seconds(10));
    EXPECT_EQ(c.downstream.registrar.max_expires, std::chrono::seconds(300));
    EXPECT_EQ(c.downstream.registrar.default_expires, std::chrono::seconds(120));
    EXPECT_EQ(c.downstream.registrar.max_bindings, 3u);
    EXPECT_EQ(c.downstream.registrar_keepalive, std::chrono::seconds(0));
    ASSERT_EQ(c.inbound_routes.size(), 1u);
    EXPECT_EQ(c.inbound_routes[0].registered_user, "pbxuser");
    EXPECT_EQ(c.inbound_routes[0].target.name, "pbx1");

    // A provider may grant 20 s: 10 s must be accepted, less is refused.
    EXPECT_EQ(error_of(with(documented, "      password: trunkpass\n", "      password: trunkpass\n      register_expires: 9\n")),
              "upstream.trunks[0].register_expires: 9 is out of range 10..86400");
    EXPECT_EQ(error_of(with(documented, "      password: trunkpass\n", "      password: trunkpass\n      register: yes\n")),
              "upstream.trunks[0].register: must be true or false, not 'yes'");
    EXPECT_EQ(error_of(with(with(documented, "      username: trunkuser\n", ""), "      password: trunkpass\n",
                            "      register: true\n")),
              "upstream.trunks[0].username: is required with register: true (it names the account registered, "
              "sip:username@host)");
    EXPECT_EQ(error_of(with(documented, "  realm: pbx.local\n", "  realm: pbx.local\n  registrar: { min_expires: 700 }\n")),
              "downstream.registrar.default_expires: 600 is outside min_expires..max_expires (700..3600)");
    EXPECT_EQ(error_of(with(documented, "  realm: pbx.local\n",
                            "  realm: pbx.local\n  registrar: { min_expires: 900, max_expires: 600 }\n")),
              "downstream.registrar.max_expires: 600 is below min_expires (900)");
    EXPECT_EQ(error_of(with(documented, "  realm: pbx.local\n", "  realm: pbx.local\n  registrar: { ttl: 5 }\n")),
              "downstream.registrar.ttl: unknown key (line 6); expected one of: min_expires, max_expires, "
              "default_expires, keepalive_s, max_bindings");
    EXPECT_EQ(error_of(std::string(documented) + "inbound_routes:\n  - { to: { registered: reception } }\n"),
              "inbound_routes[0].to.registered: no user named 'reception' in downstream.users");
    EXPECT_EQ(error_of(std::string(documented) + "inbound_routes:\n  - { to: { user: pbxuser } }\n"),
              "inbound_routes[0].to.user: unknown key (line 21); expected one of: registered");
}

// Two trunks for the failover tests: the documented carrier plus a backup.
std::string two_trunks(const std::string& carrier_extra, const std::string& route) {
    auto y = with(documented, "      password: trunkpass\n",
                  "      password: trunkpass\n" + carrier_extra +
                      "    - { name: backup, uri: \"sip:127.0.0.3:5080\", username: u2, password: p2 }\n");
    return with(y, "  - { prefix: \"\", trunk: carrier }", route);
}

TEST(config, route_with_trunks_in_order_and_number_rewriting) {
    auto c = parse_config(two_trunks("", R"(  - { prefix: "0", trunks: [ backup, carrier ], strip: 1, prepend: "+49" })"));
    ASSERT_EQ(c.routes.size(), 1u);
    EXPECT_EQ(c.routes[0].trunks, (std::vector<std::string>{"backup", "carrier"}));
    EXPECT_EQ(c.routes[0].strip, 1u);
    EXPECT_EQ(c.routes[0].prepend, "+49");
    // The old single-trunk form still works.
    auto old = parse_config(documented);
    EXPECT_EQ(old.routes[0].trunks, (std::vector<std::string>{"carrier"}));
    EXPECT_EQ(old.routes[0].strip, 0u);
    EXPECT_TRUE(old.routes[0].prepend.empty());
}

TEST(config, trunk_selection_keys_and_defaults) {
    auto c = parse_config(two_trunks("      max_calls: 10\n      max_cps: 2\n      invite_timeout_ms: 1500\n"
                                     "      options_interval_s: 30\n      down_after: 5\n      up_after: 1\n",
                                     R"(  - { prefix: "", trunks: [ carrier, backup ] })"));
    const auto& s = c.upstream.trunks[0].selection;
    EXPECT_EQ(s.max_calls, 10u);
    EXPECT_EQ(s.max_cps, 2u);
    EXPECT_EQ(s.invite_timeout, std::chrono::milliseconds(1500));
    EXPECT_EQ(s.options_interval, std::chrono::seconds(30));
    EXPECT_EQ(s.down_after, 5u);
    EXPECT_EQ(s.up_after, 1u);
    const auto& d = c.upstream.trunks[1].selection;
    EXPECT_EQ(d.max_calls, 0u);
    EXPECT_EQ(d.max_cps, 0u);
    EXPECT_EQ(d.invite_timeout, std::chrono::milliseconds(4000));
    EXPECT_EQ(d.options_interval, std::chrono::seconds(0));
    EXPECT_EQ(d.down_after, 3u);
    EXPECT_EQ(d.up_after, 2u);
}

TEST(config, route_and_selection_errors_name_the_field) {
    const auto route = [](const std::string& r) { return error_of(two_trunks("", r)); };
    EXPECT_NE(route(R"(  - { prefix: "", trunk: carrier, trunks: [ backup ] })").find("routes[0].trunks: give either"),
              std::string::npos);
    EXPECT_NE(route(R"(  - { prefix: "" })").find("routes[0].trunks: is required"), std::string::npos);
    EXPECT_NE(route(R"(  - { prefix: "", trunks: [] })").find("routes[0].trunks: must name at least one"),
              std::string::npos);
    EXPECT_NE(route(R"(  - { prefix: "", trunks: [ carrier, nosuch ] })").find("routes[0].trunks[1]: no trunk named 'nosuch'"),
              std::string::npos);
    EXPECT_NE(route(R"(  - { prefix: "", trunks: [ carrier, carrier ] })").find("routes[0].trunks[1]: 'carrier' is listed twice"),
              std::string::npos);
    EXPECT_NE(route(R"(  - { prefix: "", trunk: carrier, strip: -1 })").find("routes[0].strip"), std::string::npos);
    EXPECT_NE(route(R"(  - { prefix: "", trunk: carrier, prepend: "0 0" })").find("routes[0].prepend"), std::string::npos);
    EXPECT_NE(route(R"(  - { prefix: "", trunk: carrier, strip_digits: 1 })").find("routes[0].strip_digits: unknown key"),
              std::string::npos);
    const auto trunk = [](const std::string& k) {
        return error_of(two_trunks(k, R"(  - { prefix: "", trunks: [ carrier, backup ] })"));
    };
    EXPECT_NE(trunk("      max_calls: -1\n").find("upstream.trunks[0].max_calls"), std::string::npos);
    EXPECT_NE(trunk("      max_cps: many\n").find("upstream.trunks[0].max_cps"), std::string::npos);
    EXPECT_NE(trunk("      invite_timeout_ms: 10\n").find("upstream.trunks[0].invite_timeout_ms"), std::string::npos);
    EXPECT_NE(trunk("      options_interval_s: -5\n").find("upstream.trunks[0].options_interval_s"), std::string::npos);
    EXPECT_NE(trunk("      down_after: 0\n").find("upstream.trunks[0].down_after"), std::string::npos);
    EXPECT_NE(trunk("      up_after: 0\n").find("upstream.trunks[0].up_after"), std::string::npos);
}

TEST(config, missing_file_is_reported) {
    try {
        load_config("/nonexistent/b2bua.yaml");
        FAIL() << "no error";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/b2bua.yaml"), std::string::npos);
    }
}

// SIP over TLS (RFC 3261 §26): tls:// listeners need our certificate; sips: and transport=tls
// trunks are TLS to port 5061 by default and need a tls:// listener.
TEST(config, tls_listener_and_trunks) {
    const std::string tls = with(documented, "  listen: [ \"udp://127.0.0.1:5070\", \"tcp://127.0.0.1:5070\" ]",
                                 "  listen: [ \"udp://127.0.0.1:5070\", \"tls://127.0.0.1:5071\" ]\n"
                                 "  tls: { certificate: /etc/b2bua/cert.pem, key: /etc/b2bua/key.pem }");
    auto c = parse_config(tls);
    EXPECT_EQ(c.sip.listen[1].transport, sip::transport_kind::tls);
    EXPECT_EQ(c.sip.listen[1].address.port, 5071);
    EXPECT_EQ(c.sip.tls.certificate, "/etc/b2bua/cert.pem");
    EXPECT_EQ(c.sip.tls.key, "/etc/b2bua/key.pem");
    EXPECT_EQ(c.sip.tls.ca, "");  // the system store

    const auto trunk = [&](const std::string& uri) {
        return parse_config(with(tls, "\"sip:127.0.0.1:5080\"", "\"" + uri + "\"")).upstream.trunks[0];
    };
    auto t = trunk("sip:127.0.0.1;transport=tls");
    EXPECT_EQ(t.transport, sip::transport_kind::tls);
    EXPECT_FALSE(t.sips);
    EXPECT_EQ(t.address.port, 5061);
    EXPECT_EQ(t.host, "127.0.0.1");
    EXPECT_EQ(routing::request_uri_at(t, "100"), "sip:100@127.0.0.1;transport=tls");
    t = trunk("sips:127.0.0.1:5091");
    EXPECT_EQ(t.transport, sip::transport_kind::tls);
    EXPECT_TRUE(t.sips);
    EXPECT_EQ(t.address.port, 5091);
    EXPECT_EQ(routing::request_uri_at(t, "100"), "sips:100@127.0.0.1:5091");
    // §26.2.2: sips: with transport=tcp is TLS over TCP.
    EXPECT_EQ(trunk("sips:127.0.0.1;transport=tcp").transport, sip::transport_kind::tls);
    EXPECT_EQ(trunk("sip:localhost:5061;transport=TLS").host, "localhost");

    const std::string with_ca = with(tls, "key: /etc/b2bua/key.pem }", "key: /etc/b2bua/key.pem, ca: /etc/b2bua/ca.pem }");
    EXPECT_EQ(parse_config(with_ca).sip.tls.ca, "/etc/b2bua/ca.pem");
    // A TLS client only (no tls:// listener, no certificate) is refused: our Via names a tls:// address.
    EXPECT_EQ(error_of(with(documented, "\"sip:127.0.0.1:5080\"", "\"sips:127.0.0.1\"")),
              "upstream.trunks[0].uri: 'sips:127.0.0.1' is reached over TLS: sip.listen needs a tls:// address");
}

TEST(config, tls_errors_name_the_field) {
    const auto listen_tls = [](const std::string& tls_section) {
        return with(documented, "  listen: [ \"udp://127.0.0.1:5070\", \"tcp://127.0.0.1:5070\" ]",
                    "  listen: [ \"tls://127.0.0.1:5071\" ]\n" + tls_section);
    };
    EXPECT_EQ(error_of(listen_tls("")),
              "sip.tls.certificate: is required with a tls:// address in sip.listen (sip.listen[0])");
    EXPECT_EQ(error_of(listen_tls("  tls: { certificate: /c.pem }")), "sip.tls.key: is required with sip.tls.certificate");
    EXPECT_EQ(error_of(listen_tls("  tls: { key: /k.pem }")), "sip.tls.certificate: is required with sip.tls.key");
    EXPECT_EQ(error_of(listen_tls("  tls: { certificate: /c.pem, key: /k.pem, cafile: /ca.pem }")),
              "sip.tls.cafile: unknown key (line 4); expected one of: certificate, key, ca");
    EXPECT_EQ(error_of(listen_tls("  tls: { certificate: \"\", key: /k.pem }")), "sip.tls.certificate: must not be empty");
    const std::string ok = listen_tls("  tls: { certificate: /c.pem, key: /k.pem }");
    EXPECT_EQ(error_of(with(ok, "\"sip:127.0.0.1:5080\"", "\"sips:127.0.0.1;transport=udp\"")),
              "upstream.trunks[0].uri: sips: is TLS over TCP: transport=udp does not go with it");
    EXPECT_EQ(error_of(with(ok, "\"sip:127.0.0.1:5080\"", "\"sip:127.0.0.1;transport=sctp\"")),
              "upstream.trunks[0].uri: transport 'sctp' is not supported (udp, tcp, tls)");
}

TEST(config, security_and_overload_defaults_and_values) {
    auto d = parse_config(documented);
    EXPECT_EQ(d.security.ban.failures, 5u);
    EXPECT_EQ(d.security.ban.window, std::chrono::seconds(60));
    EXPECT_EQ(d.security.ban.first, std::chrono::seconds(300));
    EXPECT_EQ(d.security.ban.max, std::chrono::seconds(86400));
    EXPECT_EQ(d.security.max_requests_per_second, 200u);
    EXPECT_TRUE(d.security.server_header.empty());
    EXPECT_FALSE(d.security.allow_rfc2069);
    EXPECT_FALSE(d.security.scanner_user_agents.empty());
    EXPECT_EQ(d.overload.max_loop_delay, std::chrono::milliseconds(100));

    auto c = parse_config(std::string(documented) + R"(
security:
  trusted: [ "10.0.0.0/8", "::1" ]
  ban: { failures: 3, window_s: 30, first_s: 10, max_s: 40, max_entries: 1000 }
  max_requests_per_second: 0
  scanner_user_agents: [ evil ]
  server_header: "b2bua"
  allow_rfc2069: true
  blocked_prefixes: [ "+882", "00882" ]
  emergency_numbers: [ "112" ]
  failure_log_interval_s: 5
overload: { max_loop_delay_ms: 50, retry_after_s: 2, max_transactions: 1000 }
)");
    ASSERT_EQ(c.security.trusted.size(), 2u);
    EXPECT_EQ(c.security.ban.failures, 3u);
    EXPECT_EQ(c.security.ban.max, std::chrono::seconds(40));
    EXPECT_EQ(c.security.max_requests_per_second, 0u);
    EXPECT_EQ(c.security.scanner_user_agents, (std::vector<std::string>{"evil"}));
    EXPECT_EQ(c.security.blocked_prefixes, (std::vector<std::string>{"+882", "00882"}));
    EXPECT_EQ(c.security.emergency_numbers, (std::vector<std::string>{"112"}));
    EXPECT_EQ(c.security.failure_log_interval, std::chrono::seconds(5));
    EXPECT_EQ(c.overload.max_transactions, 1000u);
    EXPECT_EQ(c.overload.retry_after, std::chrono::seconds(2));

    auto users = parse_config(with(documented, "{ username: pbxuser, password: pbxpass }",
                                   "{ username: pbxuser, password: pbxpass, max_calls: 4, max_cps: 2 }"));
    EXPECT_EQ(users.downstream.users[0].max_calls, 4u);
    EXPECT_EQ(users.downstream.users[0].max_cps, 2u);
}

TEST(config, security_errors_name_the_field) {
    const auto sec = [](const std::string& body) { return error_of(std::string(documented) + "security:\n" + body); };
    EXPECT_EQ(sec("  trusted: [ \"10.0.0.1/8\" ]\n"),
              "security.trusted[0]: '10.0.0.1/8' has bits set past the /8 prefix; write the network address");
    EXPECT_EQ(sec("  ban: { first_s: 100, max_s: 50 }\n"), "security.ban.max_s: 50 is below security.ban.first_s (100)");
    EXPECT_EQ(sec("  ban: { failures: 0 }\n"), "security.ban.failures: 0 is out of range 1..1000");
    EXPECT_EQ(sec("  blocked_prefixes: [ \"+88-2\" ]\n"), "security.blocked_prefixes[0]: '+88-2' is not a number (digits, +, *, #)");
    EXPECT_EQ(sec("  blocked_prefixes: [ \"11\" ]\n  emergency_numbers: [ \"112\" ]\n"),
              "security.emergency_numbers[0]: '112' is blocked by security.blocked_prefixes '11'");
    EXPECT_EQ(sec("  scanner_user_agents: [ \"\" ]\n"),
              "security.scanner_user_agents[0]: must not be empty (it would match everyone)");
    EXPECT_EQ(sec("  colour: red\n").substr(0, 30), "security.colour: unknown key (");
    EXPECT_EQ(error_of(std::string(documented) + "overload: { max_loop_delay_ms: 1 }\n"),
              "overload.max_loop_delay_ms: 1 is out of range 5..60000");
}

}  // namespace
}  // namespace b2b::b2bua

namespace b2b::b2bua {
namespace {

std::string clustered(const std::string& section, bool secret = true) {
    std::string base = documented;
    if (secret) base = with(base, "  realm: pbx.local\n", "  realm: pbx.local\n  nonce_secret: 0123456789abcdef0123\n");
    return base + section;
}

TEST(config, cluster_names_its_dispatchers_and_their_header) {
    EXPECT_TRUE(parse_config(documented).cluster.dispatchers.empty());
    const auto c = parse_config(clustered("cluster:\n  dispatchers: [127.0.0.10/32, '::1']\n"));
    ASSERT_EQ(c.cluster.dispatchers.size(), 2U);
    EXPECT_EQ(c.cluster.dispatchers[0].to_string(), "127.0.0.10/32");
    EXPECT_EQ(c.cluster.source_header, "X-Source-Address");
    EXPECT_EQ(c.cluster.final_header, "X-Cluster-Final");
    EXPECT_EQ(parse_config(clustered("cluster:\n  dispatchers: [10.0.0.0/24]\n  final_header: X-Lb-Final\n"))
                  .cluster.final_header,
              "X-Lb-Final");
    EXPECT_EQ(parse_config(clustered("cluster:\n  dispatchers: [10.0.0.0/24]\n  source_header: X-Pbx-Source\n"))
                  .cluster.source_header,
              "X-Pbx-Source");
    EXPECT_EQ(parse_config(clustered("cluster:\n  dispatchers: [10.0.0.0/24]\n  contact: 'sbc.example.com:5060'\n"))
                  .cluster.contact,
              "sbc.example.com:5060");
    const auto shared = parse_config(
        clustered("cluster:\n  dispatchers: [10.0.0.0/24]\n  node_id: node-a\n  redis: '127.0.0.1:6380'\n  lease_s: 20\n"));
    EXPECT_EQ(shared.cluster.node_id, "node-a");
    ASSERT_TRUE(shared.cluster.redis);
    EXPECT_EQ(shared.cluster.redis->port, 6380);
    EXPECT_EQ(shared.cluster.lease, std::chrono::seconds(20));
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.0/24]\n  contact: 'sip:sbc.example.com'\n"))
                  .find("cluster.contact: 'sip:sbc.example.com' is not host or host:port"),
              std::string::npos);
}

TEST(config, cluster_errors_name_the_field) {
    EXPECT_NE(error_of(clustered("cluster: {}\n")).find("cluster.dispatchers: is required"), std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: []\n")).find("cluster.dispatchers: must list"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1/8]\n")).find("cluster.dispatchers[0]"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n  source_header: 'X Source'\n"))
                  .find("cluster.source_header: 'X Source' is not a header name"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n  source_header: via\n"))
                  .find("cluster.source_header: 'via' is a SIP header of its own"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n  final_header: 'X:F'\n"))
                  .find("cluster.final_header: 'X:F' is not a header name"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n  final_header: x-source-address\n"))
                  .find("cluster.final_header: 'x-source-address' is cluster.source_header already"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n  nodes: 3\n")).find("cluster.nodes:"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n  redis: '127.0.0.1:6379'\n"))
                  .find("cluster.node_id: is required with cluster.redis"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n  redis: 'localhost'\n  node_id: a\n"))
                  .find("cluster.redis"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n  node_id: 'a b'\n"))
                  .find("cluster.node_id: 'a b' must be"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n  lease_s: 1\n")).find("cluster.lease_s"),
              std::string::npos);
    EXPECT_NE(error_of(clustered("cluster:\n  dispatchers: [10.0.0.1]\n", false))
                  .find("downstream.nonce_secret: is required with cluster"),
              std::string::npos);
}

}  // namespace
}  // namespace b2b::b2bua
