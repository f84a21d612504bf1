// Brute-force detection per source and per username, and growing bans of sources.
#include "security/ban_list.hpp"

#include "security/source_address.hpp"

#include <algorithm>

namespace b2b::security {

std::string_view to_string(ban_origin o) noexcept {
    switch (o) {
        case ban_origin::failures: return "failures";
        case ban_origin::manual: return "manual";
    }
    return "failures";
}

ban_list::ban_list(ban_policy policy)
    : policy_(policy), sources_(policy.max_entries), usernames_(policy.max_entries) {
    if (policy_.failures == 0) policy_.failures = 1;
    if (policy_.max < policy_.first) policy_.max = policy_.first;
}

bool ban_list::count(window_count& w, clock::time_point now) const {
    // A fixed window opening at the first failure after the last one closed: N failures within
    // `window` of that first one cross the limit. Cheaper than a sliding log of N times per key,
    // and an attacker guessing at a steady pace above N per window crosses it in every window.
    if (w.count == 0 || now - w.start >= policy_.window) {
        w.start = now;
        w.count = 0;
    }
    ++w.count;
    return w.count >= policy_.failures;
}

std::optional<ban> ban_list::record_failure(const address& source, std::string_view username,
                                            clock::time_point now) {
    const auto key = source_key(source);
    auto& e = sources_.insert(key, [this](const address& gone, const source_entry& old) {
        if (old.until) by_end_.erase({*old.until, gone});
    });
    if (e.until && *e.until > now) return std::nullopt;  // banned already: its packets do not get this far
    if (e.until) lift(key, e);
    const bool by_source = count(e.failures, now);
    bool by_name = false;
    std::string name;
    if (!username.empty()) {
        name.assign(username.substr(0, max_username));
        by_name = count(usernames_.insert(name), now);
    }
    if (!by_source && !by_name) return std::nullopt;
    // Growing bans: a source banned again soon after its last ban ended gets twice as long.
    if (e.count > 0 && now - e.last_ban_end <= policy_.max) {
        ++e.count;
    } else {
        e.count = 1;
    }
    auto length = policy_.first;
    for (std::uint32_t i = 1; i < e.count && length < policy_.max; ++i) length *= 2;
    length = std::min(length, policy_.max);
    e.failures = {};
    e.username = by_source ? std::string() : std::move(name);
    return impose(key, e, now + length, ban_origin::failures);
}

bool ban_list::banned(const address& source, clock::time_point now) {
    if (by_end_.empty()) return false;  // the common case costs no lookup
    const auto key = source_key(source);
    auto* e = sources_.touch(key);
    if (!e || !e->until) return false;
    if (*e->until > now) return true;
    lift(key, *e);
    return false;
}

ban ban_list::add(const address& source, std::chrono::seconds duration, clock::time_point now) {
    const auto key = source_key(source);
    auto& e = sources_.insert(key, [this](const address& gone, const source_entry& old) {
        if (old.until) by_end_.erase({*old.until, gone});
    });
    if (e.until) by_end_.erase({*e.until, key});
    e.until.reset();
    if (e.count == 0) e.count = 1;
    e.failures = {};
    e.username.clear();
    return impose(key, e, now + duration, ban_origin::manual);
}

bool ban_list::remove(const address& source, clock::time_point now) {
    const auto key = source_key(source);
    auto* e = sources_.peek(key);
    if (!e) return false;
    const bool was = e->until && *e->until > now;
    if (e->until) by_end_.erase({*e->until, key});
    // Forgotten altogether: an operator lifting a ban means the source is to start afresh, not
    // to come back at twice the length after its next mistake.
    sources_.erase(key);
    return was;
}

std::vector<ban> ban_list::bans(clock::time_point now) {
    expire(now);
    std::vector<ban> out;
    out.reserve(by_end_.size());
    for (const auto& [until, source] : by_end_) {
        if (const auto* e = sources_.peek(source)) out.push_back(describe(source, *e));
    }
    return out;
}

std::size_t ban_list::expire(clock::time_point now) {
    std::size_t lifted = 0;
    while (!by_end_.empty() && by_end_.begin()->first <= now) {
        const auto source = by_end_.begin()->second;
        by_end_.erase(by_end_.begin());
        if (auto* e = sources_.peek(source)) {
            e->last_ban_end = *e->until;
            e->until.reset();
        }
        ++lifted;
    }
    return lifted;
}

ban ban_list::impose(const address& source, source_entry& e, clock::time_point until, ban_origin origin) {
    e.until = until;
    e.origin = origin;
    by_end_.emplace(until, source);
    return describe(source, e);
}

void ban_list::lift(const address& source, source_entry& e) {
    by_end_.erase({*e.until, source});
    e.last_ban_end = *e.until;
    e.until.reset();
}

ban ban_list::describe(const address& source, const source_entry& e) const {
    ban b;
    b.source = source;
    b.until = e.until.value_or(clock::time_point{});
    b.count = e.count;
    b.origin = e.origin;
    b.username = e.username;
    return b;
}

}  // namespace b2b::security
