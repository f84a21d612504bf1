// The ingress stages: each decides one thing about a new INVITE and refuses it with the right answer.
#include "b2bua/ingress.hpp"

#include "b2bua/detail/log_text.hpp"
#include "b2bua/detail/sip_helpers.hpp"

#include "sip/message/text.hpp"
#include "sip/message/uri.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace b2b::b2bua {

namespace {

// §20.1: no Accept means application/sdp, an empty Accept means nothing is acceptable;
// otherwise one of the listed media ranges must cover it (parameters such as q are ignored).
bool accepts_sdp(const sip::message& m) {
    if (m.find(sip::header_id::accept) == nullptr) return true;
    return sip::any_list_item(m, sip::header_id::accept, [](std::string_view range) {
        range = sip::trim_lws(range.substr(0, range.find(';')));
        return sip::iequals(range, "application/sdp") || sip::iequals(range, "application/*") || range == "*/*";
    });
}

}  // namespace

stage_result screening_stage::run(ingress_request& r, ingress_responder& responder) {
    const sip::message& invite = r.invite;
    // The answer will carry the far end's SDP: a caller that accepts no SDP cannot take it.
    if (!accepts_sdp(invite)) {
        responder.refuse(r, 406, "Not Acceptable", {{"Accept", "application/sdp"}});
        return stage_result::stop;
    }
    // A B2BUA decrements Max-Forwards like a proxy so that loops still end (RFC 7332 §3).
    const unsigned max_forwards = invite.max_forwards().value_or(70);
    if (max_forwards == 0) {
        responder.refuse(r, 483, "Too Many Hops");
        return stage_result::stop;
    }
    r.max_forwards = max_forwards - 1;
    const auto* content_type = invite.find(sip::header_id::content_type);
    r.content_type = content_type ? std::string(content_type->value) : std::string();
    if (!invite.body().empty() && !boost::algorithm::istarts_with(sip::trim_lws(r.content_type), "application/sdp")) {
        responder.refuse(r, 415, "Unsupported Media Type", {{"Accept", "application/sdp"}});
        return stage_result::stop;
    }
    // §8.2.2.2: a new INVITE of a call we already bridge (same Call-ID and From tag, another
    // branch) reached us twice, through a loop or a fork: the copy is refused. Before
    // authentication, since the copy carries the same credentials and would be a replay.
    if (already_bridged_(invite)) {
        responder.refuse(r, 482, "Loop Detected");
        return stage_result::stop;
    }
    return stage_result::proceed;
}

source_policy::verdict source_policy::classify(const sip::endpoint& source) const {
    if (auto t = trunks_.match(source)) return {kind::trunk, *t};
    if (allowed_.empty()) return {kind::pbx, 0};
    const bool allowed = std::any_of(allowed_.begin(), allowed_.end(),
                                     [&](const auth::ip_network& n) { return n.contains(source.address); });
    return {allowed ? kind::pbx : kind::refused, 0};
}

stage_result identification_stage::run(ingress_request& r, ingress_responder& responder) {
    if (registered_contact_) {
        if (const auto trunk = registered_contact_(r.invite.request_uri().user)) {
            // The Contact user is a secret of the trunk's (registration::contact_user): only its
            // provider, which we gave it to, can address it.
            r.source_trunk = *trunk;
            r.direction = call_direction::inbound;
            r.to_registered_contact = true;
            return stage_result::proceed;
        }
    }
    switch (const auto source = sources_.classify(r.source); source.what) {
        case source_policy::kind::trunk:
            // A provider answers no challenge of ours: its address is the proof.
            r.source_trunk = source.trunk;
            r.direction = call_direction::inbound;
            return stage_result::proceed;
        case source_policy::kind::refused:
            source_not_allowed(metrics_, failures_, {*log_, failure_lines_}, r.invite, r.source, auth_.realm(),
                               wall_now_());
            responder.refuse(r, 403, "Forbidden");
            return stage_result::stop;
        case source_policy::kind::pbx:
            break;
    }
    const auto decision =
        authenticate_pbx(auth_, metrics_, failures_, {*log_, failure_lines_}, r.invite, r.source, wall_now_());
    if (decision.action == auth_decision::kind::accept) {
        r.user = decision.username;
        return stage_result::proceed;
    }
    responder.refuse(r, decision.status, decision.reason_phrase, challenge_headers(decision));
    return stage_result::stop;
}

namespace {

auth_failure_record downstream_record(const sip::message& request, const sip::endpoint& source, std::string_view our_realm,
                                      auth::failure reason, std::chrono::system_clock::time_point now) {
    auth_failure_record rec;
    rec.time = now;
    rec.direction = auth_direction::downstream;
    rec.reason = reason;
    rec.source = source;
    rec.our_realm = our_realm;
    rec.peer = our_realm;
    rec.method = request.method_text();
    rec.call_id = request.call_id();
    return rec;
}

// Whether this failure gets its line (and first the summary of the source's last interval).
bool admit_line(failure_lines& lines, const sip::endpoint& source, auth::failure reason,
                std::chrono::system_clock::time_point now) {
    const auto verdict = lines.limiter.on_failure(source.address, auth::to_string(reason), now);
    if (verdict.previous) lines.log.warn("{}", to_string(*verdict.previous));
    return verdict.log;
}

}  // namespace

void source_not_allowed(b2bua_metrics& metrics, auth_failure_log& failures, failure_lines lines,
                        const sip::message& request, const sip::endpoint& source, std::string_view our_realm,
                        std::chrono::system_clock::time_point now) {
    metrics.auth_failure_downstream(auth::failure::source_not_allowed);
    if (admit_line(lines, source, auth::failure::source_not_allowed, now)) {
        lines.log.info("auth failure downstream: reason=source_not_allowed source={} method={} call-id={}: not in "
                       "downstream.allowed_sources",
                       source.to_string(), detail::clip(request.method_text()), detail::clip(request.call_id()));
    }
    auto rec = downstream_record(request, source, our_realm, auth::failure::source_not_allowed, now);
    rec.status = 403;
    failures.record(std::move(rec));
}

auth_decision authenticate_pbx(downstream_auth& auth, b2bua_metrics& metrics, auth_failure_log& failures,
                               failure_lines lines, const sip::message& request, const sip::endpoint& source,
                               std::chrono::system_clock::time_point now) {
    auto decision = auth.check(request, source, now);
    if (decision.failure) {
        metrics.auth_failure_downstream(*decision.failure);
        // Quoted, escaped and cut: user names and Call-IDs are the peer's text, of the peer's size.
        // The detail is ours, with the peer's values in it cut already (auth::detail::printable).
        if (admit_line(lines, source, *decision.failure, now)) {
            lines.log.info("auth failure downstream: reason={} user={} source={} method={} call-id={}: {}",
                           auth::to_string(*decision.failure), detail::clip(decision.username),
                           source.to_string(), detail::clip(request.method_text()),
                           detail::clip(request.call_id()), decision.detail);
        }
        auto rec = downstream_record(request, source, auth.realm(), *decision.failure, now);
        rec.username = decision.username;
        rec.realm = decision.realm_seen;
        rec.status = decision.status;
        rec.algorithm_asked = decision.algorithm_asked;
        rec.algorithms_offered = decision.algorithms_offered;
        failures.record(std::move(rec));
    }
    switch (decision.action) {
        case auth_decision::kind::accept: metrics.auth_success_downstream(); break;
        case auth_decision::kind::challenge: metrics.auth_challenge_downstream(); break;
        case auth_decision::kind::reject: break;
    }
    return decision;
}

header_list challenge_headers(const auth_decision& d) {
    header_list extra;
    if (d.action != auth_decision::kind::challenge) return extra;
    for (const auto& value : d.challenges) extra.emplace_back(d.challenge_header, value);
    return extra;
}

stage_result admission_stage::run(ingress_request& r, ingress_responder& responder) {
    if (calls_->try_start({}, max_calls_, 0, r.emergency) != routing::call_usage::verdict::pass) {
        metrics_.call_setup(r.direction, r.source_trunk.value_or(b2bua_metrics::no_trunk), call_result::limit);
        metrics_.limits().hit(limit_kind::calls);
        log_->warn("call refused: limit of {} calls reached", max_calls_);
        responder.refuse(r, 503, "Service Unavailable", {{"Retry-After", "5"}});
        return stage_result::stop;
    }
    r.call_slot = routing::call_usage_hold(calls_);
    return stage_result::proceed;
}

stage_result routing_stage::run(ingress_request& r, ingress_responder& responder) {
    const auto counted_trunk = r.source_trunk.value_or(b2bua_metrics::no_trunk);
    // A Request-URI without a user part dials nothing: even a default route has no number to
    // put on the other leg. Sent to the Contact we registered, the number is in To.
    const auto& dialled_uri = r.to_registered_contact ? r.invite.to().uri : r.invite.request_uri();
    if (dialled_uri.user.empty()) {
        metrics_.call_setup(r.direction, counted_trunk, call_result::no_route);
        log_->info("call refused: no number in the {} {} from {}",
                   r.to_registered_contact ? "To URI" : "Request-URI", detail::clip(dialled_uri.text), r.source.to_string());
        responder.refuse(r, 404, "Not Found");
        return stage_result::stop;
    }
    r.dialled = sip::unescape(dialled_uri.user);
    const auto& from = r.invite.from().uri;
    r.caller = from.is_sip_or_sips() && !from.user.empty() ? std::string(from.user) : std::string("anonymous");
    if (r.direction == call_direction::inbound) {
        const auto route = inbound_routes_.match(r.dialled);
        if (!route) {
            metrics_.call_setup(r.direction, counted_trunk, call_result::no_route);
            log_->info("call refused: no inbound route for {} from {}", detail::clip(r.dialled), r.source.to_string());
            responder.refuse(r, 404, "Not Found");
            return stage_result::stop;
        }
        r.inbound_route = *route;
        const auto& ir = inbound_routes_.routes()[*route];
        r.number = !ir.user.empty() ? ir.user
                   : ir.strip == 0 && ir.prepend.empty()
                       ? std::string(dialled_uri.user)
                       : sip::escape_user(routing::rewrite_number(r.dialled, ir.strip, ir.prepend));
        // The provider's caller number in the form the PBX expects (E.164, or national).
        if ((ir.caller_strip != 0 || !ir.caller_prepend.empty()) && r.caller != "anonymous") {
            r.caller = sip::escape_user(
                routing::rewrite_number(sip::unescape(r.caller), ir.caller_strip, ir.caller_prepend));
        }
        return stage_result::proceed;
    }
    const routing::route* route = routes_.match(r.dialled);
    if (route == nullptr) {
        metrics_.call_setup(r.direction, counted_trunk, call_result::no_route);
        log_->info("call refused: no route for {} from {}", detail::clip(r.dialled), r.source.to_string());
        responder.refuse(r, 404, "Not Found");
        return stage_result::stop;
    }
    for (const auto& name : route->trunks) r.trunks.push_back(trunk_index_.at(name));
    r.trunk_index = r.trunks.front();
    // Number rewriting per route (strip, then prepend); an unrewritten number goes on as the
    // caller wrote it, escapes included.
    r.number = route->rewrites() ? sip::escape_user(route->rewrite(r.dialled))
                                 : std::string(dialled_uri.user);
    if (r.number.empty()) {
        metrics_.call_setup(r.direction, counted_trunk, call_result::no_route);
        log_->info("call refused: nothing left of {} after the route's strip of {}", detail::clip(r.dialled), route->strip);
        responder.refuse(r, 404, "Not Found");
        return stage_result::stop;
    }
    return stage_result::proceed;
}

stage_result trunk_selection_stage::run(ingress_request& r, ingress_responder& responder) {
    // A call from a trunk goes to its inbound route's PBX: there is no trunk to choose.
    if (r.direction == call_direction::inbound) return stage_result::proceed;
    const auto choice = selection_.pick(r.trunks, 0, now_(), r.emergency);
    if (!choice.position) {
        const bool limit = std::any_of(choice.skipped.begin(), choice.skipped.end(),
                                       [](const auto& s) { return s.second == routing::skip_reason::limit; });
        metrics_.call_setup(r.direction, b2bua_metrics::no_trunk, limit ? call_result::limit : call_result::unavailable);
        if (limit) metrics_.limits().hit(limit_kind::trunk);
        std::string why;
        for (const auto& [trunk, reason] : choice.skipped) {
            why += (why.empty() ? "" : ", ") + trunks_[trunk]->name + " " + std::string(routing::to_string(reason));
        }
        log_->warn("call refused: no trunk of the route for {} can take it ({})", detail::clip(r.dialled), why);
        // §21.5.4: the PBX may retry later, or through another route of its own.
        responder.refuse(r, 503, "Service Unavailable", {{"Retry-After", "5"}});
        return stage_result::stop;
    }
    r.trunk_position = *choice.position;
    r.trunk_index = r.trunks[r.trunk_position];
    for (const auto& [trunk, reason] : choice.skipped) {
        metrics_.trunk_failover(trunk, r.trunk_index, routing::to_string(reason));
        log_->info("failover: trunk {} skipped ({}), trying trunk {} for {}", trunks_[trunk]->name,
                   routing::to_string(reason), trunks_[r.trunk_index]->name, detail::clip(r.dialled));
    }
    return stage_result::proceed;
}

}  // namespace b2b::b2bua
