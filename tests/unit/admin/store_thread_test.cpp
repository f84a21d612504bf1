// The store's own thread (admin/detail/store_thread.hpp).
#include "admin/detail/store_thread.hpp"

#include "temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace b2b::admin {
namespace {

using test::temp_dir;

TEST(store_thread, jobs_run_in_order_on_one_other_thread_and_answer_on_the_callers_loop) {
    temp_dir dir;
    boost::asio::io_context back;
    detail::store_thread st(store::open(dir / "data"));
    std::vector<std::thread::id> ran_on;  // written by the store's thread only
    std::vector<int> answers;             // written on `back` only
    std::vector<std::thread::id> answered_on;
    for (int i = 0; i < 50; ++i) {
        st.run(
            [i, &ran_on](store& s) {
                ran_on.push_back(std::this_thread::get_id());
                return s.commit(change_set().put(kinds::trunk, "t" + std::to_string(i), "{}")) ? i : -1;
            },
            back.get_executor(),
            [&](int answer) {
                answers.push_back(answer);
                answered_on.push_back(std::this_thread::get_id());
            });
    }
    back.run();  // returns once every answer is in: each job counts as work of `back` until then
    ASSERT_EQ(answers.size(), 50u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(answers[static_cast<std::size_t>(i)], i);
    for (const auto& id : answered_on) EXPECT_EQ(id, std::this_thread::get_id());
    ASSERT_EQ(ran_on.size(), 50u);
    for (const auto& id : ran_on) {
        EXPECT_EQ(id, ran_on.front());
        EXPECT_NE(id, std::this_thread::get_id());
    }
}

TEST(store_thread, the_callers_loop_waits_for_a_job_held_up_on_the_disk) {
    temp_dir dir;
    boost::asio::io_context back;
    detail::store_thread st(store::open(dir / "data"));
    std::promise<void> disk;
    auto synced = disk.get_future().share();
    bool answered = false;
    st.run(
        [synced](store& s) {
            synced.wait();  // a commit waiting for fdatasync
            return s.writable().has_value() ? 1 : 0;
        },
        back.get_executor(), [&](int ok) { answered = ok == 1; });
    std::thread disk_done([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        disk.set_value();
    });
    back.run();
    disk_done.join();
    EXPECT_TRUE(answered) << "the loop ran out of work before the store's answer came back";
}

TEST(store_thread, going_away_runs_what_is_queued) {
    temp_dir dir;
    std::atomic<int> ran{0};
    {
        detail::store_thread st(store::open(dir / "data"));
        std::promise<void> hold;
        auto held = hold.get_future().share();
        st.post([held](store&) { held.wait(); });
        for (int i = 0; i < 20; ++i) {
            st.post([i, &ran](store& s) {
                if (s.commit(change_set().put(kinds::user, "u" + std::to_string(i), "{}"))) ++ran;
            });
        }
        hold.set_value();
    }
    EXPECT_EQ(ran.load(), 20);
    EXPECT_EQ(store::open(dir / "data")->list(kinds::user).value().size(), 20u);
}

}  // namespace
}  // namespace b2b::admin
