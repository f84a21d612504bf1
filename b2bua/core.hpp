// The B2BUA core: the call registry, the ingress stages, and calls as bridges of two legs.
#pragma once

#include "b2bua/auth_failure_log.hpp"
#include "b2bua/failure_log_limiter.hpp"
#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/call.hpp"
#include "b2bua/call_limits.hpp"
#include "b2bua/call_summary.hpp"
#include "b2bua/config.hpp"
#include "b2bua/downstream_auth.hpp"
#include "b2bua/drain.hpp"
#include "b2bua/ingress.hpp"
#include "b2bua/overload_monitor.hpp"
#include "b2bua/pbx_registrations.hpp"
#include "b2bua/trunk_prober.hpp"
#include "b2bua/trunk_targets.hpp"
#include "b2bua/upstream_registrations.hpp"
#include "dialog/dialog_manager.hpp"
#include "dialog/request_sender.hpp"
#include "routing/route_table.hpp"
#include "routing/trunk.hpp"
#include "routing/trunk_selection.hpp"
#include "security/forwarded_source.hpp"
#include "sip/message/random.hpp"
#include "sip/message/writer.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transaction/transaction_manager.hpp"
#include "sip/transport/transport.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

class source_gate;  // b2bua/source_gate.hpp

/// The bound on authentication-failure log lines from the configuration (security.failure_log_interval).
failure_log_limiter::options failure_lines_options(const config& cfg);

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
    /// `worker`: the event loop this core serves (sip.workers); the tags it makes name it. Worker
    /// 0 is the primary: it alone pings the trunks, registers with them and keeps the PBXs'
    /// bindings alive; the others read its verdicts in `usage`, which holds what
    /// the cores of one process count together (trunk, account and calls.max_calls limits).
    core(const config& cfg, sip::transport& transport, sip::timer_service& timers, b2bua_metrics& metrics,
         downstream_auth& auth, std::uint8_t worker = 0, const shared_usage& usage = {});
    ~core() override;
    core(const core&) = delete;
    core& operator=(const core&) = delete;

    /// Must be called once, before any traffic, with the manager that calls us back.
    void attach(sip::transaction_manager& transactions);
    /// The DNS the trunks named by host are located with (RFC 3263); must outlive the core.
    /// Call before `start`; without one such trunks never get a target.
    void set_dns(sip::resolver::dns_lookup* dns) noexcept { dns_ = dns; }

    // The source gate (bans, flood limit, scanners) sits in front of the transaction manager;
    // the core only tells it who the trunks are and lets the admin API reach it.
    /// True when a trunk sends from `source` (its address, or address and port): never banned
    /// nor rate-limited.
    bool is_trunk_source(const sip::endpoint& source) const;
    void set_gate(source_gate* gate) noexcept { gate_ = gate; }
    /// The gate, or nullptr (unit tests run the core without one).
    source_gate* gate() const noexcept { return gate_; }
    /// Starts what sends on its own, once the transport listens: DNS for the trunks named by
    /// host, OPTIONS health pings, our registrations with the trunks, the keep-alives to the
    /// PBXs' bindings.
    void start();
    bool primary() const noexcept { return worker_ == 0; }
    /// The worker that holds call `id` among `workers` (ids are made so).
    static std::size_t worker_of_call(std::uint64_t id, std::size_t workers) noexcept {
        return workers == 0 || id == 0 ? 0 : static_cast<std::size_t>((id - 1) % workers);
    }

    // sip::transaction_user: handed to the dialog manager, which dispatches.
    void on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) override {
        dialogs_.on_request(txn, std::move(request), f);
    }
    void on_ack(sip::message&& ack, const sip::flow& f) override { dialogs_.on_ack(std::move(ack), f); }
    void on_server_failure(sip::transaction_id txn, sip::transaction_failure why) override {
        dialogs_.on_server_failure(txn, why);
    }

    std::size_t active_calls() const noexcept { return calls_.size(); }
    /// The recent authentication failures, both directions (admin.failures_kept of them).
    const auth_failure_log& auth_failures() const noexcept { return auth_failures_; }

    /// Graceful shutdown (drain.cpp). The first call starts the drain: from then on every new
    /// INVITE, and an out-of-dialog OPTIONS (§11.2: answered as an INVITE would be), gets 503
    /// with Retry-After, while the calls in progress go on for up to `grace`. Then, or at once
    /// on a further call (or when `grace` is 0), the calls left are ended: a confirmed call
    /// with BYE on both legs, a ringing one with 503 to the caller and CANCEL to the far end.
    /// `done` is called once, as soon as no call is left (from within this call when there is
    /// none), or when the answers to those BYEs and CANCELs take longer than
    /// `drain_linger`: the process may then exit.
    void drain(std::chrono::seconds grace, std::function<void()> done);
    drain_phase drain_state() const noexcept { return drain_.phase; }
    /// How long the last answers may take once the calls are ended: 8*T1 (4 s by default) lets
    /// a BYE go out with three retransmissions (§17.1.2.2); a peer that answers none of them is
    /// not waited for until Timer F (64*T1).
    sip::timer_service::duration drain_linger() const noexcept { return 8 * cfg_.sip.t1; }

    /// Measures the event loop for overload admission (overload.max_loop_delay_ms): the
    /// process calls it once its loop runs; unit tests feed `overload().observe` instead.
    void watch_event_loop() { overload_.start(); }
    overload_monitor& overload() noexcept { return overload_; }
    /// Calls up of PBX account `user` (its max_calls slot).
    std::size_t user_calls(const std::string& user) const { return user_limits_.active(user); }

    /// Dialogs registered with the dialog layer (two per call once it has an outbound attempt).
    std::size_t dialogs() const noexcept { return dialogs_.dialogs(); }

    // What operators see and change (operations.cpp). The admin API posts these onto the loop.
    /// Calls in progress with an id above `after`, in id order, at most `limit`.
    std::vector<call_summary> list_calls(std::uint64_t after, std::size_t limit) const;
    std::optional<call_summary> find_call(std::uint64_t id) const;
    /// Ends call `id` as an operator asked: BYE on both legs once answered, else CANCEL
    /// towards the far end and 480 to the caller. Nothing when there is no such call; returns
    /// "bye" or "cancel" for what was done.
    std::optional<std::string_view> end_call(std::uint64_t id);
    /// Calls in progress through trunk `name` (to it, or from it).
    std::size_t calls_on_trunk(std::string_view name) const;
    /// Ends every call through trunk `name` as `end_call` does; how many.
    std::size_t end_calls_on_trunk(std::string_view name);
    /// Replaces the trunks, routes and inbound routes at run time, validated as a whole by the
    /// caller (every trunk a route names is in `trunks`). Trunks are matched by name: a new
    /// one starts (DNS, pings, registration) at once; a changed one takes effect for the next
    /// request, its calls in progress going on (their in-dialog requests answer challenges with
    /// its new credentials), and registers again at once; a removed one takes no new call and
    /// stops pinging and registering (its binding is removed); calls in progress keep it.
    void reconfigure(const std::vector<routing::trunk>& trunks, const std::vector<routing::route>& routes,
                     const std::vector<routing::inbound_route>& inbound_routes);
    /// The PBX accounts, replacing the ones before (for the next request).
    void set_users(const std::vector<user_account>& users);
    /// The trunks as they are now (removed ones left out), with their run-time state.
    struct trunk_status {
        std::shared_ptr<const routing::trunk> trunk;
        bool up = true;
        std::size_t active_calls = 0;
        std::optional<registration::registration_status> registration;  ///< when it registers
        /// Cluster: another node holds the lease on its registration, so this one's status says
        /// nothing; the node Redis names as holder (empty while none is known).
        std::optional<std::string> registered_by;
    };
    std::vector<trunk_status> trunks() const;
    /// A new REGISTER for trunk `name` now; false when it has no registration.
    bool register_now(std::string_view name);
    /// Cluster: when another node registers trunk `name`, that node (empty while not known);
    /// nothing when this node does, or the trunk does not register.
    std::optional<std::string> registered_elsewhere(std::string_view name) const;
    /// Cluster: who holds a trunk's registration lease (cluster_node::holder), for the trunks
    /// this node does not register.
    void set_registration_holder(std::function<std::string(std::string_view trunk)> holder) {
        registration_holder_ = std::move(holder);
    }
    /// Primary only. The trunks this core registers (cluster: the leases it wants), and a
    /// lease on one gained or lost (upstream_registrations::set_owned).
    std::vector<std::string> registering_trunks() const;
    void own_trunk_registration(const std::string& name, bool owned);
    /// The PBXs' registrations with us (to list them, keep them in the store, restore them).
    const pbx_registrations& pbx_bindings() const noexcept { return pbx_registrar_; }
    pbx_registrations& pbx_bindings() noexcept { return pbx_registrar_; }
    /// Primary only. Another node of the cluster has `now` for PBX account `user`: they become
    /// this registrar's (`pbx_registrations::adopt`), each sent from this node's own socket.
    /// Returns those kept.
    std::vector<pbx_registrations::timed_binding> adopt_pbx_bindings(const std::string& user, std::vector<pbx_registrations::timed_binding> now,
                                   std::string_view node);
    /// Another worker's core: the primary's bindings as it last published them (it alone is the
    /// registrar), by which calls to registered PBX accounts are placed here.
    void set_published_bindings(std::shared_ptr<const binding_table> table) { published_bindings_ = std::move(table); }
    /// Where call detail records go as calls end (on this loop; the receiver hands them on).
    void set_cdr_sink(std::function<void(call_record&&)> sink) { cdr_sink_ = std::move(sink); }
    /// The wall clock now, moving with the injected clock (nonce ageing, failure times, CDRs).
    std::chrono::system_clock::time_point wall_now() const;
    /// The wall clock time of a loop time point (the injected clock in tests).
    std::chrono::system_clock::time_point wall_time(sip::timer_service::time_point t) const;

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
    void on_initial_invite(sip::transaction_id txn, sip::message&& invite, const sip::flow& f,
                           const sip::endpoint& source);
    call& create_call(ingress_request& r, sip::message&& invite, std::string our_tag);
    /// A new attempt towards peer `peer` (an index of peer_of) dialling `number` (escaped); to a
    /// PBX account's registered Contact when `registered` is given.
    /// `where`: the trunk target to use (else the trunk's preferred one).
    bool start_attempt(call& c, std::size_t peer, std::string_view number, std::string_view caller,
                       std::string_view display, const registered_destination* registered = nullptr,
                       const sip::resolver::target* where = nullptr);
    /// Points an outbound dialog's flow where its in-dialog requests go: per its route set and
    /// remote target, or always on the pinned flow of a registered PBX behind NAT.
    void aim(const outbound_attempt& a, dialog::dialog_state& d) const;
    /// A REGISTER from an allowed `source`: a PBX's goes to pbx_registrations, a trunk's gets 403.
    /// `seen` is the REGISTER's flow as the registrar binds it: from the PBX's own address
    /// behind a load balancer.
    void on_register(sip::transaction_id txn, sip::message&& request, const sip::flow& seen,
                     const source_policy::verdict& source);
    /// A trunk by index, or the PBX target of an inbound route (b2bua_metrics::pbx_peer_base + route).
    static bool is_trunk(std::size_t peer) noexcept { return peer < b2bua_metrics::pbx_peer_base; }
    const std::shared_ptr<const routing::trunk>& peer_of(std::size_t peer) const {
        return is_trunk(peer) ? trunks_[peer] : pbx_targets_[peer - b2bua_metrics::pbx_peer_base];
    }
    void count_setup(call& c, call_result result);
    /// The failover series every route allows, at zero.
    void declare_failovers();


    // Trunk selection and failover (failover.cpp)
    /// Starts an attempt on the plan's current trunk, and when it cannot be sent, fails over.
    bool begin_attempt(call& c);
    /// Moves `c` to the next trunk of its route that may take it, after trunk `from` failed for
    /// `status` (counted and logged as a failover); false when none is left.
    bool next_trunk(call& c, std::size_t from, std::string_view status);
    /// The current attempt, just sent, takes its trunk's call slot and its invite_timeout_ms.
    void hold_trunk(call& c);
    /// (Re)starts the current attempt's wait for a provisional response (invite_timeout_ms).
    void arm_invite_timer(call& c);
    /// Moves the call to the next usable trunk of its route after the current one, counting
    /// and logging the failover; `status` is why the current one is left. False when none is
    /// left (nothing changed then).
    bool fail_over(call& c, std::string_view status);
    /// RFC 3263 §4.3: the current target of the current trunk failed (`status`): marks it
    /// failed and moves to the trunk's next target. False when it has none left.
    bool next_target(call& c, std::string_view status);
    void release_trunk(outbound_attempt& a);
    void stop_invite_timer(outbound_attempt& a);
    void on_invite_timeout(call& c);
    /// §21.5.4: a 503 with Retry-After takes the trunk out of service for that long.
    void note_retry_after(const outbound_attempt& a, const sip::message& rsp);
    void on_abandoned_invite_event(std::uint64_t attempt, dialog::request_event& ev);
    /// ACK a 2xx we do not want (another fork, an INVITE given up) and end its dialog with BYE.
    dialog::request_handle ack_and_bye(const outbound_attempt& a, std::shared_ptr<dialog::dialog_state> d,
                                       std::uint32_t cseq, std::string_view reason);
    dialog::request_plan plan_to_trunk(const outbound_attempt& a, const dialog::dialog_state& d,
                                       std::string_view method) const;
    void on_trunk_health(std::size_t trunk, bool up);
    /// The trunk whose registered Contact has user part `user`, if any.
    std::optional<std::size_t> trunk_of_contact(std::string_view user) const;

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
    // Session timers, RFC 4028 (session_refresh.cpp)
    /// The interval our outbound INVITE asks for: the caller's, or calls.session_expires_s.
    std::shared_ptr<dialog::session_timer_offer> outbound_session_offer(const call& c) const;
    /// What a request we send on `side` asks for: that leg's interval and refresher, if any.
    std::shared_ptr<dialog::session_timer_offer> leg_session_offer(const call& c, leg_side side) const;
    /// We answer session refresh `request` on `side` with a 2xx (written by `w`): negotiates
    /// that leg's timer (§9) and writes Session-Expires, Require and Supported.
    void answer_session_timer(call& c, leg_side side, const sip::message& request, sip::message_writer& w);
    /// §9: a refresh on `side` asking for too short an interval gets 422; true when it did.
    bool refuse_short_session(call& c, leg_side side, sip::transaction_id txn, const sip::message& request);
    /// The 2xx to a session refresh request we sent on `side`, which asked for `asked` (§7.2).
    void session_timer_answered(call& c, leg_side side, const sip::message& response, std::uint32_t asked);
    /// What we sent or learnt on a leg: the SDP a re-INVITE refresh repeats, the peer's Allow.
    void note_sent_sdp(call& c, leg_side side, std::string_view body, std::string_view type);
    void note_peer_allow(call& c, leg_side side, const sip::message& m);
    /// Our refresh (a re-INVITE) is under way on either leg: another INVITE would collide.
    bool session_refresh_invite_pending(const call& c) const;
    void arm_session_timer(call& c, leg_side side);
    void on_session_deadline(call& c, leg_side side);
    void send_session_refresh(call& c, leg_side side);
    void on_session_refresh_event(call& c, leg_side side, dialog::request_event& ev);
    void stop_session_timers(call& c);

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
    /// The call is confirmed: its RFC 3262 state goes, unless a relayed PRACK still waits.
    void release_reliability(call& c);

    // Outbound INVITE outcome
    void on_outbound_invite_event(call& c, dialog::request_event& ev);
    void on_outbound_answer(call& c, const sip::message& rsp);
    /// The attempt's INVITE transaction is gone (Timer M): the tags of its early dialogs and
    /// other forks go, and the INVITE's request state once its 2xx is ACKed.
    void settle_invite(call_handle h, std::uint64_t attempt);
    /// A 3xx from a trunk: a new attempt to its first Contact when that names a configured
    /// trunk and fewer than 3 redirects were followed; false when not followed.
    bool follow_redirect(call& c, const sip::message& rsp);
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

    // The drain (drain.cpp)
    void end_all_calls(std::string_view reason);
    void end_call_for_drain(call& c, std::string_view reason);
    void finish_drain();
    /// Retry-After for a refusal while draining: until the process is gone at the latest.
    std::optional<std::chrono::seconds> drain_retry_after() const;

    call* find(call_handle h);
    call_summary summarize(const call& c) const;
    /// Ends a call by us: `status` to a caller not yet answered (and CANCEL to the far end,
    /// counted as `result`), BYE on both legs once answered.
    void end_by_us(call& c, std::string_view reason, int status, std::string_view phrase, call_result result);
    call* find_by_inbound(std::string_view call_id, std::string_view from_tag);
    void expire_failure_lines();

    const config& cfg_;
    downstream_auth& auth_;
    std::function<void(call_record&&)> cdr_sink_;
    std::function<std::string(std::string_view trunk)> registration_holder_;
    sip::transport& transport_;
    sip::timer_service& timers_;
    b2bua_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
    auth_failure_log auth_failures_;  ///< before the parts that record into it
    /// Which downstream auth-failure lines are logged (security.failure_log_interval); before
    /// the parts that log through it.
    std::shared_ptr<failure_log_limiter> failure_lines_;  // shared by the workers
    sip::timer_service::timer_id failure_lines_timer_ = 0;
    sip::transaction_manager* txm_ = nullptr;
    source_gate* gate_ = nullptr;
    dialog::dialog_manager dialogs_;
    std::unique_ptr<auth_events> auth_events_;
    std::unique_ptr<ingress_entry> ingress_entry_;
    std::optional<dialog::request_sender> sender_;
    sip::token_source tokens_;
    std::uint8_t worker_ = 0;

    std::vector<std::shared_ptr<const routing::trunk>> trunks_;
    std::unordered_map<std::string, std::size_t> trunk_index_;
    std::unique_ptr<trunk_targets> targets_;  ///< by trunk index (made once trunks_ is)
    sip::resolver::dns_lookup* dns_ = nullptr;
    routing::route_table routes_;
    routing::inbound_route_table inbound_routes_;
    std::vector<std::shared_ptr<const routing::trunk>> pbx_targets_;  // by inbound route
    source_policy sources_;
    security::forwarded_source forwarding_;  ///< cluster.dispatchers: whose request it is
    // Limits (issue 10): before the stages that use them.
    overload_monitor overload_;
    user_limits user_limits_;
    void set_account_limits(const std::vector<user_account>& users);
    std::vector<std::unique_ptr<ingress_stage>> stages_;
    routing::trunk_selection selection_;
    std::unique_ptr<trunk_prober> prober_;
    std::unique_ptr<upstream_registrations> registrations_;  ///< made by attach (needs the sender)
    pbx_registrations pbx_registrar_;
    std::shared_ptr<const binding_table> published_bindings_;  // worker 1..N-1: the primary's
    /// INVITEs given up for want of a provisional (invite_timeout), by attempt id: kept until
    /// their transaction ends, so that a late 2xx is ACKed and ended with BYE (and a late 1xx
    /// releases the CANCEL asked for at give-up).
    struct abandoned_invite {
        outbound_attempt attempt;
        sip::timer_service::timer_id timer = 0;
    };
    std::unordered_map<std::uint64_t, abandoned_invite> abandoned_;
    std::uint64_t next_attempt_ = 0;

    std::unordered_map<std::uint64_t, std::unique_ptr<call>> calls_;
    std::unordered_map<std::string, call_handle> by_inbound_;  // inbound Call-ID + '\n' + From tag
    std::uint64_t next_call_ = 1;  ///< worker_ + 1 from the constructor on

    std::chrono::system_clock::time_point wall_epoch_;
    sip::timer_service::time_point steady_epoch_;

    struct drain_data {
        drain_phase phase = drain_phase::running;
        sip::timer_service::time_point deadline{};  ///< when the calls left are ended
        sip::timer_service::timer_id timer = 0;     ///< the deadline, then the linger bound
        std::function<void()> done;
        bool unregistered = false;         ///< our registrations with the trunks are removed
        bool awaiting_unregister = false;  ///< the calls are gone; waiting for those removals
    } drain_;
};

}  // namespace b2b::b2bua
