// The one transaction user: requests out of dialog to a handler, in dialog to their dialog's usage.
#pragma once

#include "sip/message/message.hpp"
#include "sip/transaction/transaction_manager.hpp"
#include "sip/transport/flow.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/unordered/unordered_flat_map.hpp>

namespace b2b::dialog {

/// Whoever owns a dialog on our side (a call's leg) and handles what arrives in it.
class dialog_usage {
public:
    virtual ~dialog_usage() = default;
    /// A request inside the dialog (BYE, re-INVITE, OPTIONS, INFO, ...): answer it on `txn`.
    virtual void on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) = 0;
    /// The ACK for our 2xx (§13.3.1.4), or a retransmission of it.
    virtual void on_ack(sip::message&& ack, const sip::flow& f) = 0;
};

/// Whoever owns an INVITE server transaction (the call answering it: a new call, or a
/// re-INVITE in one of its dialogs).
class invite_owner {
public:
    virtual ~invite_owner() = default;
    /// A CANCEL matched INVITE transaction `invite` (§9.2). `invite_answered` when its final
    /// response was already sent: the CANCEL then has no effect but still gets 200. Answer the
    /// CANCEL on `txn`.
    virtual void on_cancel(sip::transaction_id txn, const sip::message& cancel, sip::transaction_id invite,
                           bool invite_answered) = 0;
    /// INVITE transaction `invite` could not deliver its final response, or its 2xx was never
    /// ACKed.
    virtual void on_invite_failure(sip::transaction_id invite, sip::transaction_failure why) = 0;
};

/// What a request outside any dialog goes to (the B2BUA's ingress).
class out_of_dialog_handler {
public:
    virtual ~out_of_dialog_handler() = default;
    virtual void on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) = 0;
};

/// The key of a dialog on our side: Call-ID and our tag. Our tags are unique per dialog we
/// make, so the remote tag (which forks vary) is checked by the usage, not the key. Views:
/// the manager keeps its own copy.
struct dialog_key {
    std::string_view call_id;
    std::string_view local_tag;
};

/// The only transaction user (resip DialogUsageManager, libre sipsess): requests without a To
/// tag go to the request handler; requests with one find their dialog by Call-ID and To tag
/// (our tag) and go to its usage; a request for no dialog gets 481 carrying its own Call-ID and
/// tags (§12.2.2); a CANCEL finds its INVITE through the transaction layer and goes to the
/// INVITE's owner, or gets 481 (§9.2); an ACK for a 2xx goes to its dialog.
///
/// Usages and owners are registered by reference and must unregister before they die.
/// @par Thread safety
/// None: the event loop of the transaction manager.
class dialog_manager final : public sip::transaction_user {
public:
    dialog_manager() = default;
    dialog_manager(const dialog_manager&) = delete;
    dialog_manager& operator=(const dialog_manager&) = delete;

    /// Must be called before any traffic.
    void attach(sip::transaction_manager& transactions, out_of_dialog_handler& handler) noexcept {
        txm_ = &transactions;
        handler_ = &handler;
    }

    void add(const dialog_key& key, dialog_usage& usage);
    void remove(const dialog_key& key) noexcept;
    void own(sip::transaction_id invite, invite_owner& owner);
    void disown(sip::transaction_id invite) noexcept;

    std::size_t dialogs() const noexcept { return dialogs_.size(); }

    // sip::transaction_user
    void on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) override;
    void on_ack(sip::message&& ack, const sip::flow& f) override;
    void on_server_failure(sip::transaction_id txn, sip::transaction_failure why) override;

private:
    /// `key` as the index holds it: the Call-ID, a NUL (which no header value holds), our tag.
    static void write_key(std::string& out, const dialog_key& key);
    dialog_usage* find(std::string_view call_id, std::string_view local_tag);
    void on_cancel(sip::transaction_id txn, const sip::message& cancel);

    sip::transaction_manager* txm_ = nullptr;
    out_of_dialog_handler* handler_ = nullptr;
    // Every call is two dialogs, held for hours: one string per dialog in an open-addressing
    // table, rather than a node and two strings (bench/README.md, "What a held call costs").
    boost::unordered_flat_map<std::string, dialog_usage*> dialogs_;
    std::unordered_map<sip::transaction_id, invite_owner*> invites_;
    std::string scratch_;  // lookups reuse one key's buffer
};

}  // namespace b2b::dialog
