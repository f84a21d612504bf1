// Digest client side (we answer the trunk's 401/407): challenge choice, credentials, retry machine.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/algorithm.hpp"
#include "auth/digest_header.hpp"
#include "auth/failure.hpp"

namespace b2b::auth {

/// The account a trunk provider gave us. An empty username means "none configured".
struct client_credentials {
    std::string username;
    std::string password;

    bool empty() const noexcept { return username.empty(); }
};

/// The challenge select_challenge picked, with what it decided.
struct chosen_challenge {
    digest_challenge challenge;
    algorithm alg = algorithm::md5;
    bool qop_auth = false;  ///< answer with qop=auth; false = RFC 2069 form (no qop offered)
};

/// Picks the strongest challenge we support among the WWW-/Proxy-Authenticate values of one
/// response: SHA-512-256 over SHA-256 over MD5, then one offering qop=auth over one without
/// qop, then the first. Skips other schemes, `-sess` and unknown algorithms, and challenges
/// whose qop-options lack "auth" (we do not do auth-int). Fails with unsupported_algorithm
/// (detail says why, including unparseable values) when nothing is usable. Never throws on
/// network input.
auth_result<chosen_challenge> select_challenge(std::span<const std::string_view> values);

/// Builds the Authorization / Proxy-Authorization value answering `chosen` (RFC 7616 §3.4):
/// username, realm, nonce, uri, response, algorithm, cnonce, opaque (echoed when the challenge
/// had one), qop=auth and nc as 8 hex digits; the RFC 2069 form (no qop, cnonce, nc) when the
/// challenge offered no qop. With userhash=true in the challenge the username is sent hashed
/// (RFC 7616 §3.4.4). `uri` is the Request-URI as written in the request line.
std::string make_authorization(const chosen_challenge& chosen, const client_credentials& creds,
                               std::string_view method, std::string_view uri, std::uint32_t nc,
                               std::string_view cnonce);

/// Settings of a request_authenticator.
struct request_authenticator_options {
    /// How many times a stale=true challenge is answered after credentials were sent before
    /// giving up with challenge_loop.
    unsigned max_stale_retries = 2;
    /// Source of cnonce values; empty = 8 random bytes as hex. Tests inject fixed values.
    std::function<std::string()> make_cnonce;
};

/// What the caller must do after feeding a response to request_authenticator.
struct client_action {
    enum class kind {
        deliver,  ///< not an authentication matter: handle the response as usual
        resend,   ///< send the request again (new transaction, CSeq + 1) with `header_value`
        fail,     ///< give up: `reason` and `detail` say why
    };
    kind what = kind::deliver;
    /// resend: put header_value in Proxy-Authorization (answering a 407) rather than
    /// Authorization (answering a 401), replacing any value this authenticator produced before.
    bool proxy = false;
    std::string header_value;
    std::optional<failure> reason;  ///< set iff what == fail
    std::string detail;
};

/// Sans-I/O state machine for authenticating one outgoing request towards a trunk (RFC 3261
/// §22.2). Feed it every final response to the request (and to its re-sends); it says whether
/// to re-send with credentials, to give up, or that the response is none of its business.
///
///   initial --401/407--> credentials_sent --401/407 stale=true (at most max_stale_retries)--+
///      |                      |    ^------------------------------------------------------+
///      |                      +--401/407 not stale, 403, or too many stale--> failed
///      +--401/407 with no credentials or no usable challenge--> failed
///
/// At most 1 + max_stale_retries re-sends can come out of one authenticator, so it cannot loop.
/// `failed` is terminal: every further response yields the same failure.
///
/// Ownership: a value type owning copies of its inputs. Thread safety: none (one per request,
/// used on the request's strand). It never calls back.
class request_authenticator {
  public:
    enum class state {
        initial,           ///< no credentials sent yet
        credentials_sent,  ///< the last re-send carried our credentials
        failed,            ///< gave up; see failure_reason()
    };

    /// @param credentials the trunk's account; empty username = none configured.
    /// @param method and @param request_uri of the request being authenticated, as written in
    ///        its request line (both go into HA2 and the uri parameter).
    request_authenticator(client_credentials credentials, std::string method,
                          std::string request_uri, request_authenticator_options options = {});

    /// The single event entry point: a final response to the request arrived.
    /// @param status_code its status code (401 and 407 are challenges; 403 after our credentials
    ///        is a rejection; everything else is delivered).
    /// @param challenges the WWW-Authenticate (401) or Proxy-Authenticate (407) values.
    client_action on_response(unsigned status_code, std::span<const std::string_view> challenges);

    /// Convenience for any range of string-like values.
    template <std::ranges::input_range Range>
    requires std::convertible_to<std::ranges::range_reference_t<Range>, std::string_view> &&
        (!std::convertible_to<const Range&, std::span<const std::string_view>>)client_action
        on_response(unsigned status_code, const Range& challenges) {
        std::vector<std::string_view> views;
        for (auto&& v : challenges) views.emplace_back(v);
        return on_response(status_code, std::span<const std::string_view>(views));
    }

    /// The challenge the latest credentials answered, whether it came in a 407, and the nc they
    /// used: what a sender needs to use that nonce again (RFC 7616 §3.4). Empty before any.
    struct answered_challenge {
        chosen_challenge chosen;
        bool proxy = false;
        std::uint32_t nc = 0;
    };
    const std::optional<answered_challenge>& last_answer() const noexcept { return last_answer_; }

    state current_state() const noexcept { return state_; }
    unsigned stale_retries() const noexcept { return stale_retries_; }
    std::optional<failure> failure_reason() const noexcept { return failure_; }

  private:
    client_action answer(const chosen_challenge& chosen, bool proxy);
    client_action fail(failure reason, std::string detail);

    client_credentials credentials_;
    std::string method_;
    std::string request_uri_;
    request_authenticator_options options_;
    state state_ = state::initial;
    unsigned stale_retries_ = 0;
    std::optional<answered_challenge> last_answer_;
    std::optional<failure> failure_;
    std::string failure_detail_;
};

std::string_view to_string(request_authenticator::state s) noexcept;

}  // namespace b2b::auth
