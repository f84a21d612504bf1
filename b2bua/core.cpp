// The B2BUA core: call setup, relay across legs, teardown.
#include "b2bua/core.hpp"

#include "b2bua/call.hpp"
#include "dialog/dialog.hpp"
#include "sip/message/text.hpp"
#include "sip/message/writer.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <spdlog/spdlog.h>

namespace b2b::b2bua {

using dialog::make_identity;
using dialog::random_token;

namespace {

constexpr std::string_view allow_value = "INVITE, ACK, CANCEL, BYE, OPTIONS";

std::shared_ptr<spdlog::logger> core_logger() {
    auto log = spdlog::get("b2bua");
    return log ? log : spdlog::default_logger()->clone("b2bua");
}

std::string a_key(std::string_view call_id, std::string_view from_tag) {
    std::string k;
    k.reserve(call_id.size() + from_tag.size() + 1);
    k += call_id;
    k += '\n';
    k += from_tag;
    return k;
}

// Calls `fn(item)` for every item of every `id` header, split at commas and trimmed, until
// `fn` returns true (found). Returns whether it did.
template <class Fn>
bool any_list_item(const sip::message& m, sip::header_id id, Fn fn) {
    for (const auto& h : m.headers()) {
        if (h.id != id) continue;
        std::string_view v = h.value;
        while (true) {
            const auto comma = v.find(',');
            if (const auto item = sip::trim_lws(v.substr(0, comma)); !item.empty() && fn(item)) return true;
            if (comma == std::string_view::npos) break;
            v.remove_prefix(comma + 1);
        }
    }
    return false;
}

// Option tags a Require header may name that we honour: none yet (no 100rel, no timer), so
// any Require gets 420 (RFC 3261 §8.2.2.3) and the PBX can retry without the extension.
std::string unsupported_requirements(const sip::message& m) {
    std::string out;
    any_list_item(m, sip::header_id::require, [&](std::string_view tag) {
        if (!out.empty()) out += ", ";
        out += tag;
        return false;
    });
    return out;
}

// §20.1: no Accept means application/sdp, an empty Accept means nothing is acceptable;
// otherwise one of the listed media ranges must cover it (parameters such as q are ignored).
bool accepts_sdp(const sip::message& m) {
    if (m.find(sip::header_id::accept) == nullptr) return true;
    return any_list_item(m, sip::header_id::accept, [](std::string_view range) {
        range = sip::trim_lws(range.substr(0, range.find(';')));
        return sip::iequals(range, "application/sdp") || sip::iequals(range, "application/*") || range == "*/*";
    });
}

// §12.1.1: a UAS copies the request's Record-Route into every response that makes a dialog
// (1xx with a tag, 2xx), so that a PBX behind a proxy keeps that proxy on its path for the
// ACK, BYE and re-INVITEs. Only leg A's own Record-Route: nothing of leg B crosses.
void copy_record_route(sip::message_writer& w, const sip::message& request) {
    for (const auto& h : request.headers()) {
        if (h.id == sip::header_id::record_route) w.raw_line(h.raw);
    }
}

std::string_view header_value(const sip::message& m, sip::header_id id) {
    const auto* h = m.find(id);
    return h ? h->value : std::string_view{};
}

}  // namespace

core::core(const config& cfg, sip::transport& transport, sip::timer_service& timers, b2bua_metrics& metrics,
           downstream_auth& auth)
    : cfg_(cfg),
      transport_(transport),
      timers_(timers),
      metrics_(metrics),
      auth_(auth),
      routes_(cfg.routes),
      wall_epoch_(std::chrono::system_clock::now()),
      steady_epoch_(timers.now()) {
    for (const auto& t : cfg.upstream.trunks) {
        trunk_index_.emplace(t.name, trunks_.size());
        trunks_.push_back(std::make_shared<const routing::trunk>(t));
    }
}

void core::attach(sip::transaction_manager& transactions) {
    txm_ = &transactions;
    sender_.emplace(transactions, static_cast<dialog::auth_observer*>(this));
}

core::~core() {
    for (auto& [id, c] : calls_) timers_.cancel(c->timer);
}

// The wall clock moves with the injected clock, so nonce ageing follows the test clock too.
std::chrono::system_clock::time_point core::wall_now() const {
    return wall_epoch_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(timers_.now() - steady_epoch_);
}

// ------------------------------------------------------------------------------------ requests

void core::on_request(sip::transaction_id txn, sip::message&& req, const sip::flow& f) {
    const bool in_dialog = !req.to().tag.empty();
    // RFC 3261 §8.2.2.1, RFC 4475 §3.3.2: a Request-URI scheme we do not serve gets 416,
    // whatever the method (never route on To instead).
    if (!req.request_uri().is_sip_or_sips()) {
        return respond(txn, req, 416, "Unsupported URI Scheme", random_token(8));
    }
    // §8.2.2.3: every request but ACK and CANCEL is checked for extensions we must support.
    if (req.method() != sip::method::cancel) {
        if (auto unsupported = unsupported_requirements(req); !unsupported.empty()) {
            return respond(txn, req, 420, "Bad Extension", in_dialog ? std::string() : random_token(8),
                           {{"Unsupported", unsupported}});
        }
    }
    switch (req.method()) {
        case sip::method::invite:
            if (in_dialog) return on_in_dialog(txn, std::move(req), f);
            return on_initial_invite(txn, std::move(req), f);
        case sip::method::cancel:
            return on_cancel(txn, req);
        case sip::method::options:
            // Out of dialog: a keep-alive probe from the PBX or the trunk (RFC 3261 §11.2).
            if (!in_dialog) {
                return respond(txn, req, 200, "OK", random_token(8),
                               {{"Allow", allow_value}, {"Accept", "application/sdp"}});
            }
            return on_in_dialog(txn, std::move(req), f);
        case sip::method::ack:
            return;  // never delivered here; ACKs come through on_ack
        case sip::method::unknown:
            // §8.2.1: a method we do not know at all.
            return respond(txn, req, 501, "Not Implemented", random_token(8), {{"Allow", allow_value}});
        default:
            if (in_dialog) return on_in_dialog(txn, std::move(req), f);
            if (req.method() == sip::method::bye) {
                return respond(txn, req, 481, "Call/Transaction Does Not Exist", random_token(8));
            }
            return respond(txn, req, 405, "Method Not Allowed", random_token(8), {{"Allow", allow_value}});
    }
}

void core::on_initial_invite(sip::transaction_id txn, sip::message&& invite, const sip::flow& f) {
    auto log = core_logger();
    const std::string reject_tag = random_token(8);

    // Screening a UAS applies before anything else (RFC 3261 §8.2.2, §8.2.3; RFC 4475 §3.3).
    // The answer will carry the trunk's SDP: a PBX that accepts no SDP cannot take it.
    if (!accepts_sdp(invite)) {
        return respond(txn, invite, 406, "Not Acceptable", reject_tag, {{"Accept", "application/sdp"}});
    }
    // A B2BUA decrements Max-Forwards like a proxy so that loops still end (RFC 7332 §3).
    const unsigned max_forwards = invite.max_forwards().value_or(70);
    if (max_forwards == 0) return respond(txn, invite, 483, "Too Many Hops", reject_tag);
    const auto content_type = header_value(invite, sip::header_id::content_type);
    if (!invite.body().empty() && !boost::algorithm::istarts_with(sip::trim_lws(content_type), "application/sdp")) {
        return respond(txn, invite, 415, "Unsupported Media Type", reject_tag, {{"Accept", "application/sdp"}});
    }

    // Digest authentication of the PBX.
    auto decision = auth_.check(invite, f.remote, wall_now());
    if (decision.failure) {
        metrics_.auth_failure_downstream(*decision.failure);
        // {:?} quotes and escapes: user names and numbers are the peer's text, not ours.
        log->info("auth failure downstream: reason={} user={:?} source={} call-id={:?}: {}",
                  auth::to_string(*decision.failure), decision.username, f.remote.to_string(), invite.call_id(),
                  decision.detail);
    }
    if (decision.action == auth_decision::kind::challenge) {
        metrics_.auth_challenge_downstream();
        std::vector<std::pair<std::string_view, std::string_view>> extra;
        for (const auto& value : decision.challenges) extra.emplace_back(decision.challenge_header, value);
        return respond(txn, invite, decision.status, decision.reason_phrase, reject_tag, std::move(extra));
    }
    if (decision.action == auth_decision::kind::reject) {
        return respond(txn, invite, decision.status, decision.reason_phrase, reject_tag);
    }
    metrics_.auth_success_downstream();

    // §8.2.2.2: a new INVITE of a call we already bridge (same Call-ID and From tag, another
    // branch) reached us twice, through a loop or a fork: the copy is refused.
    if (find_by_a(invite.call_id(), invite.from().tag) != nullptr) {
        return respond(txn, invite, 482, "Loop Detected", reject_tag);
    }
    if (cfg_.calls.max_calls != 0 && calls_.size() >= cfg_.calls.max_calls) {
        metrics_.call_setup(b2bua_metrics::no_trunk, call_result::limit);
        log->warn("call refused: limit of {} calls reached", cfg_.calls.max_calls);
        return respond(txn, invite, 503, "Service Unavailable", reject_tag, {{"Retry-After", "5"}});
    }

    // Routing on the dialled number. A Request-URI without a user part dials nothing: even a
    // default route has no number to put on leg B.
    if (invite.request_uri().user.empty()) {
        metrics_.call_setup(b2bua_metrics::no_trunk, call_result::no_route);
        core_logger()->info("call refused: no number in the Request-URI {:?} from {}", invite.request_uri().text,
                            f.remote.to_string());
        return respond(txn, invite, 404, "Not Found", reject_tag);
    }
    const std::string dialled = sip::unescape(invite.request_uri().user);
    const routing::route* route = routes_.match(dialled);
    if (!route) {
        metrics_.call_setup(b2bua_metrics::no_trunk, call_result::no_route);
        log->info("call refused: no route for {:?} from {}", dialled, f.remote.to_string());
        return respond(txn, invite, 404, "Not Found", reject_tag);
    }
    const std::size_t trunk_index = trunk_index_.at(route->trunk);
    const auto& trunk = trunks_[trunk_index];

    auto b_flow = transport_.flow_to(trunk->transport, trunk->address);
    if (!b_flow) {
        metrics_.call_setup(trunk_index, call_result::error);
        log->error("call refused: no {} transport towards trunk {} ({})", sip::to_string(trunk->transport),
                   trunk->name, b_flow.error().message());
        return respond(txn, invite, 503, "Service Unavailable", reject_tag);
    }

    auto owned = std::make_unique<call>();
    call& c = *owned;
    c.id = next_call_id_++;
    c.trunk = trunk;
    c.trunk_index = trunk_index;
    c.started = timers_.now();
    c.a_txn = txn;
    c.a_flow = f;
    c.a_tag = random_token(8);
    c.max_forwards = max_forwards - 1;

    // Leg B: a new dialog. Only the caller's and the dialled user parts (caller ID and
    // number) and the caller's display name cross over; hosts, ports, tags, parameters,
    // Call-ID, Via, Contact and Record-Route of leg A stay on leg A.
    c.b.self = make_identity(*b_flow, cfg_.sip.advertised_host);
    c.b.flow = *b_flow;
    c.b.call_id = random_token(16);
    c.b.local_tag = random_token(8);
    const auto& from = invite.from();
    std::string_view caller = from.uri.is_sip_or_sips() && !from.uri.user.empty() ? from.uri.user : "anonymous";
    const std::string& from_host = trunk->from_domain.empty() ? c.b.self.host_port : trunk->from_domain;
    c.b.local.clear();
    if (!from.display_name.empty()) {
        c.b.local += from.display_name;
        c.b.local += ' ';
    }
    c.b.local += "<sip:";
    c.b.local += caller;
    c.b.local += '@';
    c.b.local += from_host;
    c.b.local += ">;tag=";
    c.b.local += c.b.local_tag;
    const std::string_view dialled_raw = invite.request_uri().user;
    c.b.remote_target = "sip:" + std::string(dialled_raw) + "@" + trunk->domain;
    if (trunk->transport == sip::transport_kind::tcp) c.b.remote_target += ";transport=tcp";
    c.b.remote = "<sip:" + std::string(dialled_raw) + "@" + trunk->domain + ">";
    c.content_type = std::string(content_type);

    c.a_invite = std::move(invite);
    by_a_.emplace(a_key(c.a_invite.call_id(), c.a_invite.from().tag), c.id);
    by_b_.emplace(c.b.call_id, c.id);
    by_a_invite_.emplace(txn, c.id);
    calls_.emplace(c.id, std::move(owned));
    metrics_.set_active_calls(calls_.size());

    log->info("call {} start: {} {:?} -> {:?} via trunk {} (leg B call-id {})", c.id, f.remote.to_string(), caller,
              dialled, trunk->name, c.b.call_id);

    c.timer = timers_.schedule(std::chrono::duration_cast<sip::timer_service::duration>(cfg_.calls.max_ringing),
                               [this, id = c.id] {
                                   if (call* p = find_call(id)) {
                                       p->timer = 0;
                                       if (p->state == call_state::calling) {
                                           core_logger()->info("call {}: not answered within {} s", id,
                                                               cfg_.calls.max_ringing.count());
                                           cancel_b(*p, 408, "Request Timeout", call_result::timeout);
                                       }
                                   }
                               });

    if (!send_b_invite(c)) {
        answer_a(c, 503, "Service Unavailable", call_result::error);
        end(c, "leg B could not be sent");
    }
}

bool core::send_b_invite(call& c) {
    // Every attempt (the first, and one per answered challenge) is built from the same leg-B
    // dialog with the next CSeq (§22.2). The builder holds its own copy of what it needs, so it
    // never reaches into a call that may have ended.
    struct invite_template {
        dialog::dialog_state b;
        unsigned max_forwards;
        std::string body;
        std::string content_type;
    };
    auto t = std::make_shared<invite_template>(invite_template{c.b, c.max_forwards, std::string(c.a_invite.body()),
                                                               c.content_type});
    dialog::request_plan plan;
    plan.build = [t](std::string_view branch, std::string_view auth_name, std::string_view auth_value) {
        dialog::outgoing_request r;
        r.method = "INVITE";
        r.request_uri = t->b.remote_target;
        r.from = t->b.local;
        r.to = t->b.remote;
        r.call_id = t->b.call_id;
        r.cseq = ++t->b.local_cseq;
        r.branch = branch;
        r.max_forwards = t->max_forwards;
        r.extra_headers.emplace_back("Allow", allow_value);
        if (!auth_name.empty()) r.extra_headers.emplace_back(auth_name, auth_value);
        r.body = t->body;
        r.content_type = t->content_type;
        return dialog::make_request(r, t->b.self);
    };
    plan.flow = c.b.flow;
    plan.method = "INVITE";
    plan.request_uri = c.b.remote_target;
    plan.credentials = {c.trunk->username, c.trunk->password};
    plan.peer = static_cast<std::uint32_t>(c.trunk_index);
    auto sent = sender_->send(std::move(plan), [this, id = c.id](dialog::request_event& ev) {
        if (call* p = find_call(id)) on_b_invite_event(*p, ev);
    });
    if (!sent) {
        core_logger()->warn("call {}: leg B INVITE not sent: {}", c.id, sent.error().message());
        return false;
    }
    c.b_invite = std::move(*sent);
    return true;
}

void core::on_in_dialog(sip::transaction_id txn, sip::message&& req, const sip::flow& f) {
    (void)f;
    call* c = nullptr;
    bool from_b = false;
    if (call* b = find_by_b(req.call_id()); b && req.to().tag == b->b.local_tag) {
        c = b;
        from_b = true;
    } else if (call* a = find_by_a(req.call_id(), req.from().tag); a && req.to().tag == a->a_tag) {
        c = a;
    }
    if (!c) {
        // §12.2.2: a request for a dialog we do not have.
        return respond(txn, req, 481, "Call/Transaction Does Not Exist");
    }
    switch (req.method()) {
        case sip::method::bye:
            return from_b ? on_bye_from_b(*c, txn, req) : on_bye_from_a(*c, txn, req);
        case sip::method::options:
            return respond(txn, req, 200, "OK", {}, {{"Allow", allow_value}, {"Accept", "application/sdp"}});
        case sip::method::invite:
            // Re-INVITEs are not relayed yet. 488 leaves the session as it was (§14.2), so
            // the call survives a refused hold or refresh.
            return respond(txn, req, 488, "Not Acceptable Here", {}, {{"Allow", allow_value}});
        default:
            return respond(txn, req, 501, "Not Implemented", {}, {{"Allow", allow_value}});
    }
}

void core::on_cancel(sip::transaction_id txn, const sip::message& cancel) {
    auto invite_txn = txm_->find_invite_for_cancel(cancel);
    call* c = nullptr;
    if (invite_txn) {
        if (auto it = by_a_invite_.find(*invite_txn); it != by_a_invite_.end()) c = find_call(it->second);
    } else {
        c = find_by_a(cancel.call_id(), cancel.from().tag);
        if (c == nullptr || c->a_invite.cseq().seq != cancel.cseq().seq) {
            // §9.2: no matching transaction.
            return respond(txn, cancel, 481, "Call/Transaction Does Not Exist", random_token(8));
        }
        // The INVITE has its final response already: the CANCEL has no effect, but it did
        // match, so it gets 200 (§9.2), with the To tag of that response.
        return respond(txn, cancel, 200, "OK", c->a_tag);
    }
    // The CANCEL itself is answered at once, with the To tag the INVITE's responses carry
    // (§9.2); the INVITE gets 487.
    const std::string tag = c != nullptr ? c->a_tag : random_token(8);
    respond(txn, cancel, 200, "OK", tag);
    if (!c || c->state != call_state::calling) return;
    core_logger()->info("call {}: cancelled by the PBX", c->id);
    cancel_b(*c, 487, "Request Terminated", call_result::cancelled);
}

void core::on_bye_from_a(call& c, sip::transaction_id txn, const sip::message& bye) {
    respond(txn, bye, 200, "OK");
    core_logger()->debug("call {}: BYE from the PBX in state {}", c.id, to_string(c.state));
    switch (c.state) {
        case call_state::calling:
            // A BYE on an early dialog ends the attempt like a CANCEL (§15).
            cancel_b(c, 487, "Request Terminated", call_result::cancelled);
            return;
        case call_state::answered:
            // The PBX hung up before its ACK reached us: stop resending the 2xx, and
            // confirm leg B before ending it (the trunk needs its ACK).
            txm_->ack_received(c.a_txn);
            send_b_ack(c);
            [[fallthrough]];
        case call_state::confirmed:
            c.end_reason = "BYE from the PBX";
            c.state = call_state::ending;
            send_bye(c, leg::b);
            maybe_end(c);
            return;
        case call_state::cancelling:
        case call_state::ending:
            return;  // already on its way out
    }
}

void core::on_bye_from_b(call& c, sip::transaction_id txn, const sip::message& bye) {
    respond(txn, bye, 200, "OK");
    core_logger()->debug("call {}: BYE from the trunk in state {}", c.id, to_string(c.state));
    switch (c.state) {
        case call_state::answered:
            // The trunk hung up before the PBX's ACK: ACK the trunk's 2xx now, and send our
            // BYE to the PBX once its ACK arrives (§15: not before), or when it never does.
            send_b_ack(c);
            c.bye_a_after_ack = true;
            c.end_reason = "BYE from the trunk";
            return;
        case call_state::confirmed:
            c.end_reason = "BYE from the trunk";
            c.state = call_state::ending;
            send_bye(c, leg::a);
            maybe_end(c);
            return;
        case call_state::calling:
        case call_state::cancelling:
        case call_state::ending:
            return;
    }
}

void core::on_ack(sip::message&& ack, const sip::flow&) {
    call* c = find_by_a(ack.call_id(), ack.from().tag);
    if (!c || ack.to().tag != c->a_tag) {
        core_logger()->debug("stray ACK (call-id {}) ignored", ack.call_id());
        return;
    }
    if (c->state != call_state::answered) return;  // a retransmitted ACK
    txm_->ack_received(c->a_txn);
    // The ACK may carry the SDP answer (delayed offer): it goes on to the trunk.
    send_b_ack(*c, ack.body(), header_value(ack, sip::header_id::content_type));
    if (c->bye_a_after_ack) {
        c->state = call_state::ending;
        send_bye(*c, leg::a);
        maybe_end(*c);
        return;
    }
    c->state = call_state::confirmed;
    start_max_duration(*c);
}

void core::start_max_duration(call& c) {
    // A confirmed call whose BYE never arrives (a PBX rebooted, a BYE lost for good) would
    // hold its place in max_calls for ever: after calls.max_duration it is ended on both legs.
    if (cfg_.calls.max_duration.count() <= 0) return;
    timers_.cancel(c.timer);
    c.timer = timers_.schedule(std::chrono::duration_cast<sip::timer_service::duration>(cfg_.calls.max_duration),
                               [this, id = c.id] {
                                   call* p = find_call(id);
                                   if (p == nullptr) return;
                                   p->timer = 0;
                                   if (p->state != call_state::confirmed) return;
                                   core_logger()->info("call {}: maximum duration of {} s reached", id,
                                                       cfg_.calls.max_duration.count());
                                   p->end_reason = "maximum duration reached";
                                   p->state = call_state::ending;
                                   send_bye(*p, leg::a);
                                   send_bye(*p, leg::b);
                                   maybe_end(*p);
                               });
}

// ----------------------------------------------------------------------------------- responses

void core::on_b_invite_event(call& c, dialog::request_event& ev) {
    if (ev.failure) {
        c.b_invite_done = true;
        core_logger()->info("call {}: trunk {} did not answer the INVITE ({})", c.id, c.trunk->name,
                            sip::to_string(*ev.failure));
        if (c.state == call_state::calling) {
            if (*ev.failure == sip::transaction_failure::timeout) {
                answer_a(c, 408, "Request Timeout", call_result::timeout);
            } else {
                answer_a(c, 503, "Service Unavailable", call_result::error);
            }
            c.end_reason = std::string("trunk ") + std::string(sip::to_string(*ev.failure));
        }
        return maybe_end(c);
    }
    const sip::message& rsp = *ev.response;
    const int status = rsp.status();
    if (status == 100) return;  // hop by hop
    if (status >= 200 && status < 300) return on_b_answer(c, rsp);
    if (status < 200) {
        if (c.state != call_state::calling) return;
        if (!rsp.to().tag.empty()) c.b.remote_tag = std::string(rsp.to().tag);
        relay_to_a(c, rsp);
        return;
    }

    // A final non-2xx: the INVITE client transaction has ACKed it already (§17.1.1.3).
    c.b_invite_done = true;
    if (c.state == call_state::calling) {
        if (ev.auth_failure && *ev.auth_failure != auth::failure::forbidden) {
            // The PBX is told the route is unavailable, not that its own credentials failed:
            // a 503 lets it fail over to another trunk if it has one.
            answer_a(c, 503, "Service Unavailable", call_result::upstream_auth_failed);
            c.end_reason = std::string("trunk authentication failed: ") + std::string(auth::to_string(*ev.auth_failure));
        } else if (status >= 300 && status < 400) {
            // Redirects are not followed yet, and their Contacts are the trunk's topology:
            // the PBX learns only that the callee is not reachable this way.
            answer_a(c, 480, "Temporarily Unavailable", call_result::rejected);
            c.end_reason = "trunk answered " + std::to_string(status);
        } else {
            // A 403 after our credentials is relayed as it is: providers use it for policy
            // (caller ID, destination, balance) as well as for bad credentials.
            answer_a(c, status, rsp.reason(), call_result::rejected, &rsp);
            c.end_reason = "trunk answered " + std::to_string(status);
        }
    }
    maybe_end(c);
}

void core::on_challenged(std::uint32_t peer) { metrics_.auth_challenge_upstream(peer); }

void core::on_auth_failure(std::uint32_t peer, auth::failure reason, std::string_view detail,
                           const sip::message& response) {
    metrics_.auth_failure_upstream(reason, peer);
    const auto& trunk = *trunks_.at(peer);
    const auto* warning = response.find(sip::header_id::warning);
    core_logger()->info("auth failure upstream: reason={} trunk={} user={:?} response={} {:?} warning={:?}: {}",
                        auth::to_string(reason), trunk.name, trunk.username, response.status(), response.reason(),
                        warning ? warning->value : std::string_view{}, detail);
}

void core::on_b_answer(call& c, const sip::message& rsp) {
    if (c.b_answered) {
        // A retransmitted 2xx: our ACK was lost (§13.2.2.4). A 2xx from another fork would
        // carry another tag; it gets an ACK and a BYE of its own — not supported yet, so
        // it is only logged.
        if (rsp.to().tag != c.b.remote_tag) {
            core_logger()->warn("call {}: 2xx from a second fork (tag {}) ignored", c.id, rsp.to().tag);
            return;
        }
        if (!c.b_ack.empty()) txm_->send_stateless(c.b.flow, c.b_ack);
        return;
    }
    c.b_answered = true;
    c.b_invite_done = true;
    c.b_invite_cseq = rsp.cseq().seq;
    // Requests we send later in this dialog take CSeq numbers above the INVITE's.
    c.b.local_cseq = std::max(c.b.local_cseq, c.b_invite_cseq);
    dialog::update_uac_dialog(c.b, rsp);
    // In-dialog requests go to the first Route or the trunk's Contact (§12.2.1.1), when
    // that is an address; over TCP they stay on the connection.
    if (c.b.flow.transport == sip::transport_kind::udp) {
        const std::string& target = c.b.route_set.empty() ? c.b.remote_target : c.b.route_set.front();
        c.b.flow.remote = dialog::next_hop(target, c.trunk->address);
    }

    if (c.state != call_state::calling) {
        // The PBX cancelled (or we gave up ringing) while the trunk answered: the CANCEL lost
        // the race (§9.1), so the answered leg is confirmed and hung up.
        send_b_ack(c);
        c.state = call_state::ending;
        send_bye(c, leg::b);
        return maybe_end(c);
    }

    sip::message_writer w = sip::response_writer(c.a_invite, rsp.status(), rsp.reason(), c.a_tag);
    c.a_dialog = dialog::uas_dialog(c.a_invite, c.a_tag, c.a_flow, make_identity(c.a_flow, cfg_.sip.advertised_host));
    copy_record_route(w, c.a_invite);
    w.header(sip::header_id::contact, c.a_dialog.self.contact);
    w.header("Allow", allow_value);
    auto bytes = std::move(w).finish(rsp.body(), header_value(rsp, sip::header_id::content_type));
    timers_.cancel(c.timer);
    c.timer = 0;
    c.state = call_state::answered;
    c.answered = timers_.now();
    metrics_.call_setup(c.trunk_index, call_result::answered);
    if (auto ec = txm_->respond(c.a_txn, rsp.status(), std::move(bytes))) {
        core_logger()->warn("call {}: 2xx to the PBX not sent: {}", c.id, ec.message());
    }
    core_logger()->info("call {} answered after {} ms", c.id,
                        std::chrono::duration_cast<std::chrono::milliseconds>(c.answered - c.started).count());
}

void core::on_bye_done(call& c) {
    c.pending_byes--;
    maybe_end(c);
}

void core::on_server_failure(sip::transaction_id txn, sip::transaction_failure why) {
    auto it = by_a_invite_.find(txn);
    if (it == by_a_invite_.end()) return;
    call* c = find_call(it->second);
    if (!c) return;
    core_logger()->info("call {}: PBX side failed ({})", c->id, sip::to_string(why));
    if (c->state == call_state::answered) {
        // §13.3.1.4: no ACK for 64*T1 — the dialog is confirmed but the session ends, with a
        // BYE on both legs (leg B first gets the ACK it is owed).
        send_b_ack(*c);
        c->state = call_state::ending;
        c->end_reason = "no ACK from the PBX";
        send_bye(*c, leg::b);
        if (why == sip::transaction_failure::no_ack) send_bye(*c, leg::a);
        return maybe_end(*c);
    }
    if (c->state == call_state::calling) {
        c->a_final_sent = true;  // the PBX cannot be reached: nothing more to tell it
        cancel_b(*c, 0, {}, call_result::error);
    }
}

// ------------------------------------------------------------------------------------- actions

void core::send_b_ack(call& c, std::string_view body, std::string_view content_type) {
    if (!c.b_ack.empty()) return;
    const std::string branch = txm_->make_branch();
    // The ACK for a 2xx is its own transaction-less request with the INVITE's CSeq number and
    // the INVITE's credentials (§13.2.2.4, §22.2); it is kept to answer 2xx retransmissions.
    std::vector<std::pair<std::string_view, std::string_view>> extra;
    if (auto [name, value] = dialog::request_sender::credentials_sent(c.b_invite); !name.empty()) {
        extra.emplace_back(name, value);
    }
    c.b_ack = std::string(
        dialog::make_in_dialog(c.b, "ACK", branch, c.b_invite_cseq, body, content_type, std::move(extra)).wire());
    if (auto ec = txm_->send_stateless(c.b.flow, c.b_ack)) {
        core_logger()->warn("call {}: ACK to the trunk not sent: {}", c.id, ec.message());
    }
}

void core::send_bye(call& c, leg which) {
    // The builder owns a copy of the dialog: a re-send with credentials takes the next CSeq.
    auto d = std::make_shared<dialog::dialog_state>(which == leg::b ? c.b : c.a_dialog);
    dialog::request_plan plan;
    plan.build = [d](std::string_view branch, std::string_view auth_name, std::string_view auth_value) {
        std::vector<std::pair<std::string_view, std::string_view>> extra;
        if (!auth_name.empty()) extra.emplace_back(auth_name, auth_value);
        return dialog::make_in_dialog(*d, "BYE", branch, 0, {}, {}, std::move(extra));
    };
    plan.flow = d->flow;
    plan.method = "BYE";
    plan.request_uri = d->remote_target;
    if (which == leg::b) {
        // Some providers challenge the BYE too: the trunk's credentials answer it.
        plan.credentials = {c.trunk->username, c.trunk->password};
        plan.peer = static_cast<std::uint32_t>(c.trunk_index);
    }
    auto sent = sender_->send(std::move(plan), [this, id = c.id](dialog::request_event& ev) {
        if (ev.response && ev.response->status() < 200) return;
        if (call* p = find_call(id)) on_bye_done(*p);
    });
    if (!sent) {
        core_logger()->warn("call {}: BYE not sent: {}", c.id, sent.error().message());
        return;
    }
    (which == leg::b ? c.b : c.a_dialog).local_cseq = d->local_cseq;
    c.requests.push_back(std::move(*sent));
    c.pending_byes++;
}

void core::relay_to_a(call& c, const sip::message& rsp) {
    // A provisional with a body (183 with early media SDP) relays the body; its Contact is
    // ours, and a To tag makes the early dialog on leg A (§13.3.1.1).
    sip::message_writer w = sip::response_writer(c.a_invite, rsp.status(), rsp.reason(), c.a_tag);
    copy_record_route(w, c.a_invite);
    w.header(sip::header_id::contact, make_identity(c.a_flow, cfg_.sip.advertised_host).contact);
    auto bytes = std::move(w).finish(rsp.body(), header_value(rsp, sip::header_id::content_type));
    if (auto ec = txm_->respond(c.a_txn, rsp.status(), std::move(bytes))) {
        core_logger()->debug("call {}: provisional to the PBX not sent: {}", c.id, ec.message());
    }
}

void core::answer_a(call& c, int status, std::string_view reason, call_result result, const sip::message* relayed) {
    if (c.a_final_sent) return;
    c.a_final_sent = true;
    metrics_.call_setup(c.trunk_index, result);
    c.result = result;
    sip::message_writer w = sip::response_writer(c.a_invite, status, reason, c.a_tag);
    if (relayed != nullptr) {
        // What lets the PBX recover from the trunk's refusal crosses over; nothing that
        // names the trunk's topology does (Contact, Via, Record-Route stay on leg B).
        for (const auto& h : relayed->headers()) {
            switch (h.id) {
                case sip::header_id::retry_after:
                case sip::header_id::warning:
                case sip::header_id::unsupported:  // 420
                case sip::header_id::reason:       // RFC 3326, the Q.850 cause
                    w.raw_line(h.raw);
                    break;
                default:
                    if (sip::iequals(h.name, "Min-SE")) w.raw_line(h.raw);  // RFC 4028, for 422
                    break;
            }
        }
    }
    auto bytes = std::move(w).finish();
    if (auto ec = txm_->respond(c.a_txn, status, std::move(bytes))) {
        core_logger()->debug("call {}: final response to the PBX not sent: {}", c.id, ec.message());
    }
}

void core::cancel_b(call& c, int a_status, std::string_view a_reason, call_result result) {
    if (a_status != 0) {
        answer_a(c, a_status, a_reason, result);
    } else if (!c.result) {
        metrics_.call_setup(c.trunk_index, result);
        c.result = result;
    }
    c.state = call_state::cancelling;
    c.end_reason = a_status == 487 ? "cancelled" : a_status == 408 ? "not answered in time" : "PBX unreachable";
    timers_.cancel(c.timer);
    c.timer = 0;
    if (c.b_invite_done) return maybe_end(c);
    // §9.1: the CANCEL goes out once a provisional has arrived (the manager waits for one).
    if (const auto txn = dialog::request_sender::current_transaction(c.b_invite); txn != 0) txm_->cancel(txn);
    // §9.1: with no final response 64*T1 after the CANCEL, the INVITE is given up.
    c.timer = timers_.schedule(64 * cfg_.sip.t1, [this, id = c.id] {
        if (call* p = find_call(id)) {
            p->timer = 0;
            p->b_invite_done = true;
            maybe_end(*p);
        }
    });
}

void core::respond(sip::transaction_id txn, const sip::message& req, int status, std::string_view reason,
                   std::string_view to_tag, std::vector<std::pair<std::string_view, std::string_view>> extra) {
    sip::message_writer w = sip::response_writer(req, status, reason, to_tag);
    for (const auto& [name, value] : extra) w.header(name, value);
    if (auto ec = txm_->respond(txn, status, std::move(w).finish())) {
        core_logger()->debug("response {} not sent: {}", status, ec.message());
    }
}

void core::maybe_end(call& c) {
    switch (c.state) {
        case call_state::calling:
            // Only a final answer to the PBX ends a call that is still being set up.
            if (c.a_final_sent && c.b_invite_done) end(c, c.end_reason);
            return;
        case call_state::cancelling:
            if (c.b_invite_done) end(c, c.end_reason);
            return;
        case call_state::ending:
            if (c.pending_byes <= 0) end(c, c.end_reason);
            return;
        case call_state::answered:
        case call_state::confirmed:
            return;
    }
}

void core::end(call& c, std::string_view why) {
    const auto now = timers_.now();
    const auto total = std::chrono::duration_cast<std::chrono::milliseconds>(now - c.started).count();
    const long long talk =
        c.b_answered ? std::chrono::duration_cast<std::chrono::milliseconds>(now - c.answered).count() : 0;
    core_logger()->info("call {} end: {} ({}), {} ms in all, {} ms answered", c.id,
                        c.result ? to_string(*c.result) : "ended", why.empty() ? "done" : why, total, talk);
    timers_.cancel(c.timer);
    dialog::request_sender::abandon(c.b_invite);
    for (const auto& r : c.requests) dialog::request_sender::abandon(r);
    by_a_invite_.erase(c.a_txn);
    by_a_.erase(a_key(c.a_invite.call_id(), c.a_invite.from().tag));
    by_b_.erase(c.b.call_id);
    calls_.erase(c.id);  // destroys c
    metrics_.set_active_calls(calls_.size());
}

// ------------------------------------------------------------------------------------- lookups

call* core::find_call(std::uint64_t id) {
    auto it = calls_.find(id);
    return it == calls_.end() ? nullptr : it->second.get();
}

call* core::find_by_a(std::string_view call_id, std::string_view from_tag) {
    auto it = by_a_.find(a_key(call_id, from_tag));
    return it == by_a_.end() ? nullptr : find_call(it->second);
}

call* core::find_by_b(std::string_view call_id) {
    auto it = by_b_.find(std::string(call_id));
    return it == by_b_.end() ? nullptr : find_call(it->second);
}

}  // namespace b2b::b2bua
