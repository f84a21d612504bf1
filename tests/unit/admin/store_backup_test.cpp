// store::backup and store::backup_to: a consistent copy while another connection writes.
#include "admin/store.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

namespace b2b::admin {
namespace {

using test::temp_dir;

std::string single_value(const std::string& file, const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        value = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return value;
}

// Opens a backup file as a store of its own: it must be a whole store.
std::unique_ptr<store> open_copy(const temp_dir& dir, const std::string& file, const std::string& name) {
    std::filesystem::create_directories(dir / name);
    std::filesystem::copy_file(file, dir / (name + "/b2bua.db"));
    return store::open(dir / name);
}

TEST(store_backup, copies_a_store_into_one_file_that_opens_as_a_store) {
    temp_dir dir;
    {
        auto st = store::open(dir / "data");
        change_set c;
        c.put(kinds::trunk, "acme", R"({"name":"acme"})").put(kinds::routes, whole_document, "[]");
        c.mark_seeded = true;
        ASSERT_TRUE(st->commit(c));
        ASSERT_TRUE(st->put_binding("sip:a@pbx.local", "sip:a@127.0.0.1", "{}"));
        // Left open: the changes are in the WAL, not yet in the main file.
        auto summary = store::backup(dir / "data", dir / "copy.db");
        ASSERT_TRUE(summary) << summary.error().what();
        EXPECT_EQ(summary->source, dir / "data/b2bua.db");
        EXPECT_EQ(summary->file, dir / "copy.db");
        EXPECT_EQ(summary->schema_version, store::latest_schema_version());
        EXPECT_GT(summary->pages, 0);
        EXPECT_EQ(summary->bytes, std::filesystem::file_size(dir / "copy.db"));
        EXPECT_FALSE(std::filesystem::exists(dir / "copy.db.partial"));
        EXPECT_FALSE(std::filesystem::exists(dir / "copy.db-wal"));
        EXPECT_EQ(single_value(dir / "copy.db", "PRAGMA journal_mode"), "delete") << "a backup is one file";
        EXPECT_EQ(single_value(dir / "copy.db", "PRAGMA integrity_check"), "ok");

        // The member does the same from an open store, and replaces an older copy whole.
        ASSERT_TRUE(st->commit(change_set{}.put(kinds::user, "pbxuser", "{}")));
        ASSERT_TRUE(st->backup_to(dir / "copy.db"));
    }
    auto copy = open_copy(dir, dir / "copy.db", "restored");
    EXPECT_EQ(copy->get(kinds::trunk, "acme").value(), R"({"name":"acme"})");
    EXPECT_EQ(copy->get(kinds::user, "pbxuser").value(), "{}");
    EXPECT_TRUE(copy->seeded().value());
    EXPECT_EQ(copy->list_bindings().value().size(), 1u);
}

TEST(store_backup, a_copy_taken_while_another_connection_writes_is_one_generation) {
    temp_dir dir;
    auto st = store::open(dir / "data");
    std::atomic<bool> stop{false};
    std::atomic<int> written{0};
    std::string writer_error;
    // The writer: its own store object (its own connection), as the running b2bua would be.
    std::thread writer([&] {
        try {
            auto w = store::open(dir / "data");
            for (int g = 1; !stop; ++g) {
                change_set c;
                for (int i = 0; i < 50; ++i)
                    c.put(kinds::trunk, "t" + std::to_string(i), "{\"generation\":" + std::to_string(g) + "}");
                if (auto r = w->commit(c); !r) {
                    writer_error = r.error().what();
                    return;
                }
                written = g;
            }
        } catch (const std::exception& e) {
            writer_error = e.what();
        }
    });
    while (written < 2 && writer_error.empty()) std::this_thread::yield();

    std::set<std::string> generations_seen;
    int previous = 0;
    for (int n = 0; n < 8 && writer_error.empty(); ++n) {
        const std::string file = dir / ("copy" + std::to_string(n) + ".db");
        auto summary = store::backup(dir / "data", file);
        ASSERT_TRUE(summary) << summary.error().what();
        ASSERT_EQ(single_value(file, "PRAGMA integrity_check"), "ok");
        ASSERT_EQ(single_value(file, "SELECT count(*) FROM documents"), "50") << file;
        const std::string distinct = single_value(file, "SELECT count(DISTINCT body) FROM documents");
        EXPECT_EQ(distinct, "1") << file << ": documents of several generations";
        const int g = std::stoi(single_value(file, "SELECT json_extract(body, '$.generation') FROM documents LIMIT 1"));
        EXPECT_GE(g, previous) << "copies go forward in time";
        previous = g;
        generations_seen.insert(std::to_string(g));
    }
    stop = true;
    writer.join();
    EXPECT_EQ(writer_error, "") << "the writer failed during the backups";
    EXPECT_GT(written.load(), 2);
    EXPECT_GE(generations_seen.size(), 2u) << "the copies all saw one state: the writer was not writing meanwhile";
    auto copy = open_copy(dir, dir / "copy7.db", "restored");
    EXPECT_EQ(copy->list(kinds::trunk).value().size(), 50u);
}

TEST(store_backup, errors_are_values_and_leave_no_file) {
    temp_dir dir;
    auto none = store::backup(dir / "empty", dir / "copy.db");
    ASSERT_FALSE(none);
    EXPECT_NE(std::string(none.error().what()).find(dir / "empty/b2bua.db"), std::string::npos) << none.error().what();
    EXPECT_FALSE(std::filesystem::exists(dir / "empty")) << "backup creates no store";
    EXPECT_FALSE(std::filesystem::exists(dir / "copy.db"));

    auto st = store::open(dir / "data");
    auto nowhere = st->backup_to(dir / "no/such/dir/copy.db");
    ASSERT_FALSE(nowhere);
    EXPECT_EQ(nowhere.error().code(), store_errc::unavailable);
    EXPECT_NE(std::string(nowhere.error().what()).find("no/such/dir/copy.db"), std::string::npos) << nowhere.error().what();

    auto itself = st->backup_to(dir / "data/../data/b2bua.db");
    ASSERT_FALSE(itself);
    EXPECT_NE(std::string(itself.error().what()).find("is the store itself"), std::string::npos) << itself.error().what();
    EXPECT_TRUE(st->writable()) << "the store is untouched";

    std::ofstream(dir / "other.db") << "some database of something else, long enough to be looked at" << std::string(200, '.');
    std::filesystem::create_directories(dir / "foreign");
    std::filesystem::copy_file(dir / "other.db", dir / "foreign/b2bua.db");
    auto foreign = store::backup(dir / "foreign", dir / "copy.db");
    ASSERT_FALSE(foreign);
    EXPECT_FALSE(std::filesystem::exists(dir / "copy.db"));
    EXPECT_FALSE(std::filesystem::exists(dir / "copy.db.partial"));
}

}  // namespace
}  // namespace b2b::admin
