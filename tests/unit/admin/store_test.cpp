#include "admin/store.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <vector>

namespace b2b::admin {
namespace {

using namespace std::chrono_literals;
using test::temp_dir;

std::chrono::system_clock::time_point at_ms(std::int64_t ms) {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

// A SQLite value read with a connection of the test's own, not through the store.
std::string pragma_of(const std::string& file, const std::string& pragma) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db, ("PRAGMA " + pragma).c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        value = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return value;
}

TEST(store, open_creates_the_directory_and_a_wal_file_of_the_latest_version) {
    temp_dir dir;
    auto st = store::open(dir / "data/nested");
    EXPECT_EQ(st->path(), dir / "data/nested/b2bua.db");
    EXPECT_TRUE(std::filesystem::is_regular_file(st->path()));
    EXPECT_EQ(st->schema_version(), store::latest_schema_version());
    EXPECT_GE(store::latest_schema_version(), 1);
    EXPECT_EQ(pragma_of(st->path(), "journal_mode"), "wal");
    EXPECT_FALSE(st->seeded().value());
}

TEST(store, put_get_list_remove) {
    temp_dir dir;
    auto st = store::open(dir.path().string());
    ASSERT_TRUE(st->commit(change_set{}
                               .put(kinds::trunk, "acme", R"({"name":"acme","uri":"sip:127.0.0.2"})")
                               .put(kinds::trunk, "backup", R"({"name":"backup"})")
                               .put(kinds::user, "pbxuser", R"({"username":"pbxuser"})")
                               .put(kinds::routes, whole_document, R"([{"prefix":"","trunks":["acme"]}])")));
    EXPECT_EQ(st->get(kinds::trunk, "acme").value(), R"({"name":"acme","uri":"sip:127.0.0.2"})");
    EXPECT_EQ(st->get(kinds::trunk, "nobody").value(), std::nullopt);
    EXPECT_EQ(st->get(kinds::user, "acme").value(), std::nullopt) << "kinds are apart";
    EXPECT_EQ(st->get(kinds::routes, whole_document).value(), R"([{"prefix":"","trunks":["acme"]}])");

    auto trunks = st->list(kinds::trunk).value();
    ASSERT_EQ(trunks.size(), 2u);
    EXPECT_EQ(trunks[0].key, "acme");
    EXPECT_EQ(trunks[1].key, "backup");
    EXPECT_EQ(trunks[1].json, R"({"name":"backup"})");

    // put replaces; remove deletes.
    ASSERT_TRUE(st->commit(change_set{}.put(kinds::trunk, "acme", R"({"name":"acme","max_calls":3})")));
    EXPECT_EQ(st->get(kinds::trunk, "acme").value(), R"({"name":"acme","max_calls":3})");
    ASSERT_TRUE(st->commit(change_set{}.remove(kinds::trunk, "backup")));
    EXPECT_EQ(st->list(kinds::trunk).value().size(), 1u);
    EXPECT_TRUE(st->list(kinds::inbound_routes).value().empty());
}

TEST(store, a_failing_operation_leaves_the_old_state) {
    temp_dir dir;
    auto st = store::open(dir.path().string());
    ASSERT_TRUE(st->commit(change_set{}.put(kinds::trunk, "acme", R"({"v":1})").put(kinds::trunk, "old", R"({"v":1})")));

    // The second operation fails (nothing to remove): the first and the audit entry are undone.
    change_set missing;
    missing.put(kinds::trunk, "acme", R"({"v":2})").remove(kinds::trunk, "nobody").put(kinds::trunk, "new", R"({"v":2})");
    missing.audit = audit_entry{at_ms(1000), "127.0.0.1:1", "DELETE /api/v1/trunks/nobody", "trunk nobody", 204};
    missing.mark_seeded = true;
    auto r = st->commit(missing);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), store_errc::not_found);
    EXPECT_NE(std::string(r.error().what()).find("remove trunk 'nobody'"), std::string::npos) << r.error().what();

    // A document that is not JSON fails the same way, at any position.
    for (std::size_t bad = 0; bad < 3; ++bad) {
        change_set c;
        for (std::size_t i = 0; i < 3; ++i)
            c.put(kinds::trunk, i == 1 ? "acme" : "t" + std::to_string(i), i == bad ? "{not json" : R"({"v":3})");
        auto rc = st->commit(c);
        ASSERT_FALSE(rc) << bad;
        EXPECT_EQ(rc.error().code(), store_errc::invalid_document) << rc.error().what();
    }

    EXPECT_EQ(st->get(kinds::trunk, "acme").value(), R"({"v":1})");
    auto trunks = st->list(kinds::trunk).value();
    ASSERT_EQ(trunks.size(), 2u);
    EXPECT_EQ(trunks[1].key, "old");
    EXPECT_TRUE(st->list_audit(at_ms(0), 10).value().empty());
    EXPECT_FALSE(st->seeded().value());

    // The store is still usable afterwards.
    ASSERT_TRUE(st->commit(change_set{}.put(kinds::trunk, "acme", R"({"v":4})")));
    EXPECT_EQ(st->get(kinds::trunk, "acme").value(), R"({"v":4})");
}

TEST(store, changes_audit_and_seeded_marker_survive_a_reopen) {
    temp_dir dir;
    {
        auto st = store::open(dir.path().string());
        change_set seed;
        seed.put(kinds::trunk, "acme", R"({"name":"acme"})").put(kinds::inbound_routes, whole_document, "[]");
        seed.mark_seeded = true;
        ASSERT_TRUE(st->commit(seed));
        change_set c;
        c.put(kinds::user, "pbxuser", R"({"username":"pbxuser"})");
        c.audit = audit_entry{at_ms(1796205600123), "127.0.0.1:53122", "POST /api/v1/users", "user pbxuser", 201};
        ASSERT_TRUE(st->commit(c));
    }
    auto st = store::open(dir.path().string());
    EXPECT_TRUE(st->seeded().value());
    EXPECT_EQ(st->get(kinds::trunk, "acme").value(), R"({"name":"acme"})");
    EXPECT_EQ(st->get(kinds::user, "pbxuser").value(), R"({"username":"pbxuser"})");
    EXPECT_EQ(st->get(kinds::inbound_routes, whole_document).value(), "[]");
    auto audit = st->list_audit(at_ms(0), 10).value();
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_EQ(audit[0].time, at_ms(1796205600123));
    EXPECT_EQ(audit[0].remote, "127.0.0.1:53122");
    EXPECT_EQ(audit[0].operation, "POST /api/v1/users");
    EXPECT_EQ(audit[0].object, "user pbxuser");
    EXPECT_EQ(audit[0].result, 201);
}

TEST(store, node_state_is_kept_across_a_reopen_apart_from_the_documents) {
    temp_dir dir;
    {
        auto st = store::open(dir.path().string());
        EXPECT_EQ(st->get_state("cluster_stream").value(), std::nullopt);
        ASSERT_TRUE(st->put_state("cluster_stream", "1764921600000-0"));
        ASSERT_TRUE(st->put_state("cluster_stream", "1764921600123-4"));  // replaced, not added
        ASSERT_TRUE(st->put_state("seeded_ms", "x"));  // a name of the store's own: kept apart
    }
    auto st = store::open(dir.path().string());
    EXPECT_EQ(st->get_state("cluster_stream").value(), std::optional<std::string>("1764921600123-4"));
    EXPECT_FALSE(st->seeded().value()) << "a state named like a marker is not the marker";
    EXPECT_TRUE(st->list(kinds::trunk).value().empty());
    EXPECT_TRUE(st->list_audit(at_ms(0), 10).value().empty()) << "never audited";
}

TEST(store, state_kept_with_a_change_is_written_with_it_or_not_at_all_and_listed_by_prefix) {
    temp_dir dir;
    auto st = store::open(dir.path().string());
    change_set c;
    c.put(kinds::trunk, "acme", R"({"name":"acme"})");
    c.states.emplace_back("outbox:b-2", "second");
    c.states.emplace_back("outbox:a-1", "first");
    ASSERT_TRUE(st->commit(c));
    ASSERT_TRUE(st->put_state("outbox_other", "not in the list"));
    ASSERT_TRUE(st->put_state("out%box:x", "a LIKE pattern would take it"));
    EXPECT_EQ(st->list_states("outbox:").value(),
              (std::vector<std::pair<std::string, std::string>>{{"outbox:a-1", "first"}, {"outbox:b-2", "second"}}));
    // A change that fails writes none of its states either.
    change_set bad;
    bad.remove(kinds::trunk, "nonesuch");
    bad.states.emplace_back("outbox:c-3", "never");
    EXPECT_FALSE(st->commit(bad));
    EXPECT_EQ(st->list_states("outbox:").value().size(), 2u);
    ASSERT_TRUE(st->remove_state("outbox:a-1"));
    ASSERT_TRUE(st->remove_state("outbox:a-1"));  // gone already: fine
    EXPECT_EQ(st->list_states("outbox:").value(),
              (std::vector<std::pair<std::string, std::string>>{{"outbox:b-2", "second"}}));
}

TEST(store, audit_is_listed_newest_first_from_since_up_to_limit) {
    temp_dir dir;
    auto st = store::open(dir.path().string());
    for (int i = 1; i <= 5; ++i) {
        change_set c;  // an audit entry alone: a refused request changes nothing
        c.audit = audit_entry{at_ms(i * 1000), "127.0.0.1:1", "PUT /api/v1/routes", "routes", i == 3 ? 400 : 200};
        ASSERT_TRUE(st->commit(c));
    }
    auto all = st->list_audit(at_ms(0), 100).value();
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all.front().time, at_ms(5000));
    EXPECT_EQ(all[2].result, 400);
    auto recent = st->list_audit(at_ms(2000), 2).value();
    ASSERT_EQ(recent.size(), 2u);
    EXPECT_EQ(recent[0].time, at_ms(5000));
    EXPECT_EQ(recent[1].time, at_ms(4000));
    EXPECT_EQ(st->list_audit(at_ms(2000), 100).value().size(), 4u);
}

cdr make_cdr(int n, std::int64_t end_ms) {
    cdr c;
    c.id = std::to_string(n);
    c.direction = n % 2 ? "outbound" : "inbound";
    if (n % 3) c.trunk = "acme";
    c.caller = "200";
    c.dialled = "+4930" + std::to_string(n);
    c.start = at_ms(end_ms - 20000);
    if (n % 2) {
        c.answer = at_ms(end_ms - 12500);
        c.duration = 12500ms;
        c.hangup_by = "callee";
        c.outbound_call_id = "b2b-" + std::to_string(n) + "@127.0.0.1";
    }
    c.end = at_ms(end_ms);
    c.result = n % 2 ? "answered" : "cancelled";
    c.status = n % 2 ? 200 : 487;
    c.inbound_call_id = "in-" + std::to_string(n) + "@pbx.local";
    return c;
}

TEST(store, cdrs_batch_list_and_prune) {
    temp_dir dir;
    auto st = store::open(dir.path().string());
    std::vector<cdr> batch;
    for (int n = 1; n <= 6; ++n) batch.push_back(make_cdr(n, 1'000'000 + n * 1000));
    ASSERT_TRUE(st->add_cdrs(batch));

    auto all = st->list_cdrs(at_ms(0), 100).value();
    ASSERT_EQ(all.size(), 6u);
    EXPECT_EQ(all[0], batch[5]) << "newest first, every field as written";
    EXPECT_EQ(all[5], batch[0]);
    EXPECT_FALSE(all[0].answer) << "call 6 was not answered";
    EXPECT_FALSE(all[0].outbound_call_id);
    EXPECT_FALSE(all[0].trunk) << "call 6 had no trunk";
    EXPECT_EQ(all[1].answer, batch[4].answer);

    auto two = st->list_cdrs(at_ms(1'003'000), 2).value();
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two[0].id, "6");
    EXPECT_EQ(two[1].id, "5");
    EXPECT_EQ(st->list_cdrs(at_ms(1'003'000), 100).value().size(), 4u);

    EXPECT_EQ(st->prune_cdrs(at_ms(1'003'000)).value(), 2u);
    auto left = st->list_cdrs(at_ms(0), 100).value();
    ASSERT_EQ(left.size(), 4u);
    EXPECT_EQ(left.back().id, "3");
    EXPECT_EQ(st->prune_cdrs(at_ms(1'003'000)).value(), 0u);

    ASSERT_TRUE(st->add_cdrs({}));
    st.reset();
    st = store::open(dir.path().string());
    EXPECT_EQ(st->list_cdrs(at_ms(0), 100).value().size(), 4u);
}

TEST(store, bindings_put_replace_remove_and_survive_a_reopen) {
    temp_dir dir;
    {
        auto st = store::open(dir.path().string());
        ASSERT_TRUE(st->put_binding("sip:pbxuser@pbx.local", "sip:pbxuser@127.0.0.1:5060", R"({"expires_ms":1})"));
        ASSERT_TRUE(st->put_binding("sip:pbxuser@pbx.local", "sip:pbxuser@127.0.0.1:5062", R"({"expires_ms":2})"));
        ASSERT_TRUE(st->put_binding("sip:other@pbx.local", "sip:other@127.0.0.1:5070", R"({"expires_ms":3})"));
        ASSERT_TRUE(st->put_binding("sip:pbxuser@pbx.local", "sip:pbxuser@127.0.0.1:5060", R"({"expires_ms":4})"));
        auto r = st->put_binding("sip:x@pbx.local", "sip:x@127.0.0.1", "not json");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), store_errc::invalid_document);
        auto missing = st->remove_binding("sip:other@pbx.local", "sip:other@127.0.0.9");
        ASSERT_FALSE(missing);
        EXPECT_EQ(missing.error().code(), store_errc::not_found);
        ASSERT_TRUE(st->remove_binding("sip:other@pbx.local", "sip:other@127.0.0.1:5070"));
    }
    auto st = store::open(dir.path().string());
    auto b = st->list_bindings().value();
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].aor, "sip:pbxuser@pbx.local");
    EXPECT_EQ(b[0].contact, "sip:pbxuser@127.0.0.1:5060");
    EXPECT_EQ(b[0].json, R"({"expires_ms":4})");
    EXPECT_EQ(b[1].contact, "sip:pbxuser@127.0.0.1:5062");
}

TEST(store, replacing_an_aors_bindings_leaves_exactly_the_new_set_and_other_aors_alone) {
    temp_dir dir;
    auto st = store::open(dir.path().string());
    ASSERT_TRUE(st->put_binding("sip:a@pbx.local", "sip:a@127.0.0.1:5060", "{}"));
    ASSERT_TRUE(st->put_binding("sip:a@pbx.local", "sip:a@127.0.0.1:5062", "{}"));
    ASSERT_TRUE(st->put_binding("sip:b@pbx.local", "sip:b@127.0.0.1:5070", "{}"));
    const std::vector<std::pair<std::string, std::string>> next{{"sip:a@127.0.0.1:5062", R"({"n":2})"},
                                                                {"sip:a@127.0.0.1:5064", R"({"n":3})"}};
    ASSERT_TRUE(st->replace_bindings("sip:a@pbx.local", next));
    auto b = st->list_bindings().value();
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0].contact, "sip:a@127.0.0.1:5062");
    EXPECT_EQ(b[0].json, R"({"n":2})");
    EXPECT_EQ(b[1].contact, "sip:a@127.0.0.1:5064");
    EXPECT_EQ(b[2].aor, "sip:b@pbx.local");

    // One bad record keeps the old set whole (one transaction); an empty set removes them all.
    const std::vector<std::pair<std::string, std::string>> bad{{"sip:a@127.0.0.1:5066", "{}"}, {"sip:a@x", "not json"}};
    auto r = st->replace_bindings("sip:a@pbx.local", bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), store_errc::invalid_document);
    EXPECT_EQ(st->list_bindings().value().size(), 3u);
    ASSERT_TRUE(st->replace_bindings("sip:a@pbx.local", {}));
    b = st->list_bindings().value();
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].aor, "sip:b@pbx.local");
}

TEST(store, a_data_dir_that_cannot_be_created_throws_naming_it) {
    temp_dir dir;
    std::ofstream(dir / "file") << "not a directory";
    try {
        store::open(dir / "file/data");
        FAIL() << "opened a store under a regular file";
    } catch (const store_error& e) {
        EXPECT_EQ(e.code(), store_errc::unavailable);
        EXPECT_NE(std::string(e.what()).find(dir / "file/data"), std::string::npos) << e.what();
    }
}

TEST(store, a_file_that_is_not_a_database_throws_naming_it) {
    temp_dir dir;
    std::ofstream(dir / "b2bua.db") << std::string(4096, 'x');
    try {
        store::open(dir.path().string());
        FAIL() << "opened garbage";
    } catch (const store_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(dir / "b2bua.db"), std::string::npos) << what;
        EXPECT_NE(what.find("not a database"), std::string::npos) << what;
        EXPECT_EQ(e.sqlite_code(), SQLITE_NOTADB);
    }
}

TEST(store, writable_probe_succeeds_on_a_healthy_store_and_value_throws_the_error) {
    temp_dir dir;
    auto st = store::open(dir.path().string());
    EXPECT_TRUE(st->writable());
    store_result<void> failed = store_error(store_errc::unavailable, SQLITE_FULL, "x: database or disk is full");
    EXPECT_THROW(failed.value(), store_error);
}

}  // namespace
}  // namespace b2b::admin
