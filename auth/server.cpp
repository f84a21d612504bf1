// Digest server: builds challenges and verifies credentials in the documented check order.
#include "auth/server.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "auth/detail/crypto.hpp"
#include "auth/detail/text.hpp"
#include "auth/detail/uri_match.hpp"
#include "auth/digest_header.hpp"

namespace b2b::auth {
namespace {

using detail::iequals;

verify_result fail(failure reason, std::string detail, std::string username = {},
                   std::optional<algorithm> alg = std::nullopt) {
    verify_result r;
    r.status = verify_status::failed;
    r.reason = reason;
    r.detail = std::move(detail);
    r.username = std::move(username);
    r.alg = alg;
    return r;
}

bool has_line_break(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool is_nc(std::string_view nc) noexcept {
    // RFC 7616 §3.4: nc-value = 8LHEX. Upper-case hex is accepted: it is used verbatim in the
    // hash, so it cannot weaken anything.
    return nc.size() == 8 && std::all_of(nc.begin(), nc.end(), detail::is_hex_digit);
}

// Details end up in logs and the admin API; values the client chose are made printable.
std::string quote(std::string_view s) {
    return "'" + detail::printable(s) + "'";
}

// The first required parameter that is missing, or empty when all are there.
std::string_view missing_parameter(const digest_credentials& c) noexcept {
    if (c.username.empty()) return "username";
    if (c.realm.empty()) return "realm";
    if (c.nonce.empty()) return "nonce";
    if (c.uri.empty()) return "uri";
    if (c.response.empty()) return "response";
    return {};
}

// Syntax-level checks that make credentials malformed_credentials, or an empty string.
std::string malformed_reason(const digest_credentials& c) {
    if (auto missing = missing_parameter(c); !missing.empty())
        return "missing " + std::string(missing) + " parameter";
    if (c.qop) {
        // RFC 7616 §3.4: with qop, cnonce and nc MUST be sent.
        if (c.cnonce.empty()) return "qop without cnonce";
        if (c.nc.empty()) return "qop without nc";
        if (!is_nc(c.nc)) return "nc " + quote(c.nc) + " is not 8 hex digits";
        if (!iequals(*c.qop, "auth") && !iequals(*c.qop, "auth-int"))
            return "qop " + quote(*c.qop) + " is not auth";
    }
    return {};
}

std::string join_algorithms(const std::vector<algorithm>& algs) {
    std::string out;
    for (algorithm a : algs) {
        if (!out.empty()) out += ", ";
        out += to_string(a);
    }
    return out;
}

}  // namespace

digest_server::digest_server(server_config config, const credential_store& users,
                             std::unique_ptr<nonce_service> nonces)
    : config_(std::move(config)), users_(users), nonces_(std::move(nonces)) {
    if (config_.realm.empty()) throw std::invalid_argument("digest realm must not be empty");
    if (has_line_break(config_.realm))
        throw std::invalid_argument("digest realm must not contain CR, LF or NUL");
    if (config_.algorithms.empty())
        throw std::invalid_argument("at least one digest algorithm must be offered");
    std::vector<algorithm> seen;
    for (const algorithm a : config_.algorithms) {
        if (!is_supported(a))
            throw std::invalid_argument("digest algorithm " + std::string(to_string(a)) +
                                        " is not supported");
        if (std::find(seen.begin(), seen.end(), a) != seen.end())
            throw std::invalid_argument("digest algorithm " + std::string(to_string(a)) +
                                        " is listed twice");
        seen.push_back(a);
    }
    if (has_line_break(config_.opaque))
        throw std::invalid_argument("digest opaque must not contain CR, LF or NUL");
    if (config_.opaque.empty()) config_.opaque = detail::random_hex(16);
    if (!nonces_) nonces_ = std::make_unique<signed_nonce_service>(config_.nonce);
}

bool digest_server::offered(algorithm a) const noexcept {
    return std::find(config_.algorithms.begin(), config_.algorithms.end(), a) !=
           config_.algorithms.end();
}

std::vector<std::string> digest_server::challenge(std::chrono::system_clock::time_point now,
                                                  bool stale) const {
    digest_challenge c;
    c.realm = config_.realm;
    c.nonce = nonces_->issue(now);
    c.opaque = config_.opaque;
    c.qop = {"auth"};
    c.stale = stale;
    std::vector<std::string> out;
    out.reserve(config_.algorithms.size());
    // RFC 7616 §3.7 / RFC 8760 §2.4: one challenge per algorithm, most preferred first, all
    // sharing the nonce, so the client may pick any of them.
    for (algorithm a : config_.algorithms) {
        c.algorithm_token = std::string(to_string(a));
        out.push_back(to_header_value(c));
    }
    return out;
}

verify_result digest_server::verify(std::span<const std::string_view> credentials,
                                    std::string_view method, std::string_view request_uri,
                                    std::chrono::system_clock::time_point now) const {
    // Pick the first Digest credentials for our realm (RFC 3261 §22.3: a request may carry
    // credentials for several proxies). Remember why others were skipped, for the failure.
    std::optional<digest_credentials> chosen;
    std::string malformed_detail;
    std::string other_realm;
    bool any_digest = false;
    for (std::string_view value : credentials) {
        auto parsed = parse_credentials(value);
        if (!parsed) {
            // Other schemes are not ours to judge; we answer them with a Digest challenge.
            if (parsed.error().code == parse_errc::not_digest) continue;
            if (malformed_detail.empty()) malformed_detail = parsed.error().what();
            continue;
        }
        any_digest = true;
        digest_credentials& c = parsed.value();  // cannot throw; keeps GCC's null analysis quiet
        if (c.realm.empty()) {
            if (malformed_detail.empty()) malformed_detail = "missing realm parameter";
            continue;
        }
        if (c.realm == config_.realm) {
            chosen = std::move(c);
            break;
        }
        // Credentials for another realm: malformed ones still count as malformed, so that a
        // single broken header is reported as such before its realm is judged.
        if (auto why = malformed_reason(c); !why.empty()) {
            if (malformed_detail.empty()) malformed_detail = std::move(why);
        } else if (other_realm.empty()) {
            other_realm = c.realm;
        }
    }
    if (!chosen) {
        if (!malformed_detail.empty())
            return fail(failure::malformed_credentials, std::move(malformed_detail));
        if (any_digest)
            return fail(failure::realm_mismatch, "credentials for realm " + quote(other_realm) +
                                                     ", expected " + quote(config_.realm));
        return verify_result{};  // missing: challenge
    }
    const digest_credentials& c = *chosen;

    // 1. Malformed.
    if (auto why = malformed_reason(c); !why.empty())
        return fail(failure::malformed_credentials, std::move(why), c.username);

    // 2. Realm matched above. 3. Algorithm and qop: supported and offered.
    const auto alg = c.algorithm_token.empty() ? std::optional(algorithm::md5)
                                               : parse_algorithm(c.algorithm_token);
    if (!alg)
        return fail(failure::unsupported_algorithm, "unknown algorithm " + quote(c.algorithm_token),
                    c.username);
    if (!is_supported(*alg))
        return fail(failure::unsupported_algorithm,
                    "algorithm " + std::string(to_string(*alg)) +
                        " is not supported (session variants are not implemented)",
                    c.username, alg);
    if (!offered(*alg))
        return fail(failure::unsupported_algorithm,
                    "algorithm " + std::string(to_string(*alg)) +
                        (c.algorithm_token.empty() ? " (no algorithm parameter)" : "") +
                        " was not offered (offered: " + join_algorithms(config_.algorithms) + ")",
                    c.username, alg);
    if (c.qop && !iequals(*c.qop, "auth"))
        return fail(failure::unsupported_algorithm,
                    "qop " + quote(*c.qop) + " is not supported (offered qop=auth)", c.username,
                    alg);

    // 4. Nonce signature and opaque: anything we did not issue is invalid.
    const nonce_status ns = nonces_->check(c.nonce, now);
    if (ns == nonce_status::invalid)
        return fail(failure::invalid_nonce, "nonce was not issued by this server", c.username, alg);
    // RFC 7616 §3.3: the client returns opaque unchanged; ours is fixed per server.
    if (c.opaque && !detail::equal_constant_time(*c.opaque, config_.opaque))
        return fail(failure::invalid_nonce, "opaque does not match the one we sent", c.username,
                    alg);

    // 5. Nonce age. The client may well know the password: it gets stale=true (RFC 7616 §3.3).
    if (ns == nonce_status::stale)
        return fail(failure::stale_nonce, "nonce expired", c.username, alg);

    // 6. User.
    if (c.userhash)
        return fail(failure::unknown_user, "client sent userhash=true, which we do not offer",
                    c.username, alg);
    const auto user = users_.find(c.username);
    if (!user) {
        // Do the hashing a known user costs, so that response time does not reveal which user
        // names exist (the compare itself is constant-time, the early return would not be).
        const std::string dummy_ha1 = compute_ha1(*alg, c.username, config_.realm, c.nonce);
        const std::string dummy_ha2 = compute_ha2(*alg, method, c.uri);
        const std::string dummy = compute_response(*alg, {.ha1 = dummy_ha1,
                                                          .nonce = c.nonce,
                                                          .nc = c.nc,
                                                          .cnonce = c.cnonce,
                                                          .qop = c.qop.value_or(""),
                                                          .ha2 = dummy_ha2});
        (void)detail::equal_constant_time(dummy, detail::to_lower(c.response));
        return fail(failure::unknown_user, "unknown user " + quote(c.username), c.username, alg);
    }
    if (!user->can_verify(*alg))
        return fail(failure::unsupported_algorithm,
                    "user " + detail::printable(c.username) +
                        " has neither a password nor an HA1 for " + std::string(to_string(*alg)),
                    c.username, alg);

    // 7. The digest-uri must name the request's target (RFC 7616 §3.4.6, RFC 2617 §3.2.2.5),
    // otherwise a captured answer could be replayed against another URI.
    if (!detail::uri_matches(c.uri, request_uri))
        return fail(failure::uri_mismatch,
                    "uri " + quote(c.uri) + " differs from Request-URI " + quote(request_uri),
                    c.username, alg);

    // 8. Response. HA2 uses the uri the client hashed, which step 7 tied to the Request-URI.
    const auto ha1 = user->ha1_for(*alg, config_.realm);
    const std::string ha2 = compute_ha2(*alg, method, c.uri);
    const std::string qop = c.qop ? *c.qop : std::string();
    const std::string expected = compute_response(*alg, {.ha1 = ha1 ? *ha1 : std::string_view(),
                                                         .nonce = c.nonce,
                                                         .nc = c.nc,
                                                         .cnonce = c.cnonce,
                                                         .qop = qop,
                                                         .ha2 = ha2});
    const std::string given = detail::to_lower(c.response);
    if (!ha1 || expected.empty() || !detail::equal_constant_time(expected, given))
        return fail(failure::wrong_password,
                    "response mismatch for user " + detail::printable(c.username) + " (algorithm " +
                        std::string(to_string(*alg)) + ")",
                    c.username, alg);

    verify_result ok;
    ok.status = verify_status::authenticated;
    ok.username = c.username;
    ok.alg = alg;
    return ok;
}

}  // namespace b2b::auth
