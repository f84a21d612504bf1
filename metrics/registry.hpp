// The process's Prometheus registry: made once at startup, shared by every layer's metrics.
#pragma once

#include <prometheus/registry.h>

#include <memory>

namespace b2b::metrics {

/// Makes the registry that every metrics struct of the process registers its families in and
/// that the /metrics endpoint collects from.
///
/// @par Ownership
/// Shared: the application keeps one reference for building its metrics structs, and the
/// /metrics route keeps another so a scrape in flight never outlives it.
///
/// @par Thread safety
/// A prometheus::Registry and the metrics in it may be updated and collected from any thread.
std::shared_ptr<prometheus::Registry> make_registry();

}  // namespace b2b::metrics
