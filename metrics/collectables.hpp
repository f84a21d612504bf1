// Several prometheus::Collectable as one, for the /metrics route, which takes one.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <memory>
#include <vector>

namespace b2b::metrics {

/// Collects each of its parts in order and concatenates their families. The parts must not
/// export the same family name (the text format allows a name once).
///
/// @par Thread safety
/// As safe as its parts: a prometheus::Registry and process_collector may be collected from any thread.
class collectable_set final : public prometheus::Collectable {
public:
    explicit collectable_set(std::vector<std::shared_ptr<const prometheus::Collectable>> parts);

    std::vector<prometheus::MetricFamily> Collect() const override;

private:
    std::vector<std::shared_ptr<const prometheus::Collectable>> parts_;
};

/// What /metrics serves: `registry`, then the process_* metrics (process_collector).
std::shared_ptr<const prometheus::Collectable> with_process_metrics(std::shared_ptr<prometheus::Registry> registry);

}  // namespace b2b::metrics
