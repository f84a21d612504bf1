// recvmmsg and sendmmsg batches on real loopback UDP sockets.
#include "sip/transport/detail/datagram_batch.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace b2b::sip::detail {
namespace {

// A non-blocking UDP socket bound to 127.0.0.1 on a free port; closed with the object.
class udp_socket {
public:
    udp_socket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        socklen_t n = sizeof address_;
        EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &n), 0);
    }
    ~udp_socket() { ::close(fd_); }
    udp_socket(const udp_socket&) = delete;
    udp_socket& operator=(const udp_socket&) = delete;

    int fd() const { return fd_; }
    const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }
    std::uint16_t port() const { return ntohs(address_.sin_port); }

    void send_to(const udp_socket& to, const std::string& bytes) const {
        ASSERT_EQ(::sendto(fd_, bytes.data(), bytes.size(), 0, to.address(), sizeof(sockaddr_in)),
                  static_cast<ssize_t>(bytes.size()));
    }
    // The next datagram, waiting up to 2 s; empty when none came.
    std::string receive() const {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 2000) != 1) return {};
        std::string buffer(70000, '\0');
        const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
        buffer.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return buffer;
    }
    void wait_readable() const {
        pollfd p{fd_, POLLIN, 0};
        ASSERT_EQ(::poll(&p, 1, 2000), 1);
    }

private:
    int fd_;
    sockaddr_in address_{};
};

std::uint16_t port_of(const sockaddr* a) { return ntohs(reinterpret_cast<const sockaddr_in*>(a)->sin_port); }

TEST(DatagramReceiver, ReadsWhatTheSocketHoldsInOneCallWithEachSource) {
    udp_socket server, alice, bob;
    alice.send_to(server, "one");
    bob.send_to(server, "two");
    alice.send_to(server, "three");
    server.wait_readable();

    datagram_receiver r(8, 1500);
    boost::system::error_code ec;
    std::size_t n = 0;
    // Loopback delivers synchronously on send, so all three are queued already.
    n = r.receive(server.fd(), ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_EQ(n, 3u);
    EXPECT_EQ(r.bytes(0), "one");
    EXPECT_EQ(r.bytes(1), "two");
    EXPECT_EQ(r.bytes(2), "three");
    EXPECT_EQ(port_of(r.source(0)), alice.port());
    EXPECT_EQ(port_of(r.source(1)), bob.port());
    EXPECT_EQ(r.source_length(0), sizeof(sockaddr_in));
    EXPECT_FALSE(r.oversized(0));

    EXPECT_EQ(r.receive(server.fd(), ec), 0u);
    EXPECT_EQ(ec, boost::system::errc::resource_unavailable_try_again);
}

TEST(DatagramReceiver, ReadsAtMostItsSlotsAndTheRestNextTime) {
    udp_socket server, client;
    for (int i = 0; i < 5; ++i) client.send_to(server, "m" + std::to_string(i));
    server.wait_readable();
    datagram_receiver r(2, 100);
    boost::system::error_code ec;
    std::vector<std::string> got;
    for (int call = 0; call < 3; ++call) {
        const std::size_t n = r.receive(server.fd(), ec);
        ASSERT_FALSE(ec);
        EXPECT_EQ(n, call < 2 ? 2u : 1u);
        for (std::size_t i = 0; i < n; ++i) got.emplace_back(r.bytes(i));
    }
    EXPECT_EQ(got, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
}

TEST(DatagramReceiver, TellsAnOversizedDatagramFromOneThatFits) {
    udp_socket server, client;
    client.send_to(server, std::string(99, 'a'));   // fits a 100-octet slot with room to spare
    client.send_to(server, std::string(100, 'b'));  // fills the slot: the limit was 99
    client.send_to(server, std::string(5000, 'c'));
    server.wait_readable();
    datagram_receiver r(4, 100);
    boost::system::error_code ec;
    ASSERT_EQ(r.receive(server.fd(), ec), 3u);
    EXPECT_FALSE(r.oversized(0));
    EXPECT_EQ(r.bytes(0).size(), 99u);
    EXPECT_TRUE(r.oversized(1));
    EXPECT_TRUE(r.oversized(2));
    EXPECT_EQ(r.bytes(2).size(), 100u);  // cut to the slot, never past it
}

TEST(DatagramSender, SendsWhatWaitsInOrderToEachDestination) {
    udp_socket server, alice, bob;
    datagram_sender s(8, 4096);
    EXPECT_TRUE(s.empty());
    ASSERT_TRUE(s.queue("to alice 1", alice.address(), sizeof(sockaddr_in)));
    ASSERT_TRUE(s.queue("to bob", bob.address(), sizeof(sockaddr_in)));
    std::string keep = "to alice 2";
    ASSERT_TRUE(s.queue(keep, alice.address(), sizeof(sockaddr_in)));
    keep.assign("overwritten");  // the queue holds its own copy
    EXPECT_EQ(s.waiting(), 3u);

    const auto r = s.flush(server.fd());
    EXPECT_EQ(r.sent, 3u);
    EXPECT_EQ(r.lost, 0u);
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(alice.receive(), "to alice 1");
    EXPECT_EQ(alice.receive(), "to alice 2");
    EXPECT_EQ(bob.receive(), "to bob");
}

TEST(DatagramSender, SaysWhenFullBySlotsOrByOctets) {
    udp_socket server, peer;
    datagram_sender by_slots(2, 4096);
    EXPECT_TRUE(by_slots.queue("a", peer.address(), sizeof(sockaddr_in)));
    EXPECT_TRUE(by_slots.queue("b", peer.address(), sizeof(sockaddr_in)));
    EXPECT_FALSE(by_slots.queue("c", peer.address(), sizeof(sockaddr_in)));
    EXPECT_EQ(by_slots.waiting(), 2u);

    datagram_sender by_octets(8, 10);
    EXPECT_TRUE(by_octets.queue("123456", peer.address(), sizeof(sockaddr_in)));
    EXPECT_FALSE(by_octets.queue("12345", peer.address(), sizeof(sockaddr_in)));
    EXPECT_TRUE(by_octets.queue("1234", peer.address(), sizeof(sockaddr_in)));
    EXPECT_EQ(by_octets.flush(server.fd()).sent, 2u);
    // Emptied by the flush: room again.
    EXPECT_TRUE(by_octets.queue("0123456789", peer.address(), sizeof(sockaddr_in)));
}

TEST(DatagramSender, SkipsADatagramTheKernelRefusesAndSendsTheOthers) {
    udp_socket server, peer;
    // An IPv6 destination on an IPv4 socket: refused by the kernel for that datagram alone.
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(9);
    v6.sin6_addr = in6addr_loopback;
    datagram_sender s(8, 4096);
    ASSERT_TRUE(s.queue("first", peer.address(), sizeof(sockaddr_in)));
    ASSERT_TRUE(s.queue("refused", reinterpret_cast<const sockaddr*>(&v6), sizeof v6));
    ASSERT_TRUE(s.queue("last", peer.address(), sizeof(sockaddr_in)));
    const auto r = s.flush(server.fd());
    EXPECT_EQ(r.sent, 2u);
    EXPECT_EQ(r.lost, 1u);
    EXPECT_TRUE(r.last_error);
    EXPECT_EQ(peer.receive(), "first");
    EXPECT_EQ(peer.receive(), "last");
}

}  // namespace
}  // namespace b2b::sip::detail
