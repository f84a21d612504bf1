// Several collectables as one.
#include "metrics/collectables.hpp"

#include "metrics/process_collector.hpp"

#include <iterator>
#include <utility>

namespace b2b::metrics {

collectable_set::collectable_set(std::vector<std::shared_ptr<const prometheus::Collectable>> parts)
    : parts_(std::move(parts)) {}

std::vector<prometheus::MetricFamily> collectable_set::Collect() const {
    std::vector<prometheus::MetricFamily> out;
    for (const auto& part : parts_) {
        auto families = part->Collect();
        out.insert(out.end(), std::make_move_iterator(families.begin()), std::make_move_iterator(families.end()));
    }
    return out;
}

std::shared_ptr<const prometheus::Collectable> with_process_metrics(std::shared_ptr<prometheus::Registry> registry) {
    return std::make_shared<collectable_set>(std::vector<std::shared_ptr<const prometheus::Collectable>>{
        std::move(registry), std::make_shared<process_collector>()});
}

}  // namespace b2b::metrics
