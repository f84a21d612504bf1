// The B2BUA core: the call registry, the ingress stages, and calls as bridges of two legs.
#pragma once

#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/call.hpp"
#include "b2bua/config.hpp"
#include "b2bua/downstream_auth.hpp"
#include "b2bua/ingress.hpp"
#include "dialog/dialog_manager.hpp"
#include "dialog/request_sender.hpp"
#include "routing/route_table.hpp"
#include "routing/trunk.hpp"
#include "sip/message/random.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transaction/transaction_manager.hpp"
#include "sip/transport/transport.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

/// The B2BUA core. A new INVITE passes the ingress stages (screening, identification,
/// admission, routing); one that passes becomes a call: a bridge between its inbound leg (we
/// answer its INVITE) and an outbound attempt (we send a new INVITE), with nothing of one
/// leg's identifiers or topology written on the other: a new Call-ID, our own tags, Via,
/// Contact and CSeq on the outbound leg; the far end's tags, Contact and Record-Route never
/// reach the caller.
///
/// What the transaction layer receives is dispatched by the dialog layer (`dialog_manager`,
/// the one transaction user): out-of-dialog requests come to this core's request handler,
/// in-dialog requests and CANCELs to the leg they belong to. Every request the core
/// originates goes through the `request_sender`, which answers 401/407.
///
/// @par Thread safety
/// None: everything runs on the event loop that owns the transaction manager.
class core final : public sip::transaction_user, private ingress_responder {
public:
    core(const config& cfg, sip::transport& transport, sip::timer_service& timers, b2bua_metrics& metrics,
         downstream_auth& auth);
    ~core() override;
    core(const core&) = delete;
    core& operator=(const core&) = delete;

    /// Must be called once, before any traffic, with the manager that calls us back.
    void attach(sip::transaction_manager& transactions);

    // sip::transaction_user: handed to the dialog manager, which dispatches.
    void on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) override {
        dialogs_.on_request(txn, std::move(request), f);
    }
    void on_ack(sip::message&& ack, const sip::flow& f) override { dialogs_.on_ack(std::move(ack), f); }
    void on_server_failure(sip::transaction_id txn, sip::transaction_failure why) override {
        dialogs_.on_server_failure(txn, why);
    }

    std::size_t active_calls() const noexcept { return calls_.size(); }
    /// Dialogs registered with the dialog layer (two per call once it has an outbound attempt).
    std::size_t dialogs() const noexcept { return dialogs_.dialogs(); }

private:
    friend class leg_usage;
    class auth_events;    // dialog::auth_observer: the trunks' challenges, counted and logged
    class ingress_entry;  // dialog::out_of_dialog_handler: requests outside any dialog

    void on_request_out_of_dialog(sip::transaction_id txn, sip::message&& request, const sip::flow& f);
    // ingress_responder
    void refuse(ingress_request& r, int status, std::string_view reason, const header_list& extra) override;

    /// Checks every request but ACK and CANCEL gets (RFC 3261 §8.2.2): false when answered.
    bool acceptable(sip::transaction_id txn, const sip::message& req, bool in_dialog);

    // New calls
    void on_initial_invite(sip::transaction_id txn, sip::message&& invite, const sip::flow& f);
    call& create_call(ingress_request& r, sip::message&& invite, std::string our_tag);
    bool start_attempt(call& c, std::size_t trunk_index, std::string_view caller, std::string_view display);

    // What the legs deliver (through leg_usage, by handle)
    void on_leg_request(call_handle h, leg_side side, sip::transaction_id txn, sip::message&& req, const sip::flow& f);
    void on_leg_ack(call_handle h, leg_side side, sip::message&& ack);
    void on_leg_cancel(call_handle h, leg_side side, sip::transaction_id txn, const sip::message& cancel,
                       sip::transaction_id invite, bool answered);
    void on_invite_failure(call_handle h, leg_side side, sip::transaction_id invite, sip::transaction_failure why);
    void on_inbound_failure(call& c, sip::transaction_failure why);

    // In-dialog requests relayed from one leg to the other (in_dialog_relay.cpp)
    void relay_request(call& c, leg_side from, sip::transaction_id txn, sip::message&& req);
    void on_relayed_event(call& c, std::uint64_t relay, dialog::request_event& ev);
    /// `ack` is the sender's ACK, or null when none came (the far end still gets its ACK).
    void relay_ack(call& c, leg_side from, const sip::message* ack);
    void answer_relayed(call& c, relayed_request& r, int status, std::string_view reason,
                        const sip::message* response);
    relayed_request* find_relay(call& c, std::uint64_t id);
    void drop_relay(call& c, std::uint64_t id);
    void on_bye_from_inbound(call& c);
    void on_bye_from_outbound(call& c);

    // Reliable provisional responses, RFC 3262 (prack.cpp)
    void init_reliability(call& c);
    void on_outbound_provisional(call& c, const sip::message& rsp);
    void send_reliable_provisional(call& c, const sip::message& rsp, bool far_end_reliable,
                                   std::optional<owed_prack> owed);
    void on_reliable_timer(call_handle h);
    void on_prack(call& c, leg_side side, sip::transaction_id txn, sip::message&& prack);
    /// `relay`: the inbound leg's PRACK is carried (with its answer) and answered with ours.
    void send_prack(call& c, const owed_prack& owed, std::string_view body, std::string_view content_type,
                    bool relay);
    void on_prack_answered(call& c, dialog::request_event& ev);
    /// The 2xx waits for the PRACK of a provisional with SDP (§3): true when held back.
    bool hold_back_2xx(call& c, const sip::message& rsp);
    void after_prack(call& c);
    void end_reliability(call& c);

    // Outbound INVITE outcome
    void on_outbound_invite_event(call& c, dialog::request_event& ev);
    void on_outbound_answer(call& c, const sip::message& rsp);
    /// The far end's 2xx goes to the caller: the call is answered.
    void answer_caller(call& c, const sip::message& rsp);
    void end_other_fork(call& c, const sip::message& rsp);

    // Actions
    /// Where a request to side `to` in dialog `d` goes, and on the trunk's side the trunk's
    /// credentials for its challenges; the caller adds the builder.
    dialog::request_plan plan_on(const call& c, leg_side to, const dialog::dialog_state& d,
                                 std::string_view method) const;
    bool send_outbound_invite(call& c);
    void send_outbound_ack(call& c, std::string_view body = {}, std::string_view content_type = {});
    void send_bye(call& c, leg_side side);
    void relay_provisional(call& c, const sip::message& rsp);
    void answer_inbound(call& c, int status, std::string_view reason, call_result result,
                        const sip::message* relayed = nullptr);
    void cancel_outbound(call& c, int status, std::string_view reason, call_result result);
    void start_max_duration(call& c);
    /// Ends a confirmed call by us: BYE on both legs.
    void hang_up(call& c, std::string reason);
    void respond(sip::transaction_id txn, const sip::message& req, int status, std::string_view reason,
                 std::string_view to_tag = {}, const header_list& extra = {});
    void end(call& c, std::string_view why);
    void maybe_end(call& c);

    call* find(call_handle h);
    call* find_by_inbound(std::string_view call_id, std::string_view from_tag);
    std::chrono::system_clock::time_point wall_now() const;

    const config& cfg_;
    sip::transport& transport_;
    sip::timer_service& timers_;
    b2bua_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
    sip::transaction_manager* txm_ = nullptr;
    dialog::dialog_manager dialogs_;
    std::unique_ptr<auth_events> auth_events_;
    std::unique_ptr<ingress_entry> ingress_entry_;
    std::optional<dialog::request_sender> sender_;
    sip::token_source tokens_;

    std::vector<std::shared_ptr<const routing::trunk>> trunks_;
    std::unordered_map<std::string, std::size_t> trunk_index_;
    routing::route_table routes_;
    std::vector<std::unique_ptr<ingress_stage>> stages_;

    std::unordered_map<std::uint64_t, std::unique_ptr<call>> calls_;
    std::unordered_map<std::string, call_handle> by_inbound_;  // inbound Call-ID + '\n' + From tag
    std::uint64_t next_call_ = 1;

    std::chrono::system_clock::time_point wall_epoch_;
    sip::timer_service::time_point steady_epoch_;
};

}  // namespace b2b::b2bua
