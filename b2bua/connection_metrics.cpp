#include "b2bua/connection_metrics.hpp"

#include <boost/algorithm/string/case_conv.hpp>

#include <string>

namespace b2b::b2bua {

namespace {

// The stream transports: the ones with connections.
constexpr std::array stream_kinds{sip::transport_kind::tcp, sip::transport_kind::tls};

constexpr std::array all_directions{sip::connection_direction::inbound, sip::connection_direction::outbound};
constexpr std::array all_refusals{sip::connection_refusal::limit, sip::connection_refusal::source_limit,
                                  sip::connection_refusal::outbound_limit, sip::connection_refusal::descriptors,
                                  sip::connection_refusal::banned};
constexpr std::array all_closes{sip::connection_close::idle, sip::connection_close::slow_reader,
                                sip::connection_close::framing_error, sip::connection_close::banned};

std::string label(sip::transport_kind k) { return boost::algorithm::to_lower_copy(std::string(sip::to_string(k))); }

std::size_t at(auto e) { return static_cast<std::size_t>(e); }

}  // namespace

connection_metrics::connection_metrics(prometheus::Registry& registry) {
    auto& open = prometheus::BuildGauge()
                     .Name("b2bua_sip_connections")
                     .Help("SIP stream connections open, by transport and direction (inbound: accepted from "
                           "peers; outbound: opened by us). Each direction has its own budget.")
                     .Register(registry);
    auto& refused = prometheus::BuildCounter()
                        .Name("b2bua_sip_connections_refused_total")
                        .Help("SIP stream connections refused, by reason: limit (sip.tcp.max_connections), "
                              "source_limit (sip.tcp.max_connections_per_source), outbound_limit "
                              "(sip.tcp.max_outbound_connections), descriptors (out of file descriptors), banned (the "
                              "source is banned: see b2bua_banned_sources).")
                        .Register(registry);
    auto& closed = prometheus::BuildCounter()
                       .Name("b2bua_sip_connections_closed_total")
                       .Help("SIP stream connections we closed, by reason: idle (sip.tcp.idle_timeout_s), "
                             "slow_reader (the peer did not read what we sent), framing_error, banned (its source was "
                             "banned).")
                       .Register(registry);
    for (auto k : stream_kinds) {
        const auto transport = label(k);
        for (auto d : all_directions) {
            open_[at(k)][at(d)] = &open.Add({{"transport", transport}, {"direction", std::string(to_string(d))}});
        }
        for (auto r : all_refusals) {
            refused_[at(k)][at(r)] = &refused.Add({{"transport", transport}, {"reason", std::string(to_string(r))}});
        }
        for (auto c : all_closes) {
            closed_[at(k)][at(c)] = &closed.Add({{"transport", transport}, {"reason", std::string(to_string(c))}});
        }
    }
}

void connection_metrics::on_connection_opened(sip::transport_kind k, sip::connection_direction d) {
    if (auto* g = open_[at(k)][at(d)]) g->Increment();
}

void connection_metrics::on_connection_closed(sip::transport_kind k, sip::connection_direction d) {
    if (auto* g = open_[at(k)][at(d)]) g->Decrement();
}

void connection_metrics::on_connection_refused(sip::transport_kind k, sip::connection_refusal r) {
    if (auto* c = refused_[at(k)][at(r)]) c->Increment();
}

void connection_metrics::on_connection_dropped(sip::transport_kind k, sip::connection_close c) {
    if (auto* n = closed_[at(k)][at(c)]) n->Increment();
}

}  // namespace b2b::b2bua
