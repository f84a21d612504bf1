// The answer an async route owes: handed from any thread to the session's executor, once.
#pragma once

#include "http/http_server.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <utility>

namespace b2b::http::detail {

/// The way from any thread onto the server's executor, closed when the server is destroyed:
/// after that its execution context may be gone too, so nothing may be posted to it.
class answer_gate {
public:
    explicit answer_gate(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}

    /// Posts `f` to the server's executor unless closed; returns whether it did.
    template <class F>
    bool post(F&& f) {
        const std::lock_guard lock(mutex_);
        if (!open_) return false;
        boost::asio::post(ex_, std::forward<F>(f));
        return true;
    }

    /// Called by the server's destructor; waits for a post in progress on another thread.
    void close() {
        const std::lock_guard lock(mutex_);
        open_ = false;
    }

private:
    std::mutex mutex_;
    bool open_ = true;
    boost::asio::any_io_executor ex_;
};

/// Shared by the copies of one `responder`. The first answer, or the 500 sent when the last
/// copy goes away unanswered, is posted through the gate to `deliver`, which runs on the
/// server's executor and finds the session, if it is still there.
class pending_answer {
public:
    /// `abandoned` is true for the 500 that replaces an answer never given.
    using deliver_fn = std::function<void(response r, bool abandoned)>;

    pending_answer(std::shared_ptr<answer_gate> gate, deliver_fn deliver)
        : gate_(std::move(gate)), deliver_(std::move(deliver)) {}
    ~pending_answer();
    pending_answer(const pending_answer&) = delete;
    pending_answer& operator=(const pending_answer&) = delete;

    void answer(response r) {
        if (answered_.exchange(true)) return;
        post(std::move(r), false);
    }

private:
    void post(response r, bool abandoned);

    std::shared_ptr<answer_gate> gate_;
    deliver_fn deliver_;  ///< moved out by the one caller that wins `answered_`
    std::atomic<bool> answered_{false};
};

}  // namespace b2b::http::detail
