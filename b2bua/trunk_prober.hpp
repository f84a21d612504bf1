// OPTIONS health pings to the trunks, and what their answers say about each trunk.
#pragma once

#include "dialog/request_sender.hpp"
#include "routing/trunk.hpp"
#include "routing/trunk_health.hpp"
#include "sip/resolver/target.hpp"
#include "sip/message/random.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transport/transport.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

/// Sends an out-of-dialog OPTIONS (RFC 3261 §11) to every trunk whose `options_interval` is
/// not zero, every interval, through the request sender (so a provider that challenges
/// OPTIONS gets the trunk's credentials), and feeds each outcome to that trunk's
/// `routing::trunk_health`. A ping still unanswered when the next one is due counts as
/// failed and is given up, so a silent trunk is marked down after `down_after` intervals
/// rather than after Timer F (32 s) per ping. `on_change(trunk, up)` is called when a
/// trunk's state changes.
///
/// @par Thread safety
/// None: the core's event loop. Owned by the core; its timers and pending pings end with it.
class trunk_prober {
public:
    using change_handler = std::function<void(std::size_t trunk, bool up)>;
    /// Where a trunk's pings go now (its preferred target); nothing = none known yet.
    using target_lookup = std::function<std::optional<sip::resolver::target>(std::size_t trunk)>;

    /// Without `locate`, pings go to each trunk's configured transport and address.
    trunk_prober(sip::timer_service& timers, sip::transport& transport, dialog::request_sender& sender,
                 const std::vector<std::shared_ptr<const routing::trunk>>& trunks, std::string advertised_host,
                 change_handler on_change, target_lookup locate = {});
    ~trunk_prober();
    trunk_prober(const trunk_prober&) = delete;
    trunk_prober& operator=(const trunk_prober&) = delete;

    /// Sends the first pings now; later ones follow every interval.
    void start();

    /// Trunk `trunk` was added, changed or removed at run time: its pings start over with its
    /// settings now (a trunk no longer pinged is up), or stop.
    void update(std::size_t trunk);

    /// Whether `trunk` is pinged at all.
    bool probes(std::size_t trunk) const noexcept;

private:
    struct probe {
        probe(std::size_t t, routing::trunk_health h) : trunk(t), health(h) {}
        std::size_t trunk = 0;
        routing::trunk_health health;
        sip::timer_service::timer_id timer = 0;
        dialog::request_handle pending;  // the ping under way, if any
        std::uint64_t generation = 0;    // of `pending`: an older ping's late outcome is ignored
    };

    void tick(probe& p);
    void add_probe(std::size_t trunk);
    void send_ping(probe& p);
    void on_outcome(probe& p, bool answered, std::string_view what);

    sip::timer_service& timers_;
    sip::transport& transport_;
    dialog::request_sender& sender_;
    const std::vector<std::shared_ptr<const routing::trunk>>& trunks_;
    std::string advertised_host_;
    change_handler on_change_;
    target_lookup locate_;
    std::vector<std::unique_ptr<probe>> probes_;
    bool started_ = false;
    sip::token_source tokens_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace b2b::b2bua
