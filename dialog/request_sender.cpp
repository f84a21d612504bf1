// The request sender: first send, credentials on 401/407, a classified outcome.
#include "dialog/request_sender.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace b2b::dialog {

class outgoing_request_state {
public:
    outgoing_request_state(request_plan p, request_handler h)
        : live_(std::make_unique<live_part>(std::move(p), std::move(h))) {}

    // What only a request that may still be sent again needs: how to build it, and the
    // authenticator answering its challenges (with their copies of the credentials, the
    // method and the Request-URI, and the last challenge). It goes at the first 2xx
    // (`shed_sending`): nothing is built or answered after that, and an INVITE's ACKs are made
    // from the dialog. Until then, some 800 bytes and a dozen strings.
    struct sending_part {
        sending_part(request_plan p)
            : plan(std::move(p)), authenticator(plan.credentials, plan.method, plan.request_uri) {}

        request_plan plan;
        auth::request_authenticator authenticator;
    };

    // What only a request that may still get responses needs. An INVITE's state lives as long
    // as its call (hours, through its handle): once the outcome is known and no transaction of
    // it is left, no response can come for it any more, and this part goes (`release_spent`).
    // Between a 2xx and then (64*T1, Timer M) it is the handler (the ACKs that 2xx
    // retransmissions get again are kept by the INVITE's transaction). What stays is a few
    // words and the credentials header, which an ACK for a late 2xx repeats.
    struct live_part {
        live_part(request_plan p, request_handler h)
            : handler(std::move(h)), sending(std::make_unique<sending_part>(std::move(p))) {}

        request_handler handler;
        std::unique_ptr<sending_part> sending;
    };

    // Valid until `shed_sending` (plan, authenticator) or `release_spent` (all): only the
    // request's transactions call these, and only while the request may be sent again.
    request_plan& plan() noexcept { return live_->sending->plan; }
    auth::request_authenticator& authenticator() noexcept { return live_->sending->authenticator; }
    request_handler& handler() noexcept { return live_->handler; }
    /// Whether the request may still be built and sent again: no 2xx yet.
    bool sending() const noexcept { return live_ != nullptr && live_->sending != nullptr; }
    void shed_sending() noexcept { live_->sending.reset(); }
    void release_spent() noexcept { live_.reset(); }

    sip::transaction_id txn = 0;  // the send under way; 0 once the outcome is known
    sip::transaction_id accepted = 0;  // the send a 2xx answered: its ACKs are kept there
    bool abandoned = false;
    bool reused_nonce = false;  // the latest send carried a remembered nonce, unasked
    std::string auth_name;   // the credentials header of the latest send, if any
    std::string auth_value;
    std::uint32_t resent_nc = 0;  // sends since the last challenge, beyond its answer (retries)
    unsigned transactions = 0;    // of its sends, those whose transaction is still there

private:
    std::unique_ptr<live_part> live_;
};

namespace {

// The challenge values of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate).
auto challenges_of(const sip::message& rsp) {
    return rsp.values(rsp.status() == 401 ? sip::header_id::www_authenticate : sip::header_id::proxy_authenticate);
}

}  // namespace

request_sender::request_sender(sip::transaction_manager& transactions, auth_observer* observer)
    : transactions_(transactions), observer_(observer) {}

std::uint32_t request_sender::next_nc(std::uint32_t nc) const noexcept {
    // nc 1 answered the challenge; lane w of N then uses the values w + 2 modulo N.
    std::uint32_t next = nc + 1;
    while (next % lanes_ != (lane_ + 2) % lanes_) ++next;
    return next;
}

boost::system::result<request_handle> request_sender::send(request_plan plan, request_handler handler) {
    auto h = std::make_shared<outgoing_request_state>(std::move(plan), std::move(handler));
    const auto& p = h->plan();
    if (p.reuse_nonce && !p.credentials.empty()) {
        if (auto it = nonces_.find(p.peer); it != nonces_.end()) {
            // RFC 7616 §3.4: the same nonce with the next nc, before any challenge.
            peer_nonce& n = it->second;
            n.nc = next_nc(n.nc);
            const std::string value = auth::make_authorization(n.chosen, p.credentials, p.method, p.request_uri,
                                                               n.nc, tokens_.hex(8));
            h->reused_nonce = true;
            auto txn = transmit(h, n.proxy ? "Proxy-Authorization" : "Authorization", value);
            if (!txn) return txn.error();
            return h;
        }
    }
    auto txn = transmit(h, {}, {});
    if (!txn) return txn.error();
    return h;
}

sip::transaction_id request_sender::current_transaction(const request_handle& h) noexcept {
    return h ? h->txn : 0;
}

void request_sender::abandon(const request_handle& h) noexcept {
    if (h) h->abandoned = true;
}

boost::system::error_code request_sender::acknowledge(const request_handle& h, dialog_state& d, std::uint32_t cseq,
                                                      std::string_view body, std::string_view content_type) {
    if (!h) return {};
    std::vector<std::pair<std::string_view, std::string_view>> extra;
    if (!h->auth_name.empty()) extra.emplace_back(h->auth_name, h->auth_value);
    auto ack = make_in_dialog(d, "ACK", transactions_.make_branch(), cseq, body, content_type, std::move(extra));
    // The INVITE's transaction keeps it for the retransmissions of this 2xx (once that
    // transaction is gone, no 2xx can come again, and it is only sent).
    return transactions_.send_ack_for_2xx(h->accepted, d.remote_tag(), ack.wire(), d.flow, d.reconnect);
}

std::pair<std::string_view, std::string_view> request_sender::credentials_sent(const request_handle& h) noexcept {
    if (!h) return {};
    return {h->auth_name, h->auth_value};
}

boost::system::result<sip::transaction_id> request_sender::transmit(const request_handle& h,
                                                                    std::string_view auth_name,
                                                                    std::string_view auth_value) {
    sip::outbound_request request = h->plan().build(transactions_.make_branch(), auth_name, auth_value);
    h->auth_name = std::string(auth_name);
    h->auth_value = std::string(auth_value);
    // The transaction holds the state through its handler: a request nobody waits for any
    // more still gets its 2xx retransmissions ACKed by whoever abandoned it, or nothing.
    // Counts the transactions alive for this request: the last one to go, once the outcome is
    // known, lets the state release what only responses could have needed.
    ++h->transactions;
    std::shared_ptr<void> alive(nullptr, [h](void*) {
        if (--h->transactions == 0 && h->txn == 0) h->release_spent();
    });
    auto txn = transactions_.send_request(
        std::move(request), h->plan().flow,
        [this, h, alive = std::move(alive)](sip::client_event& ev) { on_event(h, ev); }, h->plan().reconnect);
    if (txn) h->txn = *txn;
    return txn;
}

void request_sender::on_accepted(const request_handle& h) {
    const bool credentials = h->reused_nonce || h->authenticator().current_state() ==
                                                    auth::request_authenticator::state::credentials_sent;
    if (!credentials) return;
    if (observer_ != nullptr) observer_->on_authenticated(h->plan().peer);
    learn_nonce(h);
}

bool request_sender::resend(const request_handle& h) {
    if (h->auth_name.empty()) return transmit(h, {}, {}).has_value();
    // The credentials of the last send, with the next nc and a new cnonce: a peer checking nc
    // would take the same Authorization again for a replay.
    const bool proxy = h->auth_name == "Proxy-Authorization";
    std::string value;
    if (h->reused_nonce) {
        auto it = nonces_.find(h->plan().peer);
        if (it == nonces_.end()) return transmit(h, {}, {}).has_value();
        it->second.nc = next_nc(it->second.nc);
        value = auth::make_authorization(it->second.chosen, h->plan().credentials, h->plan().method, h->plan().request_uri,
                                         it->second.nc, tokens_.hex(8));
    } else if (const auto& answer = h->authenticator().last_answer()) {
        value = auth::make_authorization(answer->chosen, h->plan().credentials, h->plan().method, h->plan().request_uri,
                                         answer->nc + ++h->resent_nc, tokens_.hex(8));
    } else {
        return transmit(h, {}, {}).has_value();
    }
    return transmit(h, proxy ? "Proxy-Authorization" : "Authorization", value).has_value();
}

void request_sender::learn_nonce(const request_handle& h) {
    // A peer that accepted our answer to its challenge may accept that nonce again with the
    // next nc (RFC 7616 §3.4).
    const auto& answer = h->authenticator().last_answer();
    if (!h->plan().reuse_nonce || !answer ||
        h->authenticator().current_state() != auth::request_authenticator::state::credentials_sent) {
        return;
    }
    nonces_[h->plan().peer] = peer_nonce{answer->chosen, answer->proxy, answer->nc};
}

void request_sender::on_event(const request_handle& h, sip::client_event& ev) {
    request_event out;
    out.txn = ev.txn;
    out.failure = ev.failure;
    out.response = ev.response;
    const auto deliver = [&] {
        if (!h->abandoned && h->handler()) h->handler()(out);
    };

    if (ev.failure) {
        if (ev.txn != h->txn) return;  // an attempt that was already answered
        h->txn = 0;
        return deliver();
    }
    sip::message& rsp = *ev.response;
    const int status = rsp.status();
    if (status >= 200 && status < 300) {
        // §13.2.2.4: every retransmission of a 2xx we ACKed gets the same ACK again, for as
        // long as the INVITE transaction lasts (RFC 6026 §7.2), even when the requester is
        // gone (the call ended meanwhile): the far end would otherwise resend it for 32 s and
        // then tear down a dialog it believes was never confirmed. The transaction does that
        // with the ACK `acknowledge` handed it; a 2xx that comes here is not ACKed yet.
        h->accepted = ev.txn;
        h->txn = 0;
        if (h->sending()) {
            // The first 2xx (another fork's comes here too, and counts no second success).
            on_accepted(h);
            // A 2xx is final: the request is never built or sent again (an INVITE's ACKs are
            // made from the dialog), so its plan (an INVITE's template: a dialog state, the
            // SDP, the caller's identity) and its authenticator go now; the handler and the
            // ACKs with the last transaction.
            h->shed_sending();
        }
        return deliver();
    }
    if (ev.txn != h->txn) return;  // a late answer to a send we already re-sent
    if (status < 200) return deliver();
    if (h->abandoned) {
        h->txn = 0;  // nobody waits: no credentials are sent for it either
        return;
    }

    if (status != 401 && status != 407 && h->plan().retry && h->plan().retry(rsp)) {
        if (resend(h)) {
            if (h->plan().on_resent) h->plan().on_resent();
            return;
        }
        h->txn = 0;
        out.response = nullptr;
        out.failure = sip::transaction_failure::transport_error;
        return deliver();
    }

    // A final non-2xx: the authenticator decides whether it is ours to answer. A challenge
    // to credentials we sent unasked with a remembered nonce is a first challenge: the
    // authenticator never saw those credentials, and the nonce is forgotten.
    const bool credentials_sent = h->authenticator().current_state() == auth::request_authenticator::state::credentials_sent;
    if (status == 401 || status == 407) {
        if (observer_ != nullptr) observer_->on_challenged(h->plan().peer);
        if (h->reused_nonce) nonces_.erase(h->plan().peer);
        h->reused_nonce = false;
    }
    auto action = h->authenticator().on_response(static_cast<unsigned>(status), challenges_of(rsp));
    switch (action.what) {
        case auth::client_action::kind::deliver:
            if (status != 401 && status != 407) on_accepted(h);  // our credentials got past the check
            break;
        case auth::client_action::kind::resend: {
            // §22.2: the same request in a new transaction, CSeq + 1, with our answer.
            const std::string_view name = action.proxy ? "Proxy-Authorization" : "Authorization";
            if (auto txn = transmit(h, name, action.header_value); !txn) {
                h->txn = 0;
                out.response = nullptr;
                out.failure = sip::transaction_failure::transport_error;
                return deliver();
            }
            if (h->plan().on_resent) h->plan().on_resent();
            return;
        }
        case auth::client_action::kind::fail: {
            auth::failure reason = action.reason.value_or(auth::failure::rejected);
            // Providers answer 403 to wrong credentials but also for policy (caller ID,
            // destination, balance): it is its own reason, and the response goes up as it is.
            if (status == 403 && credentials_sent) reason = auth::failure::forbidden;
            out.auth_failure = reason;
            out.auth_detail = std::move(action.detail);
            if (observer_ != nullptr) observer_->on_auth_failure(h->plan().peer, reason, out.auth_detail, rsp);
            break;
        }
    }
    h->txn = 0;
    deliver();
}

}  // namespace b2b::dialog
