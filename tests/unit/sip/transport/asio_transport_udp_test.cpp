// The Asio transport over UDP on real loopback sockets: datagrams read and answered in batches
// arrive whole, in order, at the right peer; oversized datagrams and keep-alives go no further.
#include "sip/transport/asio_transport.hpp"
#include "tests/unit/sip/transport/transport_thread.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace b2b::sip {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

// Answers every datagram with "echo " and its bytes, on the flow it came on.
class echo final : public transport_user {
public:
    void on_bytes(std::string_view bytes, const flow& f, framing) override {
        {
            std::lock_guard lock(mutex_);
            seen_.emplace_back(bytes);
        }
        if (owner != nullptr) owner->send(f, "echo " + std::string(bytes));
    }
    void on_framing_error(std::string_view, const flow&, const parse_error&) override {}
    void on_flow_closed(const flow&, boost::system::error_code) override {}

    std::vector<std::string> seen() {
        std::lock_guard lock(mutex_);
        return seen_;
    }

    asio_transport* owner = nullptr;

private:
    std::mutex mutex_;
    std::vector<std::string> seen_;
};

class udp_transport {
public:
    explicit udp_transport(asio_transport_options o = {}, endpoint at = {asio::ip::make_address("127.0.0.1"), 0})
        : transport_(io_, o) {
        user.owner = &transport_;
        transport_.set_user(user);
        EXPECT_FALSE(transport_.listen(transport_kind::udp, at));
        local = transport_.listening().front().second;
    }
    ~udp_transport() {
        if (thread_.joinable()) stop_transport_thread(io_, transport_, guard_, thread_);
    }
    void start() {
        transport_.start();
        thread_ = std::thread([this] { io_.run(); });
    }
    boost::system::error_code send_from_loop(const flow& f, std::string bytes) {
        std::promise<boost::system::error_code> done;
        asio::post(io_, [&] { done.set_value(transport_.send(f, bytes)); });
        return done.get_future().get();
    }

    echo user;
    endpoint local;

private:
    asio::io_context io_;
    work_guard guard_{io_.get_executor()};
    asio_transport transport_;
    std::thread thread_;
};

// A plain client socket with a deadline on every read.
struct client {
    asio::io_context io;
    udp::socket socket{io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};

    std::string receive() {
        pollfd p{socket.native_handle(), POLLIN, 0};
        if (::poll(&p, 1, 3000) != 1) return {};
        std::string buffer(70000, '\0');
        udp::endpoint from;
        const std::size_t n = socket.receive_from(asio::buffer(buffer), from);
        buffer.resize(n);
        return buffer;
    }
};

TEST(AsioTransportUdp, ABurstReadInBatchesIsAnsweredWholeAndInOrder) {
    udp_transport t;
    client c;
    c.socket.set_option(asio::socket_base::receive_buffer_size(4 * 1024 * 1024));
    const udp::endpoint to(t.local.address, t.local.port);
    // Queued before the loop runs: the first readiness finds the whole burst, read 32 at a time.
    constexpr int burst = 300;
    for (int i = 0; i < burst; ++i) c.socket.send_to(asio::buffer("m" + std::to_string(i)), to);
    t.start();
    for (int i = 0; i < burst; ++i) {
        ASSERT_EQ(c.receive(), "echo m" + std::to_string(i)) << "answer " << i;
    }
    EXPECT_EQ(t.user.seen().size(), static_cast<std::size_t>(burst));
}

TEST(AsioTransportUdp, TwoPeersInOneBatchEachGetTheirOwnAnswers) {
    udp_transport t;
    client alice, bob;
    const udp::endpoint to(t.local.address, t.local.port);
    for (int i = 0; i < 10; ++i) {
        alice.socket.send_to(asio::buffer("alice " + std::to_string(i)), to);
        bob.socket.send_to(asio::buffer("bob " + std::to_string(i)), to);
    }
    t.start();
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(alice.receive(), "echo alice " + std::to_string(i));
        EXPECT_EQ(bob.receive(), "echo bob " + std::to_string(i));
    }
}

TEST(AsioTransportUdp, OversizedDatagramsAndKeepAlivesGoNoFurther) {
    asio_transport_options o;
    o.max_message_size = 1000;
    udp_transport t(o);
    client c;
    const udp::endpoint to(t.local.address, t.local.port);
    c.socket.send_to(asio::buffer(std::string(1001, 'x')), to);
    c.socket.send_to(asio::buffer(std::string("\r\n\r\n")), to);
    c.socket.send_to(asio::buffer(std::string(1000, 'y')), to);  // at the limit: accepted
    t.start();
    EXPECT_EQ(c.receive(), "echo " + std::string(1000, 'y'));
    ASSERT_EQ(t.user.seen().size(), 1u);
}

TEST(AsioTransportUdp, ASendOutsideABatchLeavesAtOnce) {
    udp_transport t;
    t.start();
    client c;
    const auto local = c.socket.local_endpoint();
    const flow f{transport_kind::udp, t.local, {local.address(), local.port()}, 0};
    ASSERT_FALSE(t.send_from_loop(f, "unsolicited"));
    EXPECT_EQ(c.receive(), "unsolicited");
}

TEST(AsioTransportUdp, WorkersShareAPortAndEachPeerKeepsToOneOfThem) {
    asio_transport_options o;
    o.reuse_port = true;
    udp_transport first(o);
    udp_transport second(o, first.local);
    ASSERT_EQ(second.local, first.local);
    {
        // A socket that did not ask to share cannot take the port from the group, nor join it.
        asio::io_context io;
        udp::socket plain(io);
        plain.open(udp::v4());
        boost::system::error_code ec;
        plain.bind(udp::endpoint(first.local.address, first.local.port), ec);
        EXPECT_EQ(ec, asio::error::address_in_use);
    }
    first.start();
    second.start();
    constexpr int peers = 16;
    constexpr int each = 5;
    std::vector<std::unique_ptr<client>> clients;
    const udp::endpoint to(first.local.address, first.local.port);
    for (int p = 0; p < peers; ++p) {
        clients.push_back(std::make_unique<client>());
        for (int i = 0; i < each; ++i) {
            clients.back()->socket.send_to(asio::buffer("p" + std::to_string(p) + " " + std::to_string(i)), to);
        }
    }
    for (int p = 0; p < peers; ++p) {
        for (int i = 0; i < each; ++i) {
            ASSERT_EQ(clients[p]->receive(), "echo p" + std::to_string(p) + " " + std::to_string(i));
        }
    }
    // The kernel picks a socket by both ends' addresses and ports: one peer, one reader, in order.
    const auto a = first.user.seen();
    const auto b = second.user.seen();
    EXPECT_EQ(a.size() + b.size(), static_cast<std::size_t>(peers * each));
    for (int p = 0; p < peers; ++p) {
        const std::string prefix = "p" + std::to_string(p) + " ";
        const auto in = [&](const std::vector<std::string>& seen) {
            return std::count_if(seen.begin(), seen.end(), [&](const std::string& m) { return m.starts_with(prefix); });
        };
        EXPECT_TRUE((in(a) == each && in(b) == 0) || (in(a) == 0 && in(b) == each)) << prefix;
    }
}

TEST(AsioTransportUdp, AGroupCannotTakeAPortHeldWithoutSharing) {
    udp_transport plain;
    asio::io_context io;
    asio_transport_options o;
    o.reuse_port = true;
    asio_transport shared(io, o);
    EXPECT_EQ(shared.listen(transport_kind::udp, plain.local), asio::error::address_in_use);
}

}  // namespace
}  // namespace b2b::sip
