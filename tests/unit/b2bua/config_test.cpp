// The configuration file: the documented example, and errors that name the field.
#include "b2bua/config.hpp"

#include <gtest/gtest.h>

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
    EXPECT_NE(error_of(with(documented, "routes:\n  - { prefix: \"\", trunk: carrier }", "")).find("routes"),
              std::string::npos);
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

TEST(config, missing_file_is_reported) {
    try {
        load_config("/nonexistent/b2bua.yaml");
        FAIL() << "no error";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/b2bua.yaml"), std::string::npos);
    }
}

}  // namespace
}  // namespace b2b::b2bua
