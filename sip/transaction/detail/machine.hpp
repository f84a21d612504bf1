// Events in and actions out: the vocabulary shared by the four sans-I/O transaction machines.
#pragma once

#include "sip/transaction/detail/timers.hpp"
#include "sip/transaction/transaction_manager.hpp"

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>

namespace b2b::sip::detail {

enum class event_kind : std::uint8_t {
    start,            ///< client: send the request now; server: the request arrived
    response,         ///< client: a response with `status` matched the transaction
    request,          ///< server: a retransmission of the request arrived
    ack,              ///< server INVITE: an ACK matched the transaction
    tu_response,      ///< server: the TU sends a response with `status`
    tu_ack,           ///< server INVITE: the TU matched the ACK for its 2xx
    cancel_sent,      ///< client INVITE: a CANCEL for it went out (§9.1)
    tu_gave_up,       ///< client INVITE: the TU stopped waiting before any provisional
    timer,            ///< `timer` fired
    transport_error,  ///< a send failed, or the connection closed
};

struct event {
    event_kind kind = event_kind::start;
    int status = 0;                ///< for `response` and `tu_response`
    timer_name timer = timer_name::a;  ///< for `timer`

    static constexpr event started() noexcept { return {event_kind::start}; }
    static constexpr event response_received(int s) noexcept { return {event_kind::response, s}; }
    static constexpr event request_received() noexcept { return {event_kind::request}; }
    static constexpr event ack_received() noexcept { return {event_kind::ack}; }
    static constexpr event tu_sends(int s) noexcept { return {event_kind::tu_response, s}; }
    static constexpr event tu_acked() noexcept { return {event_kind::tu_ack}; }
    static constexpr event cancelled() noexcept { return {event_kind::cancel_sent}; }
    static constexpr event gave_up() noexcept { return {event_kind::tu_gave_up}; }
    static constexpr event fired(timer_name t) noexcept { return {event_kind::timer, 0, t}; }
    static constexpr event transport_failed() noexcept { return {event_kind::transport_error}; }
};

enum class action_kind : std::uint8_t {
    send_request,    ///< client: (re)transmit the request
    send_ack,        ///< client INVITE: (re)transmit the ACK for the non-2xx final response
    send_response,   ///< server: (re)transmit the latest response from the TU
    start_timer,     ///< start `timer` to fire `after` from now (replacing a running one);
                     ///< a zero `after` fires right after the current actions
    stop_timer,      ///< stop `timer`
    pass_to_tu,      ///< client: the response; server: the new request, or an ACK in Accepted
    absorb,          ///< a retransmission from the peer was absorbed: not passed up (counted)
    report_failure,  ///< tell the TU the transaction failed with `failure`
    terminate,       ///< the transaction is over; every timer of it stops
};

struct action {
    action_kind kind = action_kind::terminate;
    timer_name timer = timer_name::a;
    bool retransmission = false;  ///< for sends: not the first transmission
    transaction_failure failure = transaction_failure::timeout;
    milliseconds after{0};

    friend bool operator==(const action&, const action&) = default;
};

constexpr action send(action_kind k, bool retransmission = false) noexcept {
    return {k, timer_name::a, retransmission};
}
constexpr action start(timer_name t, milliseconds after) noexcept {
    return {action_kind::start_timer, t, false, transaction_failure::timeout, after};
}
constexpr action stop(timer_name t) noexcept { return {action_kind::stop_timer, t}; }
constexpr action pass_to_tu() noexcept { return {action_kind::pass_to_tu}; }
constexpr action absorb() noexcept { return {action_kind::absorb}; }
constexpr action fail(transaction_failure why) noexcept {
    return {action_kind::report_failure, timer_name::a, false, why};
}
constexpr action terminate() noexcept { return {action_kind::terminate}; }

/// The actions one event produces, in the order to perform them. Fixed capacity: no machine
/// produces more than a handful, and this keeps the hot path free of allocations.
class action_list {
public:
    static constexpr std::size_t capacity = 8;

    void push(const action& a) noexcept {
        assert(size_ < capacity && "a machine produced more actions than action_list holds");
        if (size_ < capacity) {
            items_[size_++] = a;
        }
    }
    action_list& operator+=(const action& a) noexcept {
        push(a);
        return *this;
    }

    const action* begin() const noexcept { return items_.data(); }
    const action* end() const noexcept { return items_.data() + size_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    const action& operator[](std::size_t i) const noexcept { return items_[i]; }

private:
    std::array<action, capacity> items_{};
    std::size_t size_ = 0;
};

}  // namespace b2b::sip::detail
