// Policy for authenticating the PBX: which answer a request gets, given its credentials.
#pragma once

#include "auth/failure.hpp"
#include "b2bua/config.hpp"
#include "sip/message/message.hpp"
#include "sip/transport/flow.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::b2bua {

/// What to do with a request from the PBX after looking at its credentials.
struct auth_decision {
    enum class kind : std::uint8_t { accept, challenge, reject };
    kind action = kind::reject;
    int status = 0;                         ///< 401/407 (challenge), 403 or 400 (reject)
    std::string_view reason_phrase;
    std::string_view challenge_header;      ///< "Proxy-Authenticate" or "WWW-Authenticate"
    std::vector<std::string> challenges;    ///< one value per offered algorithm
    std::optional<auth::failure> failure;   ///< set when this counts as a failure
    std::string detail;                     ///< for the log line; never a secret
    std::string username;                   ///< who, when known
    // What was seen, for the operators' "why 401" record (auth_failure_log); never a secret.
    std::string realm_seen;                 ///< the realm the PBX's credentials were for
    std::string algorithm_asked;            ///< the algorithm parameter the PBX answered with
    std::vector<std::string> algorithms_offered;  ///< what challenges to this source offer
};

/// Downstream digest authentication (RFC 3261 §22, RFC 7616, RFC 8760) with the B2BUA's
/// answers: no credentials -> challenge (a normal first step, not a failure); stale nonce, a
/// nonce we cannot read (e.g. from before a restart) or a replayed answer (nc not increasing,
/// or a nonce issued to another address) -> a fresh challenge (stale=true for the first only),
/// counted as a failure; wrong password, unknown user, wrong realm or unsupported algorithm ->
/// 403 Forbidden, the PBX having had the one retry the challenge allows (§22.3); malformed
/// credentials or a digest uri that is not the Request-URI -> 400 (RFC 2617 §3.2.2.5).
///
/// A REGISTER is challenged with 401 WWW-Authenticate whatever `challenge` says: we are its
/// registrar, not a proxy (RFC 3261 §22.1).
///
/// The algorithms offered depend on the source address (config algorithms_for). A source that
/// leaves 3 first challenges unanswered within 5 minutes makes one challenge decision carry
/// failure challenge_unanswered, naming the algorithms it was offered.
///
/// @par Thread safety
/// None: the event loop's thread.
class downstream_auth {
public:
    /// `allow_rfc2069`: security.allow_rfc2069 (answers without qop accepted; else qop_missing).
    /// `worker`: the event loop this instance serves; its nonces name it (auth::nonce_worker), so
    /// the answers come back to the instance that knows their nonce counts.
    explicit downstream_auth(const config::downstream_section& cfg, bool allow_rfc2069 = false,
                             std::uint8_t worker = 0);
    ~downstream_auth();
    downstream_auth(const downstream_auth&) = delete;
    downstream_auth& operator=(const downstream_auth&) = delete;

    /// The answer to `request`, received from `source` (its address matters, not its port).
    auth_decision check(const sip::message& request, const sip::endpoint& source,
                        std::chrono::system_clock::time_point now);

    const std::string& realm() const noexcept;

    /// Hears of every failure `check` finds, with the source and the user name answered for
    /// (empty when unknown): the source gate counts them towards bans. Optional.
    using failure_sink = std::function<void(const sip::endpoint& source, std::string_view username, auth::failure)>;
    void set_failure_sink(failure_sink sink) { failure_sink_ = std::move(sink); }

    /// The PBX accounts from now on (the next request). Throws config_error naming the user
    /// when one cannot be used; nothing changes then.
    void set_users(const std::vector<user_account>& users);

private:
    class impl;
    std::unique_ptr<impl> impl_;
    failure_sink failure_sink_;
};

}  // namespace b2b::b2bua
