// The B2BUA core: authenticates PBX calls, routes them, and bridges leg A and leg B.
#pragma once

#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/config.hpp"
#include "b2bua/downstream_auth.hpp"
#include "dialog/request_sender.hpp"
#include "routing/route_table.hpp"
#include "routing/trunk.hpp"
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

namespace b2b::b2bua {

struct call;

/// The transaction user of the B2BUA. Each call is two dialogs: leg A with the PBX (we are
/// its UAS) and leg B with the trunk (we are its UAC), with nothing of one leg's identifiers
/// or topology written on the other: a new Call-ID, our own tags, Via, Contact and CSeq on
/// leg B; the trunk's tags, Contact and Record-Route never reach the PBX.
///
/// A call's life (one enum, one switch per event in core.cpp):
///   calling -> (B 2xx) answered -> (A ACK) confirmed -> (BYE either side) ending -> gone
///   calling -> (CANCEL / max ringing / BYE in early dialog) cancelling -> (B final) gone
///   calling -> (B final non-2xx, timeout, auth failure) gone
///
/// @par Thread safety
/// None: everything runs on the event loop that owns the transaction manager.
class core final : public sip::transaction_user, private dialog::auth_observer {
public:
    core(const config& cfg, sip::transport& transport, sip::timer_service& timers, b2bua_metrics& metrics,
         downstream_auth& auth);
    ~core() override;
    core(const core&) = delete;
    core& operator=(const core&) = delete;

    /// Must be called once, before any traffic, with the manager that calls us back.
    void attach(sip::transaction_manager& transactions);

    // sip::transaction_user
    void on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) override;
    void on_ack(sip::message&& ack, const sip::flow& f) override;
    void on_server_failure(sip::transaction_id txn, sip::transaction_failure why) override;

    std::size_t active_calls() const noexcept { return calls_.size(); }

private:
    enum class leg : std::uint8_t { a, b };

    // dialog::auth_observer (the trunk's challenges, peer = trunk index)
    void on_challenged(std::uint32_t peer) override;
    void on_auth_failure(std::uint32_t peer, auth::failure reason, std::string_view detail,
                         const sip::message& response) override;

    // Requests
    void on_initial_invite(sip::transaction_id txn, sip::message&& invite, const sip::flow& f);
    void on_in_dialog(sip::transaction_id txn, sip::message&& request, const sip::flow& f);
    void on_cancel(sip::transaction_id txn, const sip::message& cancel);
    void on_bye_from_a(call& c, sip::transaction_id txn, const sip::message& bye);
    void on_bye_from_b(call& c, sip::transaction_id txn, const sip::message& bye);

    // Leg B responses and failures
    void on_b_invite_event(call& c, dialog::request_event& ev);
    void on_b_answer(call& c, const sip::message& rsp);
    void on_bye_done(call& c);

    // Actions
    bool send_b_invite(call& c);
    void send_b_ack(call& c, std::string_view body = {}, std::string_view content_type = {});
    void send_bye(call& c, leg which);
    void relay_to_a(call& c, const sip::message& rsp);
    void answer_a(call& c, int status, std::string_view reason, call_result result,
                  const sip::message* relayed = nullptr);
    void start_max_duration(call& c);
    void cancel_b(call& c, int a_status, std::string_view a_reason, call_result result);
    void respond(sip::transaction_id txn, const sip::message& req, int status, std::string_view reason,
                 std::string_view to_tag = {},
                 std::vector<std::pair<std::string_view, std::string_view>> extra = {});
    void end(call& c, std::string_view why);
    void maybe_end(call& c);

    call* find_call(std::uint64_t id);
    call* find_by_a(std::string_view call_id, std::string_view from_tag);
    call* find_by_b(std::string_view call_id);
    std::chrono::system_clock::time_point wall_now() const;

    const config& cfg_;
    sip::transport& transport_;
    sip::timer_service& timers_;
    b2bua_metrics& metrics_;
    downstream_auth& auth_;
    sip::transaction_manager* txm_ = nullptr;
    std::optional<dialog::request_sender> sender_;

    std::vector<std::shared_ptr<const routing::trunk>> trunks_;
    std::unordered_map<std::string, std::size_t> trunk_index_;
    routing::route_table routes_;

    std::unordered_map<std::uint64_t, std::unique_ptr<call>> calls_;
    std::unordered_map<std::string, std::uint64_t> by_a_;  // A Call-ID + '\n' + A From tag
    std::unordered_map<std::string, std::uint64_t> by_b_;  // B Call-ID (ours)
    std::unordered_map<sip::transaction_id, std::uint64_t> by_a_invite_;
    std::uint64_t next_call_id_ = 1;

    std::chrono::system_clock::time_point wall_epoch_;
    sip::timer_service::time_point steady_epoch_;
};

}  // namespace b2b::b2bua
