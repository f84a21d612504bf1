// One call: a bridge between the inbound leg (we answer its INVITE) and an outbound attempt.
#pragma once

#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/call_summary.hpp"
#include "b2bua/session_refresh.hpp"
#include "dialog/dialog.hpp"
#include "dialog/dialog_manager.hpp"
#include "dialog/dialog_set.hpp"
#include "dialog/invite_session.hpp"
#include "dialog/prack.hpp"
#include "dialog/request_sender.hpp"
#include "routing/call_usage.hpp"
#include "routing/trunk.hpp"
#include "sip/resolver/target.hpp"
#include "sip/message/message.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transaction/transaction_manager.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::b2bua {

class core;

/// A call as the core's registry knows it: an id checked against the registry (resip
/// Handle.hxx), never a pointer kept across events.
struct call_handle {
    std::uint64_t value = 0;
    bool operator==(const call_handle&) const = default;
    explicit operator bool() const noexcept { return value != 0; }
};

/// Which side of a call. Direction-neutral: either side may face the PBX or a trunk.
enum class leg_side : std::uint8_t {
    inbound,   ///< the side whose INVITE we answer (we are its UAS)
    outbound,  ///< the side we send the INVITE to (we are its UAC)
};

/// The call's own machine; the legs' INVITE sessions carry the rest.
///   calling -> (outbound 2xx relayed) answered -> (inbound ACK) confirmed -> (BYE) ending -> gone
///   calling -> (CANCEL, max ringing, early BYE) cancelling -> (outbound final) gone
///   calling -> (outbound final non-2xx, timeout, auth failure) gone
enum class call_state : std::uint8_t {
    calling,     ///< the outbound INVITE is under way; the inbound side has no final answer yet
    cancelling,  ///< the inbound side has its final answer; the outbound INVITE is being cancelled
    answered,    ///< the outbound 2xx went to the inbound side; waiting for its ACK
    confirmed,   ///< both legs up
    ending,      ///< BYE sent on one leg or both; waiting for the sessions to end
};

constexpr std::string_view to_string(call_state s) noexcept {
    switch (s) {
        case call_state::calling: return "calling";
        case call_state::cancelling: return "cancelling";
        case call_state::answered: return "answered";
        case call_state::confirmed: return "confirmed";
        case call_state::ending: return "ending";
    }
    return "?";
}

/// Routes what the dialog layer delivers for one leg of one call back to the core, by handle.
class leg_usage final : public dialog::dialog_usage, public dialog::invite_owner {
public:
    leg_usage(core& owner, call_handle call, leg_side side) noexcept : owner_(owner), call_(call), side_(side) {}

    // dialog::dialog_usage
    void on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) override;
    void on_ack(sip::message&& ack, const sip::flow& f) override;
    // dialog::invite_owner (the call's INVITE, and re-INVITEs on either leg)
    void on_cancel(sip::transaction_id txn, const sip::message& cancel, sip::transaction_id invite,
                   bool invite_answered) override;
    void on_invite_failure(sip::transaction_id invite, sip::transaction_failure why) override;

private:
    core& owner_;
    call_handle call_;
    leg_side side_;
};

/// A reliable provisional of the far end (RFC 3262) whose PRACK we still owe it: its early
/// dialog (To tag), RSeq and the CSeq number of our INVITE make the RAck (§7.2).
struct owed_prack {
    std::string tag;
    std::uint32_t rseq = 0;
    std::uint32_t cseq = 0;
};

/// RFC 3262 on the inbound leg, where we are the UAS and send reliable provisionals when its
/// INVITE supports (or requires) 100rel (prack.cpp).
struct inbound_reliability {
    bool required = false;   ///< in Require: every provisional must go reliably (§3)
    std::optional<dialog::reliable_provisional_uas> uas;
    sip::timer_service::timer_id timer = 0;  ///< retransmission of the unacknowledged provisional
    int status = 0;
    std::string bytes;  ///< the unacknowledged provisional, as sent (retransmitted as it is)
    /// The far end's provisional relayed in it carried an offer: our PRACK to it waits for
    /// this leg's PRACK, which carries the answer (§5).
    std::optional<owed_prack> owed;
    /// Provisionals waiting for the unacknowledged one's PRACK (§3: one at a time).
    struct queued {
        sip::message response;
        std::optional<owed_prack> owed;
    };
    // Every call has one of these and few use it: what is rare is held by pointer or in a
    // vector, so an idle one costs a few words, not three parsed messages (bench/README.md,
    // "What a held call costs"). A std::deque would allocate its first block even when empty.
    std::vector<queued> queue;
    /// The far end's 2xx, held back until the provisional with SDP is PRACKed (§3).
    std::unique_ptr<sip::message> held_2xx;
    /// This leg's PRACK sent on to the far end (with the answer): answered with its answer.
    struct relayed {
        sip::transaction_id txn = 0;
        sip::message request;
    };
    std::unique_ptr<relayed> prack;
};

/// RFC 3262 on an outbound attempt, where we are the UAC and PRACK the far end's reliable
/// provisionals (prack.cpp).
struct outbound_reliability {
    dialog::reliable_provisional_uac order;
    /// The early dialogs (one per To tag) our PRACKs are sent in, shared with the PRACKs'
    /// builders (a re-send with credentials takes the next CSeq); their CSeq numbers carry on
    /// into the dialog the 2xx confirms.
    std::vector<std::shared_ptr<dialog::dialog_state>> early;
    bool sdp_received = false;  ///< a reliable provisional already brought the far end's SDP
};

/// The side whose INVITE we answer.
struct inbound_leg {
    /// The caller's INVITE, owned while responses to it are built from it; released once its
    /// ACK confirms the call (a parsed message is the largest thing a call would otherwise
    /// hold for hours). What outlives it is in `dialog`: see the accessors below.
    std::unique_ptr<sip::message> invite;
    std::uint32_t invite_cseq = 0;  ///< its CSeq number (its ACK's, and a PRACK's RAck)
    sip::transaction_id txn = 0;
    sip::flow flow;
    std::string tag;  ///< our To tag, the same in every response; see our_tag()
    dialog::dialog_state dialog;  ///< complete once answered (for a BYE we send)
    dialog::invite_session session{dialog::session_role::uas};
    session_refresh refresh;  ///< RFC 4028 on this leg
    /// Only for a caller whose INVITE has `100rel` in Supported or Require, and only until its
    /// ACK (or while a PRACK of its relayed to the far end waits there): few calls need it,
    /// and none once confirmed.
    std::unique_ptr<inbound_reliability> reliability;
    /// Its INVITE named 100rel in Supported or Require (RFC 3262 §3), while that matters.
    bool supports_100rel() const noexcept { return reliability != nullptr; }

    /// The caller's Call-ID and From tag: the INVITE's, or once it is released, the same values
    /// in the dialog (§12.1.1 takes them from the INVITE).
    std::string_view call_id() const noexcept { return invite ? invite->call_id() : std::string_view(dialog.call_id); }
    std::string_view caller_tag() const noexcept {
        return invite ? invite->from().tag : dialog.remote_tag();
    }
    /// Our To tag: `tag` while the INVITE is held, then the dialog's (the same value, which
    /// the answer put there; `tag` is released with the INVITE).
    std::string_view our_tag() const noexcept { return invite ? std::string_view(tag) : dialog.local_tag(); }
};

/// One try at reaching the far end through one peer: a trunk (a call from a PBX), or the PBX
/// of an inbound route (a call from a trunk). A call keeps them in order; failover adds the
/// next one when this one fails in a way another trunk may not.
struct outbound_attempt {
    std::uint64_t id = 0;  ///< unique in the core: finds the attempt for a late response
    std::shared_ptr<const routing::trunk> trunk;  ///< the peer: where, how, and its credentials
    /// The peer's number for the request sender and the auth metrics: trunks first, then the
    /// PBX targets of inbound routes (core::peer_of).
    std::size_t trunk_index = 0;
    /// Where the INVITE went: the trunk's resolved target (or its address); in-dialog requests
    /// go there when the far end's target names no address.
    sip::endpoint destination;
    /// No provisional within the trunk's invite_timeout: the INVITE is given up (failover).
    sip::timer_service::timer_id invite_timer = 0;
    bool holds_slot = false;  ///< counted in the trunk's max_calls until released
    /// A registered PBX behind NAT (or over a stream): every request goes on `initial.flow`,
    /// whatever its Contact says (RFC 3581 style); once that connection is gone, on a new one
    /// to `initial.reconnect` (its Contact; none behind NAT).
    bool pinned = false;
    /// P-Asserted-Identity, Privacy, Diversion as this peer is to see them (caller_identity).
    std::vector<std::pair<std::string, std::string>> identity_headers;
    /// The dialog as our INVITE makes it, and what the responses make of it: the first 2xx
    /// completes that state into the confirmed dialog (no copy of the INVITE's is kept: see
    /// bench/README.md, "What a held call costs"). Empty for an attempt that never sent.
    std::optional<dialog::dialog_set> dialogs;
    dialog::invite_session session{dialog::session_role::uac};
    dialog::request_handle invite;
    std::uint32_t invite_cseq = 0;  ///< CSeq of the INVITE the 2xx answered
    session_refresh refresh;        ///< RFC 4028 on this leg
    outbound_reliability reliability;

    dialog::dialog_state& dialog() noexcept { return dialogs->confirmed(); }
    /// Our side's Call-ID and tag (§12.1.2: the confirmed dialog keeps the INVITE's), and for
    /// a pinned attempt the flow every request goes on. Only for an attempt that sent
    /// (`dialogs`).
    const dialog::dialog_state& own_side() const noexcept { return dialogs->state(); }
};

/// A request received in one leg's dialog and sent on, as a new request, in the other's
/// (re-INVITE, UPDATE, INFO, OPTIONS, MESSAGE, NOTIFY): the answer comes back the same way.
struct relayed_request {
    std::uint64_t id = 0;
    leg_side from = leg_side::inbound;  ///< the leg it arrived on; it goes on to the other
    sip::transaction_id server_txn = 0;
    sip::message request;  ///< owned: its responses are built from it
    dialog::request_handle sent;
    /// re-INVITE answered 2xx: waiting for the sender's ACK to send ours on the other leg
    /// (which carries the SDP answer when the offer was in the 2xx).
    bool awaiting_ack = false;
    std::uint32_t sent_cseq = 0;  ///< CSeq of the INVITE on the other leg (its ACK's number)
    /// What the request asked for on the other leg (RFC 4028), for an INVITE or UPDATE.
    std::shared_ptr<dialog::session_timer_offer> session_offer;
};

/// Where a call may still go: its route's trunks in order, and what each attempt dials.
struct trunk_plan {
    std::vector<std::size_t> trunks;  ///< trunk indices, in failover order
    std::size_t position = 0;         ///< of the current attempt's trunk in `trunks`
    std::string number;               ///< user part of leg B's Request-URI (rewritten, escaped)
    std::string caller;
    std::string display;
    /// The current trunk's targets (RFC 3263), in the order they are tried, taken when the
    /// call comes to that trunk; `target` is the current one's. A target that fails (transport
    /// error, timeout, 503) hands the call to the next one before the next trunk (§4.3).
    std::vector<sip::resolver::target> targets;
    std::size_t target = 0;
    std::size_t targets_of = static_cast<std::size_t>(-1);  ///< the position `targets` belong to
};

struct call {
    call(core& owner, call_handle h) : id(h), inbound_usage(owner, h, leg_side::inbound), outbound_usage(owner, h, leg_side::outbound) {}
    call(const call&) = delete;
    call& operator=(const call&) = delete;

    call_handle id;
    call_state state = call_state::calling;
    call_direction direction = call_direction::outbound;
    std::size_t source_trunk = 0;  ///< inbound: the trunk the call came from (its metrics label)
    sip::timer_service::time_point started{};
    sip::timer_service::time_point answered_at{};
    /// Max ringing, then the CANCEL guard (§9.1), then the maximum duration: one at a time.
    sip::timer_service::timer_id timer = 0;
    std::optional<call_result> result;  ///< setup result, counted once
    std::string end_reason;
    // For operators (call_summary, call detail records).
    std::string caller_number;   ///< From user part as received
    std::string dialled_number;  ///< Request-URI user part as received
    // Limits (issue 10).
    std::string user;        ///< the PBX account that placed it, or empty
    routing::call_usage_hold account_slot;  ///< its place in the account's max_calls and max_cps
    routing::call_usage_hold call_slot;     ///< its place in calls.max_calls
    bool emergency = false;  ///< dialled an emergency number: trunk limits never refuse it
    /// Its INVITE came through a balancer of the cluster (cluster.dispatchers), stamped with
    /// the caller's address: a failure the far end caused is marked final for the balancer.
    bool forwarded = false;
    int final_status = 0;        ///< the final response the caller got
    hangup_party hangup_by = hangup_party::none;
    unsigned max_forwards = 70;
    std::string content_type;
    unsigned redirects = 0;  ///< 3xx followed so far (at most max_redirects)

    /// Until the call is answered: failover and redirects need it, a call that is up does not.
    std::unique_ptr<trunk_plan> plan = std::make_unique<trunk_plan>();
    /// A provisional with SDP was relayed: the caller may be hearing this trunk's early
    /// media, so the call never moves to another trunk.
    bool committed = false;

    inbound_leg in;
    /// In order; the last one is the current one. Never empty once the call is created: an
    /// attempt that could not even be sent is there too, failed.
    std::vector<outbound_attempt> attempts;
    outbound_attempt& out() noexcept { return attempts.back(); }
    session_refresh& refresh(leg_side side) noexcept { return side == leg_side::inbound ? in.refresh : out().refresh; }

    /// Requests under way for this call (BYEs); abandoned when the call ends.
    std::vector<dialog::request_handle> requests;
    /// In-dialog requests being relayed from one leg to the other.
    std::vector<relayed_request> relays;
    std::uint64_t next_relay = 1;

    leg_usage inbound_usage;
    leg_usage outbound_usage;
};

}  // namespace b2b::b2bua
