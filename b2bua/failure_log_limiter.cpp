// Per-source rate limit of authentication-failure log lines.
#include "b2bua/failure_log_limiter.hpp"

#include <stdexcept>

namespace b2b::b2bua {

failure_log_limiter::failure_log_limiter(options o) : options_(o) {
    if (options_.interval.count() <= 0) throw std::invalid_argument("failure log interval must be positive");
}

std::optional<failure_log_limiter::summary> failure_log_limiter::close(window& w, const std::string& source) const {
    std::optional<summary> out;
    if (w.active && w.suppressed > 0) {
        out = summary{source, w.logged, w.suppressed, w.last_reason, options_.interval};
    }
    w = window{};
    return out;
}

bool failure_log_limiter::admit(window& w, std::string_view reason, clock::time_point now,
                                std::optional<summary>& ended, const std::string& source) {
    if (w.active && (now - w.start >= options_.interval || now < w.start)) ended = close(w, source);
    if (!w.active) {
        w.active = true;
        w.start = now;
    }
    if (w.logged < options_.lines_per_interval) {
        ++w.logged;
        return true;
    }
    ++w.suppressed;
    w.last_reason.assign(reason);
    return false;
}

failure_log_limiter::verdict failure_log_limiter::on_failure(const boost::asio::ip::address& source,
                                                             std::string_view reason, clock::time_point now) {
    const std::lock_guard lock(mutex_);
    verdict v;
    std::string key = source.to_string();
    auto it = sources_.find(key);
    if (it == sources_.end()) {
        if (sources_.size() >= options_.max_sources) {
            // Bounded: an attacker with many addresses shares one window, and one summary.
            v.log = admit(others_, reason, now, v.previous, std::string());
            return v;
        }
        it = sources_.emplace(std::move(key), window{}).first;
    }
    v.log = admit(it->second, reason, now, v.previous, it->first);
    return v;
}

std::vector<failure_log_limiter::summary> failure_log_limiter::expire(clock::time_point now) {
    const std::lock_guard lock(mutex_);
    std::vector<summary> out;
    for (auto it = sources_.begin(); it != sources_.end();) {
        if (now - it->second.start >= options_.interval || now < it->second.start) {
            if (auto s = close(it->second, it->first)) out.push_back(std::move(*s));
            it = sources_.erase(it);
        } else {
            ++it;
        }
    }
    // The shared window ends with the last tracked source at the latest (it opens only while
    // the table is full), so that an empty table means nothing is left to summarise.
    if (others_.active && (sources_.empty() || now - others_.start >= options_.interval || now < others_.start)) {
        if (auto s = close(others_, std::string())) out.push_back(std::move(*s));
    }
    return out;
}

std::string to_string(const failure_log_limiter::summary& s) {
    return "auth failures from " + (s.source.empty() ? std::string("other sources (too many to track each)") : s.source) +
           ": " + std::to_string(s.suppressed) + " more in the last " + std::to_string(s.interval.count()) +
           " s not logged (" + std::to_string(s.logged) + " logged; last reason=" + s.last_reason +
           "); every one is counted in b2bua_auth_failures_total and kept in GET /api/v1/auth/failures";
}

}  // namespace b2b::b2bua
