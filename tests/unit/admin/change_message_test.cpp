// The body of a change published to the other nodes: written and read back whole, and every way a
// body can be wrong refused with a reason.
#include "admin/detail/change_message.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace b2b::admin::detail {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

change_message trunk_put() {
    change_message m;
    m.id = "9f86d081884c7d65-12";
    m.change = {"trunk", "acme", json::parse(R"({"name":"acme","uri":"sip:127.0.0.9","password":"s3cret"})")};
    m.audit.time = std::chrono::system_clock::time_point(1772446500123ms);
    m.audit.remote = "10.0.0.5:43122";
    m.audit.operation = "PUT /api/v1/trunks/acme";
    m.audit.object = "trunk acme";
    m.audit.result = 200;
    return m;
}

void expect_same(const change_message& a, const change_message& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.change, b.change);
    EXPECT_EQ(a.end_calls, b.end_calls);
    EXPECT_EQ(a.audit.time, b.audit.time);
    EXPECT_EQ(a.audit.remote, b.audit.remote);
    EXPECT_EQ(a.audit.operation, b.audit.operation);
    EXPECT_EQ(a.audit.object, b.audit.object);
    EXPECT_EQ(a.audit.result, b.audit.result);
}

TEST(change_message, a_put_carries_the_whole_document_secrets_included) {
    const auto m = trunk_put();
    const auto body = serialize(m);
    EXPECT_EQ(json::parse(body), json::parse(R"({"format":1,"id":"9f86d081884c7d65-12","kind":"trunk","key":"acme",
        "op":"put",
        "document":{"name":"acme","uri":"sip:127.0.0.9","password":"s3cret"},"end_calls":false,
        "audit":{"time":"2026-03-02T10:15:00.123Z","remote":"10.0.0.5:43122","operation":"PUT /api/v1/trunks/acme",
                 "object":"trunk acme","result":200}})"))
        << body;
    const auto back = parse_change_message(body);
    ASSERT_TRUE(back.has_value()) << back.error();
    expect_same(*back, m);
}

TEST(change_message, a_removal_and_a_table_read_back_as_written) {
    auto removal = trunk_put();
    removal.change = {"trunk", "acme", std::nullopt};
    removal.end_calls = true;
    auto table = trunk_put();
    table.change = {"routes", "", json::parse(R"([{"prefix":"","trunk":"acme"}])")};
    for (const auto& m : {removal, table}) {
        const auto back = parse_change_message(serialize(m));
        ASSERT_TRUE(back.has_value()) << back.error();
        expect_same(*back, m);
    }
    EXPECT_EQ(json::parse(serialize(removal)).as_object().count("document"), 0u);
}

TEST(change_message, a_body_that_cannot_be_read_is_refused_with_the_reason) {
    const auto good = json::parse(serialize(trunk_put())).as_object();
    const auto refused = [](const std::string& body) {
        const auto r = parse_change_message(body);
        EXPECT_FALSE(r.has_value()) << body;
        return r.has_value() ? std::string() : r.error();
    };
    const auto without = [&](std::string_view key) {
        auto o = good;
        o.erase(key);
        return json::serialize(o);
    };
    const auto with = [&](std::string_view key, json::value v) {
        auto o = good;
        o[key] = std::move(v);
        return json::serialize(o);
    };
    EXPECT_NE(refused("{\"format\":1,").find("not JSON"), std::string::npos);
    EXPECT_NE(refused("[1,2]").find("not a JSON object"), std::string::npos);
    EXPECT_NE(refused(without("format")).find("format"), std::string::npos);
    EXPECT_NE(refused(with("format", 2)).find("format 2"), std::string::npos);
    EXPECT_NE(refused(without("id")).find("id"), std::string::npos);
    EXPECT_NE(refused(with("id", "")).find("id"), std::string::npos);
    EXPECT_NE(refused(without("kind")).find("kind"), std::string::npos);
    EXPECT_NE(refused(with("key", 7)).find("key"), std::string::npos);
    EXPECT_NE(refused(with("op", "patch")).find("neither put nor remove"), std::string::npos);
    EXPECT_NE(refused(without("document")).find("no document"), std::string::npos);
    EXPECT_NE(refused(with("op", "remove")).find("a remove carries a document"), std::string::npos);
    EXPECT_NE(refused(with("end_calls", "yes")).find("end_calls"), std::string::npos);
    EXPECT_NE(refused(without("audit")).find("audit"), std::string::npos);

    auto audit = good.at("audit").as_object();
    audit["time"] = "yesterday";
    EXPECT_NE(refused(with("audit", audit)).find("audit.time"), std::string::npos);
    audit = good.at("audit").as_object();
    audit.erase("remote");
    EXPECT_NE(refused(with("audit", audit)).find("audit.remote"), std::string::npos);
    audit = good.at("audit").as_object();
    audit["result"] = "ok";
    EXPECT_NE(refused(with("audit", audit)).find("audit.result"), std::string::npos);
}

}  // namespace
}  // namespace b2b::admin::detail
