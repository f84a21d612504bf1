// The RFC 3261 §17 transaction layer: matches messages to transactions and drives their timers.
#pragma once

#include "sip/message/message.hpp"
#include "sip/message/outbound_request.hpp"
#include "sip/transaction/error.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transport/flow.hpp"
#include "sip/transport/transport.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace b2b::sip {

/// Timer base values (RFC 3261 §17.1.1.1, Table 4). Every other timer derives from them.
struct transaction_config {
    std::chrono::milliseconds t1{500};   ///< RTT estimate
    std::chrono::milliseconds t2{4000};  ///< maximum retransmit interval for non-INVITE/2xx
    std::chrono::milliseconds t4{5000};  ///< maximum time a message stays in the network
    std::size_t max_message_size = 65535;
    /// Transactions held at once (0 = no bound). Beyond it a new out-of-dialog request gets no
    /// transaction: an INVITE is answered 503 statelessly (with Retry-After), anything else is
    /// dropped (its sender retransmits). In-dialog requests and CANCEL are never refused (they
    /// end what is held), nor a request `always_admit` accepts (emergency calls).
    std::size_t max_transactions = 0;
    std::chrono::seconds retry_after{5};  ///< of that 503
    std::function<bool(const message&)> always_admit;
    /// The product named in every message sent: a Server header in responses, User-Agent in
    /// requests (RFC 3261 §20.35, §20.41: both optional). Empty, none: a scanner learns neither
    /// product nor version from us (security.server_header). Not added where the message has one.
    std::string server_header;
    /// The worker (event loop) this manager serves: every branch it makes names it
    /// (sip::token_worker), so the responses come back to it.
    std::uint8_t worker = 0;
};

/// Identifies a transaction to the transaction user. Ids are never reused; an id whose
/// transaction has ended is simply unknown, and operations on it return an error or do nothing.
using transaction_id = std::uint64_t;

enum class transaction_failure : std::uint8_t {
    timeout,          ///< client: Timer B or F fired without a final response (the TU sends 408)
    transport_error,  ///< the message could not be sent, or its connection closed
    no_ack,           ///< server INVITE: the 2xx was never ACKed (Timer L, RFC 6026 §8.7),
                      ///< or the non-2xx final response was never ACKed (Timer H, §17.2.1)
};

std::string_view to_string(transaction_failure f) noexcept;

/// What a client transaction reports to whoever started it: a response, or the one failure
/// that means no final response will come.
struct client_event {
    transaction_id txn = 0;
    /// Every provisional, the final response once, and for INVITE every retransmission of a
    /// 2xx (the sender re-sends its ACK, RFC 6026 §7.2); a 100 to an INVITE too. Null when
    /// `failure` is set. The handler may move from it.
    message* response = nullptr;
    /// The transaction ended without a final response (Timer B/F, transport error).
    std::optional<transaction_failure> failure;
};

/// Each client transaction has its own handler (libre `sip_resp_h`): the sender learns the
/// outcome of its own request and no table of "which request was this" exists above the
/// transaction layer. A handler that outlives what it served must find that out itself (it
/// holds an id or handle, never a raw pointer to something that may end first).
using response_handler = std::function<void(client_event&)>;

/// What the transaction layer hands up for requests it receives (RFC 3261 §17: the "TU").
/// Implemented by the dialog layer. Every call happens on the event-loop thread, inside
/// `transport_user::on_bytes` or a timer callback. The TU may call back into the manager from
/// inside these callbacks.
class transaction_user {
public:
    virtual ~transaction_user() = default;

    /// A request that created a new server transaction: not a retransmission, not an ACK.
    /// CANCEL arrives here too, in a non-INVITE server transaction of its own (§9.2).
    /// Every request must be answered through `transaction_manager::respond`. If an INVITE is
    /// not answered before this returns, the manager sends 100 Trying (§17.2.1).
    virtual void on_request(transaction_id txn, message&& request, const flow& f) = 0;

    /// An ACK that matched no INVITE server transaction: the ACK for a 2xx, which belongs to
    /// the dialog (§17.1.1.3, §13.3.1.4), or a stray one.
    virtual void on_ack(message&& ack, const flow& f) = 0;

    /// A server transaction could not deliver its final response, or (INVITE) the 2xx was
    /// never acknowledged.
    virtual void on_server_failure(transaction_id txn, transaction_failure why) = 0;
};

/// What `transaction_manager::match_cancel` found.
struct cancel_match {
    transaction_id txn = 0;
    bool answered = false;  ///< the INVITE's final response was already sent
};

/// Counters the transaction layer reports; the B2BUA wires them to Prometheus. All optional.
class transaction_observer {
public:
    virtual ~transaction_observer() = default;
    virtual void on_received(const message&) {}
    virtual void on_sent_request(method, std::string_view /*method_text*/) {}
    virtual void on_sent_response(int /*status*/) {}
    /// A message that failed to parse or validate; `answered` when a 4xx/5xx went back.
    virtual void on_parse_error(const parse_error&, const flow&, bool /*answered*/) {}
    /// A retransmission we sent (Timers A, E, G, 2xx) or absorbed from the peer.
    virtual void on_retransmission(bool /*sent_by_us*/) {}
    /// A valid response that matched no client transaction (§17.1.3): dropped.
    virtual void on_unmatched_response(const message&) {}
    /// The live transactions changed: `clients` we started, `servers` the peers' requests
    /// made. Called after each one is created or ends, on the manager's thread.
    /// A transaction began (+1) or ended (-1): what the manager holds changes by `delta`.
    /// Deltas, not totals, so one observer can sum the managers of several workers.
    virtual void on_transaction_count(bool /*client*/, int /*delta*/) {}
    /// A new request was refused (503) or dropped: transaction_config::max_transactions held.
    virtual void on_transaction_limit() {}
};

/// Owns every client and server transaction (RFC 3261 §17.1, §17.2, with RFC 6026's
/// Accepted states), matches incoming requests (§17.2.3, including RFC 2543 fallback) and
/// responses (§17.1.3), retransmits over UDP, fires Timers A-M, generates the ACK for non-2xx
/// final responses and the 100 Trying for INVITE. The state machines themselves are sans-I/O
/// (detail/); this class performs their actions.
///
/// Malformed messages are counted through the observer and answered statelessly with
/// `status_for(error)` when a response can be formed (never for ACK or responses).
///
/// @par Thread safety
/// None; one manager per event loop.
class transaction_manager final : public transport_user {
public:
    transaction_manager(transport& t, timer_service& timers, transaction_user& tu,
                        transaction_config config = {}, transaction_observer* observer = nullptr);
    ~transaction_manager() override;
    transaction_manager(const transaction_manager&) = delete;
    transaction_manager& operator=(const transaction_manager&) = delete;

    // sip::transport_user. `on_bytes` is `check` then `receive`.
    void on_bytes(std::string_view bytes, const flow& f, framing fr) override;
    void on_framing_error(std::string_view bytes, const flow& f, const parse_error& e) override;
    void on_flow_closed(const flow& f, boost::system::error_code ec) override;

    /// The first half of `on_bytes`: parses `bytes` and checks what §8.2 and §18.1.2 need of a
    /// request or a response. A message that fails is answered here when a response can be formed
    /// (never an ACK or a response) and counted, and nullopt comes back; nothing else changes.
    std::optional<message> check(std::string_view bytes, const flow& f, framing fr);
    /// The second half: a message `check` accepted, on the manager of the event loop that owns its
    /// transaction (the one that checked it, or another one's: with several workers the reading
    /// loop checks, then hands the message to its owner).
    void receive(message m, const flow& f);

    // Server transactions

    /// Sends a response on server transaction `txn`. `bytes` is the whole response (see
    /// `response_writer`) and `status` its code. Over a stream whose connection is gone it goes
    /// on a new connection to the request's top Via (§18.2.2): the source address (`received`)
    /// and the sent-by port (5060 when none). A 1xx keeps the transaction Proceeding; a
    /// final response completes it: for INVITE, non-2xx starts Timers G/H and 2xx enters
    /// Accepted, where the 2xx is retransmitted (T1 doubling up to T2, §13.3.1.4) until the TU
    /// calls `ack_received` or Timer L (64*T1) fires, which reports `no_ack`.
    /// Fails when the transaction is unknown or already has its final response
    /// (`transaction_errc`). A send failure is not returned: it reaches the TU as
    /// `on_server_failure(transport_error)` from a timer callback, never from inside this call.
    boost::system::error_code respond(transaction_id txn, int status, std::string bytes);

    /// Answers the request of server transaction `txn` with a final non-2xx response the way a
    /// stateless server does (RFC 3261 §8.2.7, §16.11; Kamailio's `sl_send_reply`), and forgets
    /// the transaction at once: no Completed state, no Timer G retransmissions, no Timer H/I/J.
    /// For requests anyone can send from a forged address (a challenge above all), so that
    /// each costs no state and draws exactly one response: we are no reflection amplifier.
    /// With no transaction left, a retransmission of the request reaches the TU again as a new
    /// request (and is answered again, which is how a lost response is recovered), and the ACK
    /// for the response matches nothing and goes to `on_ack`, where it is a stray. Over a stream
    /// whose connection is gone nothing is sent (a stateless answer opens no connection).
    /// Fails like `respond`, and with `bad_status` for anything but 300-699.
    boost::system::error_code respond_stateless(transaction_id txn, int status, std::string bytes);

    /// The TU matched an ACK for the 2xx of INVITE server transaction `txn`: stop
    /// retransmitting the 2xx. Unknown ids are ignored.
    void ack_received(transaction_id txn) noexcept;

    /// The INVITE server transaction a CANCEL matches (§9.2: same branch and sent-by, or the
    /// RFC 2543 rules), whether or not it has sent its final response (`answered`): a CANCEL
    /// that crossed the final response still matched a transaction and gets 200, without
    /// effect.
    std::optional<cancel_match> match_cancel(const message& cancel) const;

    // Client transactions

    /// Starts a client transaction for `request`, which must carry our Via on top with a
    /// fresh branch (`make_branch`), and sends it on `f`. INVITE and non-INVITE machines are
    /// chosen by method. ACK is refused: send it with `send_stateless`. Once an id is
    /// returned, `handler` hears exactly one outcome: a final response (for INVITE, 2xx
    /// retransmissions may follow), or a failure, which is always delivered from a timer
    /// callback, never from inside this call. Provisionals come before either.
    ///
    /// `reconnect` is where a new connection goes when `f` is a stream whose connection is
    /// gone by the time the request is sent (RFC 3261 §18.1.1): the next hop of the request's
    /// first Route or Request-URI, as the TU resolved it (§12.2.1.1). The transaction then
    /// carries on over `transport::flow_to(f.transport, *reconnect)`. Empty: no new connection
    /// may be opened (a UA behind NAT reached only over the connection it opened, RFC 5626
    /// §5.3), and the request fails with `transport_error`.
    boost::system::result<transaction_id> send_request(outbound_request&& request, const flow& f,
                                                       response_handler handler,
                                                       std::optional<endpoint> reconnect = std::nullopt);
    /// The same for a request that was parsed (its bytes are taken over as they are).
    boost::system::result<transaction_id> send_request(message&& request, const flow& f,
                                                       response_handler handler,
                                                       std::optional<endpoint> reconnect = std::nullopt);

    /// Sends without a transaction: the ACK for a 2xx (§13.2.2.4) and its retransmissions.
    /// `reconnect` as for `send_request`.
    boost::system::error_code send_stateless(const flow& f, std::string_view bytes,
                                             const std::optional<endpoint>& reconnect = std::nullopt);

    /// Sends `ack`, the TU's ACK for the 2xx with To tag `to_tag` that INVITE client
    /// transaction `invite_txn` passed up (§13.2.2.4), as `send_stateless` does, and keeps it
    /// with that transaction: each retransmission of that 2xx, which the transaction would pass
    /// up in Accepted (RFC 6026 §7.2), gets the same ACK again instead, until Timer M ends the
    /// transaction. One per To tag: every fork's 2xx is ACKed. When `invite_txn` is not in
    /// Accepted (gone already), the ACK is only sent.
    boost::system::error_code send_ack_for_2xx(transaction_id invite_txn, std::string_view to_tag,
                                               std::string_view ack, const flow& f,
                                               const std::optional<endpoint>& reconnect = std::nullopt);

    /// Cancels INVITE client transaction `invite_txn` (§9.1): builds the CANCEL (same
    /// Request-URI, Call-ID, From, To, CSeq number, Route and top Via) and sends it in a
    /// non-INVITE client transaction of its own, whose id is returned. If no provisional
    /// response has arrived yet, the CANCEL waits for the first one. When the INVITE already
    /// has a final response, nothing is sent and nullopt is returned. `reason_header` is the
    /// value of a Reason header (RFC 3326) to add, if not empty. Asking again returns the
    /// CANCEL already made (nullopt once it has ended). A CANCEL still waiting when its INVITE
    /// ends without a provisional is dropped without any callback: the INVITE's final response
    /// or failure answers the TU.
    /// The CANCEL's own responses go to `handler` when one is given (usually nobody needs
    /// them: the INVITE's 487 tells the outcome).
    std::optional<transaction_id> cancel(transaction_id invite_txn,
                                         std::string_view reason_header = {},
                                         response_handler handler = {});

    /// The TU gave up waiting for INVITE client transaction `invite_txn`, which has had no
    /// provisional yet: its retransmissions (Timer A) stop, nothing is sent (§9.1 allows no
    /// CANCEL before a provisional; ask `cancel` too and one goes out if a provisional comes).
    /// Timer B still runs, and responses still reach the handler. Does nothing once a
    /// response arrived, or for other transactions.
    void stop_retransmitting(transaction_id invite_txn);

    /// The request that started client transaction `txn`, or nullptr when it has ended or has
    /// its final response (Completed and Accepted never send it again, and keep no copy).
    const outbound_request* client_request(transaction_id txn) const noexcept;

    /// A new branch: the magic cookie plus 96 random bits, unique per manager.
    std::string make_branch();

    /// Number of live transactions (client + server), for metrics and tests.
    std::size_t size() const noexcept;
    /// Live client transactions (requests we sent), and server transactions (requests we received).
    std::size_t client_count() const noexcept;
    std::size_t server_count() const noexcept;

    const transaction_config& config() const noexcept;

private:
    class impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace b2b::sip
