// The transaction manager: matches messages to transactions and performs their machines' actions.
#include "sip/transaction/transaction_manager.hpp"

#include "sip/message/random.hpp"
#include "sip/message/writer.hpp"
#include "sip/transaction/detail/block_pool.hpp"
#include "sip/transaction/detail/builders.hpp"
#include "sip/transaction/detail/client_invite.hpp"
#include "sip/transaction/detail/client_non_invite.hpp"
#include "sip/transaction/detail/matching.hpp"
#include "sip/transaction/detail/server_invite.hpp"
#include "sip/transaction/detail/server_non_invite.hpp"
#include "sip/transaction/detail/text_pool.hpp"

#include <boost/system/errc.hpp>

#include <boost/unordered/unordered_flat_map.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace b2b::sip {

std::string_view to_string(transaction_failure f) noexcept {
    switch (f) {
        case transaction_failure::timeout: return "timeout";
        case transaction_failure::transport_error: return "transport_error";
        case transaction_failure::no_ack: return "no_ack";
    }
    return "unknown";
}

namespace {

using detail::action_kind;
using detail::event;
using detail::event_kind;
using detail::timer_name;

// The transaction tables by key (§17.1.3, §17.2.3): an open-addressing table (Boost's flat map)
// whose slots hold the key and the transaction's address. A std::unordered_map of ids cost a
// chain walk (a cache miss per node) and then a second lookup of the id in txns_: together the
// largest entry of ours in the profile (3 %). Transactions live in a pool of their own and never
// move, so the addresses hold until erase() removes the key with the transaction.
//
// Heterogeneous lookup: matching an incoming message builds its key in a reused buffer and
// looks it up without allocating a std::string.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Same order as the alternatives of transaction::machine_type.
enum class txn_kind : std::uint8_t { client_invite, client_non_invite, server_invite, server_non_invite };

constexpr std::string_view to_string(txn_kind k) noexcept {
    switch (k) {
        case txn_kind::client_invite: return "INVITE client";
        case txn_kind::client_non_invite: return "non-INVITE client";
        case txn_kind::server_invite: return "INVITE server";
        case txn_kind::server_non_invite: return "non-INVITE server";
    }
    return "?";
}

// Timer callbacks carry the transaction id and the timer in one word, so that the lambda
// (this + one word) fits std::function's small buffer and scheduling does not allocate for it.
constexpr unsigned timer_bits = 4;
static_assert(detail::timer_count <= (1U << timer_bits));

std::shared_ptr<spdlog::logger> txn_logger() {
    if (auto logger = spdlog::get("sip.txn")) {
        return logger;
    }
    try {
        return spdlog::stdout_color_mt("sip.txn");
    } catch (const spdlog::spdlog_ex&) {
        return spdlog::get("sip.txn");  // another manager registered it meanwhile
    }
}

// The first token of an outgoing message, for the observer: a method or "SIP/2.0".
void count_stateless(transaction_observer& obs, std::string_view bytes) {
    const std::string_view first = bytes.substr(0, bytes.find(' '));
    if (first.starts_with("SIP/")) {
        int status = 0;
        const std::string_view rest = bytes.substr(std::min(bytes.size(), first.size() + 1));
        std::from_chars(rest.data(), rest.data() + std::min<std::size_t>(3, rest.size()), status);
        obs.on_sent_response(status);
    } else {
        obs.on_sent_request(method_from_string(first), first);
    }
}

}  // namespace

class transaction_manager::impl {
public:
    impl(transport& t, timer_service& timers, transaction_user& tu, transaction_config config,
         transaction_observer* observer)
        : transport_(t), timers_(timers), tu_(tu), config_(config), observer_(observer),
          logger_(txn_logger()), tokens_(config_.worker) {}

    ~impl() {
        for (auto& [id, t] : txns_) {
            cancel_timers(*t);
            destroy(*t);
        }
        for (auto& [seq, r] : reports_) {
            timers_.cancel(r.timer);
        }
    }

    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    void on_bytes(std::string_view bytes, const flow& f, framing fr);
    std::optional<message> check(std::string_view bytes, const flow& f, framing fr);
    void receive(message m, const flow& f);
    void on_framing_error(std::string_view bytes, const flow& f, const parse_error& e) {
        reject(bytes, f, e, true);
    }
    void on_flow_closed(const flow& f, boost::system::error_code ec);

    boost::system::error_code respond(transaction_id txn, int status, std::string bytes);
    boost::system::error_code respond_stateless(transaction_id txn, int status, std::string bytes);
    void ack_received(transaction_id txn);
    void stop_retransmitting(transaction_id txn);
    std::optional<cancel_match> match_cancel(const message& cancel) const;
    boost::system::result<transaction_id> send_request(outbound_request&& request, const flow& f,
                                                       response_handler handler,
                                                       std::optional<endpoint> reconnect);
    boost::system::error_code send_stateless(const flow& f, std::string_view bytes,
                                             const std::optional<endpoint>& reconnect);
    boost::system::error_code send_ack_for_2xx(transaction_id invite_txn, std::string_view to_tag,
                                               std::string_view ack, const flow& f,
                                               const std::optional<endpoint>& reconnect);
    std::optional<transaction_id> cancel(transaction_id invite_txn, std::string_view reason,
                                         response_handler handler);
    const outbound_request* client_request(transaction_id txn) const noexcept;
    std::string make_branch() { return tokens_.branch(); }
    std::size_t size() const noexcept { return txns_.size(); }
    std::size_t client_count() const noexcept { return clients_; }
    std::size_t server_count() const noexcept { return txns_.size() - clients_; }
    const transaction_config& config() const noexcept { return config_; }

private:
    // An ACK for a 2xx that the TU handed over (`send_ack_for_2xx`), sent again for each
    // retransmission of that 2xx until its INVITE transaction ends. It lives exactly as long as
    // the transaction, so it is kept as the transaction is: in a pooled block, its text in the
    // text pool (a 2xx's ACK is held for 32 s, past the call's setup).
    struct ack_for_2xx {
        detail::text_pool::text tag_and_bytes;  // the 2xx's To tag, then the ACK as sent
        std::uint32_t tag_size = 0;
        flow path;
        std::optional<endpoint> reconnect;
        ack_for_2xx* next = nullptr;  // another fork's 2xx

        std::string_view tag() const noexcept { return tag_and_bytes.view().substr(0, tag_size); }
        std::string_view bytes() const noexcept { return tag_and_bytes.view().substr(tag_size); }
    };

    struct transaction {
        using machine_type = std::variant<detail::client_invite, detail::client_non_invite,
                                          detail::server_invite, detail::server_non_invite>;

        transaction(transaction_id i, machine_type m, const flow& f)
            : id(i), machine(std::move(m)), path(f) {}

        txn_kind kind() const noexcept { return static_cast<txn_kind>(machine.index()); }
        bool is_client() const noexcept {
            return kind() == txn_kind::client_invite || kind() == txn_kind::client_non_invite;
        }

        transaction_id id;
        machine_type machine;
        flow path;        // where the request goes (client) or the responses go (server)
        // Over a stream: where a new connection goes once path's is gone (§18.1.1 the TU's
        // next hop; §18.2.2 the top Via), and whether one was opened already (once only).
        std::optional<endpoint> reconnect;
        bool reconnected = false;
        detail::text_pool::text key;  // in client_keys_ or server_keys_
        std::array<timer_service::timer_id, detail::timer_count> timers{};

        // Client. The request is on the heap because server transactions, half of a B2BUA's,
        // need none.
        std::unique_ptr<outbound_request> request;  // the request, as sent
        response_handler handler;                   // where its responses and failure go
        detail::text_pool::text ack;       // INVITE: the ACK for the non-2xx final, once built
        ack_for_2xx* acks_for_2xx = nullptr;  // INVITE, Accepted: the TU's ACKs, one per 2xx To tag
        transaction_id cancel_id = 0;      // INVITE: the CANCEL made by cancel()
        bool deferred = false;             // CANCEL: waits for a provisional on its INVITE (§9.1)

        // Server.
        std::string response;        // the TU's latest response
        int response_status = 0;
        bool rfc2543 = false;        // matched by the RFC 2543 rules (§17.2.3)
        std::string request_to_tag;  // RFC 2543: To tag of the request
        std::string final_to_tag;    // RFC 2543 INVITE: To tag of our final response
    };

    // An incoming message that the machine may hand to the TU, and the flow it came on.
    struct inbound {
        message* msg = nullptr;
        const flow* from = nullptr;
    };

    struct failure_report {
        transaction_id id = 0;
        bool client = false;
        response_handler handler;  // client: the transaction may be gone when the report runs
        transaction_failure why = transaction_failure::timeout;
        timer_service::timer_id timer = 0;
    };

    void receive_request(message&& m, const flow& f);
    void receive_ack(message&& m, const flow& f);
    /// transaction_config::max_transactions is held and `m` (a new request) is not exempt.
    bool over_limit(const message& m) const;
    void refuse_over_limit(const message& m, const flow& f);
    void receive_response(message&& m, const flow& f);
    void reject(std::string_view bytes, const flow& f, const parse_error& err, bool may_answer);

    transaction& emplace(transaction::machine_type m, const flow& f);
    void erase(transaction& t);
    void report_count(bool client, int delta) const;
    void run(transaction& t, event ev, inbound in);
    void run(transaction& t, event ev) { run(t, ev, inbound{}); }
    void deliver(transaction_id id, txn_kind kind, event_kind origin, message&& m, const flow& from,
                 response_handler handler);
    bool release_deferred_cancel(transaction& invite);
    void release_spent(transaction& t);
    void respond_now(transaction& t, int status, std::string bytes);
    bool transmit(transaction& t, action_kind what, bool retransmission);
    std::optional<flow> reopen(const flow& gone, const std::optional<endpoint>& to, std::string_view who);

    void start_timer(transaction& t, timer_name name, std::chrono::milliseconds after);
    void stop_timer(transaction& t, timer_name name) noexcept;
    void cancel_timers(transaction& t) noexcept;
    void on_timer(std::uint64_t word);
    void post_failure(const transaction& t, transaction_failure why);
    void deliver_report(std::uint64_t seq);

    detail::timer_values values_for(const flow& f) const noexcept {
        return {config_.t1, config_.t2, config_.t4, f.reliable()};
    }
    static detail::action_list handle(transaction& t, const event& ev) noexcept {
        return std::visit([&](auto& m) { return m.on_event(ev); }, t.machine);
    }
    static std::string_view state_name(const transaction& t) noexcept {
        return std::visit([](const auto& m) { return detail::to_string(m.current()); }, t.machine);
    }
    static bool has_final(const transaction& t) noexcept;
    // security.server_header, on everything this manager sends (config_.server_header).
    void name_product(std::string& response) const {
        if (!config_.server_header.empty()) add_header_if_absent(response, "Server", config_.server_header);
    }
    void name_product(outbound_request& request) const {
        if (!config_.server_header.empty()) request.add_header_if_absent("User-Agent", config_.server_header);
    }
    /// `bytes` of a stateless send with our product named (Server or User-Agent) when one is
    /// configured: then written into `buffer`.
    std::string_view name_stateless(std::string_view bytes, std::string& buffer) const {
        if (config_.server_header.empty()) return bytes;
        buffer.assign(bytes);
        add_header_if_absent(buffer, bytes.starts_with("SIP/") ? "Server" : "User-Agent", config_.server_header);
        return buffer;
    }
    void trace(std::string_view direction, const flow& f, std::string_view bytes) const;

    transport& transport_;
    timer_service& timers_;
    transaction_user& tu_;
    transaction_config config_;
    transaction_observer* observer_;
    std::shared_ptr<spdlog::logger> logger_;
    token_source tokens_;

    // The transactions, in blocks of their own (detail::block_pool: once they end, the memory
    // goes back rather than staying cut up between the blocks of the calls that are up), found by
    // id through an open-addressing index.
    detail::text_pool texts_;  // before pool_: outlives the transactions' texts
    detail::object_pool<ack_for_2xx> acks_;
    detail::object_pool<transaction> pool_;
    void destroy(transaction& t) noexcept {
        for (ack_for_2xx* a = t.acks_for_2xx; a != nullptr;) {
            ack_for_2xx* next = a->next;
            acks_.destroy(a);
            a = next;
        }
        pool_.destroy(&t);
    }
    /// A retransmitted 2xx whose ACK the TU handed over gets that ACK again; true when so.
    bool repeat_ack_for_2xx(transaction& t, const message& response);
    /// Sends `bytes` (already named), opening a new connection to `reconnect` over a stream
    /// whose connection is gone; `path` becomes the flow it went on.
    boost::system::error_code send_as_is(flow& path, std::string_view bytes, const std::optional<endpoint>& reconnect);
    boost::unordered_flat_map<transaction_id, transaction*> txns_;
    transaction* find(transaction_id id) const noexcept {
        const auto it = txns_.find(id);
        return it == txns_.end() ? nullptr : it->second;
    }
    // Keyed by views of the transactions' own `key`, which stays put with its transaction.
    using key_map = boost::unordered_flat_map<std::string_view, transaction*, string_hash>;
    key_map client_keys_;
    key_map server_keys_;
    transaction_id next_id_ = 1;
    std::size_t clients_ = 0;  // of txns_; the rest are server transactions
    std::unordered_map<std::uint64_t, failure_report> reports_;
    std::uint64_t next_report_ = 1;
    mutable std::string key_buf_;  // scratch for the key of the message being matched
};

// Incoming messages ----------------------------------------------------------------------------

void transaction_manager::impl::on_bytes(std::string_view bytes, const flow& f, framing fr) {
    if (auto m = check(bytes, f, fr)) receive(std::move(*m), f);
}

std::optional<message> transaction_manager::impl::check(std::string_view bytes, const flow& f, framing fr) {
    auto parsed = parse_message(bytes, fr, config_.max_message_size);
    if (!parsed) {
        reject(bytes, f, parsed.error(), true);
        return std::nullopt;
    }
    message& m = *parsed;
    if (m.is_request()) {
        if (auto valid = validate_request(m); !valid) {
            // §17: an ACK is never answered, not even to say it is malformed.
            reject(bytes, f, valid.error(), m.method() != method::ack);
            return std::nullopt;
        }
    } else if (auto valid = validate_response(m); !valid || m.vias().empty()) {
        // §18.1.2: a UAC drops a response it cannot use.
        reject(bytes, f, valid ? parse_error{errc::missing_header, "Via"} : valid.error(), false);
        return std::nullopt;
    }
    return std::move(m);
}

void transaction_manager::impl::receive(message m, const flow& f) {
    trace("recv", f, m.wire());
    if (observer_ != nullptr) {
        observer_->on_received(m);
    }
    if (m.is_request()) {
        // Every response to it, ours or relayed, tells the sender where it came from (RFC 3581).
        m.note_source(f.remote.address.to_string(), f.remote.port);
        receive_request(std::move(m), f);
    } else {
        receive_response(std::move(m), f);
    }
}

void transaction_manager::impl::reject(std::string_view bytes, const flow& f,
                                       const parse_error& err, bool may_answer) {
    // §8.2 / §16.3 and RFC 4475: tell the sender why, statelessly, when a response can be
    // formed at all; make_error_response refuses responses and ACKs itself.
    bool answered = false;
    if (may_answer) {
        if (auto response = make_error_response(bytes, status_for(err.code), err.what(),
                                                tokens_.tag())) {
            name_product(*response);
            answered = !transport_.send(f, *response);
            if (answered) {
                trace("send", f, *response);
                if (observer_ != nullptr) {
                    observer_->on_sent_response(status_for(err.code));
                }
            }
        }
    }
    if (logger_->should_log(spdlog::level::debug)) {
        logger_->debug("bad message from {} {}: {}{}", to_string(f.transport),
                       f.remote.to_string(), err.what(), answered ? " (answered)" : " (dropped)");
    }
    if (observer_ != nullptr) {
        observer_->on_parse_error(err, f, answered);
    }
}

void transaction_manager::impl::receive_request(message&& m, const flow& f) {
    if (m.method() == method::ack) {
        receive_ack(std::move(m), f);
        return;
    }
    const bool rfc3261 = detail::server_key(key_buf_, m, detail::server_method(m));
    if (auto k = server_keys_.find(std::string_view{key_buf_}); k != server_keys_.end()) {
        transaction& t = *k->second;
        if (!rfc3261 && m.to().tag != t.request_to_tag) {
            logger_->debug("txn {}: RFC 2543 request with another To tag, dropped", t.id);
            return;
        }
        // §17.2.1, §17.2.2: a retransmission; the machine absorbs it or repeats the response.
        run(t, event::request_received());
        return;
    }

    const bool invite = m.method() == method::invite;
    if (over_limit(m)) {
        refuse_over_limit(m, f);
        return;
    }
    const detail::timer_values tv = values_for(f);
    transaction& t = invite ? emplace(detail::server_invite{tv}, f)
                            : emplace(detail::server_non_invite{tv}, f);
    t.key = texts_.make(key_buf_);
    server_keys_.emplace(t.key.view(), &t);
    if (f.reliable()) {
        // §18.2.2: should the connection be gone when a response is sent, a new one goes to
        // the address in `received` (for us always the source address) and the sent-by
        // port. RFC 3581's rport (the source port) is for unreliable transports only: a
        // closed connection's source port is nobody's listening port.
        const via& top = m.vias().front();
        t.reconnect = endpoint{f.remote.address, top.port != 0 ? top.port : default_port(f.transport)};
    }
    if (!rfc3261) {
        t.rfc2543 = true;
        t.request_to_tag = m.to().tag;
    }
    // Written now because the request goes to the TU; sent only if the TU stays silent.
    std::string trying;
    if (invite) {
        trying = response_writer(m, 100, "Trying").finish();
    }
    const transaction_id id = t.id;
    logger_->debug("txn {} {}: new {}", id, to_string(t.kind()), m.method_text());
    run(t, event::started(), {&m, &f});

    // §17.2.1: the TU did not answer at once, so 100 Trying stops the retransmissions.
    transaction* const unanswered = invite ? find(id) : nullptr;
    if (unanswered != nullptr && !std::get<detail::server_invite>(unanswered->machine).has_response()) {
        respond_now(*unanswered, 100, std::move(trying));
    }
}

bool transaction_manager::impl::over_limit(const message& m) const {
    if (config_.max_transactions == 0 || txns_.size() < config_.max_transactions) return false;
    // In-dialog requests (BYE above all) and CANCEL end what is held: they always get theirs.
    if (!m.to().tag.empty() || m.method() == method::cancel) return false;
    return !(config_.always_admit && config_.always_admit(m));
}

void transaction_manager::impl::refuse_over_limit(const message& m, const flow& f) {
    if (observer_ != nullptr) {
        observer_->on_transaction_limit();
    }
    if (m.method() != method::invite) {
        logger_->debug("{} from {} dropped: {} transactions held", m.method_text(), f.remote.to_string(),
                       txns_.size());
        return;
    }
    // RFC 3261 §21.5.4 and §8.1.3.8: a stateless 503 with Retry-After; the INVITE's
    // retransmissions get it again, and its ACK matches nothing (absorbed by the TU).
    message_writer w = response_writer(m, 503, "Service Unavailable", tokens_.tag());
    w.header("Retry-After", std::to_string(config_.retry_after.count()));
    if (send_stateless(f, std::move(w).finish(), std::nullopt)) {
        logger_->debug("INVITE from {} dropped: {} transactions held, no answer possible", f.remote.to_string(),
                       txns_.size());
    }
}

void transaction_manager::impl::receive_ack(message&& m, const flow& f) {
    detail::server_key(key_buf_, m, detail::server_method(m));
    if (auto k = server_keys_.find(std::string_view{key_buf_}); k != server_keys_.end()) {
        transaction& t = *k->second;
        // RFC 2543 rules: the ACK's To tag is the one our response carried (§17.2.3).
        const std::string_view sent_tag = t.final_to_tag.empty() ? std::string_view{t.request_to_tag}
                                                                 : std::string_view{t.final_to_tag};
        if (t.kind() == txn_kind::server_invite && (!t.rfc2543 || m.to().tag == sent_tag)) {
            run(t, event::ack_received(), {&m, &f});
            return;
        }
    }
    // The ACK for a 2xx is a transaction of its own (§17.1.1.3): it belongs to the dialog.
    tu_.on_ack(std::move(m), f);
}

void transaction_manager::impl::receive_response(message&& m, const flow& f) {
    // §17.1.3: the top Via branch and the CSeq method.
    detail::client_key(key_buf_, m.vias().front().branch, m.cseq().method_text);
    const auto k = client_keys_.find(std::string_view{key_buf_});
    if (k == client_keys_.end() || k->second->deferred) {
        logger_->debug("response {} {} matches no transaction, dropped", m.status(),
                       m.cseq().method_text);
        if (observer_ != nullptr) {
            observer_->on_unmatched_response(m);
        }
        return;
    }
    run(*k->second, event::response_received(m.status()), {&m, &f});
}

void transaction_manager::impl::on_flow_closed(const flow& f, boost::system::error_code ec) {
    if (!f.reliable()) {
        return;
    }
    // §17.1.4: client transactions on the connection cannot get their responses any more.
    std::vector<transaction_id> doomed;
    for (const auto& [id, t] : txns_) {
        if (t->is_client() && !t->deferred && t->path.transport == f.transport &&
            t->path.connection == f.connection) {
            doomed.push_back(id);
        }
    }
    if (!doomed.empty()) {
        logger_->debug("connection {} to {} closed ({}): {} client transaction(s) fail",
                       f.connection, f.remote.to_string(), ec.message(), doomed.size());
    }
    for (const transaction_id id : doomed) {
        if (transaction* t = find(id)) {
            run(*t, event::transport_failed());
        }
    }
}

// Calls from the TU ----------------------------------------------------------------------------

bool transaction_manager::impl::has_final(const transaction& t) noexcept {
    switch (t.kind()) {
        case txn_kind::server_invite: return std::get<detail::server_invite>(t.machine).has_final();
        case txn_kind::server_non_invite:
            return std::get<detail::server_non_invite>(t.machine).has_final();
        case txn_kind::client_invite:
        case txn_kind::client_non_invite: break;
    }
    return false;
}

boost::system::error_code transaction_manager::impl::respond(transaction_id txn, int status,
                                                             std::string bytes) {
    transaction* const t = find(txn);
    if (t == nullptr || t->is_client()) {
        return transaction_errc::unknown_transaction;
    }
    if (status < 100 || status > 699) {
        return transaction_errc::bad_status;
    }
    if (has_final(*t)) {
        return transaction_errc::final_response_sent;
    }
    respond_now(*t, status, std::move(bytes));
    return {};
}

boost::system::error_code transaction_manager::impl::respond_stateless(transaction_id txn, int status,
                                                                       std::string bytes) {
    transaction* const found = find(txn);
    if (found == nullptr || found->is_client()) {
        return transaction_errc::unknown_transaction;
    }
    if (status < 300 || status > 699) {
        // A 2xx to an INVITE is retransmitted until ACKed (§13.3.1.4): it needs the state.
        return transaction_errc::bad_status;
    }
    if (has_final(*found)) {
        return transaction_errc::final_response_sent;
    }
    transaction& t = *found;
    const flow path = t.path;
    const transaction_id id = t.id;
    // The transaction goes first: whatever the send does, nothing of this request is held.
    erase(t);
    // Stateless: a lost or unsendable answer is recovered by the client's retransmission.
    if (!send_stateless(path, bytes, std::nullopt)) {
        logger_->debug("txn {}: answered {} statelessly, forgotten", id, status);
    }
    return {};
}

void transaction_manager::impl::respond_now(transaction& t, int status, std::string bytes) {
    if (t.rfc2543 && status >= 200 && t.kind() == txn_kind::server_invite) {
        // An RFC 2543 ACK is matched on the To tag of our final response (§17.2.3). Only such
        // old clients pay for reading it back out of the response.
        if (auto r = parse_message(bytes, framing::datagram, config_.max_message_size)) {
            t.final_to_tag = r->to().tag;
        }
    }
    name_product(bytes);
    t.response = std::move(bytes);
    t.response_status = status;
    run(t, event::tu_sends(status));
}

void transaction_manager::impl::ack_received(transaction_id txn) {
    if (transaction* t = find(txn); t != nullptr && t->kind() == txn_kind::server_invite) {
        run(*t, event::tu_acked());
        // §13.3.1.4: the 2xx is not sent again once its ACK came; Accepted only absorbs
        // retransmitted INVITEs until Timer L (RFC 6026 §7.1), so its bytes need not wait.
        if (t = find(txn); t != nullptr) std::string().swap(t->response);
    }
}

void transaction_manager::impl::stop_retransmitting(transaction_id txn) {
    if (transaction* t = find(txn); t != nullptr && t->kind() == txn_kind::client_invite) {
        run(*t, event::gave_up());
    }
}

std::optional<cancel_match> transaction_manager::impl::match_cancel(const message& cancel) const {
    if (!cancel.is_request() || cancel.vias().empty()) {
        return std::nullopt;
    }
    // §9.2: the CANCEL matches the INVITE it cancels by the §17.2.3 rules, method aside.
    const bool rfc3261 = detail::server_key(key_buf_, cancel, "INVITE");
    const auto k = server_keys_.find(std::string_view{key_buf_});
    if (k == server_keys_.end()) {
        return std::nullopt;
    }
    const transaction& t = *k->second;
    if (t.kind() != txn_kind::server_invite || (!rfc3261 && cancel.to().tag != t.request_to_tag)) {
        return std::nullopt;
    }
    return cancel_match{t.id, has_final(t)};
}

boost::system::result<transaction_id> transaction_manager::impl::send_request(
    outbound_request&& request, const flow& f, response_handler handler, std::optional<endpoint> reconnect) {
    if (request.method() == method::ack || request.method() == method::unknown ||
        request.branch().size() <= 7 || !request.branch().starts_with("z9hG4bK")) {
        return transaction_errc::bad_request;
    }
    detail::client_key(key_buf_, request.branch(), request.method_text());
    if (client_keys_.contains(std::string_view{key_buf_})) {
        return transaction_errc::duplicate_transaction;
    }
    const detail::timer_values tv = values_for(f);
    transaction& t = request.method() == method::invite ? emplace(detail::client_invite{tv}, f)
                                                        : emplace(detail::client_non_invite{tv}, f);
    t.key = texts_.make(key_buf_);
    client_keys_.emplace(t.key.view(), &t);
    t.request = std::make_unique<outbound_request>(std::move(request));
    name_product(*t.request);
    t.handler = std::move(handler);
    if (f.reliable()) t.reconnect = std::move(reconnect);
    const transaction_id id = t.id;
    logger_->debug("txn {} {}: new {}", id, to_string(t.kind()), t.request->method_text());
    run(t, event::started());
    return id;
}

boost::system::error_code transaction_manager::impl::send_stateless(
    const flow& f, std::string_view bytes, const std::optional<endpoint>& reconnect) {
    std::string buffer;
    flow path = f;
    return send_as_is(path, name_stateless(bytes, buffer), reconnect);
}

boost::system::error_code transaction_manager::impl::send_ack_for_2xx(transaction_id invite_txn,
                                                                      std::string_view to_tag,
                                                                      std::string_view ack, const flow& f,
                                                                      const std::optional<endpoint>& reconnect) {
    transaction* const t = find(invite_txn);
    const bool accepted = t != nullptr && t->kind() == txn_kind::client_invite &&
                          std::get<detail::client_invite>(t->machine).current() ==
                              detail::client_invite::state::accepted;
    if (!accepted) return send_stateless(f, ack, reconnect);  // no 2xx can come again
    std::string buffer;
    const std::string_view named = name_stateless(ack, buffer);
    std::string kept;
    kept.reserve(to_tag.size() + named.size());
    kept.append(to_tag).append(named);
    ack_for_2xx* const a = acks_.create();
    a->tag_and_bytes = texts_.make(kept);
    a->tag_size = static_cast<std::uint32_t>(to_tag.size());
    a->path = f;
    a->reconnect = reconnect;
    a->next = t->acks_for_2xx;
    t->acks_for_2xx = a;
    return send_as_is(a->path, a->bytes(), a->reconnect);
}

bool transaction_manager::impl::repeat_ack_for_2xx(transaction& t, const message& response) {
    const std::string_view tag = response.to().tag;
    for (ack_for_2xx* a = t.acks_for_2xx; a != nullptr; a = a->next) {
        if (a->tag() != tag) continue;
        // §13.2.2.4: the same ACK for every retransmission of its 2xx. A failed send is
        // retried by the next retransmission.
        (void)send_as_is(a->path, a->bytes(), a->reconnect);
        if (observer_ != nullptr) observer_->on_retransmission(false);
        return true;
    }
    return false;
}

boost::system::error_code transaction_manager::impl::send_as_is(flow& path, std::string_view bytes,
                                                                 const std::optional<endpoint>& reconnect) {
    auto ec = transport_.send(path, bytes);
    if (ec == boost::system::errc::not_connected && path.reliable() && reconnect) {
        // The ACK for a 2xx is a request of its own (§17.1.1.3): the same rule as any request.
        // Without a target (a keep-alive to a binding behind NAT, an ACK to such a peer) the
        // failure is only returned: the caller knows what it means, and the transaction that
        // needed the connection has said so already.
        if (auto fresh = reopen(path, reconnect, "stateless send")) {
            path = *fresh;
            ec = transport_.send(path, bytes);
        }
    }
    if (ec) {
        logger_->debug("stateless send to {} failed: {}", path.remote.to_string(), ec.message());
        return ec;
    }
    trace("send", path, bytes);
    if (observer_ != nullptr) {
        count_stateless(*observer_, bytes);
    }
    return {};
}

std::optional<transaction_id> transaction_manager::impl::cancel(transaction_id invite_txn,
                                                                std::string_view reason,
                                                                response_handler handler) {
    transaction* const found = find(invite_txn);
    if (found == nullptr || found->kind() != txn_kind::client_invite) {
        return std::nullopt;
    }
    transaction& invite = *found;
    if (invite.cancel_id != 0) {
        // One CANCEL per INVITE: asking again names the one already under way.
        if (txns_.contains(invite.cancel_id)) {
            return invite.cancel_id;
        }
        return std::nullopt;
    }
    using st = detail::client_invite::state;
    const st state = std::get<detail::client_invite>(invite.machine).current();
    if (state != st::calling && state != st::proceeding) {
        return std::nullopt;  // §9.1: no CANCEL once a final response arrived
    }
    // §9.1: same branch as the INVITE; the method keeps the two transactions apart.
    detail::client_key(key_buf_, invite.request->branch(), "CANCEL");
    if (client_keys_.contains(std::string_view{key_buf_})) {
        return std::nullopt;  // the TU sent a CANCEL of its own through send_request
    }
    transaction& c = emplace(detail::client_non_invite{values_for(invite.path)}, invite.path);
    c.reconnect = invite.reconnect;  // §9.1: the CANCEL goes where its INVITE went
    c.reconnected = invite.reconnected;
    c.key = texts_.make(key_buf_);
    client_keys_.emplace(c.key.view(), &c);
    c.request = std::make_unique<outbound_request>(detail::make_cancel(*invite.request, reason));
    name_product(*c.request);
    c.handler = std::move(handler);
    c.deferred = true;
    invite.cancel_id = c.id;
    const transaction_id id = c.id;
    logger_->debug("txn {} {}: CANCEL for txn {}{}", id, to_string(c.kind()), invite.id,
                   state == st::calling ? " waits for a provisional" : "");
    if (state == st::proceeding) {
        c.deferred = false;
        run(c, event::started());
        run(invite, event::cancelled());
    }
    return id;
}

const outbound_request* transaction_manager::impl::client_request(transaction_id txn) const noexcept {
    const transaction* t = find(txn);
    return t != nullptr && t->is_client() ? t->request.get() : nullptr;
}

// Running the machines -------------------------------------------------------------------------

transaction_manager::impl::transaction& transaction_manager::impl::emplace(
    transaction::machine_type m, const flow& f) {
    const transaction_id id = next_id_++;
    transaction& t = *pool_.create(id, std::move(m), f);
    try {
        txns_.emplace(id, &t);
    } catch (...) {
        pool_.destroy(&t);
        throw;
    }
    if (t.is_client()) ++clients_;
    report_count(t.is_client(), +1);
    return t;
}

void transaction_manager::impl::report_count(bool client, int delta) const {
    if (observer_ != nullptr) observer_->on_transaction_count(client, delta);
}

void transaction_manager::impl::erase(transaction& t) {
    cancel_timers(t);
    key_map& keys = t.is_client() ? client_keys_ : server_keys_;
    if (auto k = keys.find(t.key.view()); k != keys.end() && k->second == &t) {
        keys.erase(k);
    }
    const transaction_id cancel_id = t.kind() == txn_kind::client_invite ? t.cancel_id : 0;
    const bool client = t.is_client();
    if (client) --clients_;
    txns_.erase(t.id);
    destroy(t);
    report_count(client, -1);
    if (cancel_id != 0) {
        // A CANCEL still waiting for a provisional is moot once its INVITE is over (§9.1);
        // the TU has the INVITE's outcome.
        if (transaction* c = find(cancel_id); c != nullptr && c->deferred) {
            logger_->debug("txn {}: CANCEL not sent, its INVITE ended first", cancel_id);
            erase(*c);
        }
    }
}

// Performs the actions of one event, then of the events they cause (a failed send, a zero
// timer, a CANCEL released by a provisional), and only at the end reaches the TU: the TU may
// call back into the manager, and this transaction may be gone by then.
void transaction_manager::impl::run(transaction& t, event ev, inbound in) {
    const event_kind origin = ev.kind;
    const std::string_view before = state_name(t);
    bool pass = false;
    bool terminated = false;
    std::optional<transaction_failure> failure;
    for (;;) {
        const detail::action_list actions = handle(t, ev);
        bool send_failed = false;
        std::optional<timer_name> due_now;
        for (const detail::action& a : actions) {
            switch (a.kind) {
                case action_kind::send_request:
                case action_kind::send_response:
                    send_failed |= !transmit(t, a.kind, a.retransmission);
                    break;
                case action_kind::send_ack:
                    if (t.ack.empty() && in.msg != nullptr && in.msg->is_response()) {
                        std::string ack = detail::make_ack(*t.request, *in.msg);
                        if (!config_.server_header.empty()) {
                            add_header_if_absent(ack, "User-Agent", config_.server_header);
                        }
                        t.ack = texts_.make(ack);
                    }
                    send_failed |= !transmit(t, a.kind, a.retransmission);
                    break;
                case action_kind::start_timer:
                    if (a.after.count() > 0) {
                        start_timer(t, a.timer, a.after);
                    } else {
                        // D, I, J, K are zero over reliable transports: no need for a round
                        // trip through the timer service.
                        stop_timer(t, a.timer);
                        due_now = a.timer;
                    }
                    break;
                case action_kind::stop_timer: stop_timer(t, a.timer); break;
                case action_kind::pass_to_tu: pass = true; break;
                case action_kind::absorb:
                    if (observer_ != nullptr) {
                        observer_->on_retransmission(false);
                    }
                    break;
                case action_kind::report_failure: failure = a.failure; break;
                case action_kind::terminate: terminated = true; break;
            }
        }
        if (terminated) {
            break;
        }
        if (send_failed) {
            ev = event::transport_failed();  // §17.1.4, §17.2.4
        } else if (due_now) {
            ev = event::fired(*due_now);
        } else if (t.kind() == txn_kind::client_invite && t.cancel_id != 0 &&
                   release_deferred_cancel(t)) {
            ev = event::cancelled();
        } else {
            break;
        }
    }

    if (!terminated) release_spent(t);
    const transaction_id id = t.id;
    const txn_kind kind = t.kind();
    const std::string_view after = terminated ? std::string_view{"Terminated"} : state_name(t);
    if (before != after) {
        logger_->debug("txn {} {}: {} -> {}", id, to_string(kind), before, after);
    }
    if (failure) {
        post_failure(t, *failure);
    }
    if (pass && kind == txn_kind::client_invite && t.acks_for_2xx != nullptr && in.msg != nullptr &&
        in.msg->is_response() && in.msg->status() / 100 == 2 && repeat_ack_for_2xx(t, *in.msg)) {
        pass = false;
    }
    // The client's handler is copied out: the transaction may end here, or the handler may
    // end it (a handler that cancels), while the handler runs.
    response_handler handler = pass && t.is_client() ? t.handler : response_handler{};
    if (terminated) {
        erase(t);
    }
    if (pass && in.msg != nullptr && in.from != nullptr) {
        deliver(id, kind, origin, std::move(*in.msg), *in.from, std::move(handler));
    }
}

void transaction_manager::impl::deliver(transaction_id id, txn_kind kind, event_kind origin,
                                        message&& m, const flow& from, response_handler handler) {
    switch (kind) {
        case txn_kind::client_invite:
        case txn_kind::client_non_invite:
            if (handler) {
                client_event ev{id, &m, std::nullopt};
                handler(ev);
            }
            break;
        case txn_kind::server_invite:
        case txn_kind::server_non_invite:
            if (origin == event_kind::ack) {
                tu_.on_ack(std::move(m), from);
            } else {
                tu_.on_request(id, std::move(m), from);
            }
            break;
    }
}

// §9.1: a CANCEL waits for a provisional response on its INVITE, and is moot once the
// INVITE has a final one. Returns true when the CANCEL went out now.
// A client transaction with its final response never sends its request again: Completed
// (§17.1.1.2, §17.1.2.2) absorbs retransmissions or repeats the ACK, which is built by then,
// and Accepted (RFC 6026 §7.2) passes 2xx responses up. It waits out Timer D, K or M with its
// key and its ACK; the request's bytes (an INVITE with its SDP, a kilobyte or more) go now. At
// hundreds of calls a second, some 32 s of finished INVITEs are otherwise held at any time.
void transaction_manager::impl::release_spent(transaction& t) {
    if (!t.request) return;
    bool spent = false;
    if (t.kind() == txn_kind::client_invite) {
        using st = detail::client_invite::state;
        const st s = std::get<detail::client_invite>(t.machine).current();
        spent = s == st::completed || s == st::accepted;
    } else if (t.kind() == txn_kind::client_non_invite) {
        spent = std::get<detail::client_non_invite>(t.machine).current() == detail::client_non_invite::state::completed;
    }
    if (spent) t.request.reset();
}

bool transaction_manager::impl::release_deferred_cancel(transaction& invite) {
    transaction* const deferred = find(invite.cancel_id);
    if (deferred == nullptr || !deferred->deferred) {
        return false;
    }
    using st = detail::client_invite::state;
    const st state = std::get<detail::client_invite>(invite.machine).current();
    if (state == st::calling) {
        return false;
    }
    transaction& c = *deferred;
    if (state == st::proceeding) {
        c.deferred = false;
        run(c, event::started());
        return true;
    }
    logger_->debug("txn {}: CANCEL not sent, txn {} has a final response", c.id, invite.id);
    erase(c);
    return false;
}

// This is the one place where a connection that is gone is replaced, for every message: the
// transaction layer is the first to learn it (`send` fails with not_connected; nothing was
// sent), it keeps the same transaction (branch, timers, bytes) on the new connection, and it
// covers responses (§18.2.2), requests in a dialog, requests to a registered PBX and the
// stateless ACK alike. The dialog layer only says where a new connection may go: the next hop
// of the request (§18.1.1, §12.2.1.1), or nowhere for a UA behind NAT.
std::optional<flow> transaction_manager::impl::reopen(const flow& gone, const std::optional<endpoint>& to,
                                                      std::string_view who) {
    if (!to) {
        // RFC 5626 §5.3: a flow to a UA behind NAT that has failed cannot be recreated from our
        // side; the UA must register again. The request fails and the TU hears why.
        logger_->warn("{}: connection {} to {} is gone and no new connection may be opened "
                      "towards that peer (behind NAT, or its target names no address): not sent",
                      who, gone.connection, gone.remote.to_string());
        return std::nullopt;
    }
    auto fresh = transport_.flow_to(gone.transport, *to);
    if (!fresh) {
        logger_->warn("{}: connection {} to {} is gone; a new one to {} cannot be opened: {}", who,
                      gone.connection, gone.remote.to_string(), to->to_string(), fresh.error().message());
        return std::nullopt;
    }
    if (fresh->connection == gone.connection) {
        return std::nullopt;  // the transport names the same dead connection: nothing to gain
    }
    logger_->info("{}: connection {} to {} is gone: sending on connection {} to {} (RFC 3261 §18)", who,
                  gone.connection, gone.remote.to_string(), fresh->connection, to->to_string());
    return *fresh;
}

bool transaction_manager::impl::transmit(transaction& t, action_kind what, bool retransmission) {
    const std::string_view bytes = what == action_kind::send_request ? t.request->wire()
                                   : what == action_kind::send_ack   ? t.ack.view()
                                                                     : std::string_view{t.response};
    auto ec = transport_.send(t.path, bytes);
    if (ec == boost::system::errc::not_connected && t.path.reliable() && !t.reconnected) {
        // The connection is gone and nothing was sent: the transaction carries on over a new
        // one (§18.1.1 for a request, §18.2.2 for a response) with the same bytes and branch,
        // so nothing can reach the peer twice. Once only: a new connection that fails too is
        // the end of it (a failed connect closes it, which fails a client transaction).
        t.reconnected = true;
        if (auto fresh = reopen(t.path, t.reconnect, "txn " + std::to_string(t.id))) {
            t.path = *fresh;
            ec = transport_.send(t.path, bytes);
        }
    }
    if (ec) {
        if (!t.path.reliable()) {
            // A datagram that could not leave (a full socket buffer, a passing route error)
            // is a datagram lost on the way: the retransmission timers (A, E, G, the 2xx
            // schedule) and the peer's own retransmissions are how UDP recovers from that
            // (§17.1.1.2, §17.2.1). Failing the transaction instead would end a call that one
            // more try would have carried. Timers B, F and H still bound it.
            logger_->debug("txn {}: datagram to {} not sent ({}); the next retransmission retries",
                           t.id, t.path.remote.to_string(), ec.message());
            return true;
        }
        if (logger_->should_log(spdlog::level::debug)) {
            logger_->debug("txn {}: send to {} failed: {}", t.id, t.path.remote.to_string(),
                           ec.message());
        }
        return false;
    }
    trace("send", t.path, bytes);
    if (observer_ != nullptr) {
        if (retransmission) {
            observer_->on_retransmission(true);
        } else if (what == action_kind::send_response) {
            observer_->on_sent_response(t.response_status);
        } else if (what == action_kind::send_ack) {
            observer_->on_sent_request(method::ack, "ACK");
        } else {
            observer_->on_sent_request(t.request->method(), t.request->method_text());
        }
    }
    return true;
}

void transaction_manager::impl::trace(std::string_view direction, const flow& f,
                                      std::string_view bytes) const {
    if (logger_->should_log(spdlog::level::trace)) {
        logger_->trace("{} {} {} ({} bytes)\n{}", direction, to_string(f.transport),
                       f.remote.to_string(), bytes.size(), bytes);
    }
}

// Timers ---------------------------------------------------------------------------------------

void transaction_manager::impl::start_timer(transaction& t, timer_name name,
                                            std::chrono::milliseconds after) {
    const auto slot = static_cast<std::size_t>(name);
    if (t.timers[slot] != 0) {
        timers_.cancel(t.timers[slot]);
    }
    const std::uint64_t word = (t.id << timer_bits) | slot;
    t.timers[slot] = timers_.schedule(after, [this, word] { on_timer(word); });
}

void transaction_manager::impl::stop_timer(transaction& t, timer_name name) noexcept {
    auto& id = t.timers[static_cast<std::size_t>(name)];
    if (id != 0) {
        timers_.cancel(id);
        id = 0;
    }
}

void transaction_manager::impl::cancel_timers(transaction& t) noexcept {
    for (auto& id : t.timers) {
        if (id != 0) {
            timers_.cancel(id);
            id = 0;
        }
    }
}

void transaction_manager::impl::on_timer(std::uint64_t word) {
    const transaction_id id = word >> timer_bits;
    const auto slot = static_cast<std::size_t>(word & ((1U << timer_bits) - 1));
    transaction* const t = find(id);
    if (t == nullptr) {
        return;  // the transaction ended; its timers were cancelled, this one raced
    }
    t->timers[slot] = 0;
    run(*t, event::fired(static_cast<timer_name>(slot)));
}

// Failures reach the TU from a timer callback of their own, never from inside a call the TU
// made (send_request, respond, cancel) nor in the middle of another callback.
void transaction_manager::impl::post_failure(const transaction& t, transaction_failure why) {
    const std::uint64_t seq = next_report_++;
    failure_report& r = reports_[seq];
    r.id = t.id;
    r.client = t.is_client();
    r.why = why;
    if (r.client) r.handler = t.handler;
    r.timer = timers_.schedule(std::chrono::milliseconds{0}, [this, seq] { deliver_report(seq); });
}

void transaction_manager::impl::deliver_report(std::uint64_t seq) {
    auto node = reports_.extract(seq);
    if (node.empty()) {
        return;
    }
    const failure_report r = node.mapped();
    logger_->debug("txn {}: {} failure: {}", r.id, r.client ? "client" : "server", to_string(r.why));
    if (r.client) {
        if (r.handler) {
            client_event ev{r.id, nullptr, r.why};
            r.handler(ev);
        }
    } else {
        tu_.on_server_failure(r.id, r.why);
    }
}

// The public face ------------------------------------------------------------------------------

transaction_manager::transaction_manager(transport& t, timer_service& timers, transaction_user& tu,
                                         transaction_config config, transaction_observer* observer)
    : impl_(std::make_unique<impl>(t, timers, tu, config, observer)) {}

transaction_manager::~transaction_manager() = default;

void transaction_manager::on_bytes(std::string_view bytes, const flow& f, framing fr) {
    impl_->on_bytes(bytes, f, fr);
}

std::optional<message> transaction_manager::check(std::string_view bytes, const flow& f, framing fr) {
    return impl_->check(bytes, f, fr);
}

void transaction_manager::receive(message m, const flow& f) {
    impl_->receive(std::move(m), f);
}

void transaction_manager::on_framing_error(std::string_view bytes, const flow& f,
                                           const parse_error& e) {
    impl_->on_framing_error(bytes, f, e);
}

void transaction_manager::on_flow_closed(const flow& f, boost::system::error_code ec) {
    impl_->on_flow_closed(f, ec);
}

boost::system::error_code transaction_manager::respond(transaction_id txn, int status,
                                                       std::string bytes) {
    return impl_->respond(txn, status, std::move(bytes));
}

boost::system::error_code transaction_manager::respond_stateless(transaction_id txn, int status,
                                                                 std::string bytes) {
    return impl_->respond_stateless(txn, status, std::move(bytes));
}

void transaction_manager::ack_received(transaction_id txn) noexcept {
    impl_->ack_received(txn);
}

void transaction_manager::stop_retransmitting(transaction_id invite_txn) { impl_->stop_retransmitting(invite_txn); }

std::optional<cancel_match> transaction_manager::match_cancel(const message& cancel) const {
    return impl_->match_cancel(cancel);
}

boost::system::result<transaction_id> transaction_manager::send_request(outbound_request&& request,
                                                                        const flow& f,
                                                                        response_handler handler,
                                                                        std::optional<endpoint> reconnect) {
    return impl_->send_request(std::move(request), f, std::move(handler), std::move(reconnect));
}

boost::system::result<transaction_id> transaction_manager::send_request(message&& request,
                                                                        const flow& f,
                                                                        response_handler handler,
                                                                        std::optional<endpoint> reconnect) {
    if (!request.is_request() || request.vias().empty()) {
        return transaction_errc::bad_request;
    }
    return impl_->send_request(outbound_request::from_message(request), f, std::move(handler),
                               std::move(reconnect));
}

boost::system::error_code transaction_manager::send_stateless(const flow& f, std::string_view bytes,
                                                              const std::optional<endpoint>& reconnect) {
    return impl_->send_stateless(f, bytes, reconnect);
}

boost::system::error_code transaction_manager::send_ack_for_2xx(transaction_id invite_txn, std::string_view to_tag,
                                                                std::string_view ack, const flow& f,
                                                                const std::optional<endpoint>& reconnect) {
    return impl_->send_ack_for_2xx(invite_txn, to_tag, ack, f, reconnect);
}

std::optional<transaction_id> transaction_manager::cancel(transaction_id invite_txn,
                                                          std::string_view reason_header,
                                                          response_handler handler) {
    return impl_->cancel(invite_txn, reason_header, std::move(handler));
}

const outbound_request* transaction_manager::client_request(transaction_id txn) const noexcept {
    return impl_->client_request(txn);
}

std::string transaction_manager::make_branch() { return impl_->make_branch(); }

std::size_t transaction_manager::size() const noexcept { return impl_->size(); }

std::size_t transaction_manager::client_count() const noexcept { return impl_->client_count(); }

std::size_t transaction_manager::server_count() const noexcept { return impl_->server_count(); }

const transaction_config& transaction_manager::config() const noexcept { return impl_->config(); }

}  // namespace b2b::sip
