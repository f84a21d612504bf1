#include "sip/transport/detail/connection_budget.hpp"

#include "sip/transport/flow.hpp"

namespace b2b::sip::detail {

std::optional<connection_refusal> connection_budget::admit_inbound(const boost::asio::ip::address& source) {
    if (inbound_ >= limits_.inbound) return connection_refusal::limit;
    const auto key = unmapped(source);
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
    if (outbound_ >= limits_.outbound) return connection_refusal::outbound_limit;
    ++outbound_;
    return std::nullopt;
}

void connection_budget::release_inbound(const boost::asio::ip::address& source) {
    auto it = per_source_.find(unmapped(source));
    if (it == per_source_.end()) return;  // not counted: nothing to release
    if (--it->second == 0) per_source_.erase(it);
    --inbound_;
}

void connection_budget::release_outbound() {
    if (outbound_ > 0) --outbound_;
}

std::size_t connection_budget::inbound_from(const boost::asio::ip::address& source) const {
    auto it = per_source_.find(unmapped(source));
    return it == per_source_.end() ? 0 : it->second;
}

}  // namespace b2b::sip::detail
