// Many UDP datagrams per system call: recvmmsg(2) in, sendmmsg(2) out (Linux).
#pragma once

#include <boost/system/error_code.hpp>

#include <sys/socket.h>

#include <cstddef>
#include <string_view>
#include <vector>

namespace b2b::sip::detail {

/// Reads up to `slots` datagrams with one recvmmsg. A call costs 2-3 µs of kernel entry and
/// exit whether it brings one datagram or thirty; under load the socket holds several, and a
/// call's twenty-odd datagrams then cost a few system calls instead of twenty.
///
/// Each slot holds `slot_size` octets: one more than the largest message accepted, so that an
/// oversized datagram is recognised (`oversized`) rather than cut silently.
class datagram_receiver {
public:
    datagram_receiver(std::size_t slots, std::size_t slot_size);
    datagram_receiver(const datagram_receiver&) = delete;
    datagram_receiver& operator=(const datagram_receiver&) = delete;

    /// Reads what non-blocking socket `fd` holds, at most `slots()` datagrams, without waiting.
    /// The count read (at least 1), or the error: EAGAIN (asio::error::would_block) when it held
    /// none.
    /// The datagrams stay readable until the next call.
    std::size_t receive(int fd, boost::system::error_code& ec);

    std::size_t slots() const noexcept { return headers_.size(); }
    /// Datagram `i` of the last receive, cut to the slot when larger.
    std::string_view bytes(std::size_t i) const noexcept;
    /// Datagram `i` did not fit its slot: larger than the largest message accepted.
    bool oversized(std::size_t i) const noexcept;
    /// Who sent datagram `i`.
    const sockaddr* source(std::size_t i) const noexcept {
        return reinterpret_cast<const sockaddr*>(&sources_[i]);
    }
    socklen_t source_length(std::size_t i) const noexcept { return headers_[i].msg_hdr.msg_namelen; }

private:
    std::size_t slot_size_;
    std::vector<char> buffer_;  ///< slots * slot_size octets; only the pages written become resident
    std::vector<iovec> vectors_;
    std::vector<sockaddr_storage> sources_;
    std::vector<mmsghdr> headers_;
};

/// Holds datagrams back and sends them with one sendmmsg: while a batch of received datagrams is
/// handled, the answers they cause are queued, then leave together. The octets are copied, so
/// the caller's buffer may go at once.
class datagram_sender {
public:
    /// At most `slots` datagrams and `octets` octets wait at once (`queue` says when full).
    datagram_sender(std::size_t slots, std::size_t octets);
    datagram_sender(const datagram_sender&) = delete;
    datagram_sender& operator=(const datagram_sender&) = delete;

    /// False (nothing queued) when the datagram does not fit beside those waiting: flush first.
    /// A datagram larger than the whole queue never fits: send it on its own.
    bool queue(std::string_view bytes, const sockaddr* to, socklen_t to_length);
    bool empty() const noexcept { return count_ == 0; }
    std::size_t waiting() const noexcept { return count_; }

    struct flush_result {
        std::size_t sent = 0;
        std::size_t lost = 0;  ///< refused by the kernel (a full send buffer, an unreachable network)
        boost::system::error_code last_error;
    };
    /// Sends every waiting datagram on non-blocking socket `fd`, in order; the queue is empty after.
    /// A datagram the kernel refuses is skipped, and those after it still go: on UDP a lost
    /// datagram is the transaction layer's to retransmit (RFC 3261 §17.1.1.2, §17.2.1).
    flush_result flush(int fd);

private:
    std::vector<char> buffer_;
    std::size_t used_ = 0;
    std::size_t count_ = 0;
    std::vector<iovec> vectors_;
    std::vector<sockaddr_storage> destinations_;
    std::vector<mmsghdr> headers_;
};

}  // namespace b2b::sip::detail
