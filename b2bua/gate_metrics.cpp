// The Prometheus metrics of the source gate.
#include "b2bua/gate_metrics.hpp"

#include <string>

namespace b2b::b2bua {

gate_metrics::gate_metrics(prometheus::Registry& registry) {
    banned_ = &prometheus::BuildGauge()
                   .Name("b2bua_banned_sources")
                   .Help("Source addresses banned now (security.ban): their messages are dropped unanswered, "
                         "their connections closed.")
                   .Register(registry)
                   .Add({});
    bans_ = &prometheus::BuildCounter()
                 .Name("b2bua_bans_total")
                 .Help("Bans imposed: for failed digest answers (security.ban) or by an operator (POST /api/v1/bans).")
                 .Register(registry)
                 .Add({});
    auto& dropped = prometheus::BuildCounter()
                        .Name("b2bua_requests_dropped_total")
                        .Help("Messages dropped before parsing, unanswered, by reason: banned (the source is "
                              "banned), rate_limit (over security.max_requests_per_second from one source), "
                              "scanner (a User-Agent in security.scanner_user_agents).")
                        .Register(registry);
    for (auto r : security::drop_reasons) {
        dropped_[static_cast<std::size_t>(r)] = &dropped.Add({{"reason", std::string(security::to_string(r))}});
    }
    auto& evictions = prometheus::BuildCounter()
                          .Name("b2bua_security_evictions_total")
                          .Help("Entries a full table of the source gate forgot to make room, least recently seen "
                                "first, by table: ban_list (security.ban.max_entries: failure counts and bans), "
                                "rate_table (security.rate_limit_sources).")
                          .Register(registry);
    ban_list_evictions_ = &evictions.Add({{"table", "ban_list"}});
    rate_table_evictions_ = &evictions.Add({{"table", "rate_table"}});
}

void gate_metrics::dropped(security::verdict why) {
    if (auto* c = dropped_[static_cast<std::size_t>(why)]) c->Increment();
}

}  // namespace b2b::b2bua
