// Every request we originate goes through here: the 401/407 retry exists once (RFC 3261 §22.2).
#pragma once

#include "auth/client.hpp"
#include "auth/failure.hpp"
#include "dialog/dialog.hpp"
#include "sip/message/message.hpp"
#include "sip/message/outbound_request.hpp"
#include "sip/message/random.hpp"
#include "sip/transaction/transaction_manager.hpp"
#include "sip/transport/flow.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace b2b::dialog {

/// Where the sender reports what operators count: challenges received and classified
/// authentication failures. `peer` is the label the request was sent with (a trunk index).
class auth_observer {
public:
    virtual ~auth_observer() = default;
    virtual void on_challenged(std::uint32_t peer) = 0;
    /// Credentials we sent (after a challenge, or a reused nonce) got past the peer's check:
    /// a final response that is not 401/407 and not a refusal of them.
    virtual void on_authenticated(std::uint32_t peer) = 0;
    /// `response` is the final response that ended the attempt.
    virtual void on_auth_failure(std::uint32_t peer, auth::failure reason, std::string_view detail,
                                 const sip::message& response) = 0;
};

/// How to make one request we originate, and again with credentials.
struct request_plan {
    /// Builds the request for one send, with a fresh `branch`; when `auth_name` is not empty,
    /// with the header `auth_name: auth_value` (Authorization or Proxy-Authorization). Each
    /// call is a new transaction: for a request in a dialog it takes the next CSeq (§22.2).
    std::function<sip::outbound_request(std::string_view branch, std::string_view auth_name,
                                        std::string_view auth_value)>
        build;
    sip::flow flow;
    /// Over a stream, where a new connection goes when `flow`'s is gone (the dialog's
    /// `reconnect`; see `transaction_manager::send_request`). Empty: none may be opened.
    std::optional<sip::endpoint> reconnect;
    std::string method;       ///< as in the request line (the digest's HA2)
    std::string request_uri;  ///< as in the request line (the digest's uri)
    auth::client_credentials credentials;
    std::uint32_t peer = 0;   ///< label for the observer, and the key of the remembered nonce
    /// Send credentials at once, with the last nonce a challenge of this peer gave us and the
    /// next nc (RFC 7616 §3.4), when there is one. A challenge to such a request is answered
    /// like a first challenge (it is not a failure), and the remembered nonce is dropped.
    bool reuse_nonce = false;
    /// Asked about a final non-2xx response that is not a challenge: may change what `build`
    /// makes next (state the builder captured) and return true to have the request sent again,
    /// in a new transaction with the next CSeq and fresh credentials when the last send had
    /// some; the requester never sees that response. The use: RFC 4028 §7.4, a 422 answered
    /// by asking again for the peer's Min-SE. Empty: every such response goes to the requester.
    std::function<bool(const sip::message& response)> retry;
    /// Told when the sender has sent the request again on its own, in a new transaction (a
    /// challenge answered, a `retry`): the peer did answer, and the new send starts afresh
    /// (e.g. a timer waiting for the first provisional starts again).
    std::function<void()> on_resent;
};

/// What the requester hears about its request.
struct request_event {
    /// The transaction of the send this event belongs to.
    sip::transaction_id txn = 0;
    /// A provisional, a final response (for INVITE, 2xx retransmissions too), or null when
    /// `failure` is set. The handler may move from it.
    sip::message* response = nullptr;
    std::optional<sip::transaction_failure> failure;
    /// Set with a final response when the sender gave up on authentication: `rejected` (the
    /// provider challenged our credentials again), `forbidden` (403 after our credentials:
    /// credentials or policy), `no_credentials`, `challenge_loop`, `unsupported_algorithm`.
    std::optional<auth::failure> auth_failure;
    std::string auth_detail;
};

using request_handler = std::function<void(request_event&)>;

/// One request on its way: from the first send, through any re-sends with credentials, to
/// its final response. Shared between the requester (who may ask for the current
/// transaction, to CANCEL it, or abandon it) and the transactions carrying it, so it lives
/// as long as either needs it.
class outgoing_request_state;
using request_handle = std::shared_ptr<outgoing_request_state>;

/// Sends requests and answers the peer's 401/407 with the plan's credentials (RFC 3261 §22.2,
/// RFC 7616): once per challenge, a stale=true challenge at most twice more, never in a loop.
/// The requester's handler sees every provisional and the final outcome, never the
/// challenges that were answered. libre's `sip_request`/`sip_drequestf` is the model.
///
/// @par Thread safety
/// None: the event loop that owns the transaction manager.
class request_sender {
public:
    explicit request_sender(sip::transaction_manager& transactions, auth_observer* observer = nullptr);

    /// Several senders (one per worker, sip.workers) may hold the same nonce of one peer: a
    /// provider may give one nonce to every challenge within a second. Each then takes its own
    /// lane of nc values for the nonces it reuses, `lane` of `lanes`, so no two send one nonce
    /// with one nc (which the provider would take for a replay).
    void set_nc_lane(std::uint32_t lane, std::uint32_t lanes) noexcept {
        lanes_ = lanes == 0 ? 1 : lanes;
        lane_ = lane % lanes_;
    }

    /// Sends the first attempt now. Errors when the request cannot be sent at all (the
    /// transaction layer refused it); otherwise the handler hears the outcome later, never
    /// from inside this call.
    boost::system::result<request_handle> send(request_plan plan, request_handler handler);

    /// The transaction carrying the request now (it changes when it is re-sent with
    /// credentials), or 0 once the request has its final outcome.
    static sip::transaction_id current_transaction(const request_handle& h) noexcept;

    /// The handler is never called again, and no challenge is answered any more; the
    /// transactions run their course.
    static void abandon(const request_handle& h) noexcept;

    /// ACKs the 2xx that confirmed dialog `d` for INVITE `h` (§13.2.2.4): a request of its own,
    /// sent without a transaction, with the INVITE's CSeq number `cseq` and the credentials of
    /// its latest send (§22.2), carrying the SDP answer when the offer was in the 2xx. It is
    /// re-sent on every retransmission of that 2xx (To tag `d.remote_tag()`), on `d.flow` (or a
    /// new connection to `d.reconnect` once that one is gone), without troubling the
    /// requester, and also after the requester abandoned the request: the INVITE's transaction
    /// keeps it (`transaction_manager::send_ack_for_2xx`) as long as a 2xx may come. A send
    /// error is returned, and the next retransmission retries.
    boost::system::error_code acknowledge(const request_handle& h, dialog_state& d, std::uint32_t cseq,
                                          std::string_view body = {}, std::string_view content_type = {});

    /// The credentials header (name, value) of the latest send, empty when it had none: the
    /// ACK for a 2xx carries the INVITE's credentials (RFC 3261 §13.2.2.4, §22.2).
    static std::pair<std::string_view, std::string_view> credentials_sent(const request_handle& h) noexcept;

private:
    // The nonce a peer's last challenge gave us, and how often we used it (nc).
    struct peer_nonce {
        auth::chosen_challenge chosen;
        bool proxy = false;
        std::uint32_t nc = 1;
    };

    void on_event(const request_handle& h, sip::client_event& ev);
    void learn_nonce(const request_handle& h);
    void on_accepted(const request_handle& h);
    /// Sends `h` again after `plan.retry` asked for it, with credentials when the last send had
    /// some (the same nonce, the next nc: RFC 7616 §3.4). False when it could not be sent.
    bool resend(const request_handle& h);
    boost::system::result<sip::transaction_id> transmit(const request_handle& h, std::string_view auth_name,
                                                        std::string_view auth_value);

    sip::transaction_manager& transactions_;
    auth_observer* observer_;
    std::unordered_map<std::uint32_t, peer_nonce> nonces_;
    sip::token_source tokens_;  // cnonces
    std::uint32_t lane_ = 0;
    std::uint32_t lanes_ = 1;
    /// The next nc of a reused nonce after `nc`, in this sender's lane.
    std::uint32_t next_nc(std::uint32_t nc) const noexcept;
};

}  // namespace b2b::dialog
