// The B2BUA's Prometheus metrics: built once, incremented on the hot path without lookups.
#pragma once

#include "auth/failure.hpp"
#include "sip/transaction/transaction_manager.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::b2bua {

/// How a call attempt ended at setup (the `result` label of b2bua_calls_total).
enum class call_result : std::uint8_t {
    answered,              ///< 2xx relayed to the PBX
    cancelled,             ///< the PBX cancelled before answer (487)
    rejected,              ///< the far end refused (4xx-6xx relayed)
    timeout,               ///< no answer in time (Timer B, or calls.max_ringing) -> 408
    upstream_auth_failed,  ///< the trunk refused our credentials -> 503
    no_route,              ///< no route for the dialled number -> 404
    error,                 ///< transport failure or internal error -> 5xx
};
std::string_view to_string(call_result r) noexcept;

/// Every metric the B2BUA exports. Series for every known label value are created at
/// construction, at zero, so `rate()` works from the first scrape. Also the transaction
/// layer's observer (message, parse error and retransmission counters).
///
/// @par Thread safety
/// Counter updates are atomic (prometheus-cpp); construction is not concurrent.
class b2bua_metrics final : public sip::transaction_observer {
public:
    static constexpr std::size_t no_trunk = static_cast<std::size_t>(-1);

    b2bua_metrics(prometheus::Registry& registry, std::string downstream_realm,
                  const std::vector<std::string>& trunk_names);

    void auth_challenge_downstream() { challenges_downstream_->Increment(); }
    void auth_challenge_upstream() { challenges_upstream_->Increment(); }
    void auth_failure_downstream(auth::failure f);
    void auth_failure_upstream(auth::failure f, std::size_t trunk);
    void call_setup(std::size_t trunk, call_result r);
    void set_active_calls(std::size_t n) { active_calls_->Set(static_cast<double>(n)); }

    // sip::transaction_observer
    void on_received(const sip::message& m) override;
    void on_sent_request(sip::method m, std::string_view method_text) override;
    void on_sent_response(int status) override;
    void on_parse_error(const sip::parse_error& e, const sip::flow& f, bool answered) override;
    void on_retransmission(bool sent_by_us) override;

private:
    static constexpr std::size_t method_count = static_cast<std::size_t>(sip::method::publish) + 1;
    static constexpr std::size_t failure_count = auth::failure_count;
    static constexpr std::size_t result_count = static_cast<std::size_t>(call_result::error) + 1;

    struct direction_series {
        std::array<prometheus::Counter*, method_count> methods{};
        std::array<prometheus::Counter*, 700> statuses{};  // created on first use
    };
    struct trunk_series {
        std::array<prometheus::Counter*, failure_count> failures{};
        std::array<prometheus::Counter*, result_count> calls{};
    };

    prometheus::Counter& message_counter(direction_series& d, std::string_view direction, int status);

    std::string realm_;
    prometheus::Family<prometheus::Counter>& challenges_;
    prometheus::Family<prometheus::Counter>& failures_;
    prometheus::Family<prometheus::Counter>& calls_;
    prometheus::Family<prometheus::Counter>& messages_;
    prometheus::Counter* challenges_downstream_;
    prometheus::Counter* challenges_upstream_;
    std::array<prometheus::Counter*, failure_count> downstream_failures_{};
    std::vector<trunk_series> trunks_;
    trunk_series no_trunk_;
    prometheus::Gauge* active_calls_;
    direction_series in_;
    direction_series out_;
    prometheus::Counter* parse_errors_;
    prometheus::Counter* parse_errors_answered_;
    prometheus::Counter* retrans_sent_;
    prometheus::Counter* retrans_received_;
};

}  // namespace b2b::b2bua
