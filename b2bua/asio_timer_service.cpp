// The production timer_service on one Asio steady_timer.
#include "b2bua/asio_timer_service.hpp"

namespace b2b::b2bua {

asio_timer_service::asio_timer_service(boost::asio::io_context& io) : timer_(io) {}

sip::timer_service::timer_id asio_timer_service::schedule(duration after, std::function<void()> fn) {
    const time_point due = clock::now() + after;
    const timer_id id = queue_.add(due, std::move(fn));
    if (!shut_down_ && due < armed_for_) arm();
    return id;
}

void asio_timer_service::arm() {
    auto next = queue_.next_due();
    if (!next) {
        armed_for_ = time_point::max();
        timer_.cancel();
        return;
    }
    armed_for_ = *next;
    timer_.expires_at(*next);
    timer_.async_wait([this](boost::system::error_code ec) { on_timer(ec); });
}

void asio_timer_service::on_timer(boost::system::error_code ec) {
    // operation_aborted: re-armed for an earlier deadline (a newer wait is pending) or shut down.
    if (ec == boost::asio::error::operation_aborted || shut_down_) return;
    armed_for_ = time_point::max();
    queue_.run_due(clock::now());
    if (armed_for_ == time_point::max()) arm();
}

void asio_timer_service::shutdown() {
    shut_down_ = true;
    armed_for_ = time_point::max();
    timer_.cancel();
    queue_ = sip::timer_queue{};
}

}  // namespace b2b::b2bua
