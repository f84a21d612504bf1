// The bounded, folding log of authentication failures, and the hint of each.
#include "b2bua/auth_failure_log.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace b2b::b2bua {

namespace {

using namespace std::chrono_literals;

// The peer chose these bytes: control characters (a terminal escape in a user name) become
// '?', and a long value is cut at a UTF-8 character boundary and marked.
std::string stored(std::string s) {
    for (char& ch : s) {
        const auto b = static_cast<unsigned char>(ch);
        if (b < 0x20 || b == 0x7f) ch = '?';
    }
    if (s.size() <= auth_failure_log::max_field) return s;
    std::size_t cut = auth_failure_log::max_field;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
    s.resize(cut);
    s += auth_failure_log::truncation_mark;
    return s;
}

void store(auth_failure_record& r) {
    for (auto* field : {&r.username, &r.realm, &r.our_realm, &r.trunk, &r.peer, &r.peer_host, &r.method,
                        &r.call_id, &r.reason_phrase, &r.warning, &r.algorithm_asked}) {
        *field = stored(std::move(*field));
    }
    // A peer lists no algorithms here (we do), but bound it like the rest.
    if (r.algorithms_offered.size() > 8) r.algorithms_offered.resize(8);
    for (auto& a : r.algorithms_offered) a = stored(std::move(a));
}

long long minute_of(std::chrono::system_clock::time_point t) {
    return std::chrono::floor<std::chrono::minutes>(t).time_since_epoch().count();
}

std::string address_of(const auth_failure_record& r) {
    return r.source ? r.source->address.to_string() : std::string();
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) out += ", ";
        out += s;
    }
    return out;
}

// "user pbxuser at 10.0.0.5" / "the PBX at 10.0.0.5" / "a request from 10.0.0.5".
std::string downstream_who(const auth_failure_record& r) {
    const std::string where = r.source ? address_of(r) : std::string("an unknown address");
    if (!r.username.empty()) return "user " + r.username + " at " + where;
    return "the PBX at " + where;
}

// The one that challenged us: "provider at sip.carrier.example" or "the PBX at pbx1".
std::string challenger(const auth_failure_record& r) {
    const std::string host = !r.peer_host.empty() ? r.peer_host : !r.trunk.empty() ? r.trunk : r.peer;
    return (r.trunk.empty() ? "the PBX at " : "provider at ") + host;
}

std::string or_unknown(const std::string& s, std::string_view what) {
    return s.empty() ? std::string(what) : s;
}

std::string downstream_hint(const auth_failure_entry& e) {
    const auto& r = e.last;
    const std::string realm = or_unknown(r.our_realm, "our realm");
    switch (r.reason) {
        case auth::failure::unknown_user:
            return "user " + or_unknown(r.username, "(none)") + " at " + or_unknown(address_of(r), "an unknown address") +
                   " is not configured here for realm " + realm +
                   ": check the user name on the PBX, or add the user to downstream.users";
        case auth::failure::wrong_password:
            return downstream_who(r) + " answered the challenge for realm " + realm +
                   " with a wrong digest: check the password configured on the PBX for this user";
        case auth::failure::stale_nonce:
            return downstream_who(r) + " answered an expired challenge and was challenged again: normal once, " +
                   (e.count > 1 ? "but it happened " + std::to_string(e.count) +
                                      " times in a minute: check the PBX's clock, or look for replayed traffic"
                                : std::string("a problem only when repeated (clock steps or replayed traffic)"));
        case auth::failure::invalid_nonce:
            return downstream_who(r) +
                   " answered with a nonce or opaque we did not issue: normal once after a restart of the "
                   "b2bua, otherwise check for devices rewriting SIP headers";
        case auth::failure::realm_mismatch:
            return "the PBX at " + or_unknown(address_of(r), "an unknown address") + " answered for realm " +
                   or_unknown(r.realm, "(none)") + "; we challenge with realm " + realm +
                   ": set that realm (domain) for this account on the PBX";
        case auth::failure::uri_mismatch:
            return downstream_who(r) +
                   " answered with a digest uri that is not the Request-URI: a proxy or SIP ALG between it and "
                   "us is rewriting requests";
        case auth::failure::unsupported_algorithm:
            return downstream_who(r) + " answered with algorithm " + or_unknown(r.algorithm_asked, "MD5 (none named)") +
                   ", which it was not offered or we do not support (offered to it: " +
                   or_unknown(join(r.algorithms_offered), "nothing") +
                   "): align downstream.algorithms or downstream.algorithms_for with the PBX";
        case auth::failure::malformed_credentials:
            return downstream_who(r) +
                   " sent credentials we cannot parse or that lack a required field: check the PBX software or "
                   "devices rewriting SIP";
        case auth::failure::replayed_nonce:
            return "a correct answer to one of our challenges was used again by " + downstream_who(r) +
                   ": occasional cases are NAT rebinding, many mean captured SIP traffic is being replayed";
        case auth::failure::challenge_unanswered:
            return "the PBX at " + or_unknown(address_of(r), "an unknown address") +
                   " never answered a challenge offering " + or_unknown(join(r.algorithms_offered), "our algorithms") +
                   ": some clients give up on any algorithm they do not know; offer MD5 only to that network "
                   "(downstream.algorithms_for), or check that it has credentials for realm " + realm;
        case auth::failure::source_not_allowed:
            return "a " + or_unknown(r.method, "request") + " came from " +
                   or_unknown(address_of(r), "an unknown address") +
                   ", which is outside downstream.allowed_sources and no trunk's address: add it there if it is "
                   "a PBX of ours, otherwise it is probably a scan";
        case auth::failure::qop_missing:
            return downstream_who(r) +
                   " answered our qop=auth challenge without qop (RFC 2069), which cannot be protected against "
                   "replay: update the PBX, or set security.allow_rfc2069: true if it is an old device that "
                   "cannot do better";
        case auth::failure::rejected:
        case auth::failure::no_credentials:
        case auth::failure::challenge_loop:
        case auth::failure::forbidden:
            break;  // a PBX target challenging us: worded as upstream
    }
    return {};
}

std::string upstream_hint(const auth_failure_entry& e) {
    const auto& r = e.last;
    const std::string user = or_unknown(r.username, "our user");
    const std::string realm = or_unknown(r.realm, "(none)");
    switch (r.reason) {
        case auth::failure::rejected:
            return challenger(r) + " challenged again after our answer for " + user + " at realm " + realm +
                   ": the " + (r.trunk.empty() ? "password configured for it" : "trunk password") +
                   " is wrong, verify it with the " + (r.trunk.empty() ? "PBX" : "provider");
        case auth::failure::forbidden: {
            std::string out = challenger(r) + " answered " + std::to_string(r.status ? r.status : 403) + " \"" +
                              or_unknown(r.reason_phrase, "Forbidden") + "\" to " + user;
            if (!r.warning.empty()) out += " (Warning: " + r.warning + ")";
            return out + ": a policy refusal or wrong credentials, read the reason phrase";
        }
        case auth::failure::no_credentials:
            return challenger(r) + " asks for authentication (realm " + realm + ") but " +
                   (r.trunk.empty() ? "no credentials are configured for it"
                                    : "trunk " + r.trunk + " has no username and password") +
                   ": add those from the " + (r.trunk.empty() ? "PBX" : "provider");
        case auth::failure::challenge_loop:
            return challenger(r) + " kept sending fresh (stale) challenges to our answers for " + user +
                   " at realm " + realm + ": we stopped to avoid a loop; check its status or contact it";
        case auth::failure::unsupported_algorithm:
            return challenger(r) + " asked for algorithm " + or_unknown(r.algorithm_asked, "(none named)") +
                   ", which we do not support (we support " + or_unknown(join(r.algorithms_offered), "MD5") +
                   "): ask for one of those";
        default:
            break;
    }
    return std::string(auth::hint(r.reason));
}

}  // namespace

std::string_view to_string(auth_direction d) noexcept {
    return d == auth_direction::upstream ? "upstream" : "downstream";
}

std::optional<auth_direction> parse_auth_direction(std::string_view s) noexcept {
    if (s == "downstream") return auth_direction::downstream;
    if (s == "upstream") return auth_direction::upstream;
    return std::nullopt;
}

auth_failure_log::auth_failure_log(std::size_t capacity) : capacity_(capacity) {}

namespace {

using summary_counts = std::map<std::tuple<auth_direction, auth::failure, std::string>, std::uint64_t>;
using summary_sources = std::map<std::string, std::uint64_t>;

// Both sorted most first (ties in key order); the sources cut to `sources_kept`.
void fill_summary(auth_failure_summary& out, const summary_counts& counts, const summary_sources& sources,
                  std::size_t sources_kept) {
    for (const auto& [k, n] : counts) out.counts.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), n});
    std::stable_sort(out.counts.begin(), out.counts.end(),
                     [](const auto& a, const auto& b) { return a.count > b.count; });
    for (const auto& [s, n] : sources) out.top_sources.push_back({s, n});
    std::stable_sort(out.top_sources.begin(), out.top_sources.end(),
                     [](const auto& a, const auto& b) { return a.count > b.count; });
    if (out.top_sources.size() > sources_kept) out.top_sources.resize(sources_kept);
}

}  // namespace

std::string auth_failure_log::fold_key(const auth_failure_record& r) {
    std::string key(to_string(r.direction));
    key += '|';
    key += auth::to_string(r.reason);
    key += '|';
    key += r.source ? address_of(r) : "peer:" + r.peer;
    key += '|';
    key += std::to_string(minute_of(r.time));
    return key;
}

void auth_failure_log::record(auth_failure_record r) {
    if (capacity_ == 0) return;
    store(r);
    std::string key = fold_key(r);
    if (auto it = by_key_.find(key); it != by_key_.end()) {
        auto& e = entries_[static_cast<std::size_t>(it->second - front_seq_)];
        ++e.count;
        e.first = std::min(e.first, r.time);
        e.last = std::move(r);  // the latest facts (user name, Call-ID) are the useful ones
        return;
    }
    if (entries_.size() == capacity_) {
        by_key_.erase(keys_.front());
        entries_.pop_front();
        keys_.pop_front();
        ++front_seq_;
    }
    by_key_.emplace(key, front_seq_ + entries_.size());
    const auto first = r.time;
    entries_.push_back({std::move(r), first, 1});
    keys_.push_back(std::move(key));
}

std::vector<auth_failure_entry> auth_failure_log::query(const auth_failure_filter& f) const {
    std::vector<const auth_failure_entry*> hits;
    for (const auto& e : entries_) {
        const auto& r = e.last;
        if (f.direction && r.direction != *f.direction) continue;
        if (f.reason && r.reason != *f.reason) continue;
        if (f.since && r.time < *f.since) continue;
        if (!f.peer.empty() && f.peer != r.peer && f.peer != r.trunk && f.peer != address_of(r)) continue;
        hits.push_back(&e);
    }
    // Made in order, but a folded entry may have been seen after a newer one was made.
    std::stable_sort(hits.begin(), hits.end(),
                     [](const auto* a, const auto* b) { return a->last.time > b->last.time; });
    std::vector<auth_failure_entry> out;
    for (std::size_t i = 0; i < hits.size() && i < f.limit; ++i) out.push_back(*hits[i]);
    return out;
}

auth_failure_summary auth_failure_log::summary(std::chrono::seconds window, std::chrono::system_clock::time_point now,
                                               std::size_t sources_kept) const {
    auth_failure_summary out;
    out.window = window;
    summary_counts counts;
    summary_sources sources;
    for (const auto& e : entries_) {
        const auto& r = e.last;
        if (r.time < now - window || r.time > now) continue;
        counts[{r.direction, r.reason, r.peer}] += e.count;
        if (r.direction == auth_direction::downstream && r.source) sources[address_of(r)] += e.count;
    }
    fill_summary(out, counts, sources, sources_kept);
    return out;
}

std::vector<auth_failure_entry> merge_failures(std::vector<std::vector<auth_failure_entry>> by_log, std::size_t limit) {
    std::vector<auth_failure_entry> out;
    std::unordered_map<std::string, std::size_t> at;  // fold key -> index in out
    for (auto& log : by_log) {
        for (auto& e : log) {
            auto key = auth_failure_log::fold_key(e.last);
            if (const auto it = at.find(key); it != at.end()) {
                auth_failure_entry& into = out[it->second];
                into.count += e.count;
                into.first = std::min(into.first, e.first);
                if (e.last.time > into.last.time) into.last = std::move(e.last);
                continue;
            }
            at.emplace(std::move(key), out.size());
            out.push_back(std::move(e));
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.last.time > b.last.time; });
    if (out.size() > limit) out.resize(limit);
    return out;
}

auth_failure_summary merge_summaries(const std::vector<auth_failure_summary>& parts) {
    auth_failure_summary out;
    if (!parts.empty()) out.window = parts.front().window;
    summary_counts counts;
    summary_sources sources;
    for (const auto& p : parts) {
        for (const auto& c : p.counts) counts[{c.direction, c.reason, c.peer}] += c.count;
        for (const auto& s : p.top_sources) sources[s.source] += s.count;
    }
    fill_summary(out, counts, sources, auth_failure_log::top_sources);
    return out;
}

std::string hint(const auth_failure_entry& e) {
    const auto& r = e.last;
    std::string out;
    if (r.direction == auth_direction::downstream) out = downstream_hint(e);
    if (out.empty()) out = upstream_hint(e);
    if (r.refused_in_a_row > 1)
        out += "; our REGISTER to " + or_unknown(r.trunk, r.peer) + " has now been refused " +
               std::to_string(r.refused_in_a_row) + " times in a row";
    return out;
}

}  // namespace b2b::b2bua
