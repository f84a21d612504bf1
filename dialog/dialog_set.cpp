// Sorting the responses to one INVITE into dialogs.
#include "dialog/dialog_set.hpp"

#include <algorithm>

namespace b2b::dialog {

dialog_set::verdict dialog_set::on_response(const sip::message& response) {
    const int status = response.status();
    const std::string_view tag = response.to().tag;
    if (status >= 300 || tag.empty()) return verdict::no_dialog;
    if (status < 200) {
        if (status == 100) return verdict::no_dialog;  // hop by hop, never a dialog (§8.2.6.1)
        if (std::find(early_tags_.begin(), early_tags_.end(), tag) == early_tags_.end()) {
            early_tags_.emplace_back(tag);
        }
        return verdict::early;
    }
    const std::string_view confirmed_tag = state_.remote_tag();
    if (confirmed_tag.empty()) {  // not confirmed yet
        update_uac_dialog(state_, response);
        return verdict::confirmed;
    }
    if (tag == confirmed_tag) return verdict::retransmission;
    if (std::find(fork_tags_.begin(), fork_tags_.end(), tag) != fork_tags_.end()) return verdict::retransmission;
    fork_tags_.emplace_back(tag);
    return verdict::other_fork;
}

void dialog_set::settle() noexcept {
    std::vector<std::string>().swap(early_tags_);
    std::vector<std::string>().swap(fork_tags_);
}

dialog_state dialog_set::fork_dialog(const sip::message& response) const {
    dialog_state d = state_;
    update_uac_dialog(d, response);
    d.remote_cseq.reset();  // the confirmed dialog's peer is not this one
    // Its CSeq space is the INVITE's: the BYE follows the INVITE's number (§12.2.1.1).
    d.local_cseq = std::max(d.local_cseq, response.cseq().seq);
    return d;
}

}  // namespace b2b::dialog
