// Names, hints and the error category of the authentication failure vocabulary.
#include "auth/failure.hpp"

#include <array>
#include <boost/throw_exception.hpp>
#include <stdexcept>

namespace b2b::auth {
namespace {

constexpr std::array all_values{
    failure::unknown_user,          failure::wrong_password,        failure::stale_nonce,
    failure::invalid_nonce,         failure::realm_mismatch,        failure::uri_mismatch,
    failure::unsupported_algorithm, failure::malformed_credentials, failure::rejected,
    failure::no_credentials,        failure::challenge_loop,        failure::replayed_nonce,
    failure::challenge_unanswered,  failure::forbidden,             failure::source_not_allowed,
    failure::qop_missing,
};

constexpr std::array downstream_values{
    failure::unknown_user,          failure::wrong_password,        failure::stale_nonce,
    failure::invalid_nonce,         failure::realm_mismatch,        failure::uri_mismatch,
    failure::unsupported_algorithm, failure::malformed_credentials, failure::replayed_nonce,
    failure::challenge_unanswered,  failure::source_not_allowed,    failure::qop_missing,
};

constexpr std::array upstream_values{
    failure::rejected,
    failure::no_credentials,
    failure::challenge_loop,
    failure::unsupported_algorithm,
    failure::forbidden,
};

static_assert(all_values.size() == failure_count - 1, "all_values must list every failure");

// Boost's error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor cannot tell apart.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
  public:
    // A fixed id keeps the category comparable across shared objects (Boost.System idiom).
    constexpr category() noexcept : error_category(0x6232622e61757401ULL) {}

    const char* name() const noexcept override { return "b2b.auth"; }

    std::string message(int ev) const override {
        if (ev <= 0 || ev >= static_cast<int>(failure_count))
            return "unknown auth failure";
        return std::string(hint(static_cast<failure>(ev)));
    }
};
#pragma GCC diagnostic pop

}  // namespace

std::string_view to_string(failure f) noexcept {
    switch (f) {
        case failure::unknown_user:
            return "unknown_user";
        case failure::wrong_password:
            return "wrong_password";
        case failure::stale_nonce:
            return "stale_nonce";
        case failure::invalid_nonce:
            return "invalid_nonce";
        case failure::realm_mismatch:
            return "realm_mismatch";
        case failure::uri_mismatch:
            return "uri_mismatch";
        case failure::unsupported_algorithm:
            return "unsupported_algorithm";
        case failure::malformed_credentials:
            return "malformed_credentials";
        case failure::rejected:
            return "rejected";
        case failure::no_credentials:
            return "no_credentials";
        case failure::challenge_loop:
            return "challenge_loop";
        case failure::replayed_nonce:
            return "replayed_nonce";
        case failure::challenge_unanswered:
            return "challenge_unanswered";
        case failure::forbidden:
            return "forbidden";
        case failure::source_not_allowed:
            return "source_not_allowed";
        case failure::qop_missing:
            return "qop_missing";
    }
    return "unknown";
}

std::string_view hint(failure f) noexcept {
    switch (f) {
        case failure::unknown_user:
            return "The PBX authenticated with a user name that is not configured here; check the "
                   "user name on the PBX or add the user.";
        case failure::wrong_password:
            return "The PBX sent the right user name but its password does not match the one "
                   "configured here; check the trunk/registration password on the PBX.";
        case failure::stale_nonce:
            return "The PBX answered an expired challenge and was challenged again automatically; "
                   "only frequent occurrences matter (long delays or clock steps).";
        case failure::invalid_nonce:
            return "The PBX answered with a nonce or opaque value we did not issue (corrupted, "
                   "forged, or from before a restart with another nonce secret); check for devices "
                   "rewriting SIP headers.";
        case failure::realm_mismatch:
            return "The PBX sent credentials for another realm; set the realm/domain on the PBX "
                   "to the realm configured here.";
        case failure::uri_mismatch:
            return "The uri in the PBX's credentials differs from the request's URI; a proxy or "
                   "SIP ALG between the PBX and us is probably rewriting requests.";
        case failure::unsupported_algorithm:
            return "The other side uses a digest algorithm or qop we do not support or did not "
                   "offer (we do MD5, SHA-256, SHA-512-256 with qop=auth); align the algorithm "
                   "settings on both sides.";
        case failure::malformed_credentials:
            return "The PBX sent an Authorization/Proxy-Authorization header we cannot parse or "
                   "that lacks required fields; check the PBX software or devices rewriting SIP.";
        case failure::rejected:
            return "The trunk provider refused our credentials; check the user name and password "
                   "configured for this trunk against the provider's account.";
        case failure::no_credentials:
            return "The trunk provider asks for authentication but this trunk has no credentials "
                   "configured; add the user name and password from the provider.";
        case failure::challenge_loop:
            return "The trunk provider kept sending fresh (stale) challenges and we stopped "
                   "retrying to avoid a loop; check the provider's status or contact them.";
        case failure::replayed_nonce:
            return "A correct answer to one of our challenges was used again (same or lower nonce "
                   "count, or from another address than the one challenged) and was challenged "
                   "again; occasional cases are NAT rebinding, many mean captured SIP traffic is "
                   "being replayed, so check who can see the signalling.";
        case failure::challenge_unanswered:
            return "A PBX left several of our challenges unanswered; it probably does not support "
                   "the offered digest algorithm (offer MD5 via downstream.algorithms or "
                   "downstream.algorithms_for) or has no credentials for this realm.";
        case failure::forbidden:
            return "The trunk provider answered 403 Forbidden to our credentials; check the "
                   "account's user name, password and allowed source address with the provider.";
        case failure::source_not_allowed:
            return "The request came from an address outside downstream.allowed_sources (and is "
                   "no trunk's address); add the PBX's address or network there, or check for a scan.";
        case failure::qop_missing:
            return "The PBX answered our qop=auth challenge in the old RFC 2069 form (no qop, cnonce or nc), "
                   "which has no replay protection; update the PBX, or set security.allow_rfc2069: true "
                   "for old devices.";
    }
    return "Unknown authentication failure.";
}

std::span<const failure> all_failures() noexcept {
    return all_values;
}
std::span<const failure> downstream_failures() noexcept {
    return downstream_values;
}
std::span<const failure> upstream_failures() noexcept {
    return upstream_values;
}

const boost::system::error_category& auth_category() noexcept {
    static const category instance;
    return instance;
}

std::string auth_error::what() const {
    std::string out(to_string(reason));
    if (!detail.empty()) {
        out += ": ";
        out += detail;
    }
    return out;
}

void throw_exception_from_error(const auth_error& e, const boost::source_location& loc) {
    boost::throw_exception(std::runtime_error(e.what()), loc);
}

}  // namespace b2b::auth
