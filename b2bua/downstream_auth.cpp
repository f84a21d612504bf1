// Downstream digest authentication policy.
#include "b2bua/downstream_auth.hpp"

#include <algorithm>
#include <unordered_map>

#include "auth/credential_store.hpp"
#include "auth/server.hpp"
#include "auth/unanswered_challenges.hpp"

#include <stdexcept>

namespace b2b::b2bua {

namespace {

std::vector<auth::algorithm> to_algorithms(const std::vector<std::string>& names, const std::string& field) {
    std::vector<auth::algorithm> out;
    for (const auto& name : names) {
        auto alg = auth::parse_algorithm(name);
        if (!alg) throw config_error(field + ": '" + name + "' is not supported");
        out.push_back(*alg);
    }
    return out;
}

auth::server_config make_server_config(const config::downstream_section& cfg, bool allow_rfc2069,
                                       std::uint8_t worker) {
    auth::server_config out;
    out.realm = cfg.realm;
    out.allow_rfc2069 = allow_rfc2069;
    out.algorithms = to_algorithms(cfg.algorithms, "downstream.algorithms");
    for (std::size_t i = 0; i < cfg.algorithms_for.size(); ++i) {
        const auto& rule = cfg.algorithms_for[i];
        out.algorithms_for.push_back(
            {rule.sources,
             to_algorithms(rule.algorithms, "downstream.algorithms_for[" + std::to_string(i) + "].algorithms")});
    }
    out.nonce.secret = cfg.nonce_secret;
    out.nonce.ttl = cfg.nonce_ttl;
    out.nonce.tracked_nonces = cfg.nonce_table_size;
    out.nonce.worker = worker;
    return out;
}

std::string join(const std::vector<auth::algorithm>& algs) {
    std::string out;
    for (auto a : algs) {
        if (!out.empty()) out += ", ";
        out += auth::to_string(a);
    }
    return out;
}

}  // namespace

class downstream_auth::impl {
public:
    impl(const config::downstream_section& cfg, bool allow_rfc2069, std::uint8_t worker)
        : server_(make_server_config(cfg, allow_rfc2069, worker), store_), challenge_status_(cfg.challenge_status) {
        set_users(cfg.users);
    }

    // Throws config_error naming the user when one cannot be used; nothing changes then.
    void set_users(const std::vector<user_account>& users) {
        auth::in_memory_credential_store next;
        std::unordered_map<std::string, std::vector<auth::ip_network>> sources;
        for (std::size_t i = 0; i < users.size(); ++i) {
            const auto& u = users[i];
            auth::user_credentials creds;
            creds.username = u.username;
            if (!u.password.empty()) creds.password = u.password;
            if (!u.ha1_md5.empty()) creds.ha1[auth::algorithm::md5] = u.ha1_md5;
            if (!u.ha1_sha256.empty()) creds.ha1[auth::algorithm::sha256] = u.ha1_sha256;
            try {
                next.set_user(std::move(creds));
            } catch (const std::invalid_argument& e) {
                throw config_error("downstream.users[" + std::to_string(i) + "]: " + e.what());
            }
            if (!u.allowed_sources.empty()) sources.emplace(u.username, u.allowed_sources);
        }
        // The digest server holds a reference to store_: replace its content, not the object.
        std::vector<std::string> gone;
        store_.for_each([&](const auth::user_credentials& c) {
            if (!next.find(c.username)) gone.push_back(c.username);
        });
        for (const auto& name : gone) store_.remove_user(name);
        next.for_each([&](const auth::user_credentials& c) { store_.set_user(c); });
        user_sources_ = std::move(sources);
    }

    auth_decision check(const sip::message& request, const sip::endpoint& source,
                        std::chrono::system_clock::time_point now) {
        // A registrar challenges with 401 (RFC 3261 §22.1, §10.3 step 2): a PBX answers a 407 to
        // its REGISTER only as a proxy's, and some not at all.
        const bool proxy = challenge_status_ == 407 && request.method() != sip::method::register_;
        const auto wanted = proxy ? sip::header_id::proxy_authorization : sip::header_id::authorization;
        const auto credentials = request.values(wanted);
        // Nonces are bound to the address, not the port: NAT and TCP reconnects change ports.
        const auto& from = source.address;
        const auto result = server_.verify(std::span<const std::string_view>(credentials), request.method_text(),
                                           request.request_uri().text, from, now);
        if (result.answered_our_nonce) unanswered_.on_answer(from);
        auth_decision d;
        d.username = result.username;
        if (result.authenticated()) {
            if (const auto it = user_sources_.find(d.username); it != user_sources_.end() &&
                std::none_of(it->second.begin(), it->second.end(),
                             [&](const auth::ip_network& n) { return n.contains(from); })) {
                // The right password from the wrong place: this account is for given networks.
                d.action = auth_decision::kind::reject;
                d.status = 403;
                d.reason_phrase = "Forbidden";
                d.failure = auth::failure::source_not_allowed;
                d.detail = "user " + d.username + " may not call from " + from.to_string() +
                           " (its allowed_sources)";
                return d;
            }
            d.action = auth_decision::kind::accept;
            return d;
        }
        d.failure = result.reason;
        d.detail = result.detail;
        d.realm_seen = result.realm;
        d.algorithm_asked = result.algorithm_token;
        for (auto a : server_.algorithms_for(from)) d.algorithms_offered.emplace_back(auth::to_string(a));
        const auto challenge = [&](bool stale) {
            d.action = auth_decision::kind::challenge;
            d.status = proxy ? 407 : 401;
            d.reason_phrase = proxy ? "Proxy Authentication Required" : "Unauthorized";
            d.challenge_header = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
            d.challenges = server_.challenge(from, now, stale);
        };
        if (!result.reason) {
            challenge(false);  // no credentials yet: the normal first step
            // A PBX that cannot answer what we offer (SHA-256 to baresip 1.0.0 or SIPp 3.6.1)
            // drops the call silently and shows up only as one first challenge after another.
            if (unanswered_.on_challenge(from, now)) {
                d.failure = auth::failure::challenge_unanswered;
                d.detail = std::to_string(unanswered_options_.threshold) + " challenges offering " +
                           join(server_.algorithms_for(from)) + " left unanswered in " +
                           std::to_string(unanswered_options_.window.count()) +
                           " s: the PBX may not support the offered algorithm (see downstream.algorithms and "
                           "downstream.algorithms_for) or has no credentials for realm " + server_.realm();
            }
            return d;
        }
        switch (*result.reason) {
            case auth::failure::stale_nonce:
                // RFC 7616 §3.3: the password was right; the client retries silently.
                challenge(true);
                break;
            case auth::failure::invalid_nonce:
                // Typically a nonce from before a restart (new secret): a fresh challenge lets
                // a PBX with the right password through.
                challenge(false);
                break;
            case auth::failure::replayed_nonce:
                // A correct answer seen before, or sent from another address than the one we
                // challenged: possibly captured traffic. A fresh challenge (without stale=true)
                // costs a genuine PBX one round trip and gives a replayer nothing.
                challenge(false);
                break;
            case auth::failure::malformed_credentials:
            case auth::failure::uri_mismatch:
                // RFC 2617 §3.2.2.5: a digest uri that is not the Request-URI gets 400.
                d.action = auth_decision::kind::reject;
                d.status = 400;
                d.reason_phrase = "Bad Request";
                break;
            default:
                // The PBX had its retry when it answered our challenge (RFC 3261 §22.3):
                // refuse. The same answer for unknown users and wrong passwords, so the
                // response does not tell an attacker which user names exist.
                d.action = auth_decision::kind::reject;
                d.status = 403;
                d.reason_phrase = "Forbidden";
                break;
        }
        return d;
    }

    auth::in_memory_credential_store store_;
    std::unordered_map<std::string, std::vector<auth::ip_network>> user_sources_;
    auth::digest_server server_;
    int challenge_status_;
    auth::unanswered_options unanswered_options_;
    auth::unanswered_challenges unanswered_{unanswered_options_};
};

downstream_auth::downstream_auth(const config::downstream_section& cfg, bool allow_rfc2069, std::uint8_t worker)
    : impl_(std::make_unique<impl>(cfg, allow_rfc2069, worker)) {}

downstream_auth::~downstream_auth() = default;

auth_decision downstream_auth::check(const sip::message& request, const sip::endpoint& source,
                                     std::chrono::system_clock::time_point now) {
    auto decision = impl_->check(request, source, now);
    if (decision.failure && failure_sink_) failure_sink_(source, decision.username, *decision.failure);
    return decision;
}

const std::string& downstream_auth::realm() const noexcept { return impl_->server_.realm(); }

void downstream_auth::set_users(const std::vector<user_account>& users) { impl_->set_users(users); }

}  // namespace b2b::b2bua
