// GET /metrics (Prometheus text exposition format) and GET /healthz on an http_server.
#pragma once

#include "http/http_server.hpp"

#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace b2b::http {

/// Content-Type of the Prometheus text exposition format, version 0.0.4.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

/// Why the process does not want new traffic (e.g. "draining" while it shuts down), or an empty
/// string when it does. Runs on the server's executor.
using health_check = std::function<std::string()>;

/// Registers on `server`:
/// - GET /metrics: everything `metrics` (usually a prometheus::Registry) collects at the time
///   of the scrape, serialised with prometheus::TextSerializer;
/// - GET /healthz: 200 "ok\n" while `health` returns nothing (or there is no `health`);
///   otherwise 503 with its reason as the body, so a load balancer stops sending new calls
///   while the calls in progress still finish.
///
/// `metrics` must not be null; the routes share its ownership. Collecting runs on the server's
/// executor; a prometheus::Registry and its metrics are safe to update from any thread meanwhile.
/// Throws std::invalid_argument, like `http_server::add_route`, when either path is taken.
void add_prometheus_routes(http_server& server,
                           std::shared_ptr<const prometheus::Collectable> metrics, health_check health = {});

}  // namespace b2b::http
