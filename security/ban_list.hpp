// Brute-force detection and the list of banned source addresses, with growing bans.
#pragma once

#include "security/detail/lru_table.hpp"

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::security {

/// When failures ban a source, and for how long.
struct ban_policy {
    /// This many failed digest answers from one source, or for one username, within `window`...
    std::size_t failures = 5;
    std::chrono::seconds window{60};
    /// ...ban the source for `first`, doubling with each ban that follows within `max` of the
    /// last one's end, up to `max`.
    std::chrono::seconds first{300};
    std::chrono::seconds max{86400};
    /// Sources tracked (failure counts and bans), and usernames tracked, each; beyond it the
    /// least recently seen entry goes (counted).
    std::size_t max_entries = 100000;
};

enum class ban_origin : std::uint8_t {
    failures,  ///< failed digest answers
    manual,    ///< added by an operator
};
std::string_view to_string(ban_origin o) noexcept;

/// A source banned until `until`; `count` is its place in the sequence of growing bans.
struct ban {
    boost::asio::ip::address source;
    std::chrono::steady_clock::time_point until{};
    std::uint32_t count = 0;
    ban_origin origin = ban_origin::failures;
    /// For a ban by failures: the username whose failures crossed the limit, when it was the
    /// username's count (not the source's) that did; truncated. Empty otherwise.
    std::string username;
};

/// Failed digest answers counted per source address and per username (each in a fixed window
/// that opens at the first failure), and the sources banned for them. Only sources are ever
/// banned, never a username: banning a name would let anyone lock a PBX out by failing on
/// purpose. A username's count crossing the limit bans the source whose failure crossed it,
/// and every source failing on that name while its window lasts: a brute force spread over
/// many addresses is caught name by name.
///
/// Bounded: `max_entries` sources and as many usernames; the least recently seen entry goes to
/// make room (`evictions`). A banned source touching its entry on every packet stays recent.
///
/// Sans-I/O: every call takes the time it happens at; a ban that ran out is lifted by the next
/// call that looks at it, or by `expire`.
///
/// @par Thread safety
/// None.
class ban_list {
public:
    using clock = std::chrono::steady_clock;
    using address = boost::asio::ip::address;

    explicit ban_list(ban_policy policy);

    /// One failed digest answer from `source` for `username` (may be empty) at `now`. Returns
    /// the new ban when this failure bans the source; nothing while it is banned already.
    std::optional<ban> record_failure(const address& source, std::string_view username, clock::time_point now);

    /// True while `source` is banned at `now`.
    bool banned(const address& source, clock::time_point now);

    /// An operator's ban of `source` for `duration` (replacing a shorter or longer one).
    ban add(const address& source, std::chrono::seconds duration, clock::time_point now);

    /// Lifts the ban of `source` and forgets its failures; false when it was not banned.
    bool remove(const address& source, clock::time_point now);

    /// The bans in force at `now`, soonest to end first.
    std::vector<ban> bans(clock::time_point now);

    /// Lifts the bans that ended by `now`; returns how many.
    std::size_t expire(clock::time_point now);

    /// Bans in force (as of the last call that looked at the time).
    std::size_t active() const noexcept { return by_end_.size(); }
    std::uint64_t evictions() const noexcept { return sources_.evictions() + usernames_.evictions(); }
    const ban_policy& policy() const noexcept { return policy_; }

    /// Usernames are keyed by their first this many octets: an attacker's 60 KB name costs no
    /// more than a long real one.
    static constexpr std::size_t max_username = 128;

private:
    struct window_count {
        clock::time_point start{};
        std::size_t count = 0;
    };
    struct source_entry {
        window_count failures;
        std::optional<clock::time_point> until;  ///< banned until then
        clock::time_point last_ban_end{};
        std::uint32_t count = 0;
        ban_origin origin = ban_origin::failures;
        std::string username;
    };

    // Counts one failure in `w`; true when the count reaches the policy's limit in the window.
    bool count(window_count& w, clock::time_point now) const;
    ban impose(const address& source, source_entry& e, clock::time_point until, ban_origin origin);
    void lift(const address& source, source_entry& e);
    ban describe(const address& source, const source_entry& e) const;

    ban_policy policy_;
    detail::lru_table<address, source_entry> sources_;
    detail::lru_table<std::string, window_count> usernames_;
    std::set<std::pair<clock::time_point, address>> by_end_;  ///< the bans in force, by their end
};

}  // namespace b2b::security
