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
#include <string>
#include <string_view>
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
                           std::string advertised_host, registration_metrics& metrics,
                           std::function<std::optional<sip::resolver::target>(std::size_t trunk)> locate = {});
    ~upstream_registrations() override;
    upstream_registrations(const upstream_registrations&) = delete;
    upstream_registrations& operator=(const upstream_registrations&) = delete;

    /// Sends every trunk's first REGISTER.
    void start();
    /// Removes every registration (Expires: 0) and stops; `done` once all are answered or
    /// failed (at once when none is registered).
    void stop(std::function<void()> done);

    /// The trunk whose registered Contact has `user` as its user part, if any.
    std::optional<std::size_t> trunk_of_contact(std::string_view user) const;
    /// How many REGISTERs of `trunk` in a row its provider refused (challenged our credentials
    /// again, or 403), up to the last outcome; a success starts over. 0 for a trunk that does
    /// not register.
    unsigned refusals_in_a_row(std::size_t trunk) const;
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

    sip::timer_service& timers_;
    registration_metrics& metrics_;
    std::vector<entry> entries_;
    sip::timer_service::timer_id tick_ = 0;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace b2b::b2bua
