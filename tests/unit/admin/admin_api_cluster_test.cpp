// Two nodes of a cluster, each with its own core, store and admin API: a change made through one
// node's API, handed to the other as its change publisher wrote it, makes the same documents
// there, on disk and on the SIP side, audited as coming from the first; repeats, bad bodies and
// changes invalid there change nothing; a trunk removed with its calls ends them there too.
#include "admin/admin_api.hpp"
#include "admin/seeding.hpp"
#include "admin/store.hpp"

#include "temp_dir.hpp"
#include "tests/unit/b2bua/call_flow.hpp"
#include "tests/unit/http/http_test_client.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace b2b::admin {
namespace {

namespace json = boost::json;
namespace bh = boost::beast::http;
using namespace http::test;
using b2bua::test::b2bua_harness;
using b2bua::test::pbx_call;

constexpr const char* token = "cluster-test-token";

/// One node: the core as the process wires it minus sockets and real time (b2bua_harness, with
/// trunks "carrier" for every number and "spare" for 9...), a store in a directory of its own,
/// and the admin API over a real HTTP server on 127.0.0.1, all run on this thread. What its
/// change publisher is handed is kept in `published`.
class node : public b2bua_harness {
public:
    node() : b2bua_harness(trunks()) {
        const YAML::Node root = YAML::Load(make_config(trunks(), {}, {}));
        auto st = store::open(dir.path().string());
        auto docs = seed_or_load(*st, root);
        admin_settings settings;
        settings.token = access_token(token);
        settings.base_config = root;
        api = std::make_shared<admin_api>(ioc.get_executor(), ioc.get_executor(), b2b, std::move(st),
                                          std::move(docs), std::move(settings));
        api->add_routes(server);
        api->set_change_publisher([this](std::string body) {
            if (!accepting) return false;  // as a full queue for Redis
            published.push_back(std::move(body));
            return true;
        });
    }

    /// One request to the API, answered.
    client_response request(bh::verb method, const std::string& path, const std::string& body = {}) {
        auto req = make_request(method, "/api/v1/" + path, body);
        req.set(bh::field::authorization, std::string("Bearer ") + token);
        if (!body.empty()) req.set(bh::field::content_type, "application/json");
        EXPECT_FALSE(server.start());
        auto answer = run_client(ioc, server,
                                 [](tcp::endpoint to, client_request r) -> asio::awaitable<client_response> {
                                     http_client c(co_await asio::this_coro::executor);
                                     co_await c.connect(to);
                                     co_return co_await c.round_trip(std::move(r));
                                 }(server.local_endpoint(), std::move(req)));
        ioc.restart();
        return answer;
    }
    /// GET's answer as JSON, the status 200 expected.
    json::value get(const std::string& path) {
        const auto r = request(bh::verb::get, path);
        EXPECT_EQ(r.result(), bh::status::ok) << path << ": " << r.body();
        return json::parse(r.body());
    }
    /// A change from `origin`, then everything it leads to.
    void receive(const std::string& body, const std::string& origin = "node-a") {
        api->apply_remote_change(body, origin);
        settle();
    }
    /// Runs what is posted until nothing is left (the server is stopped between requests).
    void settle() {
        ioc.run_for(deadline);
        ioc.restart();
    }

    /// What the store holds now, read through a connection of its own.
    document_set stored() const {
        auto st = store::open(dir.path().string());
        auto docs = load_documents(*st);
        EXPECT_TRUE(docs.has_value());
        return docs ? *docs : document_set{};
    }
    std::vector<audit_entry> audit() const {
        auto st = store::open(dir.path().string());
        auto list = st->list_audit({}, 100);
        EXPECT_TRUE(list.has_value());
        return list ? *list : std::vector<audit_entry>{};
    }
    std::string stored_json(std::string_view kind, std::string_view key) const {
        auto st = store::open(dir.path().string());
        auto doc = st->get(kind, key);
        return doc && *doc ? **doc : std::string();
    }

    static std::vector<b2b::b2bua::test::trunk_spec> trunks() {
        return {numbered_trunk(1, "carrier", ""), numbered_trunk(2, "spare", "9")};
    }

    asio::io_context ioc;
    test::temp_dir dir;
    http::http_server server{ioc.get_executor(), loopback_any_port()};
    std::shared_ptr<admin_api> api;
    std::vector<std::string> published;
    bool accepting = true;
    /// The changes the store keeps until the stream has them.
    std::vector<std::pair<std::string, std::string>> outbox() const {
        auto st = store::open(dir.path().string());
        auto kept = st->list_states("outbox:");
        EXPECT_TRUE(kept.has_value());
        return kept ? *kept : std::vector<std::pair<std::string, std::string>>{};
    }
};

constexpr const char* acme =
    R"({"name":"acme","uri":"sip:127.0.0.30:5060","username":"acme-user","password":"acme-pass"})";

class admin_api_cluster : public ::testing::Test {
protected:
    admin_api_cluster() {
        // The admin layer logs through "admin" when there is one: here, into `log`.
        auto logger = std::make_shared<spdlog::logger>("admin", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
        logger->set_level(spdlog::level::debug);
        spdlog::register_logger(logger);
    }
    ~admin_api_cluster() override { spdlog::drop("admin"); }
    void TearDown() override {
        a.expect_no_strays();
        b.expect_no_strays();
    }

    /// Node a answers `method path body` with `expected`, and publishes it once: the body.
    std::string change_on_a(bh::verb method, const std::string& path, const std::string& body, bh::status expected) {
        const auto before = a.published.size();
        const auto r = a.request(method, path, body);
        EXPECT_EQ(r.result(), expected) << method << " " << path << ": " << r.body();
        EXPECT_EQ(a.published.size(), before + 1) << method << " " << path;
        return a.published.size() > before ? a.published.back() : std::string();
    }

    /// acme made through b and taken by a, b's own passed: both start from the same trunk.
    void acme_on_both() {
        b.request(bh::verb::post, "trunks", acme);
        a.receive(b.published.back(), "node-b");
        b.api->own_change_passed(b.published.back(), "node-b");
        b.settle();
    }
    /// a, then b, each sets acme's uri to `uri_a` and `uri_b` (a's comes first in the stream):
    /// what each published.
    std::pair<std::string, std::string> acme_changed_by_a_then_b(const std::string& uri_a, const std::string& uri_b) {
        const auto on_a = change_on_a(
            bh::verb::put, "trunks/acme",
            R"({"name":"acme","uri":")" + uri_a + R"(","username":"acme-user","password":"a"})", bh::status::ok);
        const auto r = b.request(bh::verb::put, "trunks/acme",
                                 R"({"name":"acme","uri":")" + uri_b + R"(","username":"acme-user","password":"b"})");
        EXPECT_EQ(r.result(), bh::status::ok) << r.body();
        return {on_a, b.published.back()};
    }

    std::ostringstream log;
    node a;
    node b;
};


TEST_F(admin_api_cluster, every_change_through_the_api_is_published_once_and_makes_the_same_documents_on_another_node) {
    std::vector<std::string> bodies;
    bodies.push_back(change_on_a(bh::verb::post, "trunks", acme, bh::status::created));
    bodies.push_back(change_on_a(bh::verb::put, "users/alice", R"({"username":"alice","password":"alicepass"})",
                                 bh::status::created));
    bodies.push_back(change_on_a(bh::verb::patch, "users/alice", R"({"password":"changed"})", bh::status::ok));
    bodies.push_back(change_on_a(bh::verb::put, "routes",
                                 R"({"routes":[{"prefix":"","trunk":"carrier"},{"prefix":"7","trunk":"acme"}]})",
                                 bh::status::ok));
    bodies.push_back(change_on_a(
        bh::verb::put, "inbound-routes",
        R"({"inbound_routes":[{"prefix":"+4930","to":"sip:127.0.0.11:5101","name":"office"}]})", bh::status::ok));
    bodies.push_back(change_on_a(bh::verb::delete_, "users/pbxuser", "", bh::status::no_content));
    bodies.push_back(change_on_a(bh::verb::delete_, "trunks/spare?force=true", "", bh::status::no_content));

    // What is refused, or only read, is not published.
    EXPECT_EQ(a.request(bh::verb::post, "trunks", acme).result(), bh::status::conflict);
    EXPECT_EQ(a.request(bh::verb::put, "routes", R"({"routes":[{"prefix":"","trunk":"nowhere"}]})").result(),
              bh::status::unprocessable_entity);
    EXPECT_EQ(a.request(bh::verb::delete_, "users/nobody").result(), bh::status::not_found);
    a.get("trunks");
    EXPECT_EQ(a.published.size(), bodies.size());

    for (const auto& body : bodies) b.receive(body);
    EXPECT_EQ(b.api->remote_changes().applied, bodies.size());
    for (const char* path : {"trunks", "users", "routes", "inbound-routes"}) {
        EXPECT_EQ(b.get(path), a.get(path)) << path;
    }
    // On disk too, secrets and all.
    EXPECT_EQ(b.stored(), a.stored());
    EXPECT_EQ(json::parse(b.stored_json(kinds::user, "alice")),
              json::parse(R"({"username":"alice","password":"changed"})"));
    // And on the SIP side: the core runs with the new trunks.
    const auto listed = b.b2b.trunks();
    std::vector<std::string> names;
    for (const auto& t : listed) names.push_back(t.trunk->name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"acme", "carrier"}));
    EXPECT_TRUE(b.published.empty()) << "another node's change is never published again";
}

TEST_F(admin_api_cluster, a_change_from_another_node_is_on_disk_there_and_audited_as_coming_from_it) {
    const auto body = change_on_a(bh::verb::put, "trunks/acme", acme, bh::status::created);
    b.receive(body, "node-a");

    // A new connection to b's store (as after a restart) finds the document as a stored it.
    EXPECT_EQ(json::parse(b.stored_json(kinds::trunk, "acme")), json::parse(acme));
    EXPECT_EQ(b.stored_json(kinds::trunk, "acme"), a.stored_json(kinds::trunk, "acme"));

    const auto on_a = a.audit();
    const auto on_b = b.audit();
    ASSERT_EQ(on_a.size(), 1u);
    ASSERT_EQ(on_b.size(), 1u);
    EXPECT_EQ(on_b[0].remote, "node node-a (" + on_a[0].remote + ")");
    EXPECT_EQ(on_a[0].remote.rfind("127.0.0.1:", 0), 0u) << on_a[0].remote;
    EXPECT_EQ(on_b[0].operation, "PUT /api/v1/trunks/acme");
    EXPECT_EQ(on_b[0].object, "trunk acme");
    EXPECT_EQ(on_b[0].result, 201);
    EXPECT_EQ(on_b[0].time, on_a[0].time) << "when it was made";
    EXPECT_NE(log.str().find("from node node-a"), std::string::npos) << log.str();
}

TEST_F(admin_api_cluster, a_change_received_twice_is_made_once) {
    const auto put = change_on_a(bh::verb::post, "trunks", acme, bh::status::created);
    const auto removal = change_on_a(bh::verb::delete_, "users/pbxuser", "", bh::status::no_content);
    const auto replaced =
        change_on_a(bh::verb::put, "trunks/acme",
                    R"({"name":"acme","uri":"sip:127.0.0.31:5060","username":"acme-user","password":"other"})",
                    bh::status::ok);
    b.receive(put);
    b.receive(put);
    b.receive(removal);
    b.receive(removal);  // the user is gone already: no store error either
    b.receive(replaced);
    // A late copy of the first version must not bring it back.
    b.receive(put);
    b.receive(replaced);

    const auto counts = b.api->remote_changes();
    EXPECT_EQ(counts.applied, 3u);
    EXPECT_EQ(counts.unchanged, 4u);
    EXPECT_EQ(counts.invalid + counts.malformed + counts.not_saved, 0u);
    EXPECT_EQ(b.stored(), a.stored());
    EXPECT_EQ(b.get("trunks/acme"), a.get("trunks/acme"));
    EXPECT_EQ(b.audit().size(), 3u) << "one audit line per change made";
    EXPECT_TRUE(b.published.empty());
}

TEST_F(admin_api_cluster, two_nodes_changing_one_document_at_once_end_with_the_same_version) {
    acme_on_both();
    // Within one round of the link, each changes acme's uri its own way and publishes it.
    const auto [on_a, on_b] = acme_changed_by_a_then_b("sip:127.0.0.41:5060", "sip:127.0.0.42:5060");
    // The stream holds a's change, then b's: every node reads them in that order.
    // a: its own passes, then b's, which is later: taken.
    a.api->own_change_passed(on_a, "node-a");
    a.receive(on_b, "node-b");
    // b: a's comes while b's own has not passed yet: a's is older than b's, so it is skipped...
    b.receive(on_a, "node-a");
    b.api->own_change_passed(on_b, "node-b");
    b.settle();
    // ...and a copy of it coming again later is just as old.
    b.receive(on_a, "node-a");
    EXPECT_EQ(b.api->remote_changes().superseded, 1u);
    EXPECT_NE(log.str().find("is skipped: this node changed trunk/acme after it"), std::string::npos) << log.str();
    EXPECT_EQ(a.get("trunks/acme"), b.get("trunks/acme"));
    EXPECT_EQ(a.get("trunks/acme").as_object().at("uri").as_string(), "sip:127.0.0.42:5060");
    EXPECT_EQ(a.stored(), b.stored());

    // Once b's own has passed, the others' changes to acme are taken again.
    const auto later = change_on_a(bh::verb::put, "trunks/acme",
                                   R"({"name":"acme","uri":"sip:127.0.0.43:5060","username":"acme-user","password":"c"})",
                                   bh::status::ok);
    b.receive(later, "node-a");
    EXPECT_EQ(b.get("trunks/acme").as_object().at("uri").as_string(), "sip:127.0.0.43:5060");
    EXPECT_EQ(b.api->remote_changes().superseded, 1u);
}

TEST_F(admin_api_cluster, read_again_after_a_restart_a_nodes_own_change_comes_back_after_an_older_one) {
    acme_on_both();
    // a changes acme, then b does; the stream holds a's, then b's. b had kept how far it read
    // from before both: after a restart it reads a's (new to it), then its own again.
    const auto [on_a, on_b] = acme_changed_by_a_then_b("sip:127.0.0.51:5060", "sip:127.0.0.52:5060");
    b.api->own_change_passed(on_b, "node-b");  // its first life: waited for, nothing to do
    b.settle();
    a.api->own_change_passed(on_a, "node-a");  // a reads its own, then b's
    a.receive(on_b, "node-b");

    b.receive(on_a, "node-a");  // older than b's own, which nothing waits for any more
    EXPECT_EQ(b.get("trunks/acme").as_object().at("uri").as_string(), "sip:127.0.0.51:5060");
    b.api->own_change_passed(on_b, "node-b");  // comes back in its place
    b.settle();
    EXPECT_EQ(b.get("trunks/acme").as_object().at("uri").as_string(), "sip:127.0.0.52:5060");
    EXPECT_EQ(a.get("trunks/acme"), b.get("trunks/acme"));
    EXPECT_EQ(a.stored(), b.stored());
    EXPECT_EQ(b.published.size(), 2u) << "nothing published again";
}

TEST_F(admin_api_cluster, a_change_is_kept_until_the_stream_has_it_and_one_never_sent_goes_at_the_next_start) {
    const auto put = change_on_a(bh::verb::post, "trunks", acme, bh::status::created);
    ASSERT_EQ(a.outbox().size(), 1u) << "kept in the change's own transaction";
    EXPECT_EQ(a.outbox()[0].second, put);
    a.api->own_change_passed(put, "node-a");
    a.settle();
    EXPECT_TRUE(a.outbox().empty()) << "the stream has it";

    // The queue for Redis is full (or the node ends before handing it over): nothing goes out,
    // the change is still kept.
    a.accepting = false;
    const auto r = a.request(bh::verb::put, "users/alice", R"({"username":"alice","password":"alicepass"})");
    ASSERT_EQ(r.result(), bh::status::created) << r.body();
    ASSERT_EQ(a.outbox().size(), 1u);
    // Started again and read up to the end of the stream: it goes now, as it was.
    a.accepting = true;
    const auto before = a.published.size();
    a.api->send_unsent();
    a.settle();
    ASSERT_EQ(a.published.size(), before + 1);
    EXPECT_EQ(a.published.back(), a.outbox()[0].second);
    b.receive(a.published.back());
    EXPECT_EQ(b.get("users/alice"), a.get("users/alice"));
    a.api->own_change_passed(a.published.back(), "node-a");
    a.settle();
    EXPECT_TRUE(a.outbox().empty());
    EXPECT_NE(log.str().find("had not reached the other nodes (this node ended first): sent now"), std::string::npos);
}

TEST_F(admin_api_cluster, a_change_never_sent_and_changed_since_by_another_node_is_dropped) {
    a.accepting = false;
    ASSERT_EQ(a.request(bh::verb::post, "trunks", acme).result(), bh::status::created);
    ASSERT_EQ(a.outbox().size(), 1u);
    // Meanwhile b made acme its own way, and a read it in the stream.
    b.request(bh::verb::post, "trunks",
              R"({"name":"acme","uri":"sip:127.0.0.61:5060","username":"acme-user","password":"b"})");
    a.receive(b.published.back(), "node-b");
    a.accepting = true;
    a.api->send_unsent();
    a.settle();
    EXPECT_TRUE(a.published.empty()) << "b's later version stands on every node";
    EXPECT_TRUE(a.outbox().empty());
    EXPECT_EQ(a.get("trunks/acme").as_object().at("uri").as_string(), "sip:127.0.0.61:5060");
    EXPECT_NE(log.str().find("never reached the other nodes, and trunk/acme changed since: dropped"), std::string::npos);
}

TEST_F(admin_api_cluster, a_change_from_another_node_is_never_published) {
    b.receive(change_on_a(bh::verb::post, "trunks", acme, bh::status::created));
    b.receive(change_on_a(bh::verb::delete_, "trunks/acme", "", bh::status::no_content));
    EXPECT_EQ(b.api->remote_changes().applied, 2u);
    EXPECT_TRUE(b.published.empty());
    // b's own changes still are.
    EXPECT_EQ(b.request(bh::verb::post, "trunks", acme).result(), bh::status::created);
    EXPECT_EQ(b.published.size(), 1u);
}

TEST_F(admin_api_cluster, a_body_that_cannot_be_read_or_a_change_invalid_here_changes_nothing_and_says_why) {
    const auto good = json::parse(change_on_a(bh::verb::post, "trunks", acme, bh::status::created)).as_object();
    const auto edited = [&](auto edit) {
        auto o = good;
        edit(o);
        return json::serialize(o);
    };
    const auto before = b.stored();
    const auto trunks_before = b.get("trunks");

    b.receive("this is not JSON");
    b.receive(edited([](json::object& o) { o["format"] = 2; }));
    b.receive(edited([](json::object& o) { o.erase("audit"); }));
    const auto unreadable = b.api->remote_changes().malformed;
    EXPECT_EQ(unreadable, 3u);
    EXPECT_NE(log.str().find("cannot be read: not JSON"), std::string::npos) << log.str();
    EXPECT_NE(log.str().find("format 2 is not the one this build reads"), std::string::npos) << log.str();

    // Readable, but not a change that fits here: a name that is not the key, a trunk the
    // routes still use, a URI the configuration refuses.
    b.receive(edited([](json::object& o) { o["key"] = "other"; }));
    b.receive(edited([](json::object& o) {
        o["key"] = "carrier";
        o["op"] = "remove";
        o.erase("document");
    }));
    b.receive(edited([](json::object& o) { o["document"].as_object()["uri"] = "no uri at all"; }));
    EXPECT_EQ(b.api->remote_changes().invalid, 3u);
    EXPECT_EQ(b.api->remote_changes().applied, 0u);
    EXPECT_NE(log.str().find("is not its key 'other'"), std::string::npos) << log.str();
    EXPECT_NE(log.str().find("would not make a valid configuration here"), std::string::npos) << log.str();
    EXPECT_NE(log.str().find("no trunk named 'carrier'"), std::string::npos) << log.str();

    EXPECT_EQ(b.stored(), before);
    EXPECT_EQ(b.get("trunks"), trunks_before);
    EXPECT_TRUE(b.audit().empty());
    EXPECT_TRUE(b.published.empty());

    // A refused change is not remembered as made: once it fits, it is made.
    b.receive(json::serialize(good));
    EXPECT_EQ(b.api->remote_changes().applied, 1u);
    EXPECT_EQ(b.get("trunks/acme"), a.get("trunks/acme"));
}

// Leg A from node b's PBX to carrier, answered: the call a removal from node a finds there.
class admin_api_cluster_call : public admin_api_cluster {
protected:
    void SetUp() override { b.confirmed_call(pbx, call, b.trunk_named("carrier")); }
    /// Node a routes everything to spare and removes carrier (`force`: with its calls).
    std::vector<std::string> remove_carrier_on_a(bool force) {
        std::vector<std::string> bodies;
        bodies.push_back(change_on_a(bh::verb::put, "routes", R"({"routes":[{"prefix":"","trunk":"spare"}]})",
                                     bh::status::ok));
        bodies.push_back(change_on_a(bh::verb::delete_, force ? "trunks/carrier?force=true" : "trunks/carrier", "",
                                     bh::status::no_content));
        return bodies;
    }

    b2b::b2bua::test::pbx_actor& pbx = b.add_pbx("pbx");
    pbx_call call;
};

TEST_F(admin_api_cluster_call, a_trunk_removed_with_its_calls_on_another_node_ends_them_here_too) {
    ASSERT_EQ(b.b2b.calls_on_trunk("carrier"), 1u);
    for (const auto& body : remove_carrier_on_a(true)) b.receive(body);
    EXPECT_EQ(b.api->remote_changes().applied, 2u);

    auto& carrier = b.trunk_named("carrier");
    const auto to_pbx = pbx.take_matching("BYE");
    const auto to_trunk = carrier.take_matching("BYE");
    ASSERT_EQ(to_pbx.size(), 1u);
    ASSERT_EQ(to_trunk.size(), 1u);
    pbx.respond(to_pbx.front(), 200, "OK");
    carrier.respond(to_trunk.front(), 200, "OK");
    EXPECT_EQ(b.b2b.active_calls(), 0u);
}

TEST_F(admin_api_cluster_call, a_trunk_removed_without_force_on_another_node_leaves_the_calls_here_going) {
    for (const auto& body : remove_carrier_on_a(false)) b.receive(body);
    EXPECT_EQ(b.api->remote_changes().applied, 2u);
    pbx.expect_nothing();
    auto& carrier = b.trunk_named("carrier");
    carrier.expect_nothing();
    EXPECT_EQ(b.b2b.active_calls(), 1u) << "as a reload that drops a trunk: calls in progress keep it";

    // The call still ends properly.
    pbx.bye(call);
    auto bye = carrier.expect("BYE");
    carrier.respond(bye, 200, "OK");
    pbx.expect("SIP/2.0 200");
    EXPECT_EQ(b.b2b.active_calls(), 0u);
}

}  // namespace
}  // namespace b2b::admin
