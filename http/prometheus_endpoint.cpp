// Serves a Prometheus collectable as text on GET /metrics, and a liveness probe on GET /healthz.
#include "http/prometheus_endpoint.hpp"

#include <prometheus/text_serializer.h>

#include <string>
#include <utility>

namespace b2b::http {

namespace beast = boost::beast;

void add_prometheus_routes(http_server& server,
                           std::shared_ptr<const prometheus::Collectable> metrics, health_check health) {
    server.add_route(
        beast::http::verb::get, "/metrics", [metrics = std::move(metrics)](const request&) {
            return response{.content_type = std::string(prometheus_content_type),
                            .body = prometheus::TextSerializer().Serialize(metrics->Collect())};
        });
    server.add_route(beast::http::verb::get, "/healthz", [health = std::move(health)](const request&) {
        std::string why = health ? health() : std::string();
        if (why.empty()) return response{.body = "ok\n"};
        return response{.status = beast::http::status::service_unavailable, .body = std::move(why) + '\n'};
    });
}

}  // namespace b2b::http
