// Toll fraud and per-account limits on new calls: blocked prefixes, emergency numbers, and each
// PBX account's max_calls and max_cps.
#pragma once

#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/failure_log_limiter.hpp"
#include "b2bua/ingress.hpp"
#include "routing/call_usage.hpp"
#include "sip/transport/connection_budget.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace b2b::b2bua {

/// The first of `prefixes` that `number` starts with, or empty.
std::string_view blocked_prefix(std::string_view number, const std::vector<std::string>& prefixes);

/// The account limits of a username (max_calls, max_cps); both 0 for no limit or no account.
struct account_limits {
    std::size_t max_calls = 0;
    std::uint32_t max_cps = 0;
};

/// Every configured PBX account's usage by name, one per process: each event loop's
/// user_limits holds the same entries, so an account's limits hold for the whole process.
///
/// @par Thread safety
/// `at` takes a lock: it is called when the accounts change, never per call.
class account_usage_table {
public:
    /// Account `user`'s usage, made on first use (accounts are few and configured: the table is
    /// bounded by the accounts ever configured, not by what callers send).
    std::shared_ptr<routing::call_usage> at(const std::string& user);

private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<routing::call_usage>> accounts_;
};

/// Each configured PBX account's limits, and its usage (calls up, starts within the last
/// second) shared with the other event loops. Pure: the caller passes the time.
///
/// @par Thread safety
/// Owned by one core, on its event loop; the usage it points at is shared and atomic.
class user_limits {
public:
    using time_point = routing::call_usage::time_point;
    using verdict = routing::call_usage::verdict;

    /// `shared`: the process's account table (its own when none is given: one event loop).
    explicit user_limits(std::shared_ptr<account_usage_table> shared = std::make_shared<account_usage_table>())
        : shared_(std::move(shared)) {}

    /// Replaces every account's limits (on start and on each change of the accounts); an
    /// account not named is no longer counted. The calls up are kept: they hold their usage.
    void set_limits(const std::unordered_map<std::string, account_limits>& limits);
    /// The limits of `user`; both 0 when it has none.
    account_limits limits_of(const std::string& user) const;

    /// Whether account `user` may start one more call at `now`; always `pass` for an account
    /// without limits or not configured.
    verdict check(const std::string& user, time_point now) const;
    /// Takes a call of `user` at `now` when its limits allow, in one step with every other loop
    /// (`exempt`, an emergency call: whatever the limits, and it counts). `hold` gives it back.
    verdict try_start(const std::string& user, time_point now, bool exempt, routing::call_usage_hold& hold);

    std::size_t active(const std::string& user) const;
    /// Accounts counted (the configured ones).
    std::size_t accounts() const noexcept { return accounts_.size(); }

private:
    struct account {
        account_limits limits;
        std::shared_ptr<routing::call_usage> usage;
    };
    std::shared_ptr<account_usage_table> shared_;
    std::unordered_map<std::string, account> accounts_;
};

/// What the event loops of one process count together (sip.workers): each trunk's and each
/// PBX account's usage, the calls up in all (calls.max_calls), and the TCP/TLS connections (the
/// sip.tcp budgets). Every core is given the same.
struct shared_usage {
    std::shared_ptr<routing::trunk_usage_table> trunks = std::make_shared<routing::trunk_usage_table>();
    std::shared_ptr<account_usage_table> accounts = std::make_shared<account_usage_table>();
    std::shared_ptr<routing::call_usage> calls = std::make_shared<routing::call_usage>();
    /// The authentication-failure log lines' bound per source (each core makes its own when
    /// none is given: one event loop).
    std::shared_ptr<failure_log_limiter> failure_lines;
    /// The stream connections' budget (each transport makes its own when none is given).
    std::shared_ptr<sip::connection_budget> connections;
};

/// security.blocked_prefixes (RFC 3261 §21.4.3: 403): an outbound call whose number, as dialled
/// or as the route rewrote it, starts with a blocked prefix never reaches a trunk. Runs after
/// routing. Emergency numbers cannot be blocked (the configuration refuses the overlap).
class blocked_prefix_stage final : public ingress_stage {
public:
    blocked_prefix_stage(const std::vector<std::string>& prefixes, b2bua_metrics& metrics,
                         std::shared_ptr<spdlog::logger> log)
        : prefixes_(prefixes), metrics_(metrics), log_(std::move(log)) {}
    std::string_view name() const noexcept override { return "blocked_prefix"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    const std::vector<std::string>& prefixes_;
    b2bua_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
};

/// A PBX account's max_calls and max_cps: beyond either, 503 with Retry-After (§21.5.4), counted
/// as result=user_limit and b2bua_limit_hits_total{limit="user_calls"|"user_cps"}. Emergency
/// calls pass. Runs after identification (which names the account).
class user_limit_stage final : public ingress_stage {
public:
    user_limit_stage(user_limits& table, std::function<user_limits::time_point()> now, b2bua_metrics& metrics,
                     std::shared_ptr<spdlog::logger> log)
        : table_(table), now_(std::move(now)), metrics_(metrics), log_(std::move(log)) {}
    std::string_view name() const noexcept override { return "user_limit"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    user_limits& table_;
    std::function<user_limits::time_point()> now_;
    b2bua_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace b2b::b2bua
