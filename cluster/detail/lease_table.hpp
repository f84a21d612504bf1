// The leases one node wants and holds, with how long each may still be trusted (no I/O).
#pragma once

#include "cluster/lease_change.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::cluster::detail {

/// Bookkeeping for leases, fed with the holders Redis names on each renewal. A lease counts as
/// held until `validity` after the moment its last successful renewal was *sent*: Redis starts
/// the key's ttl no earlier than that, and `validity` is shorter than the ttl, so this node
/// stops believing in a lease before Redis can give it to another node, even when it cannot
/// reach Redis at all.
///
/// Sans-I/O: every call that needs the time takes it.
///
/// @par Thread safety
/// None.
class lease_table {
public:
    using clock = std::chrono::steady_clock;

    lease_table(std::string node, std::chrono::milliseconds validity);

    /// Replaces the wanted set. A held name no longer wanted stops being held at once and is
    /// left to `releasing()`.
    void want(std::vector<std::string> names);
    /// Sorted, without duplicates.
    const std::vector<std::string>& wanted() const noexcept { return wanted_; }
    /// Names this node may still hold in Redis although it no longer wants them.
    std::vector<std::string> releasing() const;
    /// Every name this node may hold in Redis (held or releasing): what a stop deletes.
    std::vector<std::string> all_held() const;

    /// A renewal of `names` sent at `sent_at` named `holders` (same order).
    void renewed(std::span<const std::string> names, std::span<const std::string> holders,
                 clock::time_point sent_at);
    /// The keys of `names` were deleted (or were not ours any more).
    void released(std::span<const std::string> names);
    /// Drops every lease whose time ran out by `now`.
    void expire(clock::time_point now);

    bool owns(std::string_view name, clock::time_point now) const;
    /// The node Redis last named as the holder of wanted `name` (this node's own id while it
    /// holds it); empty when none is known (not wanted, never renewed, or run out).
    std::string holder(std::string_view name) const;

    /// The change since the last one taken, if the held set changed.
    std::optional<lease_change> take_change();

private:
    std::string node_;
    std::chrono::milliseconds validity_;
    std::vector<std::string> wanted_;
    std::map<std::string, clock::time_point, std::less<>> held_;  // name -> trusted until
    std::map<std::string, clock::time_point, std::less<>>
        releasing_;  // name -> ours in Redis at most until
    std::map<std::string, std::string, std::less<>> holders_;  // wanted name -> last known holder
    std::set<std::string, std::less<>> reported_;              // held at the last take_change
};

}  // namespace b2b::cluster::detail
