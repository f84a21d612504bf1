// One trunk's registration with its provider (RFC 3261 §10.2): we are the client.
#pragma once

#include "auth/client.hpp"
#include "dialog/request_sender.hpp"
#include "registration/backoff.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transport/flow.hpp"
#include "sip/transport/transport.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace b2b::registration {

/// What an operator sees of a registration.
enum class registration_state : std::uint8_t {
    unregistered,  ///< not started, or stopped (our binding removed with Expires: 0 at shutdown)
    /// The first REGISTER after `start` is under way (none has ended yet). A failed attempt
    /// makes it `failing`, which it stays through its retries until one succeeds.
    registering,
    /// The provider holds our binding until `expires_at`, also while a refresh is under way.
    registered,
    /// The last attempt failed (a refresh too: the binding may still hold until `expires_at`,
    /// which is cleared once it passes); the next one is at `next_attempt`.
    failing,
};
inline constexpr std::array all_states{registration_state::unregistered, registration_state::registering,
                                       registration_state::registered, registration_state::failing};
std::string_view to_string(registration_state s) noexcept;

/// How one REGISTER attempt ended (the metrics' `outcome` label).
enum class attempt_outcome : std::uint8_t {
    registered,          ///< 2xx
    auth_failed,         ///< our credentials were challenged again (not stale), or we had none
    forbidden,           ///< 403
    timeout,             ///< no final response (Timer F) or 408
    transport_error,     ///< could not be sent
    interval_too_brief,  ///< 423: asked again at once with the provider's Min-Expires
    error,               ///< any other final response, or a 2xx that keeps no binding of ours
};
inline constexpr std::array all_outcomes{attempt_outcome::registered,       attempt_outcome::auth_failed,
                                         attempt_outcome::forbidden,        attempt_outcome::timeout,
                                         attempt_outcome::transport_error,  attempt_outcome::interval_too_brief,
                                         attempt_outcome::error};
std::string_view to_string(attempt_outcome o) noexcept;

/// Where and as whom one trunk registers.
struct registration_target {
    std::string name;                  ///< the trunk's name (logs)
    std::uint32_t peer = 0;            ///< request_sender label (trunk index): auth metrics, nonce key
    sip::transport_kind transport = sip::transport_kind::udp;
    sip::endpoint address;             ///< where REGISTERs are sent
    std::string host;                  ///< the registrar's host: over TLS, the name its certificate must carry
    /// When set, where each REGISTER goes instead of `transport` and `address`: the trunk's
    /// current DNS target (RFC 3263); nothing = no target known yet (the attempt fails as a
    /// transport error and is retried on the back-off).
    std::function<std::optional<std::pair<sip::transport_kind, sip::endpoint>>()> locate;
    /// host[:port] of the provider's domain: Request-URI "sip:domain" (§10.2), and the host of
    /// the address-of-record in To and From.
    std::string domain;
    std::string aor_user;              ///< the account (To/From user), usually the digest username
    std::string contact_user;          ///< our Contact's user part (contact_token.hpp)
    std::string advertised_host;       ///< our Via/Contact host; empty = the flow's local address
    /// host:port for our Contact alone, when not our Via's: behind a load balancer, its
    /// address (cluster.contact), so that the provider's calls and probes reach whichever node
    /// is alive, not only the one that registered. Empty = the same as the Via.
    std::string contact_host_port;
    auth::client_credentials credentials;
    std::chrono::seconds expires{600}; ///< the interval we ask for
    /// Send credentials at once with the nonce of the provider's last challenge (RFC 7616 §3.4:
    /// request_plan::reuse_nonce), so a refresh needs no challenge while the nonce lasts.
    bool reuse_nonce = false;
};

/// Everything kept about a trunk's registration, after every outcome.
struct registration_status {
    registration_state state = registration_state::unregistered;
    /// The outcome of the last failed attempt; cleared by a success.
    std::optional<attempt_outcome> failure;
    int last_status = 0;               ///< of the last final response; 0 = none (timeout, not sent)
    std::string last_reason;           ///< its reason phrase
    std::string last_warning;          ///< its Warning header, as received
    std::chrono::seconds asked{0};     ///< the interval asked for (raised by a 423's Min-Expires)
    std::chrono::seconds granted{0};   ///< the interval the last 2xx granted
    sip::timer_service::time_point expires_at{};    ///< the binding's end at the provider (registered)
    sip::timer_service::time_point next_attempt{};  ///< the next REGISTER (refresh or retry); {} = none
};

/// Told about every attempt and every change of status (metrics, the state-change log line).
/// Called from inside the client's event handling: it must not call back into the client.
class registration_observer {
public:
    virtual ~registration_observer() = default;
    virtual void on_attempt(const registration_target& t, attempt_outcome outcome) = 0;
    /// After every outcome (the status may be unchanged but for its times), and when the state
    /// changes without one (start, the binding's expiry passing, stop); `state_changed` when
    /// `now.state` differs from the state before.
    virtual void on_status(const registration_target& t, const registration_status& now, bool state_changed) = 0;
};

/// Keeps exactly one registration of one trunk with its provider (RFC 3261 §10.2): never two
/// REGISTERs under way. Every REGISTER goes through the request sender, which answers 401/407
/// (a stale=true challenge at most twice more). The refresh is sent at a random point between
/// 50 % and 80 % of the granted interval (the Contact's `expires` for our binding in the 2xx,
/// else its Expires header, else what we asked); refreshes keep the Call-ID and From tag and
/// take the next CSeq (§10.2.4), for the client's whole life. 423 is answered at once with the
/// Min-Expires asked (§10.2.8) when that is above what we asked (so once per value). A failure
/// waits per `retry_backoff` (Retry-After honoured), then tries again; Timer F ends an
/// unanswered REGISTER as a timeout. States: unregistered -> registering (first REGISTER) ->
/// registered or failing; failing stays failing through its retries until one succeeds; a
/// refresh keeps registered while it is under way; a failed one is failing at once.
/// The client logs at debug level only: the state-change line is the observer's.
///
/// @par Thread safety
/// None: the event loop that owns the transaction manager.
class registration_client {
public:
    /// Draws a number uniformly from [0, 1): the refresh point and the back-off jitter.
    using random_unit = std::function<double()>;

    registration_client(sip::timer_service& timers, sip::transport& transport, dialog::request_sender& sender,
                        registration_target target, registration_observer* observer, random_unit random,
                        backoff_policy backoff = {});
    /// Cancels its timers and abandons a REGISTER under way (the `done` of a `stop` under way
    /// is then never called).
    ~registration_client();
    registration_client(const registration_client&) = delete;
    registration_client& operator=(const registration_client&) = delete;

    /// Sends the first REGISTER now (state `registering`). Does nothing while started, or
    /// while a `stop` is under way.
    void start();
    /// Removes our binding (REGISTER with Expires: 0 for our Contact, §10.2.2) and stops: no
    /// refresh or retry follows. `done` is called once, when it is answered or has failed (Timer
    /// F), or at once when nothing is registered (then no REGISTER is sent). A REGISTER under
    /// way is abandoned; as its answer may still make a binding, it counts as registered here.
    /// The state is `unregistered` afterwards. `done` may destroy the client.
    void stop(std::function<void()> done);

    const registration_status& status() const noexcept;
    const registration_target& target() const noexcept;

private:
    class impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace b2b::registration
