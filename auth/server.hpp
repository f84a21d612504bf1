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
#include "auth/nonce.hpp"

namespace b2b::auth {

/// Settings of a digest_server. Checked by its constructor.
struct server_config {
    /// Our realm (RFC 3261 §22.1), e.g. "pbx.local". Must not be empty.
    std::string realm;
    /// Algorithms to offer, one challenge each, in this order (RFC 7616 §3.7, RFC 8760 §2.4:
    /// most preferred first). Some clients (SIPp 3.6.1) only read the first challenge and only
    /// do MD5, so operators may need MD5 first. Must be non-empty, supported, without repeats.
    std::vector<algorithm> algorithms{algorithm::sha256, algorithm::md5};
    /// Nonce secret and lifetime; see nonce_options.
    nonce_options nonce;
    /// The opaque value sent in every challenge. Empty = 16 random bytes (hex) per server.
    std::string opaque;
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

    bool authenticated() const noexcept { return status == verify_status::authenticated; }

    /// True when the answer should be a fresh challenge with stale=true (RFC 7616 §3.3): the
    /// client knew the password but used an expired nonce, so it may retry silently.
    bool stale() const noexcept { return reason == failure::stale_nonce; }
};

/// Challenges requests and verifies Digest credentials for one realm (RFC 3261 §22, RFC 7616,
/// RFC 8760). Works on header values, method names and URI strings only; the caller picks 401 /
/// WWW-Authenticate or 407 / Proxy-Authenticate and copies the values in.
///
/// Ownership: holds a reference to the credential_store, which must outlive the server, and
/// owns its nonce_service.
/// @par Thread safety
/// `challenge` and `verify` are const and touch no mutable state of their own, but they call the
/// credential_store, so use the server on the thread that owns the store (the event loop).
class digest_server {
  public:
    /// Throws std::invalid_argument on a bad config (control plane). `nonces` replaces the
    /// default signed_nonce_service built from `config.nonce` (tests inject a fake here).
    digest_server(server_config config, const credential_store& users,
                  std::unique_ptr<nonce_service> nonces = nullptr);

    /// One header value per configured algorithm, in configured order, sharing one fresh nonce:
    /// `Digest realm="pbx.local", nonce="...", opaque="...", algorithm=MD5, qop="auth"`, plus
    /// `, stale=true` when `stale` (answering a stale_nonce failure).
    std::vector<std::string> challenge(std::chrono::system_clock::time_point now,
                                       bool stale = false) const;

    /// Verifies the request's (Proxy-)Authorization values.
    /// @param credentials every value of the credentials header the request carries; a request
    ///        may carry several for different realms (RFC 3261 §22.3), and the first Digest one
    ///        for our realm is used.
    /// @param method the request method, as in the request line ("INVITE").
    /// @param request_uri the Request-URI as written in the request line.
    /// Checks, in this order: syntax and required parameters (malformed_credentials), realm
    /// (realm_mismatch), algorithm and qop (unsupported_algorithm), nonce signature and opaque
    /// (invalid_nonce), nonce age (stale_nonce), user (unknown_user; unsupported_algorithm when
    /// the user has no password or HA1 for the algorithm), uri (uri_mismatch), response
    /// (wrong_password). Never throws on any input.
    verify_result verify(std::span<const std::string_view> credentials, std::string_view method,
                         std::string_view request_uri,
                         std::chrono::system_clock::time_point now) const;

    /// Convenience for any range of string-like values (std::vector<std::string>, ...).
    template <std::ranges::input_range Range>
    requires std::convertible_to<std::ranges::range_reference_t<Range>, std::string_view> &&
        (!std::convertible_to<const Range&, std::span<const std::string_view>>)verify_result
        verify(const Range& credentials, std::string_view method, std::string_view request_uri,
               std::chrono::system_clock::time_point now) const {
        std::vector<std::string_view> views;
        for (auto&& v : credentials) views.emplace_back(v);
        return verify(std::span<const std::string_view>(views), method, request_uri, now);
    }

    const std::string& realm() const noexcept { return config_.realm; }
    const std::string& opaque() const noexcept { return config_.opaque; }
    const std::vector<algorithm>& algorithms() const noexcept { return config_.algorithms; }

  private:
    bool offered(algorithm a) const noexcept;

    server_config config_;
    const credential_store& users_;
    std::unique_ptr<nonce_service> nonces_;
};

}  // namespace b2b::auth
