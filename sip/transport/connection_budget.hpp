// How many stream connections may be open: inbound and outbound apart, and per source address.
#pragma once

#include "sip/transport/connection_events.hpp"

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace b2b::sip {

/// The connection accounting of the stream transports, sans-I/O. Inbound connections (accepted
/// from peers) and outbound ones (opened by us towards trunks and PBX contacts) have budgets of
/// their own, so a flood of idle inbound sockets cannot stop us from reaching a provider; inbound
/// ones are also limited per source address, so one peer cannot take the whole inbound budget.
///
/// @par Thread safety
/// Safe: the transports of several event loops (sip.workers) share one budget, so the limits
/// hold for the process. Its lock is taken once per connection opened or closed, never per
/// message.
class connection_budget {
public:
    struct limits {
        std::size_t inbound = 4096;
        std::size_t inbound_per_source = 64;  ///< 0 = no per-source limit
        std::size_t outbound = 1024;
    };

    explicit connection_budget(limits l) : limits_(l) {}

    /// A connection accepted from `source`: counted when it may stay, else why not.
    std::optional<connection_refusal> admit_inbound(const boost::asio::ip::address& source);
    /// A connection we are about to open: counted when allowed, else why not.
    std::optional<connection_refusal> admit_outbound();
    /// A counted connection closed.
    void release_inbound(const boost::asio::ip::address& source);
    void release_outbound();

    std::size_t inbound() const;
    std::size_t outbound() const;
    std::size_t inbound_from(const boost::asio::ip::address& source) const;
    const limits& get_limits() const noexcept { return limits_; }

private:
    const limits limits_;
    mutable std::mutex mutex_;
    std::size_t inbound_ = 0;
    std::size_t outbound_ = 0;
    // Only sources with at least one connection are present.
    std::unordered_map<boost::asio::ip::address, std::size_t> per_source_;
};

}  // namespace b2b::sip
