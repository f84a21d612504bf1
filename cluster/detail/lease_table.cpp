// Lease bookkeeping: wanted, held (until when), being released, and what was last reported.
#include "cluster/detail/lease_table.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace b2b::cluster::detail {

lease_table::lease_table(std::string node, std::chrono::milliseconds validity)
    : node_(std::move(node)), validity_(validity) {}

void lease_table::want(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    wanted_ = std::move(names);
    for (auto it = held_.begin(); it != held_.end();) {
        if (std::binary_search(wanted_.begin(), wanted_.end(), it->first)) {
            ++it;
            continue;
        }
        releasing_.insert_or_assign(it->first, it->second);
        it = held_.erase(it);
    }
    std::erase_if(holders_, [&](const auto& h) {
        return !std::binary_search(wanted_.begin(), wanted_.end(), h.first);
    });
    // Wanted again before its release went out: renewal takes it back, nothing to delete.
    std::erase_if(releasing_, [&](const auto& r) {
        return std::binary_search(wanted_.begin(), wanted_.end(), r.first);
    });
}

std::vector<std::string> lease_table::releasing() const {
    std::vector<std::string> out;
    out.reserve(releasing_.size());
    for (const auto& [name, until] : releasing_) out.push_back(name);
    return out;
}

std::vector<std::string> lease_table::all_held() const {
    auto out = releasing();
    for (const auto& [name, until] : held_) out.push_back(name);
    return out;
}

void lease_table::renewed(std::span<const std::string> names, std::span<const std::string> holders,
                          clock::time_point sent_at) {
    const auto until = sent_at + validity_;
    for (std::size_t i = 0; i < names.size() && i < holders.size(); ++i) {
        const auto& name = names[i];
        const bool ours = holders[i] == node_;
        if (!std::binary_search(wanted_.begin(), wanted_.end(), name)) {
            // Unwanted while the renewal was on its way: it may have just been taken.
            if (ours) releasing_.insert_or_assign(name, until);
            continue;
        }
        holders_.insert_or_assign(name, holders[i]);
        if (ours)
            held_.insert_or_assign(name, until);
        else
            held_.erase(name);
    }
}

void lease_table::released(std::span<const std::string> names) {
    for (const auto& n : names) releasing_.erase(n);
}

void lease_table::expire(clock::time_point now) {
    for (auto it = held_.begin(); it != held_.end();) {
        if (it->second > now) {
            ++it;
            continue;
        }
        // Whoever Redis gives it to next is unknown until a renewal says.
        holders_.insert_or_assign(it->first, std::string{});
        it = held_.erase(it);
    }
    // Past this point the key has expired in Redis (or will before anyone could care).
    std::erase_if(releasing_, [&](const auto& r) { return r.second <= now; });
}

bool lease_table::owns(std::string_view name, clock::time_point now) const {
    const auto it = held_.find(name);
    return it != held_.end() && it->second > now;
}

std::string lease_table::holder(std::string_view name) const {
    const auto it = holders_.find(name);
    return it != holders_.end() ? it->second : std::string{};
}

std::optional<lease_change> lease_table::take_change() {
    std::set<std::string, std::less<>> current;
    for (const auto& [name, until] : held_) current.insert(name);
    if (current == reported_) return std::nullopt;
    lease_change change;
    std::set_difference(current.begin(), current.end(), reported_.begin(), reported_.end(),
                        std::back_inserter(change.gained));
    std::set_difference(reported_.begin(), reported_.end(), current.begin(), current.end(),
                        std::back_inserter(change.lost));
    for (const auto& name : wanted_) {
        if (current.contains(name)) continue;
        const auto h = holders_.find(name);
        change.others.emplace(name, h != holders_.end() ? h->second : std::string{});
    }
    reported_ = std::move(current);
    return change;
}

}  // namespace b2b::cluster::detail
