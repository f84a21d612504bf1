// The B2BUA's Prometheus metrics: built once, incremented on the hot path without lookups.
#pragma once

#include "auth/failure.hpp"
#include "b2bua/connection_metrics.hpp"
#include "b2bua/limit_metrics.hpp"
#include "b2bua/registration_metrics.hpp"
#include "sip/transaction/transaction_manager.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <tuple>
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
    limit,                 ///< refused by calls.max_calls, or every trunk of the route over max_calls/max_cps -> 503
    unavailable,           ///< every trunk of the route down or out of service (none over a limit) -> 503
    draining,              ///< refused, or still ringing and ended, because the process is draining -> 503
    not_registered,        ///< inbound, to a PBX account with no current registration -> 480
    ended_by_operator,     ///< ended through the admin API before it was answered -> 480
    blocked,               ///< the number matches security.blocked_prefixes -> 403
    user_limit,            ///< the PBX account is at its max_calls or max_cps -> 503
    overload,              ///< the event loop runs late (overload.max_loop_delay_ms) -> 503
};
std::string_view to_string(call_result r) noexcept;

/// Which way a call goes (the `direction` label of the call families).
enum class call_direction : std::uint8_t {
    outbound,  ///< from a PBX to a trunk
    inbound,   ///< from a trunk to a PBX
};
std::string_view to_string(call_direction d) noexcept;

/// Every metric the B2BUA exports, under names and labels that later versions keep:
///   b2bua_auth_challenges_total{direction,peer}, b2bua_auth_failures_total{direction,peer,reason},
///   b2bua_auth_successes_total{direction,peer} (peer = the realm downstream, the trunk upstream;
///   downstream also a PBX target of inbound routes that challenges the calls we send it),
///   b2bua_calls_total{direction,trunk,result}, b2bua_active_calls{direction},
///   b2bua_sip_requests_total{direction,method}, b2bua_sip_responses_total{direction,code},
///   b2bua_sip_parse_errors_total{reason}, b2bua_sip_retransmissions_total{direction},
///   b2bua_trunk_failovers_total{from,to,status}, b2bua_trunk_up{trunk},
///   b2bua_call_setup_seconds{direction}, b2bua_call_duration_seconds{direction} (histograms),
///   b2bua_sip_transactions{kind}, and the registration, connection and limit families
///   (registration_metrics, connection_metrics, limit_metrics).
/// Series for every known label value are created at construction, at zero, so `rate()` and
/// alerts work from the first scrape. Also the transaction layer's observer.
///
/// Several workers (event loops): the first worker's instance registers the families, every other
/// worker gets an instance of its own made from it (the second constructor). Each keeps its own
/// tables (trunk indices, series made on first use), touched by its loop only; equal labels are
/// one series in the registry, whose counters and gauges are atomic, so the workers' counts add up.
///
/// @par Thread safety
/// One instance per event loop; counter updates are atomic (prometheus-cpp); construction is not
/// concurrent.
class b2bua_metrics final : public sip::transaction_observer {
public:
    static constexpr std::size_t no_trunk = static_cast<std::size_t>(-1);
    /// Peers (the request sender's `peer`) from here on are the PBX targets of inbound routes
    /// (pbx_peer_base + route index); below it, trunks by index. Apart, so trunks added at run
    /// time do not renumber the PBXs.
    static constexpr std::size_t pbx_peer_base = std::size_t{1} << 24;

    /// `pbx_names`: the targets of inbound routes, whose challenges we answer.
    b2bua_metrics(prometheus::Registry& registry, std::string downstream_realm,
                  const std::vector<std::string>& trunk_names, const std::vector<std::string>& pbx_names = {});
    /// Another worker's: the families and series of `first` (made before any traffic), and the
    /// trunks and PBX targets that worker's core starts with.
    b2bua_metrics(const b2bua_metrics& first, const std::vector<std::string>& trunk_names,
                  const std::vector<std::string>& pbx_names = {});
    b2bua_metrics(const b2bua_metrics&) = delete;
    b2bua_metrics& operator=(const b2bua_metrics&) = delete;

    void auth_challenge_downstream() { downstream_.challenges->Increment(); }
    void auth_success_downstream() { downstream_.successes->Increment(); }
    void auth_failure_downstream(auth::failure f);
    /// A peer we answer challenges from: a trunk (its index, upstream), or the PBX target of an
    /// inbound route (pbx_peer_base + route index, downstream).
    void auth_challenge_upstream(std::size_t peer);
    void auth_success_upstream(std::size_t peer);
    void auth_failure_upstream(auth::failure f, std::size_t peer);
    /// A call between a PBX and `trunk` (the one it went to, or came from) ended its setup with `r`.
    void call_setup(call_direction d, std::size_t trunk, call_result r);
    /// Calls in progress, both directions, every worker's.
    std::size_t active_calls() const {
        return static_cast<std::size_t>(active_[0]->Value() + active_[1]->Value());
    }
    /// A call began (+1) or ended (-1): added, so the cores of several workers share the gauge.
    void count_active_call(call_direction d, int delta) {
        active_[static_cast<std::size_t>(d)]->Increment(static_cast<double>(delta));
    }
    /// A call's setup took `setup`: from its INVITE to the first final response to the caller
    /// (or to the caller giving up first).
    void call_setup_time(call_direction d, std::chrono::steady_clock::duration setup);
    /// An answered call ended `talk` after its answer.
    void call_duration(call_direction d, std::chrono::steady_clock::duration talk);

    // Trunk selection (b2bua_trunk_failovers_total{from,to,status}, b2bua_trunk_up{trunk}).
    /// Creates the failover series from `from` to `to` at zero for the usual statuses (a
    /// route lists `to` after `from`); other statuses appear on first use.
    void declare_failover(std::size_t from, std::size_t to);
    /// A call left trunk `from` for trunk `to`: `status` is the SIP code `from` answered, or
    /// "timeout", "transport", "auth", "limit", "down", "out_of_service".
    void trunk_failover(std::size_t from, std::size_t to, std::string_view status);
    void set_trunk_up(std::size_t trunk, bool up);

    /// A trunk configured at run time: its series, at zero (up), under the next trunk index.
    /// A trunk's name is its label, so a trunk deleted and added again continues its series.
    std::size_t add_trunk(const std::string& name);
    /// The PBX targets of the inbound routes changed: their series by route index.
    void set_pbx_targets(const std::vector<std::string>& names);

    /// Ours with the trunks, and the PBXs' with us.
    registration_metrics& registrations() noexcept { return shared_->registrations; }
    /// The stream transports' connections (the transport's observer).
    connection_metrics& connections() noexcept { return shared_->connections; }
    /// The limits' hits and overload admission (limit_metrics).
    limit_metrics& limits() noexcept { return shared_->limits; }

    // sip::transaction_observer
    void on_received(const sip::message& m) override;
    void on_sent_request(sip::method m, std::string_view method_text) override;
    void on_sent_response(int status) override;
    void on_parse_error(const sip::parse_error& e, const sip::flow& f, bool answered) override;
    void on_retransmission(bool sent_by_us) override;
    void on_transaction_count(bool client, int delta) override;
    void on_transaction_limit() override { limits().hit(limit_kind::transactions); }

private:
    static constexpr std::size_t method_count = static_cast<std::size_t>(sip::method::publish) + 1;
    static constexpr std::size_t result_count = static_cast<std::size_t>(call_result::overload) + 1;

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
    auth_series* peer_series(std::size_t peer);
    prometheus::Counter& response_counter(direction_series& d, std::string_view direction, int status);
    prometheus::Counter* trunk_failover_counter(std::size_t from, std::size_t to, std::string_view status);

    prometheus::Family<prometheus::Counter>& challenges_;
    prometheus::Family<prometheus::Counter>& failures_;
    prometheus::Family<prometheus::Counter>& successes_;
    prometheus::Family<prometheus::Counter>& calls_;
    prometheus::Family<prometheus::Counter>& requests_;
    prometheus::Family<prometheus::Counter>& responses_;
    auth_series downstream_;
    std::vector<auth_series> upstream_;  // by trunk index
    std::vector<auth_series> pbx_;       // by inbound route (peer - pbx_peer_base)
    // By direction, then trunk.
    std::array<std::vector<std::array<prometheus::Counter*, result_count>>, 2> trunk_calls_;
    // By direction: calls refused before any trunk (no route, refused before routing).
    std::array<std::array<prometheus::Counter*, result_count>, 2> no_trunk_calls_{};
    prometheus::Family<prometheus::Gauge>* trunk_up_family_ = nullptr;
    std::array<prometheus::Gauge*, 2> active_{};
    std::array<prometheus::Histogram*, 2> setup_seconds_{};     // by call_direction
    std::array<prometheus::Histogram*, 2> duration_seconds_{};  // by call_direction
    prometheus::Gauge* client_transactions_ = nullptr;
    prometheus::Gauge* server_transactions_ = nullptr;
    std::vector<std::string> trunk_names_;
    prometheus::Family<prometheus::Counter>* failovers_ = nullptr;
    std::map<std::tuple<std::size_t, std::size_t, std::string>, prometheus::Counter*, std::less<>> failover_series_;
    std::vector<prometheus::Gauge*> trunk_up_;
    direction_series in_;
    direction_series out_;
    std::vector<prometheus::Counter*> parse_errors_;  // by sip::errc
    prometheus::Counter* retrans_sent_;
    prometheus::Counter* retrans_received_;
    // Made once, shared by the workers: their series are all made at construction.
    struct shared_parts {
        explicit shared_parts(prometheus::Registry& registry)
            : registrations(registry), connections(registry), limits(registry) {}
        registration_metrics registrations;
        connection_metrics connections;
        limit_metrics limits;
    };
    std::shared_ptr<shared_parts> shared_;
};

}  // namespace b2b::b2bua
