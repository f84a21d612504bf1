// Toll fraud and per-account limits on new calls: blocked prefixes, emergency numbers, and each
// PBX account's max_calls and max_cps.
#pragma once

#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/ingress.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
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

/// Each PBX account's limits, and its calls: up at once, and started within the last second.
/// Pure: the caller passes the time. Only authenticated accounts get here, so the table is
/// bounded by the configured accounts, not by what callers send; an account found idle by
/// `check` is forgotten.
///
/// @par Thread safety
/// None: owned by the core, on its event loop.
class user_limits {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    /// Replaces every account's limits (on start and on each change of the accounts); accounts
    /// not named have none. The calls up are kept.
    void set_limits(std::unordered_map<std::string, account_limits> limits);
    /// The limits of `user`; both 0 when it has none.
    account_limits limits_of(const std::string& user) const;

    enum class verdict : std::uint8_t { pass, max_calls, max_cps };
    /// Whether account `user` may start one more call at `now` under its limits; always `pass`
    /// for an account without limits.
    verdict check(const std::string& user, time_point now);
    /// A call of `user` started (it holds a slot until `on_call_end`).
    void on_call_start(const std::string& user, time_point now);
    void on_call_end(const std::string& user) noexcept;

    std::size_t active(const std::string& user) const;
    /// Accounts held (for tests: it must not grow without calls).
    std::size_t accounts() const noexcept { return users_.size(); }

private:
    struct usage {
        std::size_t active = 0;
        std::deque<time_point> starts;  // within the last second, oldest first
    };
    static void forget_old(usage& u, time_point now);

    std::unordered_map<std::string, account_limits> limits_;  // limited accounts only
    std::unordered_map<std::string, usage> users_;
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
