// This node's part in a cluster sharing Redis: who registers each trunk, bans, admin changes.
#pragma once

#include "b2bua/config.hpp"
#include "cluster/link.hpp"
#include "sip/transaction/timer_service.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

/// Ties the core to `cluster::link` (Redis, on a thread of its own): nothing on the SIP path
/// waits for it. Policy lives here, the link only moves opaque strings:
/// - trunk registration: a lease per registering trunk (`registering`), and `own` says when
///   this node gains or loses one, so exactly one node registers each trunk at a time and a
///   survivor takes over a dead node's within a lease;
/// - bans ("ban": "address seconds", "unban": "address"), published by the gate that speaks
///   for the node and applied by every worker's gate on the others (`ban`, `unban`);
/// - admin changes ("change": the admin API's body), handed to `change` with the node that made it;
/// - the PBXs' registrations ("bindings": one account's bindings after a REGISTER changed them),
///   handed to `bindings`, so a call for a registered PBX finds it on whichever node it lands.
/// A node that loses Redis keeps serving with what it has: `readiness` says so (for /readyz),
/// b2bua_cluster_redis_up is 0, and its leases lapse (it stops registering, another node cannot
/// start either until Redis is back: the binding it left lasts its Expires).
///
/// @par Thread safety
/// `publish_*` and `readiness` from any thread; the rest, and every hook, on the loop given.
class cluster_node {
public:
    using address = boost::asio::ip::address;
    struct hooks {
        std::function<std::vector<std::string>()> registering;
        std::function<void(const std::string& trunk, bool owned)> own;
        std::function<void(const address& source, std::chrono::seconds length, const std::string& node)> ban;
        std::function<void(const address& source, const std::string& node)> unban;
        std::function<void(std::string body, std::string node)> change;
        std::function<void(std::string body, std::string node)> bindings;
        /// One of this node's admin changes passed in the stream, in its place among the others'.
        std::function<void(std::string body)> own_change;
        /// How far the stream has been read and handled: kept, so that a restart goes on from
        /// there (`start`) and misses nothing made meanwhile. Every few seconds and at stop.
        std::function<void(std::string stream_id)> keep_position;
        /// Once after start, when the stream has been read up to its end (cluster::link).
        std::function<void()> caught_up;
    };

    cluster_node(boost::asio::any_io_executor loop, sip::timer_service& timers, const config::cluster_section& cfg,
                 prometheus::Registry& registry, hooks h);
    ~cluster_node();
    cluster_node(const cluster_node&) = delete;
    cluster_node& operator=(const cluster_node&) = delete;

    /// Starts the link and the once-a-second look at which trunks register. `resume_after`:
    /// where reading the stream goes on (a position `keep_position` kept); empty = from what is
    /// published from now on (a node's first start).
    void start(std::string resume_after = {});
    /// Gives the leases back (another node registers at once), then ends the link.
    void stop();

    void publish_ban(const address& source, std::chrono::seconds length);
    void publish_unban(const address& source);
    /// False when it was dropped (the queue for Redis is full).
    bool publish_change(std::string body);
    void publish_bindings(std::string body);

    /// "" while Redis answers; else why not, for /readyz.
    std::string readiness() const;
    /// The node that holds the lease on trunk `name`'s registration, as Redis last said (this
    /// node's id while it does); empty while none is known.
    std::string holder(std::string_view trunk) const;

private:
    void on_status(const cluster::link_status& s);
    void on_event(const cluster::event& e);
    void on_leases(const cluster::lease_change& c);
    void look();

    boost::asio::any_io_executor loop_;
    sip::timer_service& timers_;
    config::cluster_section cfg_;
    hooks hooks_;
    std::shared_ptr<spdlog::logger> log_;
    prometheus::Gauge* up_ = nullptr;
    prometheus::Gauge* leases_ = nullptr;
    prometheus::Counter* bans_in_ = nullptr;
    prometheus::Counter* changes_in_ = nullptr;
    prometheus::Counter* bindings_in_ = nullptr;
    std::unique_ptr<cluster::link> link_;  ///< from start to destruction (stop only stops it)
    std::atomic<bool> reachable_{true};    ///< as last reported; read by /readyz
    std::vector<std::string> wanted_;
    std::size_t held_ = 0;
    sip::timer_service::timer_id timer_ = 0;
    unsigned looks_ = 0;
    std::string kept_position_;  ///< as last handed to keep_position
    void keep_position();
};

}  // namespace b2b::b2bua
