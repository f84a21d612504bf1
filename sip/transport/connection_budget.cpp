#include "sip/transport/connection_budget.hpp"

#include "sip/transport/flow.hpp"

namespace b2b::sip {

std::optional<connection_refusal> connection_budget::admit_inbound(const boost::asio::ip::address& source) {
    const auto key = unmapped(source);
    const std::lock_guard lock(mutex_);
    if (inbound_ >= limits_.inbound) return connection_refusal::limit;
    auto it = per_source_.find(key);
    if (limits_.inbound_per_source > 0 && it != per_source_.end() && it->second >= limits_.inbound_per_source) {
        return connection_refusal::source_limit;
    }
    if (it == per_source_.end()) it = per_source_.emplace(key, 0).first;
    ++it->second;
    ++inbound_;
    return std::nullopt;
}

std::optional<connection_refusal> connection_budget::admit_outbound() {
    const std::lock_guard lock(mutex_);
    if (outbound_ >= limits_.outbound) return connection_refusal::outbound_limit;
    ++outbound_;
    return std::nullopt;
}

void connection_budget::release_inbound(const boost::asio::ip::address& source) {
    const auto key = unmapped(source);
    const std::lock_guard lock(mutex_);
    auto it = per_source_.find(key);
    if (it == per_source_.end()) return;  // not counted: nothing to release
    if (--it->second == 0) per_source_.erase(it);
    --inbound_;
}

void connection_budget::release_outbound() {
    const std::lock_guard lock(mutex_);
    if (outbound_ > 0) --outbound_;
}

std::size_t connection_budget::inbound() const {
    const std::lock_guard lock(mutex_);
    return inbound_;
}

std::size_t connection_budget::outbound() const {
    const std::lock_guard lock(mutex_);
    return outbound_;
}

std::size_t connection_budget::inbound_from(const boost::asio::ip::address& source) const {
    const auto key = unmapped(source);
    const std::lock_guard lock(mutex_);
    auto it = per_source_.find(key);
    return it == per_source_.end() ? 0 : it->second;
}

}  // namespace b2b::sip
