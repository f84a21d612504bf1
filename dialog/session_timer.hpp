// The session timer of one leg (RFC 4028): negotiation from the headers, and when to refresh or give up.
#pragma once

#include "sip/message/message.hpp"
#include "sip/transaction/timer_service.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::dialog {

/// RFC 4028 §4, §5: no session interval may be shorter than 90 s.
inline constexpr std::uint32_t absolute_min_se = 90;

/// The refresher parameter of Session-Expires (§4). It names a role in the transaction that
/// carries it, not a party: in a re-INVITE the callee of the call is the "uac".
enum class refresher_param : std::uint8_t { uac, uas };

/// A parsed Session-Expires header (§4): delta-seconds and the optional refresher.
struct session_expires {
    std::uint32_t interval = 0;
    std::optional<refresher_param> refresher;
};

/// The Session-Expires (or compact "x") header of `m`; nullopt when absent or malformed.
std::optional<session_expires> parse_session_expires(const sip::message& m);
/// The Min-SE header of `m` (§5); nullopt when absent or malformed.
std::optional<std::uint32_t> parse_min_se(const sip::message& m);
/// Whether a comma list header `id` (Supported, Require) of `m` names `option_tag`.
bool has_option_tag(const sip::message& m, sip::header_id id, std::string_view option_tag);
/// Whether `m` advertises support of session timers (Supported or Require: timer, §7.1).
bool supports_timer(const sip::message& m);
/// Whether `m`'s Allow lists `method` (RFC 3261 §20.5).
bool allows(const sip::message& m, std::string_view method);

/// What we ask for in a request that may start or refresh a session (§7.1, §7.4): an interval
/// (0: we ask nothing), the Min-SE we send along, and the one retry a 422 earns.
/// The Session-Expires and Min-SE of one send of a request, kept by its builder: the
/// request's header list holds views of them.
struct session_timer_headers {
    std::string session_expires;  ///< empty when the offer asks for no interval
    std::string min_se;
    /// Appends Session-Expires and Min-SE, or nothing when no interval is asked for.
    void append_to(std::vector<std::pair<std::string_view, std::string_view>>& extra) const;
};

struct session_timer_offer {
    std::uint32_t interval = 0;
    std::uint32_t min_se = absolute_min_se;
    std::optional<refresher_param> refresher;  ///< omitted: the UAS chooses (§7.1)
    bool retried = false;

    /// "1800" or "1800;refresher=uac": the Session-Expires value to send; empty when none.
    std::string session_expires_value() const;
    /// What a request carrying this offer says, as of now (a 422 may have raised it).
    session_timer_headers headers() const;
    /// §7.4: a 422 carries the peer's Min-SE; the request may be sent again once, asking for at
    /// least that much. Returns true (and raises the interval and Min-SE) when it should be.
    bool on_too_small(const sip::message& response);
};

/// Who refreshes a leg's session.
enum class refresher : std::uint8_t {
    local,   ///< we send the refreshes
    remote,  ///< the peer does; we watch for them
};

/// The session timer of one leg: sans-I/O (STYLE.md §3). Its owner feeds it what the leg's
/// session refresh requests and their 2xx responses say, asks it when the next deadline is and
/// what to do then, and drives the clock.
///
///   inactive --negotiated--> waiting (peer refreshes) | scheduled (we refresh)
///   scheduled --deadline (we send the refresh)--> refreshing --2xx--> scheduled
///   refreshing --refresh_failed--> scheduled (again, before the session expires)
///   waiting|refreshing --deadline--> expired
///
/// A 2xx to any re-INVITE or UPDATE on the leg, sent or received, is a refresh (§10) and
/// restarts the interval. Without Session-Expires in that 2xx the timer stops (§7.2), unless we
/// asked for it and keep refreshing on our own (§7.2: a UAS without support).
///
/// @par Thread safety
/// None; a value owned by one call.
class session_timer {
public:
    using time_point = sip::timer_service::time_point;
    using duration = sip::timer_service::duration;

    enum class state : std::uint8_t {
        inactive,    ///< no session timer on this leg
        waiting,     ///< the peer refreshes; the session expires unless it does
        scheduled,   ///< we refresh, at `deadline()`
        refreshing,  ///< our refresh is under way; the session expires unless it succeeds
        expired,     ///< nobody refreshed in time: the session is to end with BYE (§10)
    };

    /// What is due at the deadline.
    enum class action : std::uint8_t { none, refresh, expire };

    explicit session_timer(std::uint32_t min_se = absolute_min_se) noexcept : min_se_(min_se) {}

    /// UAS (§9): the Min-SE to answer with 422 when `request` asks for less than we accept and
    /// its sender can read a 422 (it supports timers); 0 when the request is acceptable.
    std::uint32_t too_small(const sip::message& request) const;

    /// UAS (§9): we answer session refresh request `request` (INVITE, re-INVITE, UPDATE) with a
    /// 2xx. `ask` is what we insert when the request has no Session-Expires (0: nothing).
    /// Afterwards `response_session_expires()` is what the 2xx carries.
    void on_request_answered(const sip::message& request, std::uint32_t ask, time_point now);

    /// UAC (§7.2): the 2xx to a session refresh request we sent, which asked for `asked`
    /// seconds (0: it had no Session-Expires).
    void on_success_received(const sip::message& response, std::uint32_t asked, time_point now);

    /// The Session-Expires value of the 2xx we answer with after `on_request_answered`, with
    /// the refresher as the peer (the UAC of that transaction) must read it; empty when the
    /// leg has no timer. `require` tells whether the 2xx needs `Require: timer` (§9: when the
    /// UAC is the refresher).
    std::string response_session_expires(bool* require = nullptr) const;

    /// The Session-Expires value for a request we send on this leg (a refresh, or a request
    /// relayed from the other leg): the leg's interval, with the refresher named from our
    /// side as that request's UAC; empty when the leg has no timer.
    std::string request_session_expires() const;

    // ------------------------------------------------------------------ timing (§10)
    /// Our refresh failed in a way that leaves the session up (491, 500, ...): try again
    /// halfway to the expiry, if there is time left.
    void refresh_failed(time_point now) noexcept;
    /// The deadline passed: what to do. `refresh` moves to `refreshing` (the owner sends it, or
    /// calls `refresh_failed` when it cannot yet); `expire` moves to `expired`.
    action on_deadline(time_point now) noexcept;
    /// When something is due; nullopt when nothing is.
    std::optional<time_point> deadline() const noexcept;
    /// Stops the timer (the call ends, or a 2xx turned it off).
    void stop() noexcept { state_ = state::inactive; }

    state current_state() const noexcept { return state_; }
    bool active() const noexcept { return state_ != state::inactive && state_ != state::expired; }
    std::uint32_t interval() const noexcept { return interval_; }
    refresher who() const noexcept { return refresher_; }
    std::uint32_t min_se() const noexcept { return min_se_; }

    /// §10: a refresher sends its refresh when half the interval has passed.
    static duration refresh_after(std::uint32_t interval) noexcept;
    /// §10: without a refresh the session ends "the minimum of 32 seconds and one third of the
    /// session interval" before the interval runs out.
    static duration expire_after(std::uint32_t interval) noexcept;

private:
    void start(std::uint32_t interval, refresher who, time_point now) noexcept;

    std::uint32_t min_se_;
    state state_ = state::inactive;
    std::uint32_t interval_ = 0;
    refresher refresher_ = refresher::remote;
    time_point refreshed_{};   ///< last successful refresh (or the 2xx that started it)
    time_point refresh_at_{};  ///< when we refresh (state scheduled)
    /// The refresher parameter our last 2xx carried, as seen by that transaction's UAC.
    std::optional<refresher_param> answered_param_;
};

std::string_view to_string(session_timer::state s) noexcept;

}  // namespace b2b::dialog
