// Session timers (RFC 4028) in the B2BUA: what each leg keeps, and the ingress check of a new INVITE.
#pragma once

#include <chrono>

#include "b2bua/ingress.hpp"
#include "dialog/request_sender.hpp"
#include "dialog/session_timer.hpp"
#include "sip/transaction/timer_service.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace b2b::b2bua {

/// The session timer of one leg and what refreshing it takes. Each leg negotiates its own
/// (the PBX's leg as UAS, the trunk's as UAC); a refresh relayed end to end refreshes both.
struct session_refresh {
    dialog::session_timer timer;
    sip::timer_service::timer_id timer_id = 0;
    /// Our own refresh under way on this leg (the leg's timer said we refresh), or null.
    dialog::request_handle pending;
    bool pending_invite = false;  ///< it is a re-INVITE (so its 2xx gets our ACK)
    /// What our latest request that could start or refresh the session asked for (its 422
    /// retry raises it): the interval a 2xx without Session-Expires leaves us with (§7.2).
    std::shared_ptr<dialog::session_timer_offer> offer;
    /// The peer lists UPDATE in its Allow: refreshes go as UPDATE without a body (RFC 4028
    /// §9 prefers it: no offer/answer), else as re-INVITE with `sdp`.
    bool peer_allows_update = false;
    /// The last session description we sent on this leg: a re-INVITE refresh offers it again,
    /// unchanged (RFC 3264 §8: the same version means no change).
    std::string sdp;
    std::string sdp_type;
};

/// RFC 4028 §9: a new INVITE asking for a session interval below our Min-SE gets 422 with
/// our Min-SE, when its sender supports timers (one that does not gets a longer interval).
class session_interval_stage final : public ingress_stage {
public:
    /// `min_se` (calls.min_se_s) is read for each request: a reload may change it.
    explicit session_interval_stage(const std::chrono::seconds& min_se) noexcept : min_se_(min_se) {}
    std::string_view name() const noexcept override { return "session interval"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    const std::chrono::seconds& min_se_;
};

}  // namespace b2b::b2bua
