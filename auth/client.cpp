// Digest client: challenge selection, Authorization values, and the per-request retry machine.
#include "auth/client.hpp"

#include <utility>

#include "auth/detail/crypto.hpp"
#include "auth/detail/text.hpp"

namespace b2b::auth {
namespace {

// Higher is stronger; the order of RFC 8760 §2.4's preference list.
int strength(algorithm a) noexcept {
    switch (a) {
        case algorithm::sha512_256:
            return 3;
        case algorithm::sha256:
            return 2;
        case algorithm::md5:
            return 1;
        case algorithm::md5_sess:
        case algorithm::sha256_sess:
        case algorithm::sha512_256_sess:
            return 0;
    }
    return 0;
}

std::string nc_hex(std::uint32_t nc) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = digits[nc & 0x0F];
        nc >>= 4;
    }
    return out;
}

// Collects why values were skipped, for the unsupported_algorithm detail. Bounded, because a
// hostile response could carry many challenge headers.
class skip_notes {
  public:
    void add(std::string note) {
        ++count_;
        if (count_ <= max_notes) {
            if (!text_.empty()) text_ += "; ";
            text_ += note;
        }
    }
    std::string text() const {
        if (count_ == 0) return "no challenge";
        std::string out = text_;
        if (count_ > max_notes) out += "; and " + std::to_string(count_ - max_notes) + " more";
        return out;
    }

  private:
    static constexpr std::size_t max_notes = 4;
    std::size_t count_ = 0;
    std::string text_;
};

}  // namespace

auth_result<chosen_challenge> select_challenge(std::span<const std::string_view> values) {
    std::optional<chosen_challenge> best;
    int best_rank = -1;
    skip_notes notes;
    for (std::string_view value : values) {
        auto parsed = parse_challenge(value);
        if (!parsed) {
            notes.add(parsed.error().code == parse_errc::not_digest
                          ? "non-Digest challenge (" + parsed.error().detail + ")"
                          : "unparseable challenge (" + parsed.error().what() + ")");
            continue;
        }
        // value() cannot throw here; unlike operator-> it lets GCC see the value is there.
        digest_challenge& ch = parsed.value();
        // RFC 7616 §3.3: no algorithm parameter means MD5.
        const auto alg = ch.algorithm_token.empty() ? std::optional(algorithm::md5)
                                                    : parse_algorithm(ch.algorithm_token);
        if (!alg) {
            notes.add("unknown algorithm '" + detail::printable(ch.algorithm_token) + "'");
            continue;
        }
        if (!is_supported(*alg)) {
            notes.add("algorithm " + std::string(to_string(*alg)) + " not supported");
            continue;
        }
        // No qop-options at all is the RFC 2069 form, which we can answer; qop-options without
        // "auth" (auth-int only) we cannot.
        const bool qop_auth = ch.offers_qop_auth();
        if (!ch.qop.empty() && !qop_auth) {
            notes.add("qop offered without auth");
            continue;
        }
        const int rank = strength(*alg) * 2 + (qop_auth ? 1 : 0);
        if (rank > best_rank) {
            best_rank = rank;
            best = chosen_challenge{std::move(ch), *alg, qop_auth};
        }
    }
    if (!best)
        return auth_error{failure::unsupported_algorithm,
                          "no usable Digest challenge: " + notes.text()};
    return std::move(best).value();
}

std::string make_authorization(const chosen_challenge& chosen, const client_credentials& creds,
                               std::string_view method, std::string_view uri, std::uint32_t nc,
                               std::string_view cnonce) {
    const digest_challenge& ch = chosen.challenge;
    const algorithm alg = chosen.alg;
    digest_credentials d;
    // RFC 7616 §3.4.4: with userhash the header carries H(username ":" realm), while A1 still
    // uses the plain name.
    d.username = ch.userhash ? compute_userhash(alg, creds.username, ch.realm) : creds.username;
    d.userhash = ch.userhash;
    d.realm = ch.realm;
    d.nonce = ch.nonce;
    d.uri = std::string(uri);
    // Echo the algorithm in its canonical spelling; leave it out if the challenge did, as
    // RFC 2617 clients do.
    if (!ch.algorithm_token.empty()) d.algorithm_token = std::string(to_string(alg));
    d.opaque = ch.opaque;

    const std::string ha1 = compute_ha1(alg, creds.username, ch.realm, creds.password);
    const std::string ha2 = compute_ha2(alg, method, uri);
    if (chosen.qop_auth) {
        d.qop = "auth";
        d.nc = nc_hex(nc);
        d.cnonce = std::string(cnonce);
        d.response = compute_response(alg, {.ha1 = ha1,
                                            .nonce = ch.nonce,
                                            .nc = d.nc,
                                            .cnonce = d.cnonce,
                                            .qop = "auth",
                                            .ha2 = ha2});
    } else {
        d.response = compute_response(
            alg, {.ha1 = ha1, .nonce = ch.nonce, .nc = {}, .cnonce = {}, .qop = {}, .ha2 = ha2});
    }
    return to_header_value(d);
}

request_authenticator::request_authenticator(client_credentials credentials, std::string method,
                                             std::string request_uri,
                                             request_authenticator_options options)
    : credentials_(std::move(credentials)),
      method_(std::move(method)),
      request_uri_(std::move(request_uri)),
      options_(std::move(options)) {}

client_action request_authenticator::on_response(unsigned status_code,
                                                 std::span<const std::string_view> challenges) {
    const bool challenged = status_code == 401 || status_code == 407;
    const bool proxy = status_code == 407;
    switch (state_) {
        case state::initial: {
            if (!challenged) return {};
            if (credentials_.empty())
                return fail(failure::no_credentials, "trunk answered " +
                                                         std::to_string(status_code) +
                                                         " but no credentials are configured");
            auto chosen = select_challenge(challenges);
            if (!chosen) return fail(failure::unsupported_algorithm, chosen.error().detail);
            state_ = state::credentials_sent;
            return answer(chosen.value(), proxy);
        }
        case state::credentials_sent: {
            if (status_code == 403)
                return fail(failure::rejected, "403 after credentials for user " +
                                                   credentials_.username + " were sent");
            if (!challenged) return {};
            auto chosen = select_challenge(challenges);
            // RFC 7616 §3.3 / RFC 2617 §3.2.1: only stale=true says "right password, old
            // nonce"; any other challenge after our credentials means they were refused.
            if (!chosen || !chosen.value().challenge.stale)
                return fail(failure::rejected, "challenged again (" + std::to_string(status_code) +
                                                   ") after credentials for user " +
                                                   credentials_.username + " were sent");
            if (stale_retries_ >= options_.max_stale_retries)
                return fail(failure::challenge_loop,
                            "still stale after " + std::to_string(stale_retries_) + " retries");
            ++stale_retries_;
            return answer(chosen.value(), proxy);
        }
        case state::failed: {
            // Terminal: never produce credentials again.
            if (!challenged && status_code != 403) return {};
            client_action again;
            again.what = client_action::kind::fail;
            again.reason = failure_;
            again.detail = failure_detail_;
            return again;
        }
    }
    return {};
}

client_action request_authenticator::answer(const chosen_challenge& chosen, bool proxy) {
    // nc counts requests per nonce (RFC 7616 §3.4): restart at 1 for a new nonce.
    const std::uint32_t nc =
        last_answer_ && last_answer_->chosen.challenge.nonce == chosen.challenge.nonce ? last_answer_->nc + 1 : 1;
    last_answer_ = answered_challenge{chosen, proxy, nc};
    const std::string cnonce =
        options_.make_cnonce ? options_.make_cnonce() : detail::random_hex(8);
    client_action a;
    a.what = client_action::kind::resend;
    a.proxy = proxy;
    a.header_value = make_authorization(chosen, credentials_, method_, request_uri_, nc, cnonce);
    a.detail = "answering " + std::string(to_string(chosen.alg)) + " challenge for realm '" +
               detail::printable(chosen.challenge.realm) + "'";
    return a;
}

client_action request_authenticator::fail(failure reason, std::string detail) {
    state_ = state::failed;
    failure_ = reason;
    failure_detail_ = detail;
    client_action a;
    a.what = client_action::kind::fail;
    a.reason = reason;
    a.detail = std::move(detail);
    return a;
}

std::string_view to_string(request_authenticator::state s) noexcept {
    switch (s) {
        case request_authenticator::state::initial:
            return "initial";
        case request_authenticator::state::credentials_sent:
            return "credentials_sent";
        case request_authenticator::state::failed:
            return "failed";
    }
    return "unknown";
}

}  // namespace b2b::auth
