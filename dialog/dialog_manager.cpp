// Dispatching what the transaction layer receives: to the ingress, a dialog, or an INVITE's owner.
#include "dialog/dialog_manager.hpp"

#include "sip/message/writer.hpp"

#include <functional>

namespace b2b::dialog {

void dialog_manager::write_key(std::string& out, const dialog_key& key) {
    out.assign(key.call_id);
    out += '\0';
    out += key.local_tag;
}

void dialog_manager::add(const dialog_key& key, dialog_usage& usage) {
    write_key(scratch_, key);
    dialogs_.insert_or_assign(scratch_, &usage);
}

void dialog_manager::remove(const dialog_key& key) noexcept {
    write_key(scratch_, key);
    dialogs_.erase(scratch_);
}

void dialog_manager::own(sip::transaction_id invite, invite_owner& owner) { invites_[invite] = &owner; }

void dialog_manager::disown(sip::transaction_id invite) noexcept { invites_.erase(invite); }

dialog_usage* dialog_manager::find(std::string_view call_id, std::string_view local_tag) {
    write_key(scratch_, {call_id, local_tag});
    const auto it = dialogs_.find(scratch_);
    return it == dialogs_.end() ? nullptr : it->second;
}

void dialog_manager::on_request(sip::transaction_id txn, sip::message&& request, const sip::flow& f) {
    if (request.method() == sip::method::cancel) return on_cancel(txn, request);
    if (request.to().tag.empty()) return handler_->on_request(txn, std::move(request), f);
    if (dialog_usage* usage = find(request.call_id(), request.to().tag)) {
        return usage->on_request(txn, std::move(request), f);
    }
    // §12.2.2: a request for a dialog we do not have. The response repeats the request's own
    // Call-ID, From, To (with the tag it named) and CSeq, and invents nothing.
    auto bytes = sip::response_writer(request, 481, "Call/Transaction Does Not Exist").finish();
    txm_->respond(txn, 481, std::move(bytes));
}

void dialog_manager::on_cancel(sip::transaction_id txn, const sip::message& cancel) {
    if (auto invite = txm_->match_cancel(cancel)) {
        if (auto it = invites_.find(invite->txn); it != invites_.end()) {
            return it->second->on_cancel(txn, cancel, invite->txn, invite->answered);
        }
    }
    // §9.2: no matching transaction.
    auto bytes = sip::response_writer(cancel, 481, "Call/Transaction Does Not Exist").finish();
    txm_->respond(txn, 481, std::move(bytes));
}

void dialog_manager::on_ack(sip::message&& ack, const sip::flow& f) {
    // An ACK without our tag acknowledges nothing of ours (a stray one): dropped (§17).
    if (dialog_usage* usage = find(ack.call_id(), ack.to().tag)) usage->on_ack(std::move(ack), f);
}

void dialog_manager::on_server_failure(sip::transaction_id txn, sip::transaction_failure why) {
    if (auto it = invites_.find(txn); it != invites_.end()) it->second->on_invite_failure(txn, why);
}

}  // namespace b2b::dialog
