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
/// Sans-I/O: it sorts and builds dialog state; its owner sends. It keeps no copy of the dialog
/// as the INVITE made it (`initial`: Call-ID, our tag and From, the To without tag, the
/// Request-URI as remote target, our identity and the flow): its owner has that already and
/// passes it in, and a held call is the smaller by one dialog state.
class dialog_set {
public:

    enum class verdict : std::uint8_t {
        no_dialog,       ///< a response that makes no dialog (100, a 1xx without To tag, a non-2xx final)
        early,           ///< a 1xx with a To tag: that early dialog is new or updated
        confirmed,       ///< the first 2xx: `confirmed()` is its dialog
        retransmission,  ///< the confirmed dialog's 2xx again: re-send the ACK
        other_fork,      ///< a 2xx with another To tag after the first: ACK it, then BYE it
    };

    /// Sorts one response to the INVITE (every provisional and every 2xx, retransmissions too).
    verdict on_response(const dialog_state& initial, const sip::message& response);

    /// The dialog the first 2xx confirmed (valid after `confirmed`).
    const dialog_state& confirmed() const noexcept { return confirmed_; }
    dialog_state& confirmed() noexcept { return confirmed_; }
    bool is_confirmed() const noexcept { return !confirmed_.remote_tag.empty(); }

    /// The dialog of a 2xx from another fork, to ACK and end it (§13.2.2.4): the remote tag,
    /// target and route set of that response, our Call-ID and tag.
    static dialog_state fork_dialog(const dialog_state& initial, const sip::message& response);

    /// Early dialogs seen so far (one per To tag).
    std::size_t early_dialogs() const noexcept { return early_tags_.size(); }

    /// The INVITE's transaction is over (RFC 6026 §7.2, Timer M): no response to it comes any
    /// more, so the tags of its early dialogs and other forks are let go. The confirmed dialog
    /// stays: a call may last for hours.
    void settle() noexcept;

private:
    dialog_state confirmed_;
    std::vector<std::string> early_tags_;
    std::vector<std::string> fork_tags_;  // 2xx from other forks already ended
};

}  // namespace b2b::dialog
