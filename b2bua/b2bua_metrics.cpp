// The B2BUA's Prometheus metrics.
#include "b2bua/b2bua_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

namespace b2b::b2bua {

std::string_view to_string(call_result r) noexcept {
    switch (r) {
        case call_result::answered: return "answered";
        case call_result::cancelled: return "cancelled";
        case call_result::rejected: return "rejected";
        case call_result::timeout: return "timeout";
        case call_result::upstream_auth_failed: return "upstream_auth_failed";
        case call_result::no_route: return "no_route";
        case call_result::error: return "error";
        case call_result::limit: return "limit";
        case call_result::unavailable: return "unavailable";
        case call_result::draining: return "draining";
        case call_result::not_registered: return "not_registered";
        case call_result::ended_by_operator: return "ended_by_operator";
        case call_result::blocked: return "blocked";
        case call_result::user_limit: return "user_limit";
        case call_result::overload: return "overload";
    }
    return "error";
}

std::string_view to_string(call_direction d) noexcept {
    return d == call_direction::inbound ? "inbound" : "outbound";
}

namespace {

constexpr call_result all_results[] = {call_result::answered, call_result::cancelled,
                                       call_result::rejected, call_result::timeout,
                                       call_result::upstream_auth_failed, call_result::no_route,
                                       call_result::error,    call_result::limit,
                                       call_result::unavailable, call_result::draining,
                                       call_result::not_registered, call_result::ended_by_operator,
                                       call_result::blocked,  call_result::user_limit,
                                       call_result::overload};

// INVITE to final answer: tens of milliseconds for a refusal, seconds for the far end's
// routing, and the ringing until someone answers (tens of seconds, up to calls.max_ringing).
const prometheus::Histogram::BucketBoundaries setup_buckets{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120};
// Answer to end: from a misdial hung up at once to the longest conference calls (4 h).
const prometheus::Histogram::BucketBoundaries duration_buckets{1,   5,    10,   30,   60,   120,  300,
                                                               600, 1200, 1800, 3600, 7200, 14400};

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

b2bua_metrics::b2bua_metrics(prometheus::Registry& registry, std::string downstream_realm,
                             const std::vector<std::string>& trunk_names, const std::vector<std::string>& pbx_names)
    : challenges_(prometheus::BuildCounter()
                      .Name("b2bua_auth_challenges_total")
                      .Help("Digest challenges (401/407): sent to the PBX (downstream, peer = our realm) or "
                            "received from a trunk (upstream, peer = the trunk). A first challenge is normal.")
                      .Register(registry)),
      failures_(prometheus::BuildCounter()
                    .Name("b2bua_auth_failures_total")
                    .Help("Authentication failures by direction, peer (realm downstream, trunk upstream) and "
                          "reason.")
                    .Register(registry)),
      successes_(prometheus::BuildCounter()
                     .Name("b2bua_auth_successes_total")
                     .Help("Requests authenticated: PBX credentials accepted (downstream), or a trunk that "
                           "accepted our answer to its challenge (upstream).")
                     .Register(registry)),
      calls_(prometheus::BuildCounter()
                 .Name("b2bua_calls_total")
                 .Help("Call attempts by direction, trunk and setup result.")
                 .Register(registry)),
      requests_(prometheus::BuildCounter()
                    .Name("b2bua_sip_requests_total")
                    .Help("SIP requests received (in) and sent (out), by method.")
                    .Register(registry)),
      responses_(prometheus::BuildCounter()
                     .Name("b2bua_sip_responses_total")
                     .Help("SIP responses received (in) and sent (out), by status code.")
                     .Register(registry)),
      shared_(std::make_shared<shared_parts>(registry)) {
    downstream_ = make_auth_series("downstream", downstream_realm, auth::downstream_failures());
    set_pbx_targets(pbx_names);
    auto& active = prometheus::BuildGauge()
                       .Name("b2bua_active_calls")
                       .Help("Calls in progress (ringing or answered), by direction.")
                       .Register(registry);
    auto& setup = prometheus::BuildHistogram()
                      .Name("b2bua_call_setup_seconds")
                      .Help("Time from a call's INVITE to the first final response sent to the caller (or the "
                            "caller's CANCEL), ringing included, by direction; calls refused before routing are "
                            "not observed.")
                      .Register(registry);
    auto& duration = prometheus::BuildHistogram()
                         .Name("b2bua_call_duration_seconds")
                         .Help("Time from a call's answer (the 2xx sent to the caller) to its end, by direction.")
                         .Register(registry);
    for (call_direction d : {call_direction::outbound, call_direction::inbound}) {
        const std::string direction(to_string(d));
        if (d == call_direction::outbound) {
            // Calls that never reached a trunk (no route, refused before routing).
            for (call_result r : {call_result::no_route, call_result::error, call_result::limit, call_result::unavailable,
                                  call_result::draining, call_result::blocked, call_result::user_limit,
                                  call_result::overload}) {
                no_trunk_calls_[static_cast<std::size_t>(d)][static_cast<std::size_t>(r)] =
                    &calls_.Add({{"direction", direction}, {"trunk", ""}, {"result", std::string(to_string(r))}});
            }
        }
        active_[static_cast<std::size_t>(d)] = &active.Add({{"direction", direction}});
        setup_seconds_[static_cast<std::size_t>(d)] = &setup.Add({{"direction", direction}}, setup_buckets);
        duration_seconds_[static_cast<std::size_t>(d)] = &duration.Add({{"direction", direction}}, duration_buckets);
    }
    for (std::size_t m = 1; m < method_count; ++m) {
        const std::string name(sip::to_string(static_cast<sip::method>(m)));
        in_.methods[m] = &requests_.Add({{"direction", "in"}, {"method", name}});
        out_.methods[m] = &requests_.Add({{"direction", "out"}, {"method", name}});
    }
    in_.methods[0] = &requests_.Add({{"direction", "in"}, {"method", "other"}});
    out_.methods[0] = &requests_.Add({{"direction", "out"}, {"method", "other"}});
    // The codes a call through us normally sees exist from the start; others appear on first use.
    for (int code : {100, 180, 183, 200, 400, 401, 403, 404, 407, 408, 480, 481, 486, 487, 488, 500, 503, 603}) {
        response_counter(in_, "in", code);
        response_counter(out_, "out", code);
    }
    auto& parse = prometheus::BuildCounter()
                      .Name("b2bua_sip_parse_errors_total")
                      .Help("SIP messages that failed to parse or validate, by reason (answered with 400/505 "
                            "when a response could be formed).")
                      .Register(registry);
    const auto last = static_cast<int>(sip::errc::bad_uri);
    parse_errors_.resize(static_cast<std::size_t>(last) + 1, nullptr);
    for (int e = 1; e <= last; ++e) {
        parse_errors_[static_cast<std::size_t>(e)] =
            &parse.Add({{"reason", std::string(sip::to_string(static_cast<sip::errc>(e)))}});
    }
    auto& retrans = prometheus::BuildCounter()
                        .Name("b2bua_sip_retransmissions_total")
                        .Help("SIP retransmissions sent by us (out: timers A, E, G, 2xx) or absorbed from peers (in).")
                        .Register(registry);
    retrans_sent_ = &retrans.Add({{"direction", "out"}});
    retrans_received_ = &retrans.Add({{"direction", "in"}});
    auto& transactions = prometheus::BuildGauge()
                             .Name("b2bua_sip_transactions")
                             .Help("SIP transactions in progress (RFC 3261 section 17), by kind: client (requests we "
                                   "sent) or server (requests we received).")
                             .Register(registry);
    client_transactions_ = &transactions.Add({{"kind", "client"}});
    server_transactions_ = &transactions.Add({{"kind", "server"}});

    failovers_ = &prometheus::BuildCounter()
                      .Name("b2bua_trunk_failovers_total")
                      .Help("Calls moved from one trunk of their route to the next (to), by why the first was "
                            "left (status): its SIP code, timeout, transport, auth, limit, down, out_of_service.")
                      .Register(registry);
    trunk_up_family_ = &prometheus::BuildGauge()
                            .Name("b2bua_trunk_up")
                            .Help("1 when the trunk takes calls by its OPTIONS health checks (always 1 without them), 0 when down.")
                            .Register(registry);
    for (const auto& name : trunk_names) add_trunk(name);
}

b2bua_metrics::b2bua_metrics(const b2bua_metrics& first, const std::vector<std::string>& trunk_names,
                             const std::vector<std::string>& pbx_names)
    : challenges_(first.challenges_),
      failures_(first.failures_),
      successes_(first.successes_),
      calls_(first.calls_),
      requests_(first.requests_),
      responses_(first.responses_),
      downstream_(first.downstream_),
      no_trunk_calls_(first.no_trunk_calls_),
      trunk_up_family_(first.trunk_up_family_),
      active_(first.active_),
      setup_seconds_(first.setup_seconds_),
      duration_seconds_(first.duration_seconds_),
      client_transactions_(first.client_transactions_),
      server_transactions_(first.server_transactions_),
      failovers_(first.failovers_),
      in_(first.in_),
      out_(first.out_),
      parse_errors_(first.parse_errors_),
      retrans_sent_(first.retrans_sent_),
      retrans_received_(first.retrans_received_),
      shared_(first.shared_) {
    // Family::Add hands back the series an equal label set already has.
    set_pbx_targets(pbx_names);
    for (const auto& name : trunk_names) add_trunk(name);
}

std::size_t b2bua_metrics::add_trunk(const std::string& name) {
    upstream_.push_back(make_auth_series("upstream", name, auth::upstream_failures()));
    for (call_direction d : {call_direction::outbound, call_direction::inbound}) {
        const std::string direction(to_string(d));
        auto& series = trunk_calls_[static_cast<std::size_t>(d)].emplace_back();
        for (call_result r : all_results) {
            // An outbound call refused before routing has no trunk; an inbound one always has.
            if (d == call_direction::outbound && (r == call_result::no_route || r == call_result::limit ||
                                                  r == call_result::unavailable || r == call_result::not_registered)) {
                continue;
            }
            series[static_cast<std::size_t>(r)] =
                &calls_.Add({{"direction", direction}, {"trunk", name}, {"result", std::string(to_string(r))}});
        }
    }
    trunk_names_.push_back(name);
    trunk_up_.push_back(&trunk_up_family_->Add({{"trunk", name}}));
    trunk_up_.back()->Set(1);
    return trunk_names_.size() - 1;
}

void b2bua_metrics::set_pbx_targets(const std::vector<std::string>& names) {
    // A PBX that challenges the calls we send it: we are its client, on the downstream side.
    pbx_.clear();
    for (const auto& name : names) pbx_.push_back(make_auth_series("downstream", name, auth::upstream_failures()));
}

void b2bua_metrics::declare_failover(std::size_t from, std::size_t to) {
    for (std::string_view status : {"408", "500", "503", "timeout", "transport", "auth", "limit", "down", "out_of_service"}) {
        trunk_failover_counter(from, to, status);
    }
}

prometheus::Counter* b2bua_metrics::trunk_failover_counter(std::size_t from, std::size_t to, std::string_view status) {
    if (from >= trunk_names_.size() || to >= trunk_names_.size()) return nullptr;
    auto key = std::make_tuple(from, to, std::string(status));
    auto it = failover_series_.find(key);
    if (it == failover_series_.end()) {
        auto* c = &failovers_->Add({{"from", trunk_names_[from]}, {"to", trunk_names_[to]}, {"status", std::string(status)}});
        it = failover_series_.emplace(std::move(key), c).first;
    }
    return it->second;
}

void b2bua_metrics::trunk_failover(std::size_t from, std::size_t to, std::string_view status) {
    if (auto* c = trunk_failover_counter(from, to, status)) c->Increment();
}

void b2bua_metrics::set_trunk_up(std::size_t trunk, bool up) {
    if (trunk < trunk_up_.size()) trunk_up_[trunk]->Set(up ? 1 : 0);
}

b2bua_metrics::auth_series b2bua_metrics::make_auth_series(std::string_view direction, const std::string& peer,
                                                           std::span<const auth::failure> reasons) {
    // `peer` is never empty: an unnamed peer would be a series nobody can alert on.
    const std::string label = peer.empty() ? std::string("unknown") : peer;
    auth_series s;
    s.challenges = &challenges_.Add({{"direction", std::string(direction)}, {"peer", label}});
    s.successes = &successes_.Add({{"direction", std::string(direction)}, {"peer", label}});
    for (auth::failure f : reasons) {
        s.failures[static_cast<std::size_t>(f)] = &failures_.Add(
            {{"direction", std::string(direction)}, {"peer", label}, {"reason", std::string(auth::to_string(f))}});
    }
    return s;
}

void b2bua_metrics::auth_failure_downstream(auth::failure f) {
    if (auto* c = downstream_.failures[static_cast<std::size_t>(f)]) c->Increment();
}

b2bua_metrics::auth_series* b2bua_metrics::peer_series(std::size_t peer) {
    if (peer >= pbx_peer_base) return peer - pbx_peer_base < pbx_.size() ? &pbx_[peer - pbx_peer_base] : nullptr;
    return peer < upstream_.size() ? &upstream_[peer] : nullptr;
}

void b2bua_metrics::auth_challenge_upstream(std::size_t peer) {
    if (auto* s = peer_series(peer)) s->challenges->Increment();
}

void b2bua_metrics::auth_success_upstream(std::size_t peer) {
    if (auto* s = peer_series(peer)) s->successes->Increment();
}

void b2bua_metrics::auth_failure_upstream(auth::failure f, std::size_t peer) {
    auto* s = peer_series(peer);
    if (s == nullptr) return;
    if (auto* c = s->failures[static_cast<std::size_t>(f)]) c->Increment();
}

void b2bua_metrics::call_setup(call_direction d, std::size_t trunk, call_result r) {
    auto& by_trunk = trunk_calls_[static_cast<std::size_t>(d)];
    auto& series = trunk < by_trunk.size() ? by_trunk[trunk] : no_trunk_calls_[static_cast<std::size_t>(d)];
    if (auto* c = series[static_cast<std::size_t>(r)]) c->Increment();
}

void b2bua_metrics::call_setup_time(call_direction d, std::chrono::steady_clock::duration setup) {
    setup_seconds_[static_cast<std::size_t>(d)]->Observe(seconds(setup));
}

void b2bua_metrics::call_duration(call_direction d, std::chrono::steady_clock::duration talk) {
    duration_seconds_[static_cast<std::size_t>(d)]->Observe(seconds(talk));
}

prometheus::Counter& b2bua_metrics::response_counter(direction_series& d, std::string_view direction, int status) {
    auto*& c = d.statuses[static_cast<std::size_t>(status)];
    if (!c) c = &responses_.Add({{"direction", std::string(direction)}, {"code", std::to_string(status)}});
    return *c;
}

void b2bua_metrics::on_received(const sip::message& m) {
    if (m.is_request()) {
        in_.methods[static_cast<std::size_t>(m.method())]->Increment();
    } else if (m.status() >= 100 && m.status() < 700) {
        response_counter(in_, "in", m.status()).Increment();
    }
}

void b2bua_metrics::on_sent_request(sip::method m, std::string_view) {
    out_.methods[static_cast<std::size_t>(m)]->Increment();
}

void b2bua_metrics::on_sent_response(int status) {
    if (status >= 100 && status < 700) response_counter(out_, "out", status).Increment();
}

void b2bua_metrics::on_parse_error(const sip::parse_error& e, const sip::flow&, bool) {
    const auto i = static_cast<std::size_t>(e.code);
    if (i < parse_errors_.size() && parse_errors_[i] != nullptr) parse_errors_[i]->Increment();
}

void b2bua_metrics::on_retransmission(bool sent_by_us) { (sent_by_us ? retrans_sent_ : retrans_received_)->Increment(); }

void b2bua_metrics::on_transaction_count(bool client, int delta) {
    (client ? client_transactions_ : server_transactions_)->Increment(static_cast<double>(delta));
}

}  // namespace b2b::b2bua
