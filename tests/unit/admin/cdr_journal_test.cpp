// The CDR journal (admin/detail/cdr_journal.hpp): what the store's thread flushes once a second.
#include "admin/detail/cdr_journal.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>

namespace b2b::admin {
namespace {

using test::temp_dir;

cdr record(std::string id) {
    cdr c;
    c.id = std::move(id);
    c.direction = "outbound";
    c.caller = "alice";
    c.dialled = "+4930123";
    c.start = std::chrono::system_clock::now() - std::chrono::seconds(5);
    c.end = std::chrono::system_clock::now();
    c.result = "answered";
    c.status = 200;
    c.inbound_call_id = "in-" + c.id;
    return c;
}

std::size_t lines_of(const std::string& file) {
    std::ifstream in(file);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
}

TEST(cdr_journal, a_flush_writes_each_record_to_the_file_once_and_all_to_the_store) {
    temp_dir dir;
    auto st = store::open(dir / "data");
    const std::string file = dir / "cdrs.jsonl";
    detail::cdr_journal journal(file, std::chrono::hours(24));
    const auto now = std::chrono::system_clock::now();
    EXPECT_TRUE(journal.flush(*st, now));  // nothing yet: no line, no row
    EXPECT_EQ(lines_of(file), 0u);
    for (const char* id : {"1", "2", "3"}) journal.add(record(id));
    ASSERT_TRUE(journal.flush(*st, now));
    EXPECT_EQ(lines_of(file), 3u);
    EXPECT_EQ(st->list_cdrs({}, 100).value().size(), 3u);
    journal.add(record("4"));
    ASSERT_TRUE(journal.flush(*st, now));
    ASSERT_TRUE(journal.flush(*st, now));
    EXPECT_EQ(lines_of(file), 4u);
    const auto stored = st->list_cdrs({}, 100).value();
    ASSERT_EQ(stored.size(), 4u);
    EXPECT_EQ(detail::cdr_json(stored.back()).at("inbound_call_id").as_string(),
              detail::cdr_json(record(stored.back().id)).at("inbound_call_id").as_string());
}

TEST(cdr_journal, a_file_that_cannot_be_opened_is_named) {
    temp_dir dir;
    try {
        detail::cdr_journal journal(dir / "missing/dir/cdrs.jsonl", std::chrono::hours(1));
        FAIL() << "opened a file in a directory that does not exist";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cdrs.file"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace b2b::admin
