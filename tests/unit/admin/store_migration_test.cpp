// Schema versions: a version-1 file opens in this build; a newer one is refused; the runner.
#include "admin/store.hpp"

#include "admin/detail/schema.hpp"
#include "admin/detail/sqlite.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace b2b::admin {
namespace {

using namespace std::chrono_literals;
using test::temp_dir;

struct db_handle {
    sqlite3* db = nullptr;
    explicit db_handle(const std::string& file) {
        EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    }
    ~db_handle() { sqlite3_close(db); }
    void exec(const std::string& sql) {
        char* err = nullptr;
        ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    }
    // Rows of `sql` as text, columns joined by '|'.
    std::vector<std::string> rows(const std::string& sql) {
        std::vector<std::string> out;
        sqlite3_stmt* s = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
        while (s && sqlite3_step(s) == SQLITE_ROW) {
            std::string row;
            for (int i = 0; i < sqlite3_column_count(s); ++i) {
                const auto* t = sqlite3_column_text(s, i);
                row += (i ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
            }
            out.push_back(row);
        }
        sqlite3_finalize(s);
        return out;
    }
};

// A file as version 1 wrote it: tests/unit/admin/store_v1.sql loaded into `file`.
void write_v1_file(const std::string& file) {
    std::ifstream in(B2B_SOURCE_DIR "/tests/unit/admin/store_v1.sql");
    ASSERT_TRUE(in) << "fixture missing";
    std::stringstream sql;
    sql << in.rdbuf();
    db_handle h(file);
    h.exec(sql.str());
}

// Tables, their columns (name, type, not null, default, key position) and indexes: what a
// migrated file and a new one must agree on.
std::map<std::string, std::vector<std::string>> schema_of(const std::string& file) {
    db_handle h(file);
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& table : h.rows("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")) {
        out[table] = h.rows("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('" + table + "')");
        for (const auto& index : h.rows("SELECT name, \"unique\" FROM pragma_index_list('" + table + "') ORDER BY name"))
            out[table].push_back("index " + index);
    }
    return out;
}

TEST(store_migration, migrates_from_the_first_versions_file_and_keeps_its_rows) {
    temp_dir dir;
    write_v1_file(dir / "b2bua.db");
    auto st = store::open(dir.path().string());
    EXPECT_EQ(st->schema_version(), store::latest_schema_version());
    EXPECT_TRUE(st->seeded().value());

    auto trunks = st->list(kinds::trunk).value();
    ASSERT_EQ(trunks.size(), 2u);
    EXPECT_EQ(trunks[0].key, "acme");
    EXPECT_NE(trunks[0].json.find(R"("max_calls":10)"), std::string::npos);
    EXPECT_EQ(st->get(kinds::user, "pbxuser").value(), R"({"username":"pbxuser","password":"pbxpass"})");
    EXPECT_EQ(st->get(kinds::routes, whole_document).value(), R"([{"prefix":"","trunks":["acme","backup"]}])");
    EXPECT_TRUE(st->get(kinds::inbound_routes, whole_document).value());

    auto audit = st->list_audit({}, 10).value();
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_EQ(audit[0].object, "trunk backup");
    EXPECT_EQ(audit[0].time, std::chrono::system_clock::time_point(1796205660123ms));

    auto cdrs = st->list_cdrs({}, 10).value();
    ASSERT_EQ(cdrs.size(), 2u);
    EXPECT_EQ(cdrs[0].id, "18");
    EXPECT_FALSE(cdrs[0].answer);
    EXPECT_FALSE(cdrs[0].outbound_call_id);
    EXPECT_EQ(cdrs[1].id, "17");
    EXPECT_EQ(cdrs[1].duration, 12500ms);
    EXPECT_EQ(cdrs[1].answer, std::chrono::system_clock::time_point(1796205702500ms));
    EXPECT_EQ(cdrs[1].outbound_call_id, "b2b-5f3a1c@127.0.0.1");

    auto bindings = st->list_bindings().value();
    ASSERT_EQ(bindings.size(), 1u);
    EXPECT_EQ(bindings[0].contact, "sip:pbxuser@127.0.0.1:5060");

    // The file takes new writes after the migration.
    EXPECT_TRUE(st->commit(change_set{}.remove(kinds::trunk, "backup")));
}

TEST(store_migration, a_migrated_first_version_file_has_the_schema_of_a_new_one) {
    temp_dir dir;
    std::filesystem::create_directories(dir / "old");
    write_v1_file(dir / "old/b2bua.db");
    store::open(dir / "old");
    store::open(dir / "new");
    const auto old_schema = schema_of(dir / "old/b2bua.db");
    const auto new_schema = schema_of(dir / "new/b2bua.db");
    EXPECT_EQ(old_schema, new_schema);
    EXPECT_EQ(new_schema.count("documents"), 1u);
}

TEST(store_migration, a_newer_schema_is_refused_with_a_clear_error_and_left_alone) {
    temp_dir dir;
    store::open(dir.path().string());
    const int newer = store::latest_schema_version() + 1;
    {
        db_handle h(dir / "b2bua.db");
        h.exec("UPDATE schema_version SET version = " + std::to_string(newer));
    }
    try {
        store::open(dir.path().string());
        FAIL() << "opened a newer file";
    } catch (const store_error& e) {
        const std::string what = e.what();
        EXPECT_EQ(e.code(), store_errc::schema_too_new);
        EXPECT_NE(what.find(dir / "b2bua.db"), std::string::npos) << what;
        EXPECT_NE(what.find("schema version " + std::to_string(newer) + " is newer than this b2bua knows (" +
                            std::to_string(store::latest_schema_version()) + ")"),
                  std::string::npos)
            << what;
    }
    db_handle h(dir / "b2bua.db");
    EXPECT_EQ(h.rows("SELECT version FROM schema_version"), std::vector<std::string>{std::to_string(newer)});
}

TEST(store_migration, a_database_of_something_else_is_not_taken_for_a_store) {
    temp_dir dir;
    {
        db_handle h(dir / "b2bua.db");
        h.exec("CREATE TABLE subscriber (id INTEGER PRIMARY KEY); INSERT INTO subscriber DEFAULT VALUES;");
    }
    try {
        store::open(dir.path().string());
        FAIL() << "opened a foreign database";
    } catch (const store_error& e) {
        EXPECT_NE(std::string(e.what()).find("not a b2bua store"), std::string::npos) << e.what();
    }
    db_handle h(dir / "b2bua.db");
    EXPECT_EQ(h.rows("SELECT name FROM sqlite_schema WHERE type = 'table'"), std::vector<std::string>{"subscriber"});
}

// The runner with steps of the test's own: each step is one transaction, a failing step leaves
// the file at the version before it with none of its statements applied.
TEST(store_migration, each_step_is_one_transaction) {
    temp_dir dir;
    write_v1_file(dir / "b2bua.db");
    db_handle h(dir / "b2bua.db");
    const auto real = detail::migrations();
    std::vector<detail::migration> steps(real.begin(), real.end());
    const int base = steps.back().version;
    const std::string add_column = "ALTER TABLE cdrs ADD COLUMN codec TEXT; UPDATE cdrs SET codec = 'PCMU';";
    steps.push_back({base + 1, add_column.c_str()});
    auto r = detail::migrate(h.db, steps, "test.db");
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(*r, base + 1);
    EXPECT_EQ(h.rows("SELECT id, codec FROM cdrs ORDER BY id"), (std::vector<std::string>{"17|PCMU", "18|PCMU"}));

    // Applied steps are not run again.
    EXPECT_EQ(detail::migrate(h.db, steps, "test.db").value(), base + 1);

    const std::string failing = "CREATE TABLE half_done (x); CREATE TABLE audit (x);";
    steps.push_back({base + 2, failing.c_str()});
    auto failed = detail::migrate(h.db, steps, "test.db");
    ASSERT_FALSE(failed);
    EXPECT_NE(std::string(failed.error().what()).find("migrating to schema version " + std::to_string(base + 2)),
              std::string::npos)
        << failed.error().what();
    EXPECT_EQ(h.rows("SELECT version FROM schema_version"), std::vector<std::string>{std::to_string(base + 1)});
    EXPECT_TRUE(h.rows("SELECT name FROM sqlite_schema WHERE name = 'half_done'").empty());
    EXPECT_EQ(h.rows("SELECT count(*) FROM cdrs"), std::vector<std::string>{"2"});
}

}  // namespace
}  // namespace b2b::admin
