// Digest server: builds challenges and verifies credentials in the documented check order.
#include "auth/server.hpp"

#include <algorithm>
#include <charconv>
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

// nc-value as a number; malformed_reason has checked it is 8 hex digits.
std::uint32_t nc_value(std::string_view nc) noexcept {
    std::uint32_t v = 0;
    std::from_chars(nc.data(), nc.data() + nc.size(), v, 16);
    return v;
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
    check_algorithms(config_.algorithms, "");
    for (std::size_t i = 0; i < config_.algorithms_for.size(); ++i) {
        const auto where = "algorithms_for[" + std::to_string(i) + "]: ";
        if (config_.algorithms_for[i].sources.empty())
            throw std::invalid_argument(where + "at least one source network is required");
        check_algorithms(config_.algorithms_for[i].algorithms, where);
    }
    if (has_line_break(config_.opaque))
        throw std::invalid_argument("digest opaque must not contain CR, LF or NUL");
    if (config_.opaque.empty()) {
        if (config_.nonce.secret.empty()) {
            config_.opaque = detail::random_hex(16);
        } else {
            static constexpr std::string_view label = "opaque";
            const auto mac = detail::hmac_sha256(
                config_.nonce.secret,
                std::span(reinterpret_cast<const std::uint8_t*>(label.data()), label.size()));
            config_.opaque = detail::to_hex(std::span(mac).first(16));
        }
    }
    if (!nonces_) nonces_ = std::make_unique<signed_nonce_service>(config_.nonce);
}

void digest_server::check_algorithms(const std::vector<algorithm>& algs, const std::string& where) {
    if (algs.empty())
        throw std::invalid_argument(where + "at least one digest algorithm must be offered");
    std::vector<algorithm> seen;
    for (const algorithm a : algs) {
        if (!is_supported(a))
            throw std::invalid_argument(where + "digest algorithm " + std::string(to_string(a)) +
                                        " is not supported");
        if (std::find(seen.begin(), seen.end(), a) != seen.end())
            throw std::invalid_argument(where + "digest algorithm " + std::string(to_string(a)) +
                                        " is listed twice");
        seen.push_back(a);
    }
}

const std::vector<algorithm>& digest_server::algorithms_for(
    const boost::asio::ip::address& source) const noexcept {
    for (const auto& rule : config_.algorithms_for)
        for (const auto& net : rule.sources)
            if (net.contains(source)) return rule.algorithms;
    return config_.algorithms;
}

std::vector<std::string> digest_server::challenge(const boost::asio::ip::address& source,
                                                  std::chrono::system_clock::time_point now,
                                                  bool stale) {
    const auto& offer = algorithms_for(source);
    digest_challenge c;
    c.realm = config_.realm;
    c.nonce = nonces_->issue(source, now);
    c.opaque = config_.opaque;
    c.qop = {"auth"};
    c.stale = stale;
    std::vector<std::string> out;
    out.reserve(offer.size());
    // RFC 7616 §3.7 / RFC 8760 §2.4: one challenge per algorithm, most preferred first, all
    // sharing the nonce, so the client may pick any of them.
    for (algorithm a : offer) {
        c.algorithm_token = std::string(to_string(a));
        out.push_back(to_header_value(c));
    }
    return out;
}

verify_result digest_server::verify(std::span<const std::string_view> credentials,
                                    std::string_view method, std::string_view request_uri,
                                    const boost::asio::ip::address& source,
                                    std::chrono::system_clock::time_point now) {
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
        if (any_digest) {
            auto r = fail(failure::realm_mismatch, "credentials for realm " + quote(other_realm) +
                                                       ", expected " + quote(config_.realm));
            r.realm = other_realm;
            return r;
        }
        return verify_result{};  // missing: challenge
    }
    const digest_credentials& c = *chosen;

    // 1. Malformed.
    if (auto why = malformed_reason(c); !why.empty()) {
        auto r = fail(failure::malformed_credentials, std::move(why), c.username);
        r.realm = c.realm;
        return r;
    }

    // The nonce is looked at now (check records nothing) so that every result says whether the
    // client answered one of our challenges; its verdict is reported in the order below.
    const nonce_check nonce = nonces_->check(c.nonce, source, now);
    auto failed = [&](failure reason, std::string detail, std::optional<algorithm> a = {}) {
        verify_result r = fail(reason, std::move(detail), c.username, a);
        r.answered_our_nonce = nonce.status != nonce_status::invalid;
        r.realm = c.realm;
        r.algorithm_token = c.algorithm_token;
        return r;
    };

    // 2. Realm matched above. 3. Algorithm and qop: supported and offered to this source.
    const auto alg = c.algorithm_token.empty() ? std::optional(algorithm::md5)
                                               : parse_algorithm(c.algorithm_token);
    if (!alg)
        return failed(failure::unsupported_algorithm,
                      "unknown algorithm " + quote(c.algorithm_token));
    if (!is_supported(*alg))
        return failed(failure::unsupported_algorithm,
                      "algorithm " + std::string(to_string(*alg)) +
                          " is not supported (session variants are not implemented)",
                      alg);
    const auto& offer = algorithms_for(source);
    if (std::find(offer.begin(), offer.end(), *alg) == offer.end())
        return failed(failure::unsupported_algorithm,
                      "algorithm " + std::string(to_string(*alg)) +
                          (c.algorithm_token.empty() ? " (no algorithm parameter)" : "") +
                          " was not offered to " + source.to_string() +
                          " (offered: " + join_algorithms(offer) + ")",
                      alg);
    if (c.qop && !iequals(*c.qop, "auth"))
        return failed(failure::unsupported_algorithm,
                      "qop " + quote(*c.qop) + " is not supported (offered qop=auth)", alg);
    // We always offer qop=auth (RFC 7616 §3.3: the client MUST then use it). The RFC 2069 form
    // answers without it, so it carries no nc and a captured answer is stopped only by the
    // nonce's single use: refused before any hashing unless the operator allows old devices.
    if (!c.qop && !config_.allow_rfc2069)
        return failed(failure::qop_missing,
                      "answer without qop (RFC 2069) to a qop=auth challenge from user " +
                          detail::printable(c.username),
                      alg);

    // 4. Nonce signature and opaque: anything we did not issue is invalid.
    if (nonce.status == nonce_status::invalid)
        return failed(failure::invalid_nonce, "nonce was not issued by this server", alg);
    // RFC 7616 §3.3: the client returns opaque unchanged; ours is fixed per server.
    if (c.opaque && !detail::equal_constant_time(*c.opaque, config_.opaque))
        return failed(failure::invalid_nonce, "opaque does not match the one we sent", alg);

    // 5. Nonce age, source and count wait for step 9: only a client that knows the password
    // deserves stale=true (RFC 7616 §3.3), and only a correct answer can be a replay.

    // 6. User.
    if (c.userhash)
        return failed(failure::unknown_user, "client sent userhash=true, which we do not offer",
                      alg);
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
        return failed(failure::unknown_user, "unknown user " + quote(c.username), alg);
    }
    if (!user->can_verify(*alg))
        return failed(failure::unsupported_algorithm,
                      "user " + detail::printable(c.username) +
                          " has neither a password nor an HA1 for " +
                          std::string(to_string(*alg)),
                      alg);

    // 7. The digest-uri must name the request's target (RFC 7616 §3.4.6, RFC 2617 §3.2.2.5),
    // otherwise a captured answer could be replayed against another URI.
    if (!detail::uri_matches(c.uri, request_uri))
        return failed(failure::uri_mismatch,
                      "uri " + quote(c.uri) + " differs from Request-URI " + quote(request_uri),
                      alg);

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
        return failed(failure::wrong_password,
                      "response mismatch for user " + detail::printable(c.username) +
                          " (algorithm " + std::string(to_string(*alg)) + ")",
                      alg);

    // 9. The digest is right. A nonce signed for another address is a captured answer sent
    // from elsewhere: a fresh challenge, no stale=true, since this sender may not know the
    // password at all.
    if (nonce.status == nonce_status::other_source)
        return failed(failure::replayed_nonce,
                      "nonce issued to " +
                          (nonce.issued_to ? nonce.issued_to->to_string() : std::string("?")) +
                          " presented from " + source.to_string() + " by user " +
                          detail::printable(c.username),
                      alg);
    if (nonce.status == nonce_status::stale)
        return failed(failure::stale_nonce, "nonce expired", alg);
    if (nonce.status == nonce_status::untracked)
        return failed(failure::stale_nonce,
                      "nonce no longer tracked (newer nonces took its nc slot)", alg);
    const auto nc = c.qop ? std::optional(nc_value(c.nc)) : std::nullopt;
    switch (nonces_->use(nonce, nc)) {
        case nonce_use::accepted:
            break;
        case nonce_use::replayed:
            return failed(failure::replayed_nonce,
                          (nc ? "nc " + detail::printable(c.nc) +
                                    " is not above the last one seen for this nonce"
                              : std::string("nonce without qop was already used")) +
                              " (user " + detail::printable(c.username) + " from " +
                              source.to_string() + ")",
                          alg);
        case nonce_use::untracked:
            return failed(failure::stale_nonce,
                          "nonce no longer tracked (newer nonces took its nc slot)", alg);
    }

    verify_result ok;
    ok.status = verify_status::authenticated;
    ok.username = c.username;
    ok.alg = alg;
    ok.realm = c.realm;
    ok.algorithm_token = c.algorithm_token;
    ok.answered_our_nonce = true;
    return ok;
}

}  // namespace b2b::auth
