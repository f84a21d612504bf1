// Authentication failure vocabulary: the `b2b.auth` error category, names, operator hints.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace b2b::auth {

/// Why an authentication attempt failed. This is a closed set: each value has a stable
/// snake_case name (`to_string`) used as a metrics label, in logs and in the admin API, and a
/// one-line hint for operators (`hint`). Values are never renumbered or renamed.
enum class failure : std::uint8_t {
    // Downstream: we verify the PBX's credentials (digest_server).
    unknown_user = 1,       ///< user name not in the credential store
    wrong_password,         ///< response does not match the stored password / HA1
    stale_nonce,            ///< our nonce is genuine but expired: re-challenge with stale=true
    invalid_nonce,          ///< nonce or opaque not issued by us (forged, corrupted, other secret)
    realm_mismatch,         ///< Digest credentials present, none for our realm
    uri_mismatch,           ///< credentials' uri differs from the Request-URI
    unsupported_algorithm,  ///< algorithm or qop we do not support or did not offer (both sides)
    malformed_credentials,  ///< credentials unparseable or missing a required parameter
    // Upstream: we answer the trunk's challenges (request_authenticator).
    rejected,        ///< provider challenged again (not stale) or sent 403 after our credentials
    no_credentials,  ///< provider challenged but no credentials are configured for the trunk
    challenge_loop,  ///< provider kept answering with stale challenges; we gave up
    // Appended later; values are never renumbered.
    replayed_nonce,        ///< downstream: a correct answer reused (nc not higher, other source)
    challenge_unanswered,  ///< downstream: a source left several challenges unanswered
    forbidden,             ///< upstream: the trunk answered 403 to our credentials
    source_not_allowed,    ///< downstream: the source is outside downstream.allowed_sources
    qop_missing,           ///< downstream: an RFC 2069 answer (no qop) to our qop=auth challenge
};

/// One more than the highest value, so `std::array<T, failure_count>` can be indexed by failure.
inline constexpr std::size_t failure_count = static_cast<std::size_t>(failure::qop_missing) + 1;

/// Stable snake_case name, e.g. "wrong_password". Never empty for a declared value.
std::string_view to_string(failure f) noexcept;

/// One line of plain English telling an operator what to check.
std::string_view hint(failure f) noexcept;

/// Every value, in declaration order (so metrics can pre-create all series at zero).
std::span<const failure> all_failures() noexcept;
/// The downstream values: what `digest_server::verify` can produce, plus challenge_unanswered,
/// which the downstream policy counts per source.
std::span<const failure> downstream_failures() noexcept;
/// The values `request_authenticator` can produce (includes unsupported_algorithm).
std::span<const failure> upstream_failures() noexcept;

/// The `b2b.auth` category; `message()` is the hint.
const boost::system::error_category& auth_category() noexcept;

inline boost::system::error_code make_error_code(failure f) noexcept {
    return {static_cast<int>(f), auth_category()};
}

/// A failure plus a human-readable detail for logs, e.g.
/// "response mismatch for user pbxuser (algorithm MD5)". Details never contain secrets.
struct auth_error {
    failure reason = failure::malformed_credentials;
    std::string detail;

    /// "wrong_password: response mismatch for user pbxuser (algorithm MD5)".
    std::string what() const;
};

template <class T>
using auth_result = boost::system::result<T, auth_error>;

/// Boost.System calls this when `.value()` is used on a failed auth_result.
[[noreturn]] void throw_exception_from_error(const auth_error& e,
                                             const boost::source_location& loc);

}  // namespace b2b::auth

template <>
struct boost::system::is_error_code_enum<b2b::auth::failure> : std::true_type {};
