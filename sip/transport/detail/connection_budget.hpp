// How many stream connections may be open: inbound and outbound apart, and per source address.
#pragma once

#include "sip/transport/connection_events.hpp"

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <optional>
#include <unordered_map>

namespace b2b::sip::detail {

/// The connection accounting of a stream transport, sans-I/O. Inbound connections (accepted from
/// peers) and outbound ones (opened by us towards trunks and PBX contacts) have budgets of their
/// own, so a flood of idle inbound sockets cannot stop us from reaching a provider; inbound ones
/// are also limited per source address, so one peer cannot take the whole inbound budget.
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

    std::size_t inbound() const noexcept { return inbound_; }
    std::size_t outbound() const noexcept { return outbound_; }
    std::size_t inbound_from(const boost::asio::ip::address& source) const;
    const limits& get_limits() const noexcept { return limits_; }

private:
    limits limits_;
    std::size_t inbound_ = 0;
    std::size_t outbound_ = 0;
    // Only sources with at least one connection are present.
    std::unordered_map<boost::asio::ip::address, std::size_t> per_source_;
};

}  // namespace b2b::sip::detail
