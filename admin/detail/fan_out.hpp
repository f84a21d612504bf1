// The admin API's reach into every SIP event loop (sip.workers): one question to each, the answers
// gathered on the HTTP thread.
#pragma once

#include "admin/admin_api.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace b2b::admin::detail {

/// Runs `ask(core)` on every worker's loop, then `done(answers)` (by worker) on `http_ex` once the
/// last has answered. `T` is what `ask` returns.
template <class T, class Ask, class Done>
void on_every_worker(const std::vector<sip_worker_view>& workers, const boost::asio::any_io_executor& http_ex, Ask ask,
                     Done done) {
    // Each worker writes its own element: std::vector<bool> would pack them into shared words.
    static_assert(!std::is_same_v<T, bool>, "answer with int, not bool");
    struct gathering {
        gathering(std::size_t n, Done d) : answers(n), left(n), done(std::move(d)) {}
        std::vector<T> answers;
        std::atomic<std::size_t> left;
        Done done;
    };
    auto g = std::make_shared<gathering>(workers.size(), std::move(done));
    for (std::size_t i = 0; i < workers.size(); ++i) {
        boost::asio::post(workers[i].executor, [g, i, ask, core = workers[i].core, http_ex]() mutable {
            g->answers[i] = ask(*core);
            // The last to answer hands them over; its decrement orders every answer before it.
            if (g->left.fetch_sub(1) == 1) {
                boost::asio::post(http_ex, [g]() mutable { g->done(std::move(g->answers)); });
            }
        });
    }
}

}  // namespace b2b::admin::detail
