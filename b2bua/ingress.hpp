// The stages a new INVITE passes before it becomes a call: screening, identification, admission, routing.
#pragma once

#include "b2bua/auth_failure_log.hpp"
#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/config.hpp"
#include "b2bua/downstream_auth.hpp"
#include "b2bua/failure_log_limiter.hpp"
#include "routing/inbound.hpp"
#include "routing/route_table.hpp"
#include "routing/trunk.hpp"
#include "routing/trunk_selection.hpp"
#include "sip/message/message.hpp"
#include "sip/transaction/transaction_manager.hpp"
#include "sip/transport/flow.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

/// A new INVITE on its way in, and what the stages learn about it on the way.
struct ingress_request {
    ingress_request(sip::transaction_id t, sip::message& i, const sip::flow& f, const sip::endpoint& from,
                    std::string tag)
        : txn(t), invite(i), flow(f), source(from), reject_tag(std::move(tag)) {}

    sip::transaction_id txn = 0;
    sip::message& invite;
    const sip::flow& flow;  ///< where it came from and its answers go: a load balancer, maybe
    /// Whose request it is: the sender, or behind a load balancer the address it stamped
    /// (cluster.dispatchers). Every per-source decision takes this one.
    const sip::endpoint& source;
    std::string reject_tag;  ///< our To tag if a stage refuses it
    /// The Request-URI user is in security.emergency_numbers: every limit and overload
    /// admission let it pass (set before the stages).
    bool emergency = false;

    // Learnt by the stages.
    unsigned max_forwards = 70;  ///< screening: the value leg B carries (decremented)
    std::string content_type;    ///< screening
    std::string user;            ///< identification: who the PBX authenticated as
    /// user_limit: the account's slot, and admission: the process's (calls.max_calls), taken
    /// for the call the request becomes; a later stage's refusal gives them back.
    routing::call_usage_hold account_slot;
    routing::call_usage_hold call_slot;
    /// identification: the trunk the request came from (a call to a PBX), or none (from a PBX).
    std::optional<std::size_t> source_trunk;
    call_direction direction = call_direction::outbound;  ///< identification
    /// identification: sent to the Contact we registered with a trunk, whose user part is ours:
    /// the dialled number is the To user (RFC 3261 §10.2: the provider's registrar retargets).
    bool to_registered_contact = false;
    std::string dialled;         ///< routing: the unescaped Request-URI user part
    std::size_t trunk_index = 0;  ///< trunk selection (outbound): the trunk of the first attempt
    std::vector<std::size_t> trunks;  ///< routing (outbound): the route's trunks (indices), in failover order
    std::size_t trunk_position = 0;   ///< trunk selection: where `trunk_index` is in `trunks`
    std::size_t inbound_route = 0;  ///< routing (inbound): the route to the PBX
    /// routing: the Request-URI user part of the other leg, escaped (rewritten or as dialled).
    std::string number;
    /// routing: the caller's number for the other leg, escaped ("anonymous" when none).
    std::string caller;
};

using header_list = std::vector<std::pair<std::string_view, std::string_view>>;

/// How a stage refuses a request: the final response goes back on the INVITE's transaction.
class ingress_responder {
public:
    virtual ~ingress_responder() = default;
    virtual void refuse(ingress_request& r, int status, std::string_view reason, const header_list& extra = {}) = 0;
};

/// What a stage decided (resip repro Processor, Envoy FilterStatus). A stage that stops has
/// answered the request through the responder. (An asynchronous stage, DNS for one, will add a
/// third outcome that parks the request; none of today's stages waits.)
enum class stage_result : std::uint8_t { proceed, stop };

/// One step of the ingress. Stages are small, ordered, and know nothing of each other.
class ingress_stage {
public:
    virtual ~ingress_stage() = default;
    virtual std::string_view name() const noexcept = 0;
    virtual stage_result run(ingress_request& r, ingress_responder& responder) = 0;
};

/// What a UAS checks before anything else (RFC 3261 §8.2.2, §8.2.3, RFC 4475 §3.3): a PBX
/// that accepts no SDP (406), no hops left (483, RFC 7332: a B2BUA forwards), a body that is
/// not SDP (415), a merged request (482, §8.2.2.2).
class screening_stage final : public ingress_stage {
public:
    /// `already_bridged(invite)`: an INVITE of a call we already carry (same Call-ID and From
    /// tag) arrived again on another branch.
    explicit screening_stage(std::function<bool(const sip::message&)> already_bridged)
        : already_bridged_(std::move(already_bridged)) {}
    std::string_view name() const noexcept override { return "screening"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    std::function<bool(const sip::message&)> already_bridged_;
};

/// What a source address makes of a request: a trunk's (recognised by address, never
/// challenged), a PBX's (digest authentication follows), or refused before any challenge
/// (outside downstream.allowed_sources).
class source_policy {
public:
    source_policy(const std::vector<routing::trunk>& trunks, std::vector<auth::ip_network> allowed)
        : trunks_(trunks), allowed_(std::move(allowed)) {}

    enum class kind : std::uint8_t { trunk, pbx, refused };
    struct verdict {
        kind what = kind::pbx;
        std::size_t trunk = 0;  ///< with kind::trunk
    };
    verdict classify(const sip::endpoint& source) const;
    /// The trunks changed at run time (by index, removed ones included: they match nothing).
    void set_trunks(const std::vector<routing::trunk>& trunks) { trunks_ = routing::trunk_identifier(trunks); }
    /// A trunk named by host resolved to these targets (routing::trunk_identifier::set_resolved).
    void set_resolved(std::size_t trunk, const std::vector<sip::endpoint>& resolved) {
        trunks_.set_resolved(trunk, resolved);
    }

private:
    routing::trunk_identifier trunks_;
    std::vector<auth::ip_network> allowed_;
};

/// Where downstream authentication failures are logged: a line each, but per source only the
/// first few of each security.failure_log_interval, then one summary line (failure_log_limiter).
/// Peer fields in the lines are cut (detail::clip): an attacker chooses neither their number
/// nor their size.
struct failure_lines {
    spdlog::logger& log;
    failure_log_limiter& limiter;
};

/// Who is calling: a trunk, by the Contact we registered with it (the Request-URI's user part,
/// from whatever address the provider sends) or by its source address; a PBX, which proves it with digest
/// authentication (RFC 3261 §22, RFC 7616). Challenges, refusals and failures are counted and
/// logged here, by reason.
class identification_stage final : public ingress_stage {
public:
    /// The trunk whose registered Contact has this user part, if any.
    using contact_lookup = std::function<std::optional<std::size_t>(std::string_view user)>;

    identification_stage(const source_policy& sources, downstream_auth& auth, b2bua_metrics& metrics,
                         auth_failure_log& failures, failure_log_limiter& line_limiter,
                         std::function<std::chrono::system_clock::time_point()> wall_now,
                         std::shared_ptr<spdlog::logger> log, contact_lookup registered_contact = {})
        : sources_(sources),
          auth_(auth),
          metrics_(metrics),
          failures_(failures),
          failure_lines_(line_limiter),
          wall_now_(std::move(wall_now)),
          log_(std::move(log)),
          registered_contact_(std::move(registered_contact)) {}
    std::string_view name() const noexcept override { return "identification"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    const source_policy& sources_;
    downstream_auth& auth_;
    b2bua_metrics& metrics_;
    auth_failure_log& failures_;
    failure_log_limiter& failure_lines_;
    std::function<std::chrono::system_clock::time_point()> wall_now_;
    std::shared_ptr<spdlog::logger> log_;
    contact_lookup registered_contact_;
};

/// Checks the PBX's credentials on `request` (an INVITE, a REGISTER...), counting and logging
/// the outcome by reason, and recording failures in `failures`. Not accepted: the caller
/// answers with the decision's status, reason and `challenge_headers`.
auth_decision authenticate_pbx(downstream_auth& auth, b2bua_metrics& metrics, auth_failure_log& failures,
                               failure_lines lines, const sip::message& request, const sip::endpoint& source,
                               std::chrono::system_clock::time_point now);
/// A request from outside downstream.allowed_sources, refused with 403: counted, logged, recorded.
void source_not_allowed(b2bua_metrics& metrics, auth_failure_log& failures, failure_lines lines,
                        const sip::message& request, const sip::endpoint& source, std::string_view our_realm,
                        std::chrono::system_clock::time_point now);
/// The challenge header fields of a `challenge` decision (none for the others).
header_list challenge_headers(const auth_decision& d);

/// Whether there is room: calls.max_calls over every event loop (503 with Retry-After, counted
/// as result=limit); the request takes its place in `calls` (emergency calls pass, and count).
/// `max_calls` is read for each request: a reload may change it.
class admission_stage final : public ingress_stage {
public:
    admission_stage(const std::size_t& max_calls, std::shared_ptr<routing::call_usage> calls, b2bua_metrics& metrics,
                    std::shared_ptr<spdlog::logger> log)
        : max_calls_(max_calls), calls_(std::move(calls)), metrics_(metrics), log_(std::move(log)) {}
    std::string_view name() const noexcept override { return "admission"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    const std::size_t& max_calls_;
    std::shared_ptr<routing::call_usage> calls_;
    b2bua_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
};

/// Where the call goes: the longest prefix of the dialled number (a pure decision of
/// routing/) in `routes` for a call from a PBX, in `inbound_routes` for one from a trunk. No
/// number or no route: 404.
class routing_stage final : public ingress_stage {
public:
    routing_stage(const routing::route_table& routes, const routing::inbound_route_table& inbound_routes,
                  const std::unordered_map<std::string, std::size_t>& trunk_index, b2bua_metrics& metrics,
                  std::shared_ptr<spdlog::logger> log)
        : routes_(routes), inbound_routes_(inbound_routes), trunk_index_(trunk_index), metrics_(metrics),
          log_(std::move(log)) {}
    std::string_view name() const noexcept override { return "routing"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    const routing::route_table& routes_;
    const routing::inbound_route_table& inbound_routes_;
    const std::unordered_map<std::string, std::size_t>& trunk_index_;
    b2bua_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
};

/// Which trunk of the route takes the first attempt: the first one not down, out of service
/// or over its max_calls/max_cps (routing::trunk_selection). Each one passed over counts as
/// a failover to the chosen one. None left: 503 with Retry-After, `result="limit"` (or
/// `"unavailable"` when no trunk was over a limit, all being down or out of service).
class trunk_selection_stage final : public ingress_stage {
public:
    trunk_selection_stage(const routing::trunk_selection& selection,
                          const std::vector<std::shared_ptr<const routing::trunk>>& trunks,
                          std::function<routing::trunk_selection::time_point()> now, b2bua_metrics& metrics,
                          std::shared_ptr<spdlog::logger> log)
        : selection_(selection), trunks_(trunks), now_(std::move(now)), metrics_(metrics), log_(std::move(log)) {}
    std::string_view name() const noexcept override { return "trunk_selection"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    const routing::trunk_selection& selection_;
    const std::vector<std::shared_ptr<const routing::trunk>>& trunks_;
    std::function<routing::trunk_selection::time_point()> now_;
    b2bua_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace b2b::b2bua
