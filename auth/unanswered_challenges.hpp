// Counts challenges a source leaves unanswered, to spot PBXs that cannot answer our offer.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "auth/detail/address_key.hpp"

namespace b2b::auth {

/// Settings of unanswered_challenges.
struct unanswered_options {
    /// Sources tracked at once; the table never grows beyond this (rounded up to a multiple of 8).
    std::size_t capacity = 4096;
    /// Unanswered challenges within `window` that make one report.
    unsigned threshold = 3;
    /// How long a source's count runs before it starts again.
    std::chrono::seconds window{300};
    /// A challenge sent sooner than this after the last one counted is not counted: the PBX
    /// may still be answering that one, and a busy PBX has several calls in flight at once.
    /// 32 s is 64*T1, the longest a client transaction waits (RFC 3261 §17.1.1.2, Timer B).
    std::chrono::seconds answer_time{32};
};

/// A PBX that cannot do the algorithm we offer (baresip 1.0.0 and SIPp 3.6.1 with SHA-256)
/// gives up silently: it sends no credentials, only the next call's INVITE. This table counts,
/// per source address, challenges sent and not followed by credentials for our nonces (at most
/// one per `answer_time`, so concurrent calls of a working PBX do not add up), and says once
/// when a source reaches `threshold` within `window`; it says nothing again for that source
/// until its window restarts.
///
/// Sans-I/O: time is passed in. Memory is fixed at construction: sources map to sets of 8
/// entries by a hash keyed with a random seed, and a new source takes the free entry of its set
/// or the one whose window started first. A spoofed one-off source occupies one entry and never
/// reports, since it needs `threshold` challenges; a flood of them can evict a real PBX's count,
/// which only delays its report.
///
/// @par Thread safety
/// None: the event loop's thread.
class unanswered_challenges {
  public:
    /// Throws std::invalid_argument if capacity, threshold or window is zero, or answer_time
    /// is negative.
    explicit unanswered_challenges(unanswered_options options = {});

    /// A challenge went to `source` at `now`. True when this challenge brings the source to the
    /// threshold within its window: report it (once).
    bool on_challenge(const boost::asio::ip::address& source,
                      std::chrono::system_clock::time_point now);

    /// A request from `source` carried credentials for one of our nonces: it does answer, so its
    /// count starts over.
    void on_answer(const boost::asio::ip::address& source) noexcept;

    /// Unanswered challenges counted for `source` in its current window (0 if not tracked).
    unsigned count(const boost::asio::ip::address& source) const noexcept;

    /// Sources tracked now; never above capacity().
    std::size_t size() const noexcept;
    std::size_t capacity() const noexcept { return entries_.size(); }

  private:
    static constexpr std::size_t ways = 8;

    struct entry {
        detail::address_key source;
        std::chrono::system_clock::time_point window_start;
        std::chrono::system_clock::time_point last_counted;
        unsigned count = 0;
        bool used = false;
        bool reported = false;
    };

    std::size_t set_of(const detail::address_key& k) const noexcept;
    entry* find(const detail::address_key& k) noexcept;
    const entry* find(const detail::address_key& k) const noexcept;

    std::vector<entry> entries_;
    std::uint64_t seed_ = 0;
    unsigned threshold_;
    std::chrono::seconds window_;
    std::chrono::seconds answer_time_;
};

}  // namespace b2b::auth
