// The `security` and `overload` sections of the configuration file.
#include "b2bua/detail/config_sections.hpp"
#include "b2bua/detail/yaml_fields.hpp"

#include <algorithm>
#include <set>

namespace b2b::b2bua::detail {

namespace {

// A number as dialled: digits, '+', '*', '#' and letters (vanity numbers stay rare but legal).
std::vector<std::string> number_list(const YAML::Node& n, const std::string& field) {
    auto list = string_list(n, field);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string f = field + "[" + std::to_string(i) + "]";
        if (list[i].empty()) fail(f, "must not be empty");
        const bool ok = std::all_of(list[i].begin(), list[i].end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '*' || c == '#';
        });
        if (!ok) fail(f, "'" + list[i] + "' is not a number (digits, +, *, #)");
        if (!seen.insert(list[i]).second) fail(f, "'" + list[i] + "' is listed twice");
    }
    return list;
}

}  // namespace

// security:
//   trusted: [10.0.0.0/8]
//   ban: { failures: 5, window_s: 60, first_s: 300, max_s: 86400, max_entries: 100000 }
//   max_requests_per_second: 200
//   rate_limit_sources: 100000
//   scanner_user_agents: [friendly-scanner, ...]
//   server_header: ""
//   allow_rfc2069: false
//   blocked_prefixes: ["+882", "00882"]
//   emergency_numbers: ["112", "911"]
//   failure_log_interval_s: 60
void parse_security(const YAML::Node& n, config& c) {
    expect_map(n, "security");
    only_keys(n, "security", {"trusted", "ban", "max_requests_per_second", "rate_limit_sources", "scanner_user_agents",
                              "server_header", "allow_rfc2069", "blocked_prefixes", "emergency_numbers",
                              "failure_log_interval_s"});
    auto& s = c.security;
    if (given(n["trusted"])) s.trusted = network_list(n["trusted"], "security.trusted");
    if (const auto& b = n["ban"]; given(b)) {
        expect_map(b, "security.ban");
        only_keys(b, "security.ban", {"failures", "window_s", "first_s", "max_s", "max_entries"});
        if (b["failures"]) s.ban.failures = static_cast<std::size_t>(integer(b["failures"], "security.ban.failures", 1, 1000));
        if (b["window_s"]) s.ban.window = std::chrono::seconds(integer(b["window_s"], "security.ban.window_s", 1, 86400));
        if (b["first_s"]) s.ban.first = std::chrono::seconds(integer(b["first_s"], "security.ban.first_s", 1, 30 * 86400));
        if (b["max_s"]) s.ban.max = std::chrono::seconds(integer(b["max_s"], "security.ban.max_s", 1, 365 * 86400));
        if (b["max_entries"]) {
            s.ban.max_entries = static_cast<std::size_t>(integer(b["max_entries"], "security.ban.max_entries", 16, 10000000));
        }
        if (s.ban.max < s.ban.first) {
            fail("security.ban.max_s", std::to_string(s.ban.max.count()) + " is below security.ban.first_s (" +
                                           std::to_string(s.ban.first.count()) + ")");
        }
    }
    if (n["max_requests_per_second"]) {
        s.max_requests_per_second = static_cast<std::uint32_t>(
            integer(n["max_requests_per_second"], "security.max_requests_per_second", 0, 1000000));
    }
    if (n["rate_limit_sources"]) {
        s.rate_limit_sources =
            static_cast<std::size_t>(integer(n["rate_limit_sources"], "security.rate_limit_sources", 16, 10000000));
    }
    if (given(n["scanner_user_agents"])) {
        s.scanner_user_agents = string_list(n["scanner_user_agents"], "security.scanner_user_agents");
        for (std::size_t i = 0; i < s.scanner_user_agents.size(); ++i) {
            if (s.scanner_user_agents[i].empty()) {
                fail("security.scanner_user_agents[" + std::to_string(i) + "]", "must not be empty (it would match everyone)");
            }
        }
    } else if (n["scanner_user_agents"]) {
        s.scanner_user_agents.clear();  // `scanner_user_agents:` with nothing: none
    }
    if (n["server_header"]) {
        s.server_header = scalar(n["server_header"], "security.server_header");
        if (s.server_header.find_first_of("\r\n") != std::string::npos) {
            fail("security.server_header", "must be one line");
        }
    }
    if (n["allow_rfc2069"]) s.allow_rfc2069 = boolean(n["allow_rfc2069"], "security.allow_rfc2069");
    if (given(n["blocked_prefixes"])) s.blocked_prefixes = number_list(n["blocked_prefixes"], "security.blocked_prefixes");
    if (given(n["emergency_numbers"])) s.emergency_numbers = number_list(n["emergency_numbers"], "security.emergency_numbers");
    for (std::size_t i = 0; i < s.emergency_numbers.size(); ++i) {
        for (const auto& p : s.blocked_prefixes) {
            if (s.emergency_numbers[i].starts_with(p)) {
                fail("security.emergency_numbers[" + std::to_string(i) + "]",
                     "'" + s.emergency_numbers[i] + "' is blocked by security.blocked_prefixes '" + p + "'");
            }
        }
    }
    if (n["failure_log_interval_s"]) {
        s.failure_log_interval =
            std::chrono::seconds(integer(n["failure_log_interval_s"], "security.failure_log_interval_s", 1, 86400));
    }
}

// overload: { max_loop_delay_ms: 100, retry_after_s: 5, max_transactions: 200000 }
void parse_overload(const YAML::Node& n, config& c) {
    expect_map(n, "overload");
    only_keys(n, "overload", {"max_loop_delay_ms", "retry_after_s", "max_transactions"});
    auto& o = c.overload;
    if (n["max_loop_delay_ms"]) {
        o.max_loop_delay = std::chrono::milliseconds(integer(n["max_loop_delay_ms"], "overload.max_loop_delay_ms", 5, 60000));
    }
    if (n["retry_after_s"]) o.retry_after = std::chrono::seconds(integer(n["retry_after_s"], "overload.retry_after_s", 1, 3600));
    if (n["max_transactions"]) {
        o.max_transactions =
            static_cast<std::size_t>(integer(n["max_transactions"], "overload.max_transactions", 100, 100000000));
    }
}

}  // namespace b2b::b2bua::detail
