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
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::b2bua {

/// How a call attempt ended at setup (the `result` label of b2bua_calls_total).
enum class call_result : std::uint8_t {
    answered,              ///< 2xx relayed to the caller
    cancelled,             ///< the caller cancelled before answer (487)
    rejected,              ///< the far end refused (4xx-6xx relayed)
    timeout,               ///< no answer in time (Timer B, or calls.max_ringing) -> 408
    upstream_auth_failed,  ///< the trunk refused our credentials -> 503
    no_route,              ///< no route for the dialled number -> 404
    error,                 ///< transport failure or internal error -> 5xx
    limit,                 ///< refused by calls.max_calls -> 503
    draining,              ///< refused, or still ringing and ended, because the process is draining -> 503
};
std::string_view to_string(call_result r) noexcept;

/// Every metric the B2BUA exports, under names and labels that later versions keep:
///   b2bua_auth_challenges_total{direction,peer}, b2bua_auth_failures_total{direction,peer,reason},
///   b2bua_auth_successes_total{direction,peer} (peer = the realm downstream, the trunk upstream),
///   b2bua_calls_total{direction,trunk,result}, b2bua_active_calls{direction},
///   b2bua_sip_requests_total{direction,method}, b2bua_sip_responses_total{direction,code},
///   b2bua_sip_parse_errors_total{reason}, b2bua_sip_retransmissions_total{direction}.
/// Series for every known label value are created at construction, at zero, so `rate()` and
/// alerts work from the first scrape. Also the transaction layer's observer.
///
/// @par Thread safety
/// Counter updates are atomic (prometheus-cpp); construction is not concurrent.
class b2bua_metrics final : public sip::transaction_observer {
public:
    static constexpr std::size_t no_trunk = static_cast<std::size_t>(-1);

    b2bua_metrics(prometheus::Registry& registry, std::string downstream_realm,
                  const std::vector<std::string>& trunk_names);

    void auth_challenge_downstream() { downstream_.challenges->Increment(); }
    void auth_success_downstream() { downstream_.successes->Increment(); }
    void auth_failure_downstream(auth::failure f);
    void auth_challenge_upstream(std::size_t trunk);
    void auth_success_upstream(std::size_t trunk);
    void auth_failure_upstream(auth::failure f, std::size_t trunk);
    /// A call from the PBX towards `trunk` (direction "outbound") ended its setup with `r`.
    void call_setup(std::size_t trunk, call_result r);
    void set_active_calls(std::size_t n) { active_outbound_->Set(static_cast<double>(n)); }

    // sip::transaction_observer
    void on_received(const sip::message& m) override;
    void on_sent_request(sip::method m, std::string_view method_text) override;
    void on_sent_response(int status) override;
    void on_parse_error(const sip::parse_error& e, const sip::flow& f, bool answered) override;
    void on_retransmission(bool sent_by_us) override;

private:
    static constexpr std::size_t method_count = static_cast<std::size_t>(sip::method::publish) + 1;
    static constexpr std::size_t result_count = static_cast<std::size_t>(call_result::draining) + 1;

    // One peer's authentication series (the realm downstream, a trunk upstream).
    struct auth_series {
        prometheus::Counter* challenges = nullptr;
        prometheus::Counter* successes = nullptr;
        std::array<prometheus::Counter*, auth::failure_count> failures{};
    };
    struct direction_series {
        std::array<prometheus::Counter*, method_count> methods{};
        std::array<prometheus::Counter*, 700> statuses{};  // created on first use
    };

    auth_series make_auth_series(std::string_view direction, const std::string& peer,
                                 std::span<const auth::failure> reasons);
    prometheus::Counter& response_counter(direction_series& d, std::string_view direction, int status);

    prometheus::Family<prometheus::Counter>& challenges_;
    prometheus::Family<prometheus::Counter>& failures_;
    prometheus::Family<prometheus::Counter>& successes_;
    prometheus::Family<prometheus::Counter>& calls_;
    prometheus::Family<prometheus::Counter>& requests_;
    prometheus::Family<prometheus::Counter>& responses_;
    auth_series downstream_;
    std::vector<auth_series> upstream_;
    std::vector<std::array<prometheus::Counter*, result_count>> trunk_calls_;
    std::array<prometheus::Counter*, result_count> no_trunk_calls_{};
    prometheus::Gauge* active_outbound_;
    direction_series in_;
    direction_series out_;
    std::vector<prometheus::Counter*> parse_errors_;  // by sip::errc
    prometheus::Counter* retrans_sent_;
    prometheus::Counter* retrans_received_;
};

}  // namespace b2b::b2bua
