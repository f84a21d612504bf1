// One SIP event loop and the stack it runs; the process runs sip.workers of them.
#pragma once

#include "b2bua/asio_timer_service.hpp"
#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/config.hpp"
#include "b2bua/core.hpp"
#include "b2bua/downstream_auth.hpp"
#include "b2bua/gate_metrics.hpp"
#include "b2bua/source_gate.hpp"
#include "b2bua/worker_dispatch.hpp"
#include "sip/resolver/ares_lookup.hpp"
#include "sip/transaction/transaction_manager.hpp"
#include "sip/transport/asio_transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/lockfree/spsc_queue.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <unordered_set>
#include <vector>

namespace b2b::b2bua {

/// A worker: an io_context with its own sockets and listeners (one SO_REUSEPORT group per listen
/// address when there are several workers), timers, transaction manager, core, downstream auth
/// and source gate. Whatever its sockets and connections read passes its gate, is checked by its
/// transaction manager, then goes to the worker that owns it (worker_dispatch), by a post onto
/// that worker's loop when it is another; what the owner sends on a connection this worker holds
/// comes back the same way. Worker 0 (the primary) also runs what speaks for all: trunk health
/// checks, registrations, the PBXs' registrar.
///
/// @par Thread safety
/// Everything but `post_message` runs on the worker's own loop (before the loops start: on the
/// thread that builds the workers).
class sip_worker final : private sip::transport_user {
public:
    /// `first`: worker 0's metrics, which worker 0 itself uses and the others are made from.
    /// `cfg` is this worker's copy: the core keeps a reference, a reload changes it on this loop.
    sip_worker(std::uint8_t index, std::size_t workers, config cfg, b2bua_metrics& first, gate_metrics& gate_metrics,
               const shared_usage& usage = {});
    ~sip_worker() override;
    sip_worker(const sip_worker&) = delete;
    sip_worker& operator=(const sip_worker&) = delete;

    /// Every worker, this one included, by index: where dispatched messages go. Before `start`.
    void set_workers(std::vector<sip_worker*> all);
    /// Hands a message this worker owns to its transaction manager, from worker `from`'s loop.
    /// Messages from one worker queue in order; one post onto this loop takes all that queued
    /// meanwhile, so a burst costs one wake-up, not one per message.
    void post_message(std::size_t from, sip::message m, const sip::flow& f);

    std::uint8_t index() const noexcept { return index_; }
    bool primary() const noexcept { return index_ == 0; }
    boost::asio::io_context& io() noexcept { return io_; }
    config& cfg() noexcept { return cfg_; }
    b2bua_metrics& metrics() noexcept { return metrics_; }
    downstream_auth& auth() noexcept { return auth_; }
    asio_timer_service& timers() noexcept { return timers_; }
    sip::asio_transport& transport() noexcept { return transport_; }
    b2bua::core& core() noexcept { return core_; }
    sip::transaction_manager& transactions() noexcept { return transactions_; }
    source_gate& gate() noexcept { return gate_; }
    /// The c-ares resolver when a trunk is named by host (each worker resolves for itself).
    sip::resolver::ares_lookup* dns() noexcept { return dns_.get(); }

    /// Starts receiving and what sends on its own (core::start); on this worker's loop, or before
    /// it runs.
    void start();
    /// Stops receiving and every timer, so the loop runs out of work; on this worker's loop.
    void stop();
    /// Runs the loop on a thread of its own (the workers after the first).
    void run_thread();
    void join();

private:
    struct handed_over {
        sip::message message;
        sip::flow flow;
    };
    /// What one other worker hands this one: a single-producer, single-consumer queue, and
    /// whether a post to take it is on its way.
    struct inbox {
        boost::lockfree::spsc_queue<handed_over*> queue{4096};
        std::atomic<bool> scheduled{false};
    };
    void take_inbox(std::size_t from);
    /// A connection of another worker closed (see `gone_`).
    void forget_connection(std::uint64_t connection);

    /// What the core and the transaction layer send through: this worker's transport, or, for
    /// a connection another worker holds, a post to that worker's.
    class sender final : public sip::transport {
    public:
        explicit sender(sip_worker& w) noexcept : w_(w) {}
        boost::system::result<sip::flow> flow_to(sip::transport_kind kind, const sip::endpoint& remote) override {
            return w_.transport_.flow_to(kind, remote);
        }
        boost::system::result<sip::flow> flow_to_host(sip::transport_kind kind, const sip::endpoint& remote,
                                                      std::string_view host) override {
            return w_.transport_.flow_to_host(kind, remote, host);
        }
        boost::system::error_code send(const sip::flow& f, std::string_view bytes) override;

    private:
        sip_worker& w_;
    };

    // sip::transport_user: what passed the gate.
    void on_bytes(std::string_view bytes, const sip::flow& f, sip::framing fr) override;
    void on_framing_error(std::string_view bytes, const sip::flow& f, const sip::parse_error& e) override;
    void on_flow_closed(const sip::flow& f, boost::system::error_code ec) override;

    std::uint8_t index_;
    config cfg_;
    boost::asio::io_context io_{1};
    std::unique_ptr<b2bua_metrics> own_metrics_;  ///< the workers after the first
    b2bua_metrics& metrics_;
    downstream_auth auth_;
    asio_timer_service timers_;
    sip::asio_transport transport_;
    sender sends_;
    std::unique_ptr<sip::resolver::ares_lookup> dns_;  ///< outlives the core, which uses it
    b2bua::core core_;
    sip::transaction_manager transactions_;
    source_gate gate_;
    worker_dispatch dispatch_;
    std::vector<sip_worker*> workers_;
    std::vector<std::unique_ptr<inbox>> inboxes_;  ///< by the worker that hands over
    /// Connections of other workers that have closed, the latest `gone_kept` of them: a send
    /// on one fails here at once, as the owner's transport would fail it, so the dialog layer
    /// opens a new connection (RFC 3261 §18.1.1) instead of a post that writes nowhere.
    static constexpr std::size_t gone_kept = 65536;
    std::unordered_set<std::uint64_t> gone_;
    std::deque<std::uint64_t> gone_order_;
    std::thread thread_;
};

/// The trunks' names, by index, and the inbound routes' PBX targets' (the metrics' peers).
std::vector<std::string> trunk_names(const config& cfg);
std::vector<std::string> pbx_names(const config& cfg);

/// The transport's settings from the configuration (the UDP sockets join a group with several
/// workers, whose transports count against one connection `budget`).
sip::asio_transport_options transport_options(const config& c, std::uint8_t worker,
                                              std::shared_ptr<sip::connection_budget> budget = {});
/// A connection id's top byte is the worker whose transport holds the connection.
inline constexpr int connection_owner_shift = 56;
/// The transaction layer's settings from the configuration, for worker `worker`.
sip::transaction_config transaction_settings(const config& c, std::uint8_t worker);

}  // namespace b2b::b2bua
