// The session timer of one leg (RFC 4028): header parsing, negotiation, deadlines.
#include "dialog/session_timer.hpp"

#include "sip/message/text.hpp"

#include <algorithm>
#include <charconv>

namespace b2b::dialog {

namespace {

// delta-seconds (RFC 3261 §25.1): 1*DIGIT; values past 2^32-1 are refused, not wrapped.
std::optional<std::uint32_t> delta_seconds(std::string_view v) {
    v = sip::trim_lws(v);
    if (v.empty() || v.size() > 10) return std::nullopt;
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || n > 0xffffffffULL) return std::nullopt;
    return static_cast<std::uint32_t>(n);
}

std::string with_refresher(std::uint32_t interval, refresher_param p) {
    return std::to_string(interval) + (p == refresher_param::uac ? ";refresher=uac" : ";refresher=uas");
}

}  // namespace

std::optional<session_expires> parse_session_expires(const sip::message& m) {
    // §4: "Session-Expires" or its compact form "x".
    const sip::header_field* h = m.find(std::string_view("Session-Expires"));
    if (h == nullptr) h = m.find(std::string_view("x"));
    if (h == nullptr) return std::nullopt;
    std::string_view v = h->value;
    const auto semi = v.find(';');
    auto interval = delta_seconds(v.substr(0, semi));
    if (!interval) return std::nullopt;
    session_expires se{*interval, std::nullopt};
    std::string_view rest = semi == std::string_view::npos ? std::string_view{} : v.substr(semi + 1);
    while (!rest.empty()) {
        const auto next = rest.find(';');
        const std::string_view param = rest.substr(0, next);
        const auto eq = param.find('=');
        if (eq != std::string_view::npos && sip::iequals(sip::trim_lws(param.substr(0, eq)), "refresher")) {
            const std::string_view value = sip::trim_lws(param.substr(eq + 1));
            if (sip::iequals(value, "uac")) se.refresher = refresher_param::uac;
            if (sip::iequals(value, "uas")) se.refresher = refresher_param::uas;
        }
        if (next == std::string_view::npos) break;
        rest.remove_prefix(next + 1);
    }
    return se;
}

std::optional<std::uint32_t> parse_min_se(const sip::message& m) {
    const sip::header_field* h = m.find(std::string_view("Min-SE"));
    if (h == nullptr) return std::nullopt;
    return delta_seconds(h->value.substr(0, h->value.find(';')));
}

bool has_option_tag(const sip::message& m, sip::header_id id, std::string_view option_tag) {
    return sip::any_list_item(m, id, [&](std::string_view item) { return sip::iequals(item, option_tag); });
}

bool supports_timer(const sip::message& m) {
    return has_option_tag(m, sip::header_id::supported, "timer") || has_option_tag(m, sip::header_id::require, "timer");
}

bool allows(const sip::message& m, std::string_view method) {
    return sip::any_list_item(m, sip::header_id::allow, [&](std::string_view item) { return sip::iequals(item, method); });
}

// ------------------------------------------------------------------------------------ offer

std::string session_timer_offer::session_expires_value() const {
    if (interval == 0) return {};
    if (refresher) return with_refresher(interval, *refresher);
    return std::to_string(interval);
}

session_timer_headers session_timer_offer::headers() const {
    return {session_expires_value(), std::to_string(min_se)};
}

void session_timer_headers::append_to(std::vector<std::pair<std::string_view, std::string_view>>& extra) const {
    if (session_expires.empty()) return;
    extra.emplace_back("Session-Expires", session_expires);
    extra.emplace_back("Min-SE", min_se);
}

bool session_timer_offer::on_too_small(const sip::message& response) {
    // §7.4: the 422's Min-SE is the least the peer accepts (§6: a 422 without it is broken).
    // One more try, asking for that; a second 422 goes up to the requester.
    if (response.status() != 422 || retried || interval == 0) return false;
    const auto peer_min = parse_min_se(response);
    if (!peer_min || *peer_min <= interval) return false;
    retried = true;
    interval = *peer_min;
    min_se = std::max(min_se, *peer_min);
    return true;
}

// ------------------------------------------------------------------------------------ timer

session_timer::duration session_timer::refresh_after(std::uint32_t interval) noexcept {
    return duration(static_cast<std::int64_t>(interval) * 1000 / 2);
}

session_timer::duration session_timer::expire_after(std::uint32_t interval) noexcept {
    const std::int64_t margin = std::min<std::int64_t>(32, interval / 3);
    return duration((static_cast<std::int64_t>(interval) - margin) * 1000);
}

std::uint32_t session_timer::too_small(const sip::message& request) const {
    // §9: a UAS refuses an interval below its minimum with 422 and its Min-SE, but only to a
    // UAC that understands the answer; for one that does not (a proxy asked for it), the
    // interval is raised instead (on_request_answered).
    const auto se = parse_session_expires(request);
    if (!se || se->interval >= min_se_ || !supports_timer(request)) return 0;
    return min_se_;
}

void session_timer::on_request_answered(const sip::message& request, std::uint32_t ask, time_point now) {
    const auto se = parse_session_expires(request);
    const bool peer_supports = supports_timer(request);
    // §5: never below the request's Min-SE, nor below ours.
    const std::uint32_t floor = std::max(min_se_, parse_min_se(request).value_or(absolute_min_se));
    std::uint32_t interval = 0;
    refresher who = refresher::local;
    if (se) {
        interval = std::max(se->interval, floor);
        if (se->refresher) {
            // §9: a refresher the UAC named is copied into the 2xx; "uac" is the peer here.
            who = *se->refresher == refresher_param::uac ? refresher::remote : refresher::local;
        } else if (active()) {
            who = refresher_ == refresher::remote && peer_supports ? refresher::remote : refresher::local;
        } else {
            // §9: the UAS chooses; a UAC that supports timers and asked refreshes itself,
            // one that does not (a proxy asked) cannot, so we do.
            who = peer_supports ? refresher::remote : refresher::local;
        }
    } else if (active()) {
        // §9: a refresh without Session-Expires (a hold from a peer that never asked): the
        // UAS may keep the timer by inserting it; only a peer that supports timers can stay
        // the refresher.
        interval = interval_;
        who = refresher_ == refresher::remote && peer_supports ? refresher::remote : refresher::local;
    } else if (ask != 0) {
        // §9: the UAS may insert Session-Expires; we asked for it, so we refresh.
        interval = std::max(ask, floor);
        who = refresher::local;
    } else {
        stop();
        answered_param_.reset();
        return;
    }
    // Seen by the UAC of this transaction, the peer: it is "uac" when it refreshes.
    answered_param_ = who == refresher::remote ? refresher_param::uac : refresher_param::uas;
    start(interval, who, now);
}

void session_timer::on_success_received(const sip::message& response, std::uint32_t asked, time_point now) {
    const auto se = parse_session_expires(response);
    if (se) {
        // §7.2: the 2xx names the refresher; "uac" is us here. A 2xx without the parameter
        // is broken (§9 says it is always there): we refresh, so the session stays checked.
        const bool peer = se->refresher && *se->refresher == refresher_param::uas;
        start(std::max(se->interval, absolute_min_se), peer ? refresher::remote : refresher::local, now);
    } else if (asked != 0) {
        // §7.2: the UAS does not support timers; the UAC that still wants one refreshes it
        // alone, as if the 2xx had echoed its request with refresher=uac.
        start(asked, refresher::local, now);
    } else {
        stop();
    }
}

std::string session_timer::response_session_expires(bool* require) const {
    if (require != nullptr) *require = false;
    if (!active() || !answered_param_) return {};
    // §9: when the UAC is to refresh, the 2xx requires the extension.
    if (require != nullptr) *require = *answered_param_ == refresher_param::uac;
    return with_refresher(interval_, *answered_param_);
}

std::string session_timer::request_session_expires() const {
    if (!active()) return {};
    // §7.4: a refresh keeps the refresher it had; as the UAC of this request, we are "uac".
    return with_refresher(interval_, refresher_ == refresher::local ? refresher_param::uac : refresher_param::uas);
}

void session_timer::start(std::uint32_t interval, refresher who, time_point now) noexcept {
    interval_ = interval;
    refresher_ = who;
    refreshed_ = now;
    refresh_at_ = now + refresh_after(interval);
    state_ = who == refresher::local ? state::scheduled : state::waiting;
}

void session_timer::refresh_failed(time_point now) noexcept {
    if (state_ != state::refreshing && state_ != state::scheduled) return;
    // Another try halfway to the expiry; with under two seconds left, the expiry decides.
    const time_point expiry = refreshed_ + expire_after(interval_);
    if (expiry - now > duration(2000)) {
        refresh_at_ = now + (expiry - now) / 2;
        state_ = state::scheduled;
    } else {
        state_ = state::refreshing;
    }
}

std::optional<session_timer::time_point> session_timer::deadline() const noexcept {
    switch (state_) {
        case state::scheduled: return refresh_at_;
        case state::waiting:
        case state::refreshing: return refreshed_ + expire_after(interval_);
        case state::inactive:
        case state::expired: return std::nullopt;
    }
    return std::nullopt;
}

session_timer::action session_timer::on_deadline(time_point now) noexcept {
    const auto due = deadline();
    if (!due || now < *due) return action::none;  // a stale timer (STYLE.md §3)
    switch (state_) {
        case state::scheduled:
            state_ = state::refreshing;
            return action::refresh;
        case state::waiting:
        case state::refreshing:
            // §10: no refresh in time: the session is over.
            state_ = state::expired;
            return action::expire;
        case state::inactive:
        case state::expired: return action::none;
    }
    return action::none;
}

std::string_view to_string(session_timer::state s) noexcept {
    switch (s) {
        case session_timer::state::inactive: return "inactive";
        case session_timer::state::waiting: return "waiting";
        case session_timer::state::scheduled: return "scheduled";
        case session_timer::state::refreshing: return "refreshing";
        case session_timer::state::expired: return "expired";
    }
    return "?";
}

}  // namespace b2b::dialog
