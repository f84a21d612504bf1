// The screening of every received message before it is parsed.
#include "security/source_screen.hpp"

#include "security/emergency.hpp"
#include "security/peek.hpp"
#include "security/source_address.hpp"

namespace b2b::security {

std::string_view to_string(verdict v) noexcept {
    switch (v) {
        case verdict::pass: return "pass";
        case verdict::banned: return "banned";
        case verdict::rate_limit: return "rate_limit";
        case verdict::scanner: return "scanner";
    }
    return "pass";
}

source_screen::source_screen(screen_settings settings, trunk_test is_trunk)
    : settings_(std::move(settings)),
      is_trunk_(std::move(is_trunk)),
      bans_(settings_.ban),
      rates_(settings_.max_requests_per_second, settings_.rate_limit_sources),
      emergency_calls_(settings_.emergency_calls) {}

bool source_screen::exempt(const address& source, std::uint16_t port) const {
    const auto a = source_key(source);
    for (const auto& n : settings_.trusted) {
        if (n.contains(a)) return true;
    }
    return is_trunk_ && is_trunk_(a, port);
}

verdict source_screen::screen(std::string_view bytes, const address& source, std::uint16_t port,
                              clock::time_point now) {
    bans_.expire(now);
    const auto line = peek_start_line(bytes);
    const bool request = line && line->request;
    verdict v = verdict::pass;
    if (bans_.banned(source, now)) {
        v = verdict::banned;
    } else if (request && !rates_.allow(source, now)) {
        v = verdict::rate_limit;
    } else if (request && scanner(bytes)) {
        v = verdict::scanner;
    }
    if (v == verdict::pass) return v;
    if (exempt(source, port)) return verdict::pass;
    // Emergency calls pass bans of their own source and the flood limit (a scanner's User-Agent
    // on one is no reason to let someone die either).
    if (emergency(bytes, line)) return verdict::pass;
    return v;
}

bool source_screen::admit_connection(const address& source, std::uint16_t port, clock::time_point now) {
    bans_.expire(now);
    return !bans_.banned(source, now) || exempt(source, port);
}

std::optional<ban> source_screen::auth_failure(const address& source, std::uint16_t port, std::string_view username,
                                               clock::time_point now) {
    if (exempt(source, port)) return std::nullopt;
    return bans_.record_failure(source, username, now);
}

bool source_screen::emergency(std::string_view bytes, const std::optional<start_line>& line) {
    if (settings_.emergency_numbers.empty()) return false;
    const auto call_id = peek_header(bytes, "Call-ID", "i");
    if (line && line->request && dials_emergency(line->user, settings_.emergency_numbers)) {
        // Its ACK, BYE and the answers to our requests within it carry no emergency number in
        // their start line: remember the call.
        if (call_id && !call_id->empty()) emergency_calls_.insert(std::string(*call_id));
        return true;
    }
    return call_id && !call_id->empty() && emergency_calls_.touch(std::string(*call_id)) != nullptr;
}

bool source_screen::scanner(std::string_view bytes) const {
    if (settings_.scanner_user_agents.empty()) return false;
    const auto ua = peek_header(bytes, "User-Agent");
    if (!ua) return false;
    for (const auto& pattern : settings_.scanner_user_agents) {
        if (contains_ignoring_case(*ua, pattern)) return true;
    }
    return false;
}

}  // namespace b2b::security
