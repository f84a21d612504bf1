// Our registrations with the trunks that ask for one (register: true).
#pragma once

#include "b2bua/registration_metrics.hpp"
#include "dialog/request_sender.hpp"
#include "registration/client.hpp"
#include "routing/trunk.hpp"
#include "sip/resolver/target.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transport/transport.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

/// One `registration::registration_client` per trunk with `register: true`, each with the
/// Contact user that makes the provider's calls to it recognisable (registration::contact_user).
/// Counts every attempt and writes one info line per state change, with everything kept about
/// the registration; keeps the seconds-left gauges current (a 1 s tick while any trunk registers).
///
/// @par Thread safety
/// None: the core's event loop.
class upstream_registrations final : private registration::registration_observer {
public:
    upstream_registrations(sip::timer_service& timers, sip::transport& transport, dialog::request_sender& sender,
                           const std::vector<std::shared_ptr<const routing::trunk>>& trunks,
                           std::string advertised_host, std::string contact_host_port, registration_metrics& metrics,
                           std::function<std::optional<sip::resolver::target>(std::size_t trunk)> locate = {});
    ~upstream_registrations() override;
    upstream_registrations(const upstream_registrations&) = delete;
    upstream_registrations& operator=(const upstream_registrations&) = delete;

    /// Sends every trunk's first REGISTER.
    void start();
    /// Removes every registration (Expires: 0) and stops; `done` once all are answered or
    /// failed (at once when none is registered).
    void stop(std::function<void()> done);

    /// Trunk `trunk` (an index of the core's trunks) was added, changed or removed at run time:
    /// its registration starts again at once with what it is now (a new REGISTER, no waiting
    /// for the refresh), or ends (removed, or register: false: our binding is removed).
    /// When the Contact user changes with the credentials, the old binding is removed and the
    /// old Contact user still names the trunk until that binding would have expired.
    void update(std::size_t trunk);
    /// A new REGISTER for `trunk` now (a new registration replacing the binding); false when
    /// it does not register.
    bool register_now(std::size_t trunk);

    /// The trunk whose registered Contact has `user` as its user part, if any.
    std::optional<std::size_t> trunk_of_contact(std::string_view user) const;
    /// How many REGISTERs of `trunk` in a row its provider refused (challenged our credentials
    /// again, or 403), up to the last outcome; a success starts over. 0 for a trunk that does
    /// not register.
    unsigned refusals_in_a_row(std::size_t trunk) const;
    /// In a cluster sharing Redis, one node registers each trunk at a time (a providers'
    /// registrar refuses or flaps between several): after this, a trunk's client runs only
    /// while `set_owned` says this node holds the trunk's lease, and a client let go removes
    /// nothing (the binding, with the balancer's Contact, is the cluster's: the next owner
    /// replaces it, §10.3 step 7). Before `start`.
    void share_ownership() { shared_ = true; }
    /// This node holds (or no longer holds) the lease on trunk `name`'s registration.
    void set_owned(const std::string& name, bool owned);
    /// The names of the trunks that register (the leases a shared node wants).
    std::vector<std::string> registering() const;
    /// Whether this node runs `trunk`'s registration (always, unless shared).
    bool runs(std::size_t trunk) const;
    /// What is known of each registering trunk's registration (trunk index, status).
    void for_each(const std::function<void(std::size_t trunk, const registration::registration_status&)>& fn) const;

private:
    struct entry {
        std::size_t trunk = 0;
        std::size_t slot = 0;  // in registration_metrics
        std::string contact_user;
        unsigned refusals_in_a_row = 0;
        std::unique_ptr<registration::registration_client> client;
    };

    void on_attempt(const registration::registration_target& t, registration::attempt_outcome outcome) override;
    void on_status(const registration::registration_target& t, const registration::registration_status& now,
                   bool state_changed) override;
    const entry* by_target(const registration::registration_target& t) const;
    entry* by_target(const registration::registration_target& t);
    void tick();
    /// The entry registering trunk `i` as it is now (a started client when `started_`).
    entry make_entry(std::size_t i);
    /// Removes our binding with `client`'s Contact, then lets the client go.
    void retire(std::unique_ptr<registration::registration_client> client);

    sip::timer_service& timers_;
    sip::transport& transport_;
    dialog::request_sender& sender_;
    const std::vector<std::shared_ptr<const routing::trunk>>& trunks_;
    std::string advertised_host_;
    std::string contact_host_port_;  ///< cluster.contact: the balancer's, or empty
    std::function<std::optional<sip::resolver::target>(std::size_t trunk)> locate_;
    std::function<double()> random_;
    registration_metrics& metrics_;
    std::vector<entry> entries_;
    /// Metrics slots by trunk name: a trunk changed or added again keeps its series.
    std::unordered_map<std::string, std::size_t> slots_;
    /// Clients removing an old binding (Expires: 0); let go once `done` (at the next tick or
    /// change: never from inside the client's own callback).
    struct retiring_client {
        std::unique_ptr<registration::registration_client> client;
        std::shared_ptr<bool> done = std::make_shared<bool>(false);
    };
    std::vector<retiring_client> retiring_;
    void ensure_tick();
    /// Contact users of bindings replaced at run time that the provider may still hold.
    struct old_contact {
        std::string user;
        std::size_t trunk = 0;
        sip::timer_service::time_point until{};
    };
    std::vector<old_contact> old_contacts_;
    bool started_ = false;
    bool shared_ = false;
    std::set<std::string, std::less<>> owned_;  ///< with shared_: the trunks whose lease we hold
    bool owns(const std::string& name) const { return !shared_ || owned_.contains(name); }
    sip::timer_service::timer_id tick_ = 0;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace b2b::b2bua
