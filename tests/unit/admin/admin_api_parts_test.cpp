// The admin API's pure parts: the token, JSON/YAML documents and their validation, times and
// query strings.
#include "admin/access_token.hpp"
#include "admin/bindings.hpp"
#include "admin/detail/json_response.hpp"
#include "admin/documents.hpp"
#include "admin/seeding.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace b2b::admin {
namespace {

namespace json = boost::json;

constexpr const char* base_yaml = R"(
sip:
  listen: [ "udp://127.0.0.1:5070" ]
downstream:
  realm: pbx.local
  users:
    - { username: pbxuser, password: pbxpass }
upstream:
  trunks:
    - { name: carrier, uri: "sip:127.0.0.2:5060", username: trunkuser, password: trunkpass }
routes:
  - { prefix: "", trunk: carrier }
  - { prefix: "0049", trunk: carrier, strip: 4, prepend: "+49" }
)";

TEST(access_token, bearer_and_basic_with_the_token_as_password) {
    const access_token t("s3cret-token");
    EXPECT_TRUE(t.enabled());
    EXPECT_TRUE(t.admits("Bearer s3cret-token"));
    EXPECT_TRUE(t.admits("bearer   s3cret-token "));
    EXPECT_FALSE(t.admits("Bearer s3cret-toke"));
    EXPECT_FALSE(t.admits("Bearer s3cret-token2"));
    EXPECT_FALSE(t.admits("Bearer"));
    EXPECT_FALSE(t.admits(""));
    // "admin:s3cret-token" and "anyone:s3cret-token" in base64.
    EXPECT_TRUE(t.admits("Basic YWRtaW46czNjcmV0LXRva2Vu"));
    EXPECT_TRUE(t.admits("Basic YW55b25lOnMzY3JldC10b2tlbg=="));
    // "admin:wrong"
    EXPECT_FALSE(t.admits("Basic YWRtaW46d3Jvbmc="));
    EXPECT_FALSE(t.admits("Basic !!!!"));
    EXPECT_FALSE(access_token().admits("Bearer "));
    EXPECT_FALSE(access_token().enabled());
}

TEST(access_token, from_the_config_a_file_or_the_environment) {
    const auto dir = std::filesystem::temp_directory_path() / ("b2b-token-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "admin.token";
    std::ofstream(file) << "  from-file\n";
    EXPECT_TRUE(access_token::load("", file.string()).admits("Bearer from-file"));
    EXPECT_TRUE(access_token::load("inline", file.string()).admits("Bearer inline"));
    EXPECT_THROW(access_token::load("", (dir / "missing").string()), std::runtime_error);
    std::ofstream(dir / "empty") << "\n";
    EXPECT_THROW(access_token::load("", (dir / "empty").string()), std::runtime_error);
    ::setenv("B2BUA_ADMIN_TOKEN", "from-env", 1);
    EXPECT_TRUE(access_token::load("", "").admits("Bearer from-env"));
    ::unsetenv("B2BUA_ADMIN_TOKEN");
    EXPECT_FALSE(access_token::load("", "").enabled());
    std::filesystem::remove_all(dir);
}

TEST(documents, from_the_config_file_keep_their_types_and_merge_back) {
    const YAML::Node root = YAML::Load(base_yaml);
    auto docs = document_set::from_config(root);
    ASSERT_EQ(docs.trunks.size(), 1u);
    EXPECT_EQ(docs.trunks[0].name, "carrier");
    EXPECT_EQ(docs.trunks[0].body.at("password").as_string(), "trunkpass");
    ASSERT_EQ(docs.routes.size(), 2u);
    // A quoted number stays text (a prefix), a plain one is a number.
    EXPECT_TRUE(docs.routes[1].as_object().at("prefix").is_string());
    EXPECT_EQ(docs.routes[1].as_object().at("strip").as_int64(), 4);
    const auto v = validate(root, docs);
    ASSERT_FALSE(v.error) << v.error->field << ": " << v.error->message;
    EXPECT_EQ(v.config->upstream.trunks.at(0).username, "trunkuser");
    EXPECT_EQ(v.config->routes.size(), 2u);
}

TEST(documents, a_bad_field_in_the_changed_trunk_is_named_within_it) {
    const YAML::Node root = YAML::Load(base_yaml);
    auto docs = document_set::from_config(root);
    docs.trunks.push_back({"acme", json::parse(R"({"name": "acme", "uri": "sip:"})").as_object()});
    auto v = validate(root, docs, "acme");
    ASSERT_TRUE(v.error);
    EXPECT_EQ(v.error->field, "uri");
    EXPECT_NE(v.error->message.find("sip:"), std::string::npos) << v.error->message;

    docs.trunks.back().body = json::parse(R"({"name": "acme", "uri": "sip:127.0.0.3", "colour": "red"})").as_object();
    v = validate(root, docs, "acme");
    ASSERT_TRUE(v.error);
    EXPECT_EQ(v.error->field, "colour");

    // A route naming a trunk that does not exist: the whole table is refused.
    docs.trunks.pop_back();
    docs.routes.push_back(json::parse(R"({"prefix": "1", "trunk": "nobody"})"));
    v = validate(root, docs);
    ASSERT_TRUE(v.error);
    EXPECT_EQ(v.error->field, "routes[2].trunk");
    EXPECT_NE(v.error->message.find("no trunk named 'nobody'"), std::string::npos) << v.error->message;
}

TEST(documents, a_users_bad_ha1_is_caught_before_it_is_used) {
    const YAML::Node root = YAML::Load(base_yaml);
    auto docs = document_set::from_config(root);
    docs.users.push_back({"short", json::parse(R"({"username": "short", "ha1": "abc"})").as_object()});
    const auto v = validate(root, docs, {}, "short");
    ASSERT_TRUE(v.error);
    EXPECT_EQ(v.error->field, "ha1");
}

TEST(documents, merge_patch_per_rfc_7396) {
    auto target = json::parse(R"({"a": 1, "b": {"c": 2, "d": 3}, "e": "x"})").as_object();
    merge_patch(target, json::parse(R"({"a": null, "b": {"c": 5, "d": null}, "f": [1]})").as_object());
    // Member order is not part of JSON: compare as values.
    EXPECT_EQ(json::value(target), json::parse(R"({"b":{"c":5},"e":"x","f":[1]})"));
}

TEST(documents, differences_name_what_an_import_changes) {
    const YAML::Node root = YAML::Load(base_yaml);
    const auto before = document_set::from_config(root);
    auto after = before;
    after.trunks[0].body["password"] = "new";
    after.users.clear();
    after.trunks.push_back({"acme", json::parse(R"({"name": "acme", "uri": "sip:127.0.0.3"})").as_object()});
    const auto lines = differences(before, after);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "trunk carrier: changed");
    EXPECT_EQ(lines[1], "trunk acme: added");
    EXPECT_EQ(lines[2], "user pbxuser: removed");
    EXPECT_TRUE(differences(before, before).empty());
}

TEST(json_response, times_durations_and_query_strings) {
    using namespace std::chrono;
    const auto t = system_clock::time_point(seconds(1'764'669'600) + milliseconds(123));
    EXPECT_EQ(detail::parse_time("2025-12-02T10:00:00.123Z"), t);
    EXPECT_EQ(detail::parse_time("2025-12-02T11:00:00.123+01:00"), t);
    EXPECT_EQ(detail::parse_time("1764669600"), system_clock::time_point(seconds(1'764'669'600)));
    EXPECT_FALSE(detail::parse_time("yesterday"));
    EXPECT_FALSE(detail::parse_time("2025-13-02T10:00:00Z"));
    EXPECT_EQ(detail::parse_duration("1h"), hours(1));
    EXPECT_EQ(detail::parse_duration("90"), seconds(90));
    EXPECT_FALSE(detail::parse_duration("-1h"));
    EXPECT_FALSE(detail::parse_duration("h"));
    EXPECT_EQ(detail::query_param("a=1&peer=pbx.local&x", "peer"), "pbx.local");
    EXPECT_EQ(detail::query_param("since=2025-12-02T10%3A00%3A00Z", "since"), "2025-12-02T10:00:00Z");
    EXPECT_EQ(detail::query_param("q=a+b", "q"), "a b");
    EXPECT_FALSE(detail::query_param("a=1", "b"));
    EXPECT_FALSE(detail::query_param("a=%zz", "a"));
    EXPECT_EQ(detail::decode_segment("my%20trunk"), "my trunk");
    EXPECT_FALSE(detail::decode_segment("a%2Fb"));
}

}  // namespace
}  // namespace b2b::admin

namespace b2b::admin {
namespace {

TEST(bindings, a_binding_goes_to_json_and_back_with_its_wall_clock_expiry) {
    registration::binding b;
    b.user = "pbxuser";
    b.contact = "sip:pbxuser@192.0.2.5:5060";
    b.call_id = "reg-1@192.0.2.5";
    b.cseq = 7;
    b.source = {sip::transport_kind::tcp, {boost::asio::ip::make_address("127.0.0.1"), 5070},
                {boost::asio::ip::make_address("::1"), 40000}, 42};
    b.behind_nat = true;
    b.destination = {boost::asio::ip::make_address("::1"), 40000};
    const auto expires = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'669'600'123));
    const auto back = binding_from_json(binding_json(b, expires));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->first.user, "pbxuser");
    EXPECT_EQ(back->first.contact, b.contact);
    EXPECT_EQ(back->first.call_id, b.call_id);
    EXPECT_EQ(back->first.cseq, 7u);
    EXPECT_EQ(back->first.source.transport, sip::transport_kind::tcp);
    EXPECT_EQ(back->first.source.remote, b.source.remote);
    EXPECT_EQ(back->first.source.local, b.source.local);
    EXPECT_EQ(back->first.source.connection, 0u) << "a connection does not survive a restart";
    EXPECT_TRUE(back->first.behind_nat);
    EXPECT_EQ(back->first.destination, b.destination);
    EXPECT_EQ(back->second, expires);
    EXPECT_FALSE(binding_from_json("{}"));
    EXPECT_FALSE(binding_from_json("not json"));
    EXPECT_FALSE(binding_from_json(R"({"user": "u", "contact": "sip:u@h", "transport": "carrier-pigeon"})"));
}

TEST(bindings, an_account_s_bindings_go_to_another_node_as_one_document_and_back) {
    registration::binding b;
    b.user = "branch";
    b.contact = "sip:branch@198.51.100.7:5060";
    b.call_id = "r1";
    b.cseq = 3;
    b.source = {sip::transport_kind::udp, {boost::asio::ip::make_address("10.0.0.11"), 5060},
                {boost::asio::ip::make_address("198.51.100.7"), 5060}, 0};
    b.destination = b.source.remote;
    registration::binding nat = b;
    nat.contact = "sip:branch@192.168.0.20:5060";
    nat.behind_nat = true;
    b.path = {"<sip:10.0.0.10:5060;lr;received=sip:198.51.100.7:5060>", "<sip:edge.example;lr>"};
    const auto t1 = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'669'600'000));
    const auto t2 = t1 + std::chrono::seconds(30);

    const auto back = account_bindings_from_json(account_bindings_json("branch", {{b, t1}, {nat, t2}}));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->user, "branch");
    ASSERT_EQ(back->bindings.size(), 2u);
    EXPECT_EQ(back->bindings[0].first.contact, b.contact);  // in order: the most recent first
    EXPECT_EQ(back->bindings[0].second, t1);
    EXPECT_EQ(back->bindings[0].first.path, b.path);
    EXPECT_TRUE(back->bindings[1].first.path.empty());
    EXPECT_EQ(back->bindings[1].first.contact, nat.contact);
    EXPECT_TRUE(back->bindings[1].first.behind_nat);
    EXPECT_EQ(back->bindings[1].second, t2);

    // None left is a message too: the account's bindings are gone.
    const auto none = account_bindings_from_json(account_bindings_json("branch", {}));
    ASSERT_TRUE(none);
    EXPECT_EQ(none->user, "branch");
    EXPECT_TRUE(none->bindings.empty());

    // What is not one: not JSON, no user, no list, a binding that is not one, another account's.
    EXPECT_FALSE(account_bindings_from_json("not json"));
    EXPECT_FALSE(account_bindings_from_json(R"({"bindings": []})"));
    EXPECT_FALSE(account_bindings_from_json(R"({"user": "branch"})"));
    EXPECT_FALSE(account_bindings_from_json(R"({"user": "branch", "bindings": [{"user": "branch"}]})"));
    EXPECT_FALSE(account_bindings_from_json(account_bindings_json("other", {{b, t1}})));
    EXPECT_FALSE(binding_from_json(R"({"user": "u", "contact": "sip:u@h", "transport": "udp",
        "local": {"address": "10.0.0.1", "port": 5060}, "remote": {"address": "10.0.0.2", "port": 5060},
        "destination": {"address": "10.0.0.2", "port": 5060}, "expires_ms": 1, "path": "<sip:p;lr>"})"));
}

}  // namespace
}  // namespace b2b::admin
