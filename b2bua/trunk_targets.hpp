// Where each trunk is now: its targets, resolved by DNS (RFC 3263) for a trunk named by host.
#pragma once

#include "routing/trunk.hpp"
#include "sip/resolver/dns_lookup.hpp"
#include "sip/resolver/locator.hpp"
#include "sip/resolver/target_set.hpp"
#include "sip/transaction/timer_service.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <vector>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

/// The targets of every configured trunk (by index). A trunk whose uri names an address has
/// that one target for ever. A trunk named by host (routing::trunk::dns_host) has none until
/// DNS answers: `start` locates it (sip::resolver::locate), and it is located again when the
/// smallest TTL of the records used runs out, or after a failed resolution on a bounded
/// back-off (its last targets kept meanwhile). Each change is logged once at info and
/// reported to `on_change(trunk)`. Targets that failed a request are put last for a while
/// (sip::resolver::target_set).
///
/// Calls to a trunk with no target yet (the process started before DNS answered) fail over
/// to the route's next trunk, or get 503, with a log line saying so.
///
/// @par Thread safety
/// None: the core's event loop. Pending resolutions and timers end with the object.
class trunk_targets {
public:
    using change_handler = std::function<void(std::size_t trunk)>;

    trunk_targets(sip::timer_service& timers, const std::vector<std::shared_ptr<const routing::trunk>>& trunks,
                  change_handler on_change);
    ~trunk_targets();
    trunk_targets(const trunk_targets&) = delete;
    trunk_targets& operator=(const trunk_targets&) = delete;

    /// Starts locating the trunks named by host through `dns` (which must outlive this object).
    /// Without `dns` (nullptr) they keep no target.
    void start(sip::resolver::dns_lookup* dns);

    /// Trunk `trunk` was added or changed at run time: its targets are what its uri says now
    /// (located again by DNS when it names a host). A removed trunk keeps its last targets (its
    /// calls may still reconnect to them) but is no longer refreshed.
    void update(std::size_t trunk);

    /// The targets a new request to `trunk` tries, in order (recently failed ones last).
    std::vector<sip::resolver::target> ordered(std::size_t trunk) const;
    /// The first of `ordered`, if any.
    std::optional<sip::resolver::target> preferred(std::size_t trunk) const;
    /// The targets as resolved (no failure order): the addresses requests from the trunk come from.
    const std::vector<sip::resolver::target>& resolved(std::size_t trunk) const { return entries_[trunk].set.targets(); }
    /// A request to `t` failed (transport error, timeout, 503): it goes last for a while.
    void mark_failed(std::size_t trunk, const sip::resolver::target& t);
    bool by_dns(std::size_t trunk) const noexcept { return !entries_[trunk].set.is_fixed(); }

    /// Tests: the random draws of RFC 2782's weighted selection.
    void set_random_for_test(sip::resolver::random_source random) { random_ = std::move(random); }

private:
    struct entry {
        sip::resolver::target_set set;
        sip::timer_service::timer_id timer = 0;
        std::uint64_t generation = 0;  ///< of the trunk's settings: an older lookup's answer is ignored
    };
    entry initial_entry(std::size_t trunk) const;
    void resolve(std::size_t trunk);
    void on_location(std::size_t trunk, sip::resolver::location l);
    void schedule(std::size_t trunk);

    sip::timer_service& timers_;
    const std::vector<std::shared_ptr<const routing::trunk>>& trunks_;
    change_handler on_change_;
    std::vector<entry> entries_;
    sip::resolver::dns_lookup* dns_ = nullptr;
    sip::resolver::random_source random_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  ///< resolutions outliving us do nothing
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace b2b::b2bua
