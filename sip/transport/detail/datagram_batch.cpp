// Many UDP datagrams per system call: recvmmsg(2) in, sendmmsg(2) out (Linux).
#include "sip/transport/detail/datagram_batch.hpp"

#include <boost/system/errc.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace b2b::sip::detail {

namespace {

boost::system::error_code last_errno() { return {errno, boost::system::system_category()}; }

}  // namespace

datagram_receiver::datagram_receiver(std::size_t slots, std::size_t slot_size)
    : slot_size_(slot_size),
      buffer_(slots * slot_size),
      vectors_(slots),
      sources_(slots),
      headers_(slots) {}

std::size_t datagram_receiver::receive(int fd, boost::system::error_code& ec) {
    ec.clear();
    // recvmmsg writes the lengths and flags back: every slot is set up again before each call.
    for (std::size_t i = 0; i < headers_.size(); ++i) {
        vectors_[i] = {buffer_.data() + i * slot_size_, slot_size_};
        msghdr& h = headers_[i].msg_hdr;
        h = {};
        h.msg_name = &sources_[i];
        h.msg_namelen = sizeof(sockaddr_storage);
        h.msg_iov = &vectors_[i];
        h.msg_iovlen = 1;
        headers_[i].msg_len = 0;
    }
    int n = 0;
    do {
        n = ::recvmmsg(fd, headers_.data(), static_cast<unsigned>(headers_.size()), MSG_DONTWAIT, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        ec = last_errno();
        return 0;
    }
    if (n == 0) {
        // Not seen on a UDP socket (an empty queue is -1/EAGAIN), but read as that: nothing now.
        ec = boost::system::error_code(EAGAIN, boost::system::system_category());
        return 0;
    }
    return static_cast<std::size_t>(n);
}

std::string_view datagram_receiver::bytes(std::size_t i) const noexcept {
    const std::size_t n = std::min<std::size_t>(headers_[i].msg_len, slot_size_);
    return {buffer_.data() + i * slot_size_, n};
}

bool datagram_receiver::oversized(std::size_t i) const noexcept {
    return (headers_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 || headers_[i].msg_len >= slot_size_;
}

datagram_sender::datagram_sender(std::size_t slots, std::size_t octets)
    : buffer_(octets), vectors_(slots), destinations_(slots), headers_(slots) {}

bool datagram_sender::queue(std::string_view bytes, const sockaddr* to, socklen_t to_length) {
    if (count_ == headers_.size() || bytes.size() > buffer_.size() - used_ ||
        to_length > sizeof(sockaddr_storage)) {
        return false;
    }
    std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
    std::memcpy(&destinations_[count_], to, to_length);
    vectors_[count_] = {buffer_.data() + used_, bytes.size()};
    msghdr& h = headers_[count_].msg_hdr;
    h = {};
    h.msg_name = &destinations_[count_];
    h.msg_namelen = to_length;
    h.msg_iov = &vectors_[count_];
    h.msg_iovlen = 1;
    used_ += bytes.size();
    ++count_;
    return true;
}

datagram_sender::flush_result datagram_sender::flush(int fd) {
    flush_result r;
    std::size_t next = 0;
    while (next < count_) {
        const int n = ::sendmmsg(fd, headers_.data() + next, static_cast<unsigned>(count_ - next), MSG_DONTWAIT);
        if (n > 0) {
            next += static_cast<std::size_t>(n);
            r.sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        // The datagram at `next` was refused (sendmmsg reports the error of the first one it
        // could not send): skip it, the others may still go.
        r.last_error = n < 0 ? last_errno() : boost::system::errc::make_error_code(boost::system::errc::io_error);
        ++r.lost;
        ++next;
    }
    count_ = 0;
    used_ = 0;
    return r;
}

}  // namespace b2b::sip::detail
