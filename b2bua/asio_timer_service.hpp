// The production timer_service: a timer_queue driven by one Asio steady_timer.
#pragma once

#include "sip/transaction/timer_queue.hpp"
#include "sip/transaction/timer_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace b2b::b2bua {

/// All timers of one event loop share a single Asio timer armed for the earliest deadline,
/// so scheduling and cancelling cost a heap operation, not a kernel timer each.
///
/// @par Thread safety
/// None: use on the io_context's thread. Callbacks run there.
class asio_timer_service final : public sip::timer_service {
public:
    explicit asio_timer_service(boost::asio::io_context& io);

    time_point now() const noexcept override { return clock::now(); }
    timer_id schedule(duration after, std::function<void()> fn) override;
    void cancel(timer_id id) noexcept override { queue_.cancel(id); }

    /// Drops every pending timer and stops the Asio timer, so io_context::run() can return.
    void shutdown();

    std::size_t pending() const noexcept { return queue_.size(); }

private:
    void arm();
    void on_timer(boost::system::error_code ec);

    boost::asio::steady_timer timer_;
    sip::timer_queue queue_;
    time_point armed_for_ = time_point::max();
    bool shut_down_ = false;
};

}  // namespace b2b::b2bua
