// The store on a thread of its own, so that nothing served over HTTP waits for the disk.
#pragma once

#include "admin/store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <utility>

namespace b2b::admin::detail {

/// Owns the store and the one thread that uses it.
///
/// Every commit is synced (WAL, synchronous=FULL): it returns once fdatasync has, which on a
/// busy or slow disk takes seconds (3 s and 7 s measured under load here). On the HTTP thread
/// that wait held up /metrics, /readyz and every API read behind the CDR flush or a change.
/// Here jobs run one after another in the order posted, on the one SQLite connection (the store
/// is not thread-safe), and each result is handed back on the caller's executor.
///
/// @par Thread safety
/// `run` and `post` may be called from any thread. The destructor runs what is queued, then
/// ends the thread: call it from a thread other than this one.
class store_thread {
public:
    explicit store_thread(std::unique_ptr<store> st) : store_(std::move(st)) {}
    ~store_thread() { pool_.join(); }
    store_thread(const store_thread&) = delete;
    store_thread& operator=(const store_thread&) = delete;

    /// Runs `job(store&)` here, then `done(result)` on `back`. Until then `back` counts the job
    /// as outstanding work, so its loop does not run out of work and return while one waits.
    template <class Job, class Done>
    void run(Job job, const boost::asio::any_io_executor& back, Done done) {
        boost::asio::any_io_executor tracked =
            boost::asio::prefer(back, boost::asio::execution::outstanding_work.tracked);
        boost::asio::post(pool_, [st = store_.get(), job = std::move(job), tracked = std::move(tracked),
                                  done = std::move(done)]() mutable {
            auto result = job(*st);
            boost::asio::post(tracked, [done = std::move(done), result = std::move(result)]() mutable {
                done(std::move(result));
            });
        });
    }

    /// Runs `job(store&)` here; nothing comes back.
    template <class Job>
    void post(Job job) {
        boost::asio::post(pool_, [st = store_.get(), job = std::move(job)]() mutable { job(*st); });
    }

private:
    std::unique_ptr<store> store_;
    boost::asio::thread_pool pool_{1};
};

}  // namespace b2b::admin::detail
