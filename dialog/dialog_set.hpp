// The dialogs one INVITE we sent may create: early dialogs per To tag, one confirmed (§12.1.2, §13.2.2.4).
#pragma once

#include "dialog/dialog.hpp"
#include "sip/message/message.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace b2b::dialog {

/// Every response to one INVITE we sent, sorted into dialogs. A forking proxy may answer with
/// several To tags: each 1xx with a new tag is an early dialog of its own, the first 2xx
/// confirms its dialog, and a 2xx from any other fork must be ACKed and then ended with a BYE
/// (RFC 3261 §13.2.2.4), since we keep one call per INVITE. (libre sip/dialog.c, resip
/// DialogSet: the same split.)
///
/// Sans-I/O: it sorts and builds dialog state; its owner sends. It holds one dialog state:
/// the dialog as the INVITE made it (Call-ID, our tag and From, the To without tag, the
/// Request-URI as remote target, our identity and the flow) until the first 2xx, which
/// completes that same state into the confirmed dialog (§12.1.2: the Call-ID, our tag and
/// From stay the INVITE's). A call is never two dialog states at once, and nothing of its setup
/// outlives the 2xx but the tags below.
class dialog_set {
public:
    explicit dialog_set(dialog_state initial) : state_(std::move(initial)) {}

    enum class verdict : std::uint8_t {
        no_dialog,       ///< a response that makes no dialog (100, a 1xx without To tag, a non-2xx final)
        early,           ///< a 1xx with a To tag: that early dialog is new or updated
        confirmed,       ///< the first 2xx: `confirmed()` is its dialog
        retransmission,  ///< the confirmed dialog's 2xx again: re-send the ACK
        other_fork,      ///< a 2xx with another To tag after the first: ACK it, then BYE it
    };

    /// Sorts one response to the INVITE (every provisional and every 2xx, retransmissions too).
    verdict on_response(const sip::message& response);

    /// Our side of the dialog: as the INVITE made it until the first 2xx, then the confirmed
    /// dialog. Its Call-ID, our tag and the flow the INVITE went on are the same in both.
    const dialog_state& state() const noexcept { return state_; }

    /// The dialog the first 2xx confirmed (valid after `confirmed`).
    const dialog_state& confirmed() const noexcept { return state_; }
    dialog_state& confirmed() noexcept { return state_; }
    bool is_confirmed() const noexcept { return !state_.remote_tag().empty(); }

    /// The dialog of a 2xx from another fork, to ACK and end it (§13.2.2.4): our Call-ID, tag
    /// and From (the confirmed dialog's, which are the INVITE's), the remote tag, target and
    /// route set of that response, and no request of the peer's seen yet. Its CSeq numbers
    /// follow the INVITE's (§12.2.1.1). Valid once confirmed.
    dialog_state fork_dialog(const sip::message& response) const;

    /// Early dialogs seen so far (one per To tag).
    std::size_t early_dialogs() const noexcept { return early_tags_.size(); }

    /// The INVITE's transaction is over (RFC 6026 §7.2, Timer M): no response to it comes any
    /// more, so the tags of its early dialogs and other forks are let go. The confirmed dialog
    /// stays: a call may last for hours.
    void settle() noexcept;

private:
    dialog_state state_;
    std::vector<std::string> early_tags_;
    std::vector<std::string> fork_tags_;  // 2xx from other forks already ended
};

}  // namespace b2b::dialog
