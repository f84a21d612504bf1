// The B2BUA core: the ingress, the call registry, and the dispatch of what each leg receives.
#include "b2bua/core.hpp"

#include "b2bua/auth_failure_facts.hpp"
#include "b2bua/detail/log_text.hpp"
#include "b2bua/detail/sip_helpers.hpp"
#include "b2bua/source_gate.hpp"

#include "dialog/dialog.hpp"
#include "registration/contact_token.hpp"
#include "security/emergency.hpp"
#include "sip/message/uri.hpp"
#include "sip/message/text.hpp"
#include "sip/message/writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace b2b::b2bua {

using detail::allow_value;
using detail::header_value;
using detail::key_of;
using dialog::session_event;

namespace {

std::shared_ptr<spdlog::logger> core_logger() {
    auto log = spdlog::get("b2bua");
    return log ? log : spdlog::default_logger()->clone("b2bua");
}

std::string inbound_key(std::string_view call_id, std::string_view from_tag) {
    std::string k;
    k.reserve(call_id.size() + from_tag.size() + 1);
    k += call_id;
    k += '\n';
    k += from_tag;
    return k;
}

// Option tags a Require header may name that we honour: `timer` (RFC 4028, each leg
// negotiates its own session timer), and 100rel on a new INVITE (RFC 3262: we send its
// provisionals reliably ourselves, whatever the far end does). Any other gets 420 (RFC 3261
// §8.2.2.3) and the peer can retry without the extension.
std::string unsupported_requirements(const sip::message& m) {
    const bool initial_invite = m.method() == sip::method::invite && m.to().tag.empty();
    std::string out;
    sip::any_list_item(m, sip::header_id::require, [&](std::string_view tag) {
        if (sip::iequals(tag, "timer")) return false;
        if (initial_invite && tag == dialog::option_100rel) return false;
        if (!out.empty()) out += ", ";
        out += tag;
        return false;
    });
    return out;
}

}  // namespace

// ------------------------------------------------------------------------ the dialog layer's side

class core::auth_events final : public dialog::auth_observer {
public:
    explicit auth_events(core& c) : core_(c) {}
    void on_challenged(std::uint32_t peer) override { core_.metrics_.auth_challenge_upstream(peer); }
    void on_authenticated(std::uint32_t peer) override { core_.metrics_.auth_success_upstream(peer); }
    void on_auth_failure(std::uint32_t peer, auth::failure reason, std::string_view detail,
                         const sip::message& response) override {
        core_.metrics_.auth_failure_upstream(reason, peer);
        const auto& target = *core_.peer_of(peer);
        const bool trunk = is_trunk(peer);
        core_.log_->info("auth failure {}: reason={} {}={} user={:?} response={} {:?} warning={:?}: {}",
                         trunk ? "upstream" : "downstream", auth::to_string(reason), trunk ? "trunk" : "pbx",
                         target.name, target.username, response.status(), response.reason(),
                         header_value(response, sip::header_id::warning), detail);
        auto rec = upstream_failure_record(response, target, trunk, reason, core_.wall_now());
        // The registration client hears of this response after us: this refusal is one more.
        if (trunk && response.cseq().method == sip::method::register_ && core_.registrations_)
            rec.refused_in_a_row = core_.registrations_->refusals_in_a_row(peer) + 1;
        core_.auth_failures_.record(std::move(rec));
    }

private:
    core& core_;
};

class core::ingress_entry final : public dialog::out_of_dialog_handler {
public:
    explicit ingress_entry(core& c) : core_(c) {}
    void on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) override {
        core_.on_request_out_of_dialog(txn, std::move(request), f);
        core_.expire_failure_lines();  // the request may have been a failure whose line waits
    }

private:
    core& core_;
};

void leg_usage::on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) {
    owner_.on_leg_request(call_, side_, txn, std::move(request), f);
}
void leg_usage::on_ack(sip::message&& ack, const sip::flow&) { owner_.on_leg_ack(call_, side_, std::move(ack)); }
void leg_usage::on_cancel(sip::transaction_id txn, const sip::message& cancel, sip::transaction_id invite,
                          bool invite_answered) {
    owner_.on_leg_cancel(call_, side_, txn, cancel, invite, invite_answered);
}
void leg_usage::on_invite_failure(sip::transaction_id invite, sip::transaction_failure why) {
    owner_.on_invite_failure(call_, side_, invite, why);
}

// ----------------------------------------------------------------------------------- set-up

failure_log_limiter::options failure_lines_options(const config& cfg) {
    failure_log_limiter::options o;
    o.interval = cfg.security.failure_log_interval;
    return o;
}

core::core(const config& cfg, sip::transport& transport, sip::timer_service& timers, b2bua_metrics& metrics,
           downstream_auth& auth, std::uint8_t worker, const shared_usage& usage)
    : cfg_(cfg),
      auth_(auth),
      transport_(transport),
      timers_(timers),
      metrics_(metrics),
      log_(core_logger()),
      auth_failures_(cfg.admin.failures_kept),
      failure_lines_(usage.failure_lines ? usage.failure_lines
                                         : std::make_shared<failure_log_limiter>(failure_lines_options(cfg))),
      auth_events_(std::make_unique<auth_events>(*this)),
      ingress_entry_(std::make_unique<ingress_entry>(*this)),
      tokens_(worker),
      worker_(worker),
      routes_(cfg.routes),
      inbound_routes_(cfg.inbound_routes),
      sources_(cfg.upstream.trunks, cfg.downstream.allowed_sources),
      forwarding_(forwarding_of(cfg.cluster)),
      overload_(timers, cfg.overload.max_loop_delay, metrics.limits(), log_),
      user_limits_(usage.accounts),
      selection_(
          [&cfg] {
              std::vector<routing::trunk_selection_policy> policies;
              for (const auto& t : cfg.upstream.trunks) policies.push_back(t.selection);
              return policies;
          }(),
          usage.trunks),
      pbx_registrar_(cfg.downstream, auth, metrics, auth_failures_, *failure_lines_, timers,
                     [this](const sip::flow& to, std::string_view bytes) {
                         if (txm_ != nullptr) (void)txm_->send_stateless(to, bytes);
                     },
                     [this] { return wall_now(); }, core_logger()),
      wall_epoch_(std::chrono::system_clock::now()),
      steady_epoch_(timers.now()) {
    next_call_ = std::uint64_t{worker} + 1;
    for (const auto& t : cfg.upstream.trunks) {
        trunk_index_.emplace(t.name, trunks_.size());
        trunks_.push_back(std::make_shared<const routing::trunk>(t));
    }
    targets_ = std::make_unique<trunk_targets>(timers_, trunks_, [this](std::size_t trunk) {
        // A request from any of a trunk's resolved addresses is the trunk's.
        std::vector<sip::endpoint> addresses;
        for (const auto& t : targets_->resolved(trunk)) addresses.push_back(t.address);
        sources_.set_resolved(trunk, addresses);
    });
    for (const auto& r : inbound_routes_.routes()) pbx_targets_.push_back(std::make_shared<const routing::trunk>(r.target));
    // The order is the policy: cheap refusals first (a draining server takes nothing new), no
    // digest work for a merged request, no routing for an unauthenticated one.
    stages_.push_back(std::make_unique<draining_stage>([this] { return drain_retry_after(); }, metrics_, log_));
    stages_.push_back(std::make_unique<screening_stage>([this](const sip::message& invite) {
        return find_by_inbound(invite.call_id(), invite.from().tag) != nullptr;
    }));
    // Overload admission before identification: a late loop spends nothing on hashing.
    stages_.push_back(std::make_unique<overload_stage>(overload_, cfg_.overload.retry_after, metrics_));
    stages_.push_back(std::make_unique<identification_stage>(
        sources_, auth, metrics_, auth_failures_, *failure_lines_, [this] { return wall_now(); }, log_,
        [this](std::string_view user) -> std::optional<std::size_t> {
            return trunk_of_contact(user);
        }));
    set_account_limits(cfg_.downstream.users);
    stages_.push_back(
        std::make_unique<user_limit_stage>(user_limits_, [this] { return timers_.now(); }, metrics_, log_));
    stages_.push_back(std::make_unique<admission_stage>(cfg_.calls.max_calls, usage.calls, metrics_, log_));
    stages_.push_back(std::make_unique<routing_stage>(routes_, inbound_routes_, trunk_index_, metrics_, log_));
    stages_.push_back(std::make_unique<blocked_prefix_stage>(cfg_.security.blocked_prefixes, metrics_, log_));
    stages_.push_back(std::make_unique<trunk_selection_stage>(selection_, trunks_, [this] { return timers_.now(); },
                                                              metrics_, log_));
    stages_.push_back(std::make_unique<session_interval_stage>(cfg_.calls.min_se));
    declare_failovers();
}

void core::set_account_limits(const std::vector<user_account>& users) {
    std::unordered_map<std::string, account_limits> limits;
    for (const auto& u : users) limits[u.username] = {u.max_calls, u.max_cps};
    user_limits_.set_limits(limits);
}

void core::declare_failovers() {
    // Every failover a route allows exists in b2bua_trunk_failovers_total from start.
    for (const auto& route : routes_.routes()) {
        for (std::size_t i = 0; i < route.trunks.size(); ++i) {
            for (std::size_t j = i + 1; j < route.trunks.size(); ++j) {
                metrics_.declare_failover(trunk_index_.at(route.trunks[i]), trunk_index_.at(route.trunks[j]));
            }
        }
    }
}

core::~core() {
    targets_.reset();
    prober_.reset();
    registrations_.reset();
    for (auto& [id, c] : calls_) {
        timers_.cancel(c->timer);
        stop_session_timers(*c);
        for (auto& a : c->attempts) timers_.cancel(a.invite_timer);
    }
    for (auto& [id, a] : abandoned_) timers_.cancel(a.timer);
    timers_.cancel(drain_.timer);
    timers_.cancel(failure_lines_timer_);
}

void core::attach(sip::transaction_manager& transactions) {
    txm_ = &transactions;
    dialogs_.attach(transactions, *ingress_entry_);
    sender_.emplace(transactions, auth_events_.get());
    sender_->set_nc_lane(worker_, static_cast<std::uint32_t>(std::max<std::size_t>(cfg_.sip.workers, 1)));
    if (!primary()) return;  // the primary's prober and registrations speak for every worker
    const auto locate = [this](std::size_t trunk) { return targets_->preferred(trunk); };
    prober_ = std::make_unique<trunk_prober>(timers_, transport_, *sender_, trunks_, cfg_.sip.advertised_host,
                                             [this](std::size_t trunk, bool up) { on_trunk_health(trunk, up); }, locate);
    registrations_ = std::make_unique<upstream_registrations>(timers_, transport_, *sender_, trunks_,
                                                              cfg_.sip.advertised_host, cfg_.cluster.contact,
                                                              metrics_.registrations(), locate);
    // With Redis shared, one node at a time registers each trunk (cluster_node's leases).
    if (cfg_.cluster.redis) registrations_->share_ownership();
}

std::vector<std::string> core::registering_trunks() const {
    return registrations_ ? registrations_->registering() : std::vector<std::string>{};
}

void core::own_trunk_registration(const std::string& name, bool owned) {
    if (registrations_) registrations_->set_owned(name, owned);
}

std::optional<std::size_t> core::trunk_of_contact(std::string_view user) const {
    if (registrations_) return registrations_->trunk_of_contact(user);
    // Another worker than the primary, which registers: the Contact a trunk registers follows
    // from its configuration (the primary alone remembers the old ones for their expiry).
    for (std::size_t i = 0; i < trunks_.size(); ++i) {
        const routing::trunk& t = *trunks_[i];
        if (t.registers && !t.removed && registration::contact_user(t.name, t.username, t.password) == user) return i;
    }
    return std::nullopt;
}

void core::start() {
    targets_->start(dns_);
    if (!primary()) return;
    prober_->start();
    registrations_->start();
    pbx_registrar_.start();
}

// Arms the expiry of the failure lines: once an interval while failures are tracked, the summary
// line of each source whose lines were held back and which went quiet since (a source still
// failing gets its summary with its next failure). No failures tracked, no timer.
void core::expire_failure_lines() {
    if (failure_lines_timer_ != 0 || failure_lines_->size() == 0) return;
    failure_lines_timer_ = timers_.schedule(
        std::chrono::duration_cast<sip::timer_service::duration>(cfg_.security.failure_log_interval), [this] {
            failure_lines_timer_ = 0;
            for (const auto& s : failure_lines_->expire(wall_now())) log_->warn("{}", to_string(s));
            expire_failure_lines();
        });
}

void core::aim(const outbound_attempt& a, dialog::dialog_state& d) const {
    if (a.pinned) {
        d.flow = a.own_side().flow;
        d.reconnect = a.own_side().reconnect;  // the registered Contact, none behind NAT
        return;
    }
    dialog::aim_in_dialog(d, a.destination);
}

// The wall clock moves with the injected clock, so nonce ageing follows the test clock too.
std::chrono::system_clock::time_point core::wall_now() const {
    return wall_epoch_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(timers_.now() - steady_epoch_);
}

// ------------------------------------------------------------------------------ requests

bool core::acceptable(sip::transaction_id txn, const sip::message& req, bool in_dialog) {
    const std::string tag = in_dialog ? std::string() : tokens_.tag();
    // RFC 3261 §8.2.2.1, RFC 4475 §3.3.2: a Request-URI scheme we do not serve gets 416,
    // whatever the method (never route on To instead).
    if (!req.request_uri().is_sip_or_sips()) {
        respond(txn, req, 416, "Unsupported URI Scheme", tag);
        return false;
    }
    // §8.2.2.3: every request but ACK and CANCEL is checked for extensions we must support.
    if (auto unsupported = unsupported_requirements(req); !unsupported.empty()) {
        respond(txn, req, 420, "Bad Extension", tag, {{"Unsupported", unsupported}});
        return false;
    }
    return true;
}

void core::on_request_out_of_dialog(sip::transaction_id txn, sip::message&& req, const sip::flow& f) {
    if (!acceptable(txn, req, false)) return;
    // Behind a load balancer, whose request it is (the gate screened the same address).
    std::optional<std::string_view> stamped;
    if (forwarding_.from_front(f.remote.address)) {
        if (const auto* h = req.find(forwarding_.header())) stamped = h->value;
    }
    const auto origin = forwarding_.resolve(f.remote.address, f.remote.port, stamped);
    if (origin.how == security::forwarded_source::kind::malformed) {
        log_->warn("{} from dispatcher {}: {} {:?} is not an address[:port]; refused with 400",
                   detail::clip(req.method_text()), f.remote.to_string(), forwarding_.header(), detail::clip(*stamped));
        return respond(txn, req, 400, "Bad " + forwarding_.header(), tokens_.tag());
    }
    const sip::endpoint from{origin.source.address, origin.source.port};
    const bool from_dispatcher = origin.how == security::forwarded_source::kind::front;
    if (req.method() == sip::method::invite) return on_initial_invite(txn, std::move(req), f, from);
    const bool registration = req.method() == sip::method::register_;
    const auto source = sources_.classify(from);
    // A provider probes the Contact we registered (OPTIONS) from addresses we cannot list: the
    // Contact's user part is the proof, as for its calls (a REGISTER proves nothing by it). The
    // load balancer's own probes must be answered too, or it takes this node out.
    const bool to_our_contact =
        !registration && trunk_of_contact(req.request_uri().user);
    if (!to_our_contact && !from_dispatcher && source.what == source_policy::kind::refused) {
        // Scans (OPTIONS first, as sipvicious svmap does) learn nothing from outside the
        // allowed networks either.
        source_not_allowed(metrics_, auth_failures_, {*log_, *failure_lines_}, req, from, cfg_.downstream.realm,
                           wall_now());
        return respond(txn, req, 403, "Forbidden", tokens_.tag());
    }
    if (registration) {
        // The registrar binds the PBX as it would have reached us: from its own address (a
        // binding behind NAT is then reached there, from this node), on no connection of the
        // balancer's.
        if (origin.how != security::forwarded_source::kind::forwarded) return on_register(txn, std::move(req), f, source);
        return on_register(txn, std::move(req), sip::flow{f.transport, f.local, from, 0}, source);
    }
    switch (req.method()) {
        case sip::method::options:
            // A keep-alive probe from the PBX or a trunk (RFC 3261 §11.2), answered as an
            // INVITE would be: while draining, the prober learns to send its calls elsewhere.
            if (const auto retry = drain_retry_after()) {
                const std::string seconds = std::to_string(retry->count());
                return respond(txn, req, 503, "Service Unavailable", tokens_.tag(), {{"Retry-After", seconds}});
            }
            return respond(txn, req, 200, "OK", tokens_.tag(), {{"Allow", allow_value}, {"Accept", "application/sdp"}});
        case sip::method::bye:
            return respond(txn, req, 481, "Call/Transaction Does Not Exist", tokens_.tag());
        case sip::method::unknown:
            // §8.2.1: a method we do not know at all.
            return respond(txn, req, 501, "Not Implemented", tokens_.tag(), {{"Allow", allow_value}});
        default:
            return respond(txn, req, 405, "Method Not Allowed", tokens_.tag(), {{"Allow", allow_value}});
    }
}

void core::on_register(sip::transaction_id txn, sip::message&& req, const sip::flow& seen,
                       const source_policy::verdict& source) {
    if (source.what == source_policy::kind::trunk) {
        // A provider has no account with us: its address is all we know of it, and that proves
        // nothing a registrar could bind.
        log_->info("registrar: REGISTER from trunk {} ({}) refused: trunks do not register with us",
                   trunks_[source.trunk]->name, seen.remote.to_string());
        return respond(txn, req, 403, "Forbidden", tokens_.tag());
    }
    const std::string tag = tokens_.tag();
    pbx_registrar_.on_register(req, seen, [&](int status, std::string_view reason, const header_list& headers) {
        respond(txn, req, status, reason, tag, headers);
    });
}

void core::refuse(ingress_request& r, int status, std::string_view reason, const header_list& extra) {
    respond(r.txn, r.invite, status, reason, r.reject_tag, extra);
}

void core::on_initial_invite(sip::transaction_id txn, sip::message&& invite, const sip::flow& f,
                             const sip::endpoint& source) {
    ingress_request r{txn, invite, f, source, tokens_.tag()};
    r.emergency = security::dials_emergency(invite.request_uri().user, cfg_.security.emergency_numbers);
    for (const auto& stage : stages_) {
        if (stage->run(r, *this) == stage_result::stop) return;
    }

    const std::string caller = std::move(r.caller);
    const std::string display(invite.from().display_name);
    const bool inbound = r.direction == call_direction::inbound;
    const std::size_t peer = inbound ? b2bua_metrics::pbx_peer_base + r.inbound_route : r.trunk_index;
    std::optional<registered_destination> registered;
    if (inbound) {
        if (const auto& user = inbound_routes_.routes()[r.inbound_route].registered_user; !user.empty()) {
            if (primary()) {
                registered = pbx_registrar_.destination_of(user);
            } else if (published_bindings_) {
                registered = destination_of(*published_bindings_, user, timers_.now());
            }
            if (!registered) {
                // RFC 3261 §21.4.18: the callee is known but cannot be reached right now.
                metrics_.call_setup(r.direction, *r.source_trunk, call_result::not_registered);
                log_->info("call refused: {} from trunk {} is for PBX account {:?}, which is not registered",
                           detail::clip(r.dialled), trunks_[*r.source_trunk]->name, user);
                return respond(txn, invite, 480, "Temporarily Unavailable", r.reject_tag);
            }
        }
    }
    call& c = create_call(r, std::move(invite), tokens_.tag());
    if (inbound) {
        log_->info("call {} start: {} (trunk {}) {} -> {} to pbx {}", c.id.value, source.to_string(),
                   trunks_[*r.source_trunk]->name, detail::clip(caller), detail::clip(r.dialled), peer_of(peer)->name);
    } else {
        c.plan->trunks = std::move(r.trunks);
        c.plan->position = r.trunk_position;
        c.plan->number = std::move(r.number);
        c.plan->caller = caller;
        c.plan->display = display;
        log_->info("call {} start: {} {} -> {} via trunk {}", c.id.value, source.to_string(),
                   detail::clip(caller), detail::clip(r.dialled), trunks_[peer]->name);
    }

    c.timer = timers_.schedule(std::chrono::duration_cast<sip::timer_service::duration>(cfg_.calls.max_ringing),
                               [this, h = c.id] {
                                   call* p = find(h);
                                   if (p == nullptr) return;
                                   p->timer = 0;
                                   if (p->state != call_state::calling) return;
                                   log_->info("call {}: not answered within {} s", h.value,
                                              cfg_.calls.max_ringing.count());
                                   cancel_outbound(*p, 408, "Request Timeout", call_result::timeout);
                               });
    if (!(inbound ? start_attempt(c, peer, r.number, caller, display, registered ? &*registered : nullptr)
                  : begin_attempt(c))) {
        answer_inbound(c, 503, "Service Unavailable", call_result::error);
        c.end_reason = "the outbound leg could not be sent";
        maybe_end(c);
    }
}

call& core::create_call(ingress_request& r, sip::message&& invite, std::string our_tag) {
    // Ids of worker w of N are w+1, w+1+N, ...: unique in the process, and the id names the
    // worker that holds the call ((id - 1) % N), so the admin API asks that one.
    const call_handle h{next_call_};
    next_call_ += std::max<std::size_t>(cfg_.sip.workers, 1);
    auto owned = std::make_unique<call>(*this, h);
    call& c = *owned;
    c.started = timers_.now();
    c.direction = r.direction;
    c.source_trunk = r.source_trunk.value_or(0);
    c.max_forwards = r.max_forwards;
    c.content_type = r.content_type;
    c.dialled_number = r.dialled;
    c.emergency = r.emergency;
    c.forwarded = r.source != r.flow.remote;
    c.user = r.user;
    c.account_slot = std::move(r.account_slot);
    c.call_slot = std::move(r.call_slot);
    c.caller_number = std::string(invite.from().uri.user);
    c.in.txn = r.txn;
    c.in.flow = r.flow;
    c.in.tag = std::move(our_tag);
    c.in.invite = std::make_unique<sip::message>(std::move(invite));
    c.in.invite_cseq = c.in.invite->cseq().seq;
    c.in.dialog.remote_cseq = c.in.invite_cseq;
    c.in.session.on(session_event::invite_received, !c.in.invite->body().empty());
    init_reliability(c);
    // The inbound dialog exists from our first tagged answer on: the caller may send BYE in
    // the early dialog (§15) and CANCEL finds the INVITE.
    dialogs_.add({c.in.call_id(), c.in.tag}, c.inbound_usage);
    dialogs_.own(c.in.txn, c.inbound_usage);
    by_inbound_.emplace(inbound_key(c.in.call_id(), c.in.caller_tag()), h);
    calls_.emplace(h.value, std::move(owned));
    metrics_.count_active_call(c.direction, +1);
    return c;
}

void core::respond(sip::transaction_id txn, const sip::message& req, int status, std::string_view reason,
                   std::string_view to_tag, const header_list& extra) {
    sip::message_writer w = sip::response_writer(req, status, reason, to_tag);
    for (const auto& [name, value] : extra) w.header(name, value);
    // Our challenges (the only 401/407 answered here: the trunks' are the request sender's) go
    // out statelessly, like Kamailio's sl_send_reply: the source of an unauthenticated request
    // may be forged, and a challenge held in a transaction would be sent to that address again
    // and again for 32 s (Timer G/H). A lost challenge is recovered by the client's own
    // retransmission, challenged afresh; the ACK for it is a stray the dialog layer drops.
    const bool challenge = status == 401 || status == 407;
    auto bytes = std::move(w).finish();
    if (auto ec = challenge ? txm_->respond_stateless(txn, status, std::move(bytes))
                            : txm_->respond(txn, status, std::move(bytes))) {
        log_->debug("response {} not sent: {}", status, ec.message());
    }
}

void core::end(call& c, std::string_view why) {
    const auto now = timers_.now();
    const auto total = std::chrono::duration_cast<std::chrono::milliseconds>(now - c.started).count();
    const bool answered = c.in.session.answered();
    const long long talk = answered ? std::chrono::duration_cast<std::chrono::milliseconds>(now - c.answered_at).count() : 0;
    log_->info("call {} end: {} ({}), {} ms in all, {} ms answered", c.id.value,
               c.result ? to_string(*c.result) : "ended", why.empty() ? "done" : why, total, talk);
    if (answered) metrics_.call_duration(c.direction, now - c.answered_at);
    timers_.cancel(c.timer);
    stop_session_timers(c);
    for (auto& a : c.attempts) {
        stop_invite_timer(a);
        release_trunk(a);
        dialog::request_sender::abandon(a.invite);
        if (a.dialogs) dialogs_.remove(key_of(a.own_side()));
    }
    for (const auto& r : c.requests) dialog::request_sender::abandon(r);
    for (auto& r : c.relays) {
        // §15.1.2: requests still pending in the dialog are answered when it ends.
        dialog::request_sender::abandon(r.sent);
        if (!r.awaiting_ack) answer_relayed(c, r, 487, "Request Terminated", nullptr);
        if (r.request.method() == sip::method::invite) dialogs_.disown(r.server_txn);
    }
    end_reliability(c);
    dialogs_.remove({c.in.call_id(), c.in.our_tag()});
    dialogs_.disown(c.in.txn);
    by_inbound_.erase(inbound_key(c.in.call_id(), c.in.caller_tag()));
    c.account_slot.release();
    c.call_slot.release();
    if (cdr_sink_) {
        call_record r;
        r.call = summarize(c);
        r.end = wall_time(now);
        r.result = c.result ? std::string(to_string(*c.result)) : std::string("ended");
        r.status = c.final_status;
        r.hangup_by = c.hangup_by;
        r.end_reason = why.empty() ? c.end_reason : std::string(why);
        cdr_sink_(std::move(r));
    }
    const auto direction = c.direction;
    calls_.erase(c.id.value);  // destroys c
    metrics_.count_active_call(direction, -1);
    if (calls_.empty() && drain_.phase != drain_phase::running) finish_drain();
}

// ------------------------------------------------------------------------------------- lookups

call* core::find(call_handle h) {
    auto it = calls_.find(h.value);
    return it == calls_.end() ? nullptr : it->second.get();
}

call* core::find_by_inbound(std::string_view call_id, std::string_view from_tag) {
    auto it = by_inbound_.find(inbound_key(call_id, from_tag));
    return it == by_inbound_.end() ? nullptr : find(it->second);
}

}  // namespace b2b::b2bua
