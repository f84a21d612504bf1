// Digest server side (we challenge the PBX): challenge values and credential verification.
#pragma once

#include <chrono>
#include <concepts>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/algorithm.hpp"
#include "auth/credential_store.hpp"
#include "auth/failure.hpp"
#include "auth/ip_network.hpp"
#include "auth/nonce.hpp"

namespace b2b::auth {

/// Algorithms offered to PBXs from given networks instead of server_config::algorithms.
struct source_algorithms {
    /// Networks this rule applies to; must be non-empty.
    std::vector<ip_network> sources;
    /// As server_config::algorithms.
    std::vector<algorithm> algorithms;
};

/// Settings of a digest_server. Checked by its constructor.
struct server_config {
    /// Our realm (RFC 3261 §22.1), e.g. "pbx.local". Must not be empty.
    std::string realm;
    /// Algorithms to offer, one challenge each, in this order (RFC 7616 §3.7, RFC 8760 §2.4:
    /// most preferred first). MD5 only by default: common clients (baresip 1.0.0, SIPp 3.6.1)
    /// drop the call without a word when a challenge offers SHA-256 at all, so stronger
    /// algorithms are opt-in, globally here or per source in `algorithms_for`. Must be
    /// non-empty, supported, without repeats.
    std::vector<algorithm> algorithms{algorithm::md5};
    /// Per-source offers; the first rule whose sources contain the request's source address
    /// wins, otherwise `algorithms` applies. The user is not known when a challenge goes out,
    /// the source address is.
    std::vector<source_algorithms> algorithms_for;
    /// Nonce secret, lifetime and nc tracking; see nonce_options.
    nonce_options nonce;
    /// The opaque value sent in every challenge. Empty = derived from `nonce.secret` when one is
    /// set (HMAC-SHA256 of "opaque", 16 bytes in hex), so servers that share a secret (the
    /// workers of one process, a restart with a configured secret) accept each other's answers;
    /// else 16 random bytes (hex) per server.
    std::string opaque;
    /// Accept an answer without qop (RFC 2069 form: no cnonce, no nc) to our qop=auth
    /// challenge. Off, such an answer fails with qop_missing: without nc the nonce is single-use
    /// only, and RFC 7616 §3.3 makes qop mandatory for clients (RFC 2617 §3.2.2 already said a
    /// client MUST answer with one of the offered qops).
    bool allow_rfc2069 = false;
};

/// Outcome class of digest_server::verify.
enum class verify_status {
    authenticated,  ///< valid credentials for our realm
    missing,        ///< no Digest credentials at all: send a challenge (not a failure)
    failed,         ///< credentials present but not acceptable: see verify_result::reason
};

/// What digest_server::verify found.
///
/// Suggested handling (the policy is the caller's): `missing` → challenge; `stale()` →
/// challenge with stale=true; realm_mismatch → challenge too (the client may hold credentials
/// for another hop only, RFC 3261 §22.3); any other failure → 403, or a fresh challenge if
/// the client deserves another try. Count failures by `reason` in metrics.
struct verify_result {
    verify_status status = verify_status::missing;
    /// Set iff status == failed.
    std::optional<failure> reason;
    /// Human-readable, for logs; names the user and algorithm but never a secret. Empty when
    /// authenticated.
    std::string detail;
    /// The authenticated user; on failure, the user name the client claimed (may be empty).
    std::string username;
    /// The algorithm the client used, when it was recognised.
    std::optional<algorithm> alg;
    /// The realm of the Digest credentials judged (ours, or for realm_mismatch the other realm
    /// the client answered for), as the client wrote it; empty when there were none. For
    /// operators' hints: it never affects the verdict.
    std::string realm;
    /// The algorithm parameter as the client wrote it (empty: absent, which means MD5); for
    /// unsupported_algorithm hints, even when it names no algorithm we know.
    std::string algorithm_token;
    /// True when the credentials for our realm carry a nonce we issued (to whichever address,
    /// fresh or not): the client answered one of our challenges, whatever the verdict.
    bool answered_our_nonce = false;

    bool authenticated() const noexcept { return status == verify_status::authenticated; }

    /// True when the answer should be a fresh challenge with stale=true (RFC 7616 §3.3): the
    /// client knew the password but used an expired nonce (or one whose nc is no longer
    /// tracked), so it may retry silently.
    bool stale() const noexcept { return reason == failure::stale_nonce; }
};

/// Challenges requests and verifies Digest credentials for one realm (RFC 3261 §22, RFC 7616,
/// RFC 8760). Works on header values, method names and URI strings only; the caller picks 401 /
/// WWW-Authenticate or 407 / Proxy-Authenticate and copies the values in.
///
/// Ownership: holds a reference to the credential_store, which must outlive the server, and
/// owns its nonce_service.
/// @par Thread safety
/// None: `challenge` and `verify` update the nonce_service's nc table and call the
/// credential_store, so use the server on the thread that owns the store (the event loop).
class digest_server {
  public:
    /// Throws std::invalid_argument on a bad config (control plane). `nonces` replaces the
    /// default signed_nonce_service built from `config.nonce` (tests inject a fake here).
    digest_server(server_config config, const credential_store& users,
                  std::unique_ptr<nonce_service> nonces = nullptr);

    /// One header value per algorithm offered to `source` (see algorithms_for), in configured
    /// order, sharing one fresh nonce issued to that address:
    /// `Digest realm="pbx.local", nonce="...", opaque="...", algorithm=MD5, qop="auth"`, plus
    /// `, stale=true` when `stale` (answering a stale_nonce failure).
    std::vector<std::string> challenge(const boost::asio::ip::address& source,
                                       std::chrono::system_clock::time_point now,
                                       bool stale = false);

    /// Verifies the request's (Proxy-)Authorization values.
    /// @param credentials every value of the credentials header the request carries; a request
    ///        may carry several for different realms (RFC 3261 §22.3), and the first Digest one
    ///        for our realm is used.
    /// @param method the request method, as in the request line ("INVITE").
    /// @param request_uri the Request-URI as written in the request line.
    /// @param source the address the request came from (not the port).
    /// Checks, in this order: syntax and required parameters (malformed_credentials), realm
    /// (realm_mismatch), algorithm and qop offered to `source` (unsupported_algorithm; no qop at
    /// all: qop_missing unless allow_rfc2069), nonce
    /// signature and opaque (invalid_nonce), user (unknown_user; unsupported_algorithm when the
    /// user has no password or HA1 for the algorithm), uri (uri_mismatch), response
    /// (wrong_password); then, the digest being right: nonce from another address
    /// (replayed_nonce), nonce expired or no longer tracked (stale_nonce), nc not above the last
    /// one seen or a qop-less nonce used twice (replayed_nonce). Only a correct digest can be
    /// stale or a replay: anything else is the failure found before. A success records the nc.
    /// Never throws on any input.
    verify_result verify(std::span<const std::string_view> credentials, std::string_view method,
                         std::string_view request_uri, const boost::asio::ip::address& source,
                         std::chrono::system_clock::time_point now);

    /// Convenience for any range of string-like values (std::vector<std::string>, ...).
    template <std::ranges::input_range Range>
    requires std::convertible_to<std::ranges::range_reference_t<Range>, std::string_view> &&
        (!std::convertible_to<const Range&, std::span<const std::string_view>>)verify_result
        verify(const Range& credentials, std::string_view method, std::string_view request_uri,
               const boost::asio::ip::address& source,
               std::chrono::system_clock::time_point now) {
        std::vector<std::string_view> views;
        for (auto&& v : credentials) views.emplace_back(v);
        return verify(std::span<const std::string_view>(views), method, request_uri, source, now);
    }

    /// The algorithms challenges to `source` offer: the first matching algorithms_for rule's,
    /// else the global list.
    const std::vector<algorithm>& algorithms_for(const boost::asio::ip::address& source) const
        noexcept;

    const std::string& realm() const noexcept { return config_.realm; }
    const std::string& opaque() const noexcept { return config_.opaque; }
    const std::vector<algorithm>& algorithms() const noexcept { return config_.algorithms; }

  private:
    static void check_algorithms(const std::vector<algorithm>& algs, const std::string& where);

    server_config config_;
    const credential_store& users_;
    std::unique_ptr<nonce_service> nonces_;
};

}  // namespace b2b::auth
