// The HTTP server's Prometheus metrics.
#include "b2bua/http_metrics.hpp"

#include <string>

namespace b2b::b2bua {

http_metrics::http_metrics(prometheus::Registry& registry) {
    auto& refused = prometheus::BuildCounter()
                        .Name("b2bua_http_connections_refused_total")
                        .Help("HTTP connections closed as soon as accepted, by reason: max_connections "
                              "(http.max_connections open), source_limit (the client's address held "
                              "http.max_connections_per_source).")
                        .Register(registry);
    for (auto r : http::all_connection_refusals) {
        refused_[static_cast<std::size_t>(r)] = &refused.Add({{"reason", std::string(http::to_string(r))}});
    }
    auto& timeouts = prometheus::BuildCounter()
                         .Name("b2bua_http_timeouts_total")
                         .Help("HTTP bounds exceeded, by phase: tls_handshake, header (http.header_timeout_s), body "
                               "(http.body_timeout_s), write (the client did not read the answer): the connection "
                               "was closed; answer: the admin API did not answer in time and sent 503.")
                         .Register(registry);
    for (auto t : http::all_http_timeouts) {
        timeouts_[static_cast<std::size_t>(t)] = &timeouts.Add({{"phase", std::string(http::to_string(t))}});
    }
}

void http_metrics::on_connection_refused(http::connection_refusal why) {
    refused_[static_cast<std::size_t>(why)]->Increment();
}

void http_metrics::on_timeout(http::http_timeout which) { timeouts_[static_cast<std::size_t>(which)]->Increment(); }

}  // namespace b2b::b2bua
