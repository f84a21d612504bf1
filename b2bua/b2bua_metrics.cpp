// The B2BUA's Prometheus metrics.
#include "b2bua/b2bua_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

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
    }
    return "error";
}

namespace {

constexpr call_result all_results[] = {call_result::answered, call_result::cancelled, call_result::rejected,
                                       call_result::timeout,  call_result::upstream_auth_failed,
                                       call_result::no_route, call_result::error};

}  // namespace

b2bua_metrics::b2bua_metrics(prometheus::Registry& registry, std::string downstream_realm,
                             const std::vector<std::string>& trunk_names)
    : realm_(std::move(downstream_realm)),
      challenges_(prometheus::BuildCounter()
                      .Name("b2bua_auth_challenges_total")
                      .Help("Digest challenges (401/407): sent to the PBX (downstream) or received from a trunk "
                            "(upstream). A first challenge is normal, not a failure.")
                      .Register(registry)),
      failures_(prometheus::BuildCounter()
                    .Name("b2bua_auth_failures_total")
                    .Help("Authentication failures by direction and reason; realm names the downstream realm, "
                          "trunk the upstream trunk.")
                    .Register(registry)),
      calls_(prometheus::BuildCounter()
                 .Name("b2bua_calls_total")
                 .Help("Call attempts by trunk and setup result.")
                 .Register(registry)),
      messages_(prometheus::BuildCounter()
                    .Name("b2bua_sip_messages_total")
                    .Help("SIP messages received (in) and sent (out), by request method or response status.")
                    .Register(registry)) {
    challenges_downstream_ = &challenges_.Add({{"direction", "downstream"}});
    challenges_upstream_ = &challenges_.Add({{"direction", "upstream"}});
    for (auth::failure f : auth::downstream_failures()) {
        downstream_failures_[static_cast<std::size_t>(f)] = &failures_.Add(
            {{"direction", "downstream"}, {"reason", std::string(auth::to_string(f))}, {"realm", realm_}, {"trunk", ""}});
    }
    trunks_.resize(trunk_names.size());
    for (std::size_t i = 0; i < trunk_names.size(); ++i) {
        for (auth::failure f : auth::upstream_failures()) {
            trunks_[i].failures[static_cast<std::size_t>(f)] = &failures_.Add(
                {{"direction", "upstream"}, {"reason", std::string(auth::to_string(f))}, {"realm", ""}, {"trunk", trunk_names[i]}});
        }
        for (call_result r : all_results) {
            if (r == call_result::no_route) continue;
            trunks_[i].calls[static_cast<std::size_t>(r)] =
                &calls_.Add({{"trunk", trunk_names[i]}, {"result", std::string(to_string(r))}});
        }
    }
    // Calls that never reached a trunk (no route, refused before routing).
    for (call_result r : {call_result::no_route, call_result::error}) {
        no_trunk_.calls[static_cast<std::size_t>(r)] = &calls_.Add({{"trunk", ""}, {"result", std::string(to_string(r))}});
    }
    active_calls_ = &prometheus::BuildGauge()
                         .Name("b2bua_active_calls")
                         .Help("Calls in progress (ringing or answered).")
                         .Register(registry)
                         .Add({});
    for (std::size_t m = 1; m < method_count; ++m) {
        const std::string name(sip::to_string(static_cast<sip::method>(m)));
        in_.methods[m] = &messages_.Add({{"direction", "in"}, {"message", name}});
        out_.methods[m] = &messages_.Add({{"direction", "out"}, {"message", name}});
    }
    in_.methods[0] = &messages_.Add({{"direction", "in"}, {"message", "other"}});
    out_.methods[0] = &messages_.Add({{"direction", "out"}, {"message", "other"}});
    auto& parse = prometheus::BuildCounter()
                      .Name("b2bua_sip_parse_errors_total")
                      .Help("SIP messages that failed to parse or validate; answered=true when a 4xx/5xx went back.")
                      .Register(registry);
    parse_errors_ = &parse.Add({{"answered", "false"}});
    parse_errors_answered_ = &parse.Add({{"answered", "true"}});
    auto& retrans = prometheus::BuildCounter()
                        .Name("b2bua_sip_retransmissions_total")
                        .Help("SIP retransmissions sent by us (timers A, E, G, 2xx) or absorbed from peers.")
                        .Register(registry);
    retrans_sent_ = &retrans.Add({{"direction", "out"}});
    retrans_received_ = &retrans.Add({{"direction", "in"}});
}

void b2bua_metrics::auth_failure_downstream(auth::failure f) {
    if (auto* c = downstream_failures_[static_cast<std::size_t>(f)]) c->Increment();
}

void b2bua_metrics::auth_failure_upstream(auth::failure f, std::size_t trunk) {
    if (trunk >= trunks_.size()) return;
    if (auto* c = trunks_[trunk].failures[static_cast<std::size_t>(f)]) c->Increment();
}

void b2bua_metrics::call_setup(std::size_t trunk, call_result r) {
    auto& series = trunk < trunks_.size() ? trunks_[trunk] : no_trunk_;
    if (auto* c = series.calls[static_cast<std::size_t>(r)]) c->Increment();
}

prometheus::Counter& b2bua_metrics::message_counter(direction_series& d, std::string_view direction, int status) {
    auto*& c = d.statuses[static_cast<std::size_t>(status)];
    if (!c) c = &messages_.Add({{"direction", std::string(direction)}, {"message", std::to_string(status)}});
    return *c;
}

void b2bua_metrics::on_received(const sip::message& m) {
    if (m.is_request()) {
        in_.methods[static_cast<std::size_t>(m.method())]->Increment();
    } else if (m.status() >= 100 && m.status() < 700) {
        message_counter(in_, "in", m.status()).Increment();
    }
}

void b2bua_metrics::on_sent_request(sip::method m, std::string_view) {
    out_.methods[static_cast<std::size_t>(m)]->Increment();
}

void b2bua_metrics::on_sent_response(int status) {
    if (status >= 100 && status < 700) message_counter(out_, "out", status).Increment();
}

void b2bua_metrics::on_parse_error(const sip::parse_error&, const sip::flow&, bool answered) {
    (answered ? parse_errors_answered_ : parse_errors_)->Increment();
}

void b2bua_metrics::on_retransmission(bool sent_by_us) { (sent_by_us ? retrans_sent_ : retrans_received_)->Increment(); }

}  // namespace b2b::b2bua
