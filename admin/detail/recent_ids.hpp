// The ids of the last changes taken from other nodes, so that a copy delivered again is known.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_set>
#include <utility>

namespace b2b::admin::detail {

/// The last `capacity` ids inserted; the oldest is forgotten first. The cluster's event stream
/// delivers at least once: a copy comes again when the add of the first timed out after all,
/// a round or a few later, so a few thousand cover it with room to spare.
class recent_ids {
public:
    explicit recent_ids(std::size_t capacity) : capacity_(capacity) {}

    bool contains(const std::string& id) const { return known_.contains(id); }
    void insert(std::string id) {
        if (capacity_ == 0 || !known_.insert(id).second) return;
        order_.push_back(std::move(id));
        if (order_.size() > capacity_) {
            known_.erase(order_.front());
            order_.pop_front();
        }
    }

private:
    std::size_t capacity_;
    std::deque<std::string> order_;  ///< oldest first
    std::unordered_set<std::string> known_;
};

}  // namespace b2b::admin::detail
