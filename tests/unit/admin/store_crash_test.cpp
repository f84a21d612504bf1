// The store under a killed process, a full disk and a lock held by another writer.
#include "admin/store.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace b2b::admin {
namespace {

using test::temp_dir;

constexpr int docs_per_generation = 20;

// All documents of one generation, in one change set.
change_set generation(int g) {
    change_set c;
    for (int i = 0; i < docs_per_generation; ++i)
        c.put(kinds::trunk, "t" + std::to_string(i), R"({"generation":)" + std::to_string(g) + R"(,"pad":")" +
                                                          std::string(200, 'x') + "\"}");
    return c;
}

int generation_of(const std::string& json) {
    return std::stoi(json.substr(json.find(':') + 1));
}

// Reads one byte per message from the child; false at end of file.
bool read_byte(int fd) {
    char b = 0;
    return ::read(fd, &b, 1) == 1;
}

void tell(int fd) {
    const char b = 'c';
    if (::write(fd, &b, 1) != 1) ::_exit(3);
}

TEST(store_crash, sigkill_right_after_commit_returns_keeps_the_change) {
    temp_dir dir;
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(pipefd[0]);
        try {
            auto st = store::open(dir.path().string());
            change_set c = generation(7);
            c.audit = audit_entry{std::chrono::system_clock::now(), "127.0.0.1:1", "PUT /api/v1/routes", "routes", 200};
            if (!st->commit(c)) ::_exit(2);
            tell(pipefd[1]);  // commit returned: the API would answer 2xx now
            ::pause();        // killed here, the connection still open
        } catch (...) {
        }
        ::_exit(1);
    }
    ::close(pipefd[1]);
    ASSERT_TRUE(read_byte(pipefd[0])) << "the child did not commit";
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ::close(pipefd[0]);

    auto st = store::open(dir.path().string());
    auto docs = st->list(kinds::trunk).value();
    ASSERT_EQ(docs.size(), static_cast<std::size_t>(docs_per_generation));
    for (const auto& d : docs) EXPECT_EQ(generation_of(d.json), 7) << d.key;
    EXPECT_EQ(st->list_audit({}, 10).value().size(), 1u);
}

// A writer killed at an arbitrary point, in the middle of a commit or between two: every
// document is of one generation, and that is at least the last one whose commit returned.
TEST(store_crash, sigkill_during_commits_leaves_the_old_state_or_the_new_one) {
    for (int round = 0; round < 6; ++round) {
        temp_dir dir;
        int pipefd[2];
        ASSERT_EQ(::pipe(pipefd), 0);
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            ::close(pipefd[0]);
            try {
                auto st = store::open(dir.path().string());
                for (int g = 1;; ++g) {
                    if (!st->commit(generation(g))) ::_exit(2);
                    tell(pipefd[1]);
                }
            } catch (...) {
            }
            ::_exit(1);
        }
        ::close(pipefd[1]);
        // Let a few commits through, then kill without waiting for a boundary: with the round
        // the moment moves across the commit.
        int committed = 0;
        while (committed < 3 + round && read_byte(pipefd[0])) ++committed;
        ::usleep(static_cast<useconds_t>(round * 150));
        ::kill(child, SIGKILL);
        while (read_byte(pipefd[0])) ++committed;  // any acknowledgements already written
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round << ": the writer stopped by itself";
        ::close(pipefd[0]);

        auto st = store::open(dir.path().string());
        auto docs = st->list(kinds::trunk).value();
        ASSERT_EQ(docs.size(), static_cast<std::size_t>(docs_per_generation)) << "round " << round;
        const int g = generation_of(docs.front().json);
        for (const auto& d : docs) EXPECT_EQ(generation_of(d.json), g) << "round " << round << ", " << d.key;
        EXPECT_GE(g, committed) << "round " << round << ": a commit that returned was lost";
        EXPECT_LE(g, committed + 1) << "round " << round;
    }
}

// The file cannot grow (RLIMIT_FSIZE: writes past the limit fail with EFBIG, as on a full
// disk): commit and the writable probe return the error, reads go on, and once the file may
// grow again writes succeed. In a child, since the limit is per process.
TEST(store_crash, a_file_that_cannot_grow_is_an_error_value_and_the_old_state_stays) {
    temp_dir dir;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        int code = 0;
        try {
            auto st = store::open(dir.path().string());
            if (!st->commit(change_set{}.put(kinds::trunk, "acme", R"({"v":1})"))) ::_exit(10);
            struct stat wal {};
            if (::stat((st->path() + "-wal").c_str(), &wal) != 0) ::_exit(11);
            ::signal(SIGXFSZ, SIG_IGN);  // else the kernel kills us instead of failing the write
            struct rlimit old_limit {};
            ::getrlimit(RLIMIT_FSIZE, &old_limit);
            struct rlimit limit = old_limit;
            limit.rlim_cur = static_cast<rlim_t>(wal.st_size);
            if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(12);

            auto r = st->commit(change_set{}.put(kinds::trunk, "acme", R"({"v":2,"pad":")" + std::string(100000, 'x') + "\"}"));
            if (r) code = 20;
            else if (r.error().code() != store_errc::unavailable || std::string(r.error().what()).find(st->path()) != 0) {
                std::fprintf(stderr, "commit error: %s\n", r.error().what());
                code = 21;
            }
            if (!code && st->writable()) code = 22;
            if (!code && st->get(kinds::trunk, "acme").value() != R"({"v":1})") code = 23;

            ::setrlimit(RLIMIT_FSIZE, &old_limit);
            if (!code && !st->writable()) code = 24;
            if (!code && !st->commit(change_set{}.put(kinds::trunk, "acme", R"({"v":3})"))) code = 25;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child: %s\n", e.what());
            code = 30;
        }
        ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "the child crashed";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "20: commit succeeded; 21: wrong error; 22: probe succeeded; 23: old state "
                                         "lost; 24, 25: no recovery; 30: exception";
    auto st = store::open(dir.path().string());
    EXPECT_EQ(st->get(kinds::trunk, "acme").value(), R"({"v":3})");
}

TEST(store_crash, a_writer_holding_the_lock_past_the_busy_timeout_is_an_error_value) {
    temp_dir dir;
    auto st = store::open(dir.path().string());
    ASSERT_TRUE(st->commit(change_set{}.put(kinds::trunk, "acme", R"({"v":1})")));
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(st->path().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

    auto r = st->commit(change_set{}.put(kinds::trunk, "acme", R"({"v":2})"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), store_errc::unavailable);
    EXPECT_EQ(r.error().sqlite_code() & 0xff, SQLITE_BUSY);
    EXPECT_FALSE(st->writable());
    EXPECT_EQ(st->get(kinds::trunk, "acme").value(), R"({"v":1})") << "readers do not wait for the writer";

    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    EXPECT_TRUE(st->commit(change_set{}.put(kinds::trunk, "acme", R"({"v":2})")));
}

}  // namespace
}  // namespace b2b::admin
