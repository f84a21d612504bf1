// The screening of every received message before it is parsed: bans, flood limit, scanners.
#pragma once

#include "auth/ip_network.hpp"
#include "security/ban_list.hpp"
#include "security/detail/lru_table.hpp"
#include "security/peek.hpp"
#include "security/rate_limiter.hpp"

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::security {

struct screen_settings {
    /// Never banned, never rate-limited, never taken for a scanner: where a busy PBX sits.
    std::vector<auth::ip_network> trusted;
    ban_policy ban;
    /// Requests a second per source address; 0 = no limit.
    std::uint32_t max_requests_per_second = 200;
    std::size_t rate_limit_sources = 100000;
    /// User-Agent substrings, any case.
    std::vector<std::string> scanner_user_agents;
    /// Request-URI users that pass bans and the rate limit (with the rest of their call); see
    /// dials_emergency.
    std::vector<std::string> emergency_numbers;
    /// Calls to emergency numbers remembered (by Call-ID) so their ACK, BYE and responses pass
    /// too; the oldest is forgotten beyond it.
    std::size_t emergency_calls = 1024;
};

/// What to do with a received message.
enum class verdict : std::uint8_t {
    pass,
    banned,      ///< its source is banned
    rate_limit,  ///< its source sends requests faster than the limit
    scanner,     ///< a request whose User-Agent names a scanner
};
std::string_view to_string(verdict v) noexcept;
/// The drop reasons, in declaration order (metrics create every label at start).
inline constexpr verdict drop_reasons[] = {verdict::banned, verdict::rate_limit, verdict::scanner};

/// Decides, from the raw bytes and the source, whether a message may reach the parser. A
/// source is exempt when it lies in `trusted` or when `is_trunk` says a trunk sends from it
/// (a provider's calls must never be cut off because its address is busy). Otherwise, in
/// order: a banned source's messages are dropped; requests beyond the rate are dropped;
/// requests whose User-Agent names a scanner are dropped. Requests to an emergency number, and
/// every message of such a call afterwards (by Call-ID), pass all of it.
///
/// Only the start line is read for every message, the User-Agent header for requests; the
/// exemption is looked at only for a message that would otherwise be dropped.
///
/// Sans-I/O: every call takes the time it happens at; bounded tables throughout.
///
/// @par Thread safety
/// None.
class source_screen {
public:
    using clock = std::chrono::steady_clock;
    using address = boost::asio::ip::address;
    /// True when the source address and port belong to a trunk.
    using trunk_test = std::function<bool(const address&, std::uint16_t port)>;

    explicit source_screen(screen_settings settings, trunk_test is_trunk = {});

    verdict screen(std::string_view bytes, const address& source, std::uint16_t port, clock::time_point now);

    /// A stream connection from this source may be accepted (it is not banned, or exempt).
    bool admit_connection(const address& source, std::uint16_t port, clock::time_point now);

    /// A failed digest answer: counted against the source and the username, unless the source
    /// is exempt. Returns the ban it caused, if any.
    std::optional<ban> auth_failure(const address& source, std::uint16_t port, std::string_view username,
                                    clock::time_point now);

    /// Never banned, never limited (trusted or a trunk's).
    bool exempt(const address& source, std::uint16_t port) const;

    ban_list& bans() noexcept { return bans_; }
    const ban_list& bans() const noexcept { return bans_; }
    const rate_limiter& rates() const noexcept { return rates_; }

private:
    bool emergency(std::string_view bytes, const std::optional<start_line>& line);
    bool scanner(std::string_view bytes) const;

    screen_settings settings_;
    trunk_test is_trunk_;
    ban_list bans_;
    rate_limiter rates_;
    detail::lru_table<std::string, bool> emergency_calls_;
};

}  // namespace b2b::security
