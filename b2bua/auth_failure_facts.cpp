// The facts of an authentication failure read from the peer's final response.
#include "b2bua/auth_failure_facts.hpp"

#include "auth/algorithm.hpp"
#include "auth/digest_header.hpp"

#include <array>

namespace b2b::b2bua {

auth_failure_record upstream_failure_record(const sip::message& response, const routing::trunk& peer, bool is_trunk,
                                            auth::failure reason, std::chrono::system_clock::time_point now) {
    auth_failure_record rec;
    rec.time = now;
    rec.direction = is_trunk ? auth_direction::upstream : auth_direction::downstream;
    rec.reason = reason;
    rec.username = peer.username;
    if (is_trunk) rec.trunk = peer.name;
    rec.peer = peer.name;
    rec.peer_host = !peer.host.empty() ? peer.host : peer.domain;
    rec.method = response.cseq().method_text;
    rec.call_id = response.call_id();
    rec.status = response.status();
    rec.reason_phrase = response.reason();
    if (const auto* w = response.find(sip::header_id::warning)) rec.warning = w->value;
    // RFC 7616 §3.7: one challenge per algorithm; the realm is the first Digest one's.
    for (const auto id : {sip::header_id::www_authenticate, sip::header_id::proxy_authenticate}) {
        for (const auto value : response.values(id)) {
            const auto c = auth::parse_challenge(value);
            if (!c) continue;
            if (rec.realm.empty()) rec.realm = c->realm;
            const std::string token = c->algorithm_token.empty() ? "MD5" : c->algorithm_token;
            if (!rec.algorithm_asked.empty()) rec.algorithm_asked += ", ";
            rec.algorithm_asked += token;
        }
    }
    for (const auto a : {auth::algorithm::md5, auth::algorithm::sha256, auth::algorithm::sha512_256}) {
        if (auth::is_supported(a)) rec.algorithms_offered.emplace_back(auth::to_string(a));
    }
    return rec;
}

}  // namespace b2b::b2bua
