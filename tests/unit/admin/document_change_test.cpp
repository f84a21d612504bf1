// One document change made to a document set: puts replace or add, removals of what is not there
// change nothing, and what does not fit its kind is refused with a reason.
#include "admin/detail/document_change.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <variant>

namespace b2b::admin::detail {
namespace {

namespace json = boost::json;

document_set two_trunks() {
    document_set d;
    d.trunks.push_back({"carrier", json::parse(R"({"name":"carrier","uri":"sip:127.0.0.2"})").as_object()});
    d.trunks.push_back({"spare", json::parse(R"({"name":"spare","uri":"sip:127.0.0.3"})").as_object()});
    d.users.push_back({"pbxuser", json::parse(R"({"username":"pbxuser","password":"pbxpass"})").as_object()});
    d.routes = json::parse(R"([{"prefix":"","trunk":"carrier"}])").as_array();
    return d;
}

TEST(document_change, a_put_replaces_in_place_or_adds_after_the_others) {
    const auto before = two_trunks();
    const auto replaced = with_change(before, {"trunk", "carrier", json::parse(R"({"name":"carrier","uri":"sip:x"})")});
    ASSERT_TRUE(replaced.has_value()) << replaced.error();
    ASSERT_EQ(replaced->trunks.size(), 2u);
    EXPECT_EQ(replaced->trunks[0].name, "carrier");
    EXPECT_EQ(replaced->trunks[0].body.at("uri"), "sip:x");

    const auto added = with_change(before, {"user", "alice", json::parse(R"({"username":"alice","password":"a"})")});
    ASSERT_TRUE(added.has_value()) << added.error();
    ASSERT_EQ(added->users.size(), 2u);
    EXPECT_EQ(added->users[1].name, "alice");

    const auto table = with_change(before, {"inbound_routes", "", json::parse(R"([{"did":"+49301","pbx":"p"}])")});
    ASSERT_TRUE(table.has_value()) << table.error();
    EXPECT_EQ(table->inbound_routes.size(), 1u);
    EXPECT_EQ(table->routes, before.routes);
}

TEST(document_change, the_same_change_twice_is_the_change_once) {
    const auto before = two_trunks();
    const document_change put{"trunk", "acme", json::parse(R"({"name":"acme","uri":"sip:127.0.0.9"})")};
    const document_change removal{"trunk", "spare", std::nullopt};
    for (const auto& change : {put, removal}) {
        const auto once = with_change(before, change);
        ASSERT_TRUE(once.has_value()) << once.error();
        const auto twice = with_change(*once, change);
        ASSERT_TRUE(twice.has_value()) << twice.error();
        EXPECT_EQ(*twice, *once);
        EXPECT_NE(*once, before);
    }
    const auto absent = with_change(before, {"user", "nobody", std::nullopt});
    ASSERT_TRUE(absent.has_value());
    EXPECT_EQ(*absent, before);
}

TEST(document_change, what_does_not_fit_its_kind_is_refused_with_a_reason) {
    const auto before = two_trunks();
    const auto refused = [&](const document_change& c) {
        const auto r = with_change(before, c);
        EXPECT_FALSE(r.has_value()) << c.kind << " " << c.key;
        return r.has_value() ? std::string() : r.error();
    };
    EXPECT_NE(refused({"route", "", json::array()}).find("no such kind"), std::string::npos);
    EXPECT_NE(refused({"trunk", "acme", json::parse(R"({"name":"other"})")}).find("is not its key 'acme'"),
              std::string::npos);
    EXPECT_NE(refused({"user", "alice", json::parse(R"({"password":"a"})")}).find("username"), std::string::npos);
    EXPECT_NE(refused({"trunk", "acme", json::parse(R"(["acme"])")}).find("JSON object"), std::string::npos);
    EXPECT_NE(refused({"trunk", "", json::parse(R"({"name":""})")}).find("needs a name"), std::string::npos);
    EXPECT_NE(refused({"routes", "", std::nullopt}).find("never removed"), std::string::npos);
    EXPECT_NE(refused({"routes", "x", json::array()}).find("key must be empty"), std::string::npos);
    EXPECT_NE(refused({"routes", "", json::object()}).find("JSON array"), std::string::npos);
}

TEST(document_change, is_written_as_one_put_or_one_remove) {
    change_set changes;
    add_to(changes, {"trunk", "acme", json::parse(R"({"name":"acme","password":"s3cret"})")});
    add_to(changes, {"user", "bob", std::nullopt});
    ASSERT_EQ(changes.operations.size(), 2u);
    const auto& put = std::get<change_set::put_document>(changes.operations[0]);
    EXPECT_EQ(put.kind, "trunk");
    EXPECT_EQ(put.key, "acme");
    EXPECT_EQ(json::parse(put.json), json::parse(R"({"name":"acme","password":"s3cret"})"));
    const auto& removal = std::get<change_set::remove_document>(changes.operations[1]);
    EXPECT_EQ(removal.kind, "user");
    EXPECT_EQ(removal.key, "bob");
}

}  // namespace
}  // namespace b2b::admin::detail
