// Per-source request rate limit (pike-style): a token bucket per address in a bounded table.
#pragma once

#include "security/detail/lru_table.hpp"

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace b2b::security {

/// A token bucket per source address: `per_second` requests a second on average, bursts of up
/// to `per_second` at once (a PBX opening a second's calls in one go). A source over it has its
/// requests refused until the bucket refills. Addresses are tracked in a table of
/// `max_sources` entries; the least recently seen goes to make room (counted in `evictions`:
/// a forgotten source starts again with a full bucket).
///
/// Sans-I/O: every call takes the time it happens at.
///
/// @par Thread safety
/// None.
class rate_limiter {
public:
    using clock = std::chrono::steady_clock;

    /// `per_second` 0 turns the limit off (`allow` is always true, nothing is tracked).
    rate_limiter(std::uint32_t per_second, std::size_t max_sources);

    /// Counts one request from `source` at `now`; false when it is over the rate.
    bool allow(const boost::asio::ip::address& source, clock::time_point now);

    std::uint32_t per_second() const noexcept { return per_second_; }
    std::size_t tracked() const noexcept { return buckets_.size(); }
    std::uint64_t evictions() const noexcept { return buckets_.evictions(); }

private:
    struct bucket {
        double tokens = 0;
        clock::time_point last{};
        bool fresh = true;
    };
    std::uint32_t per_second_;
    detail::lru_table<boost::asio::ip::address, bucket> buckets_;
};

}  // namespace b2b::security
