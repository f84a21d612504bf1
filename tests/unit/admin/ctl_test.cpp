// b2buactl's pure parts: the command line, the text of the API's documents, the exit codes.
#include "admin/ctl/command_line.hpp"
#include "admin/ctl/http_client.hpp"
#include "admin/ctl/render.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <map>

namespace b2b::admin::ctl {
namespace {

struct fixture {
    std::map<std::string, std::string, std::less<>> env;
    std::map<std::string, std::string> files;

    std::variant<invocation, usage_error> parse(std::vector<std::string> args) const {
        return parse_command_line(
            args,
            [this](std::string_view name) -> std::optional<std::string> {
                const auto it = env.find(name);
                if (it == env.end()) return std::nullopt;
                return it->second;
            },
            [this](const std::string& path) -> std::optional<std::string> {
                const auto it = files.find(path);
                if (it == files.end()) return std::nullopt;
                return it->second;
            });
    }
    invocation ok(std::vector<std::string> args) const {
        auto r = parse(std::move(args));
        if (auto* e = std::get_if<usage_error>(&r)) {
            ADD_FAILURE() << "usage error: " << e->message;
            return {};
        }
        return std::get<invocation>(r);
    }
    std::string error(std::vector<std::string> args) const {
        auto r = parse(std::move(args));
        if (auto* e = std::get_if<usage_error>(&r)) return e->message;
        ADD_FAILURE() << "parsed, expected a usage error";
        return {};
    }
};

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

TEST(ctl_command_line, url_and_token_come_from_flags_then_environment_then_defaults) {
    fixture f;
    auto inv = f.ok({"trunks"});
    EXPECT_EQ(inv.url, "http://127.0.0.1:9090");
    EXPECT_EQ(inv.token, "");
    EXPECT_FALSE(inv.json);
    f.env["B2BUA_URL"] = "https://admin.example:8443";
    f.env["B2BUA_ADMIN_TOKEN"] = "env-token\n";
    inv = f.ok({"trunks"});
    EXPECT_EQ(inv.url, "https://admin.example:8443");
    EXPECT_EQ(inv.token, "env-token");
    f.files["/etc/b2bua/token"] = "file-token\r\n";
    inv = f.ok({"--url", "http://[::1]:9999", "trunks", "--token-file=/etc/b2bua/token", "--json"});
    EXPECT_EQ(inv.url, "http://[::1]:9999");
    EXPECT_EQ(inv.token, "file-token");
    EXPECT_TRUE(inv.json);
    EXPECT_TRUE(has(f.error({"--token-file", "/nope", "trunks"}), "cannot read the token file /nope"));
    EXPECT_TRUE(has(f.error({"trunks", "--url"}), "--url needs a value"));
}

TEST(ctl_command_line, each_command_makes_its_request) {
    fixture f;
    f.files["pw"] = "s3cret\n";
    struct row {
        std::vector<std::string> args;
        std::string method, target, body;
    };
    const std::vector<row> rows = {
        {{"trunks"}, "GET", "/api/v1/trunks", ""},
        {{"trunk", "show", "acme"}, "GET", "/api/v1/trunks/acme", ""},
        {{"trunk", "show", "a b/c"}, "GET", "/api/v1/trunks/a%20b%2Fc", ""},
        {{"trunk", "add", "acme", "--uri", "sip:sip.acme.example", "--username", "u1", "--password-file", "pw",
          "--register"},
         "POST", "/api/v1/trunks",
         R"({"name":"acme","uri":"sip:sip.acme.example","username":"u1","password":"s3cret","register":true})"},
        {{"trunk", "add", "acme", "--uri=sip:x"}, "POST", "/api/v1/trunks", R"({"name":"acme","uri":"sip:x"})"},
        {{"trunk", "rotate", "acme", "--password", "new"}, "PATCH", "/api/v1/trunks/acme", R"({"password":"new"})"},
        {{"trunk", "delete", "acme"}, "DELETE", "/api/v1/trunks/acme", ""},
        {{"trunk", "delete", "acme", "--force"}, "DELETE", "/api/v1/trunks/acme?force=true", ""},
        {{"registrations"}, "GET", "/api/v1/registrations", ""},
        {{"register", "acme"}, "POST", "/api/v1/trunks/acme/register", ""},
        {{"why"}, "GET", "/api/v1/auth/failures", ""},
        {{"why", "--direction", "upstream", "--reason", "forbidden", "--peer", "acme", "--limit", "5"}, "GET",
         "/api/v1/auth/failures?direction=upstream&reason=forbidden&peer=acme&limit=5", ""},
        {{"summary"}, "GET", "/api/v1/auth/summary?window=1h", ""},
        {{"summary", "--window", "30m"}, "GET", "/api/v1/auth/summary?window=30m", ""},
        {{"calls"}, "GET", "/api/v1/calls", ""},
        {{"call", "show", "17"}, "GET", "/api/v1/calls/17", ""},
        {{"hangup", "17"}, "DELETE", "/api/v1/calls/17", ""},
        {{"cdrs", "--limit", "20"}, "GET", "/api/v1/cdrs?limit=20", ""},
        {{"reload"}, "POST", "/api/v1/reload", ""},
        {{"log-level", "debug"}, "PUT", "/api/v1/log-level", R"({"level":"debug"})"},
        {{"bans"}, "GET", "/api/v1/bans", ""},
        {{"ban", "192.0.2.66"}, "POST", "/api/v1/bans", R"({"source":"192.0.2.66"})"},
        {{"ban", "2001:db8::66", "--duration", "600"}, "POST", "/api/v1/bans",
         R"({"source":"2001:db8::66","duration_s":600})"},
        {{"unban", "2001:db8::66"}, "DELETE", "/api/v1/bans/2001%3Adb8%3A%3A66", ""},
    };
    for (const auto& r : rows) {
        const auto inv = f.ok(r.args);
        EXPECT_EQ(inv.request.method, r.method) << r.args[0];
        EXPECT_EQ(inv.request.target, r.target) << r.args[0];
        EXPECT_EQ(inv.request.body, r.body) << r.args[0];
        if (!r.body.empty()) {
            EXPECT_FALSE(inv.request.content_type.empty());
        }
    }
    EXPECT_EQ(f.ok({"trunk", "rotate", "acme", "--password", "x"}).request.content_type, "application/merge-patch+json");
}

TEST(ctl_command_line, usage_errors_name_what_is_wrong) {
    fixture f;
    EXPECT_TRUE(has(f.error({}), "no command"));
    EXPECT_TRUE(has(f.error({"frobnicate"}), "unknown command frobnicate"));
    EXPECT_TRUE(has(f.error({"trunk"}), "trunk needs"));
    EXPECT_TRUE(has(f.error({"trunk", "show"}), "one trunk name"));
    EXPECT_TRUE(has(f.error({"trunk", "add", "acme"}), "--uri"));
    EXPECT_TRUE(has(f.error({"trunk", "add", "acme", "--uri", "sip:x", "--password", "a", "--password-file", "pw"}),
                    "not both"));
    EXPECT_TRUE(has(f.error({"trunk", "rotate", "acme"}), "--password-file or --password"));
    EXPECT_TRUE(has(f.error({"trunk", "rotate", "acme", "--password-file", "missing"}), "cannot read the password file"));
    EXPECT_TRUE(has(f.error({"why", "--direction", "sideways"}), "downstream or upstream"));
    EXPECT_TRUE(has(f.error({"why", "--limit", "many"}), "--limit needs a number"));
    EXPECT_TRUE(has(f.error({"why", "--colour", "red"}), "unknown option --colour"));
    EXPECT_TRUE(has(f.error({"summary", "--window", "an hour"}), "--window"));
    EXPECT_TRUE(has(f.error({"trunks", "extra"}), "takes no arguments"));
    EXPECT_TRUE(has(f.error({"log-level", "loud"}), "log-level needs"));
    EXPECT_TRUE(has(f.error({"trunk", "delete", "acme", "--force=yes"}), "takes no value"));
    EXPECT_TRUE(has(f.error({"ban"}), "ban needs one address"));
    EXPECT_TRUE(has(f.error({"ban", "192.0.2.1", "--duration", "10m"}), "whole number of seconds"));
    EXPECT_TRUE(has(f.error({"unban"}), "unban needs one address"));
    EXPECT_EQ(f.error({"--help"}), "");  // help: printed, exit 0
}

TEST(ctl_url, base_urls_parse_and_bad_ones_do_not) {
    auto u = parse_base_url("http://127.0.0.1:9090");
    ASSERT_TRUE(u);
    EXPECT_FALSE(u->tls);
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_EQ(u->port, "9090");
    EXPECT_EQ(u->path, "");
    u = parse_base_url("https://admin.example/b2bua/");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->tls);
    EXPECT_EQ(u->port, "443");
    EXPECT_EQ(u->path, "/b2bua");
    u = parse_base_url("http://[::1]:8080");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->port, "8080");
    EXPECT_FALSE(parse_base_url("ftp://x"));
    EXPECT_FALSE(parse_base_url("127.0.0.1:9090"));
    EXPECT_FALSE(parse_base_url("http://:9090"));
    EXPECT_FALSE(parse_base_url("http://h:port"));
    EXPECT_FALSE(parse_base_url("http://user:pw@h"));
}

TEST(ctl_exit_codes, follow_the_design) {
    EXPECT_EQ(exit_code_for(200), exit_code::ok);
    EXPECT_EQ(exit_code_for(201), exit_code::ok);
    EXPECT_EQ(exit_code_for(204), exit_code::ok);
    EXPECT_EQ(exit_code_for(401), exit_code::not_authorised);
    EXPECT_EQ(exit_code_for(403), exit_code::not_authorised);
    EXPECT_EQ(exit_code_for(404), exit_code::refused);
    EXPECT_EQ(exit_code_for(409), exit_code::refused);
    EXPECT_EQ(exit_code_for(500), exit_code::refused);
    EXPECT_EQ(static_cast<int>(exit_code::usage), 2);
    EXPECT_EQ(static_cast<int>(exit_code::unreachable), 3);
    EXPECT_EQ(static_cast<int>(exit_code::not_authorised), 4);
}

constexpr std::string_view failures_doc = R"({"failures": [
 {"time": "2026-12-02T10:00:05.000Z", "first": "2026-12-02T10:00:01.000Z", "count": 3, "direction": "downstream",
  "source": "10.0.0.5:5060", "username": "pbxuser", "realm": "pbx.local", "trunk": null, "peer": "pbx.local",
  "reason": "wrong_password", "method": "INVITE", "call_id": "abc@10.0.0.5", "status": 403,
  "reason_phrase": null, "warning": null,
  "hint": "user pbxuser at 10.0.0.5 answered the challenge for realm pbx.local with a wrong digest: check the password configured on the PBX for this user"},
 {"time": "2026-12-02T09:59:00.000Z", "first": "2026-12-02T09:59:00.000Z", "count": 1, "direction": "upstream",
  "source": null, "username": "trunkuser", "realm": "carrier.example", "trunk": "acme", "peer": "acme",
  "reason": "stale_nonce", "method": "REGISTER", "call_id": "leg\u001b[2Jb", "status": 401,
  "reason_phrase": "Unauthorized", "warning": "399 x \"w\"", "hint": "something else"}
]})";

TEST(ctl_render, why_prints_one_block_per_failure_in_the_order_given) {
    const auto doc = boost::json::parse(failures_doc);
    const auto text = render_failures(doc, style{false});
    EXPECT_EQ(text,
              "2026-12-02T10:00:05.000Z  downstream  wrong_password\n"
              "  peer pbx.local  source 10.0.0.5:5060  user pbxuser  count 3 since 2026-12-02T10:00:01.000Z\n"
              "  INVITE call-id abc@10.0.0.5  403\n"
              "  user pbxuser at 10.0.0.5 answered the challenge for realm pbx.local with a wrong digest: check the "
              "password configured on the PBX for this user\n"
              "\n"
              "2026-12-02T09:59:00.000Z  upstream  stale_nonce\n"
              "  peer acme  user trunkuser  count 1\n"
              "  REGISTER call-id leg?[2Jb  401 Unauthorized  warning 399 x \"w\"\n"
              "  something else\n");
    EXPECT_EQ(text.find('\x1b'), std::string::npos);  // the peer's escape sequence is defused
}

TEST(ctl_render, why_colours_the_reason_on_a_terminal) {
    const auto doc = boost::json::parse(failures_doc);
    const auto text = render_failures(doc, style{true});
    EXPECT_TRUE(has(text, "\x1b[31mwrong_password\x1b[0m"));
    EXPECT_TRUE(has(text, "\x1b[33mstale_nonce\x1b[0m"));
    EXPECT_EQ(render_failures(boost::json::parse(R"({"failures": []})"), style{true}),
              "no authentication failures recorded\n");
}

TEST(ctl_render, summary_lists_counts_and_top_sources) {
    const auto doc = boost::json::parse(R"({"window_s": 3600,
        "counts": [{"direction": "downstream", "reason": "unknown_user", "peer": "pbx.local", "count": 120}],
        "top_sources": [{"source": "192.0.2.66", "count": 120}]})");
    const auto text = render_summary(doc, style{false});
    EXPECT_TRUE(has(text, "in the last 3600 s")) << text;
    EXPECT_TRUE(has(text, "120    downstream  unknown_user  pbx.local")) << text;
    EXPECT_TRUE(has(text, "120    192.0.2.66")) << text;
}

TEST(ctl_render, registrations_both_ways_with_the_fields_the_api_sends) {
    fixture f;
    // As GET /api/v1/registrations answers on a node of a cluster that registers acme itself
    // and leaves carrier to node1.
    const auto doc = boost::json::parse(R"({"upstream": [
        {"trunk": "acme", "state": "failing", "registered_by": null, "expires_s": 0, "expires": null,
         "last_status": 403, "reason": "Forbidden", "warning": null, "failure": "refused", "next_attempt": null},
        {"trunk": "carrier", "state": "elsewhere", "registered_by": "node1", "expires_s": 0, "expires": null,
         "last_status": null, "reason": null, "warning": null, "failure": null, "next_attempt": null}],
      "downstream": [{"user": "branch", "contact": "sip:branch@198.51.100.7:5060", "source": "198.51.100.7:5060",
         "transport": "udp", "behind_nat": false, "expires": "2026-12-05T07:00:00.000Z"}]})");
    const auto text = render(f.ok({"registrations"}), doc, {});
    EXPECT_TRUE(has(text, "acme     failing            403     Forbidden  0          refused")) << text;
    EXPECT_TRUE(has(text, "carrier  elsewhere (node1)")) << text;
    EXPECT_TRUE(has(text, "USER    CONTACT")) << text;
    EXPECT_TRUE(has(text, "branch  sip:branch@198.51.100.7:5060  198.51.100.7:5060  udp")) << text;
}

TEST(ctl_render, other_views_and_error_messages) {
    fixture f;
    const auto trunks = boost::json::parse(R"({"trunks": [{"name": "acme", "uri": "sip:acme.example",
        "status": {"up": true, "active_calls": 2, "registration": "registered"}}]})");
    EXPECT_TRUE(has(render(f.ok({"trunks"}), trunks, {}), "acme  sip:acme.example  up      2      registered"))
        << render(f.ok({"trunks"}), trunks, {});
    EXPECT_EQ(render(f.ok({"hangup", "17"}), boost::json::parse(R"({"id": "17", "action": "bye"})"), {}),
              "call 17: bye sent\n");
    EXPECT_EQ(render(f.ok({"reload"}), boost::json::parse(R"({"reloaded": ["log.level", "sip.tls"]})"), {}),
              "reloaded: log.level, sip.tls\n");
    EXPECT_EQ(render(f.ok({"trunk", "delete", "acme"}), nullptr, {}), "trunk acme deleted\n");
    EXPECT_TRUE(has(render(f.ok({"trunk", "show", "acme"}),
                           boost::json::parse(R"({"name": "acme", "password": "***", "status": {"up": false}})"), {}),
                    "password: ***\nstatus:\n  up: no\n"));
    const auto bans = boost::json::parse(R"({"bans": [{"source": "192.0.2.66", "until": "2026-12-02T13:00:00.000Z",
        "remaining_s": 290, "origin": "failures", "bans_in_a_row": 1, "username": "pbx\u001buser"}]})");
    const auto shown = render(f.ok({"bans"}), bans, {});
    EXPECT_TRUE(has(shown, "SOURCE      UNTIL")) << shown;
    EXPECT_TRUE(has(shown, "192.0.2.66  2026-12-02T13:00:00.000Z  290          failures  1         pbx?user")) << shown;
    EXPECT_EQ(render(f.ok({"ban", "192.0.2.66"}),
                     boost::json::parse(R"({"source": "192.0.2.66", "until": "2026-12-02T13:00:00.000Z"})"), {}),
              "192.0.2.66 banned until 2026-12-02T13:00:00.000Z\n");
    EXPECT_EQ(render(f.ok({"unban", "192.0.2.66"}), nullptr, {}), "192.0.2.66: ban lifted\n");
    EXPECT_EQ(error_message(409, "Conflict", R"({"error": "trunk acme has 3 call(s) in progress"})"),
              "trunk acme has 3 call(s) in progress");
    EXPECT_EQ(error_message(400, "Bad Request", R"({"error": "not a SIP URI", "field": "uri"})"),
              "not a SIP URI (field uri)");
    EXPECT_EQ(error_message(502, "Bad Gateway", "<html>"), "the API answered 502 Bad Gateway");
}

}  // namespace
}  // namespace b2b::admin::ctl
