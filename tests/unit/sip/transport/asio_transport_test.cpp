// The Asio transport's connection budgets and its closing of peers that never read, on real
// loopback sockets. The transport runs on its own thread; the test drives plain blocking sockets.
#include "sip/transport/asio_transport.hpp"
#include "sip/transport/connection_budget.hpp"
#include "tests/unit/sip/transport/transport_thread.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace b2b::sip {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

const std::string options_request =
    "OPTIONS sip:b2bua@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKx\r\n"
    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b2bua@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
    "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

// Records what the transport reports; optionally answers each message with `reply`.
class recorder final : public transport_user, public connection_observer {
public:
    void on_bytes(std::string_view, const flow& f, framing) override {
        {
            std::lock_guard lock(mutex_);
            sources_.push_back(f.remote);
        }
        if (!reply.empty() && owner != nullptr) owner->send(f, reply);
    }
    void on_framing_error(std::string_view, const flow&, const parse_error&) override {}
    void on_flow_closed(const flow&, boost::system::error_code) override { ++flows_closed; }

    void on_connection_opened(transport_kind, connection_direction d) override { ++opened[static_cast<int>(d)]; }
    void on_connection_refused(transport_kind, connection_refusal r) override { ++refused[static_cast<int>(r)]; }
    void on_connection_dropped(transport_kind, connection_close c) override { ++dropped[static_cast<int>(c)]; }

    std::vector<endpoint> sources() {
        std::lock_guard lock(mutex_);
        return sources_;
    }

    asio_transport* owner = nullptr;
    std::string reply;
    std::atomic<int> flows_closed{0};
    std::array<std::atomic<int>, 2> opened{};
    std::array<std::atomic<int>, 5> refused{};
    std::array<std::atomic<int>, 4> dropped{};

private:
    std::mutex mutex_;
    std::vector<endpoint> sources_;
};

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return done();
}

// The transport listening on 127.0.0.1 (TCP, a free port) on a thread of its own.
class running_transport {
public:
    explicit running_transport(asio_transport_options o) : transport_(io_, o) {
        rec.owner = &transport_;
        transport_.set_user(rec);
        transport_.set_observer(rec);
        EXPECT_FALSE(transport_.listen(transport_kind::tcp, {asio::ip::make_address("127.0.0.1"), 0}));
        port = transport_.listening().front().second.port;
        transport_.start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~running_transport() { stop_transport_thread(io_, transport_, guard_, thread_); }

    // Runs `f` on the transport's thread and returns its result.
    template <class F>
    auto on_io(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        asio::post(io_, [&task] { task(); });
        return result.get();
    }

    recorder rec;
    std::uint16_t port = 0;

private:
    asio::io_context io_;
    work_guard guard_{io_.get_executor()};
    asio_transport transport_;
    std::thread thread_;

public:
    asio_transport& transport() { return transport_; }
};

tcp::socket connect_from(asio::io_context& io, const char* local, std::uint16_t port, int receive_buffer = 0) {
    tcp::socket s(io);
    s.open(tcp::v4());
    if (receive_buffer > 0) s.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    s.bind({asio::ip::make_address(local), 0});
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    return s;
}

// Whether the peer closed `s` within `limit` (EOF or reset on read).
bool closed_by_peer(tcp::socket& s, std::chrono::milliseconds limit) {
    pollfd p{s.native_handle(), POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::poll(&p, 1, 20) > 0) {
            char buf[4096];
            boost::system::error_code ec;
            const std::size_t n = s.read_some(asio::buffer(buf), ec);
            if (ec) return true;
            (void)n;  // data (a pong, an answer): keep watching
        }
    }
    return false;
}

TEST(asio_transport, one_source_over_its_share_is_refused_and_another_source_still_gets_in) {
    running_transport t({.max_inbound_connections = 100, .max_connections_per_source = 2});
    asio::io_context client;
    auto first = connect_from(client, "127.0.0.5", t.port);
    auto second = connect_from(client, "127.0.0.5", t.port);
    ASSERT_TRUE(eventually([&] { return t.rec.opened[0] == 2; }));
    auto third = connect_from(client, "127.0.0.5", t.port);
    EXPECT_TRUE(closed_by_peer(third, 2s)) << "the third connection from one address is closed at once";
    EXPECT_TRUE(eventually([&] { return t.rec.refused[static_cast<int>(connection_refusal::source_limit)] == 1; }));

    auto other = connect_from(client, "127.0.0.6", t.port);
    asio::write(other, asio::buffer(options_request));
    ASSERT_TRUE(eventually([&] { return !t.rec.sources().empty(); }));
    EXPECT_EQ(t.rec.sources().front().address, asio::ip::make_address("127.0.0.6"));
    EXPECT_EQ(t.on_io([&] { return t.transport().connections(connection_direction::inbound); }), 3u);
    EXPECT_FALSE(closed_by_peer(first, 50ms)) << "connections within the share stay";
}

TEST(asio_transport, transports_sharing_a_budget_count_one_sources_connections_together) {
    // Two workers' transports (each its own listener here): a source's share holds for both.
    auto budget = std::make_shared<connection_budget>(connection_budget::limits{100, 3, 10});
    running_transport a({.budget = budget});
    running_transport b({.budget = budget});
    asio::io_context client;
    auto a1 = connect_from(client, "127.0.0.5", a.port);
    auto a2 = connect_from(client, "127.0.0.5", a.port);
    ASSERT_TRUE(eventually([&] { return a.rec.opened[0] == 2; }));
    auto b1 = connect_from(client, "127.0.0.5", b.port);
    ASSERT_TRUE(eventually([&] { return b.rec.opened[0] == 1; }));
    auto b2 = connect_from(client, "127.0.0.5", b.port);
    EXPECT_TRUE(closed_by_peer(b2, 2s)) << "the fourth connection from one address, the second on b, is over the share";
    EXPECT_TRUE(eventually([&] { return b.rec.refused[static_cast<int>(connection_refusal::source_limit)] == 1; }));
    EXPECT_EQ(budget->inbound_from(asio::ip::make_address("127.0.0.5")), 3u);
    EXPECT_EQ(a.on_io([&] { return a.transport().connections(connection_direction::inbound); }), 3u);
    // One closed on a frees a place for b.
    a1.close();
    ASSERT_TRUE(eventually([&] { return a.rec.flows_closed == 1; }));
    auto b3 = connect_from(client, "127.0.0.5", b.port);
    ASSERT_TRUE(eventually([&] { return b.rec.opened[0] == 2; }));
    EXPECT_FALSE(closed_by_peer(b3, 50ms));
    EXPECT_EQ(budget->inbound(), 3u);
}

TEST(asio_transport, a_source_the_admission_check_refuses_is_closed_at_accept_and_close_from_ends_a_sources_connections) {
    running_transport t({});
    t.on_io([&] {
        t.transport().set_admission([](const endpoint& remote) { return remote.address != asio::ip::make_address("127.0.0.66"); });
        return 0;
    });
    asio::io_context client;
    auto banned = connect_from(client, "127.0.0.66", t.port);
    EXPECT_TRUE(closed_by_peer(banned, 2s)) << "a refused source's connection is closed at accept";
    EXPECT_TRUE(eventually([&] { return t.rec.refused[static_cast<int>(connection_refusal::banned)] == 1; }));
    EXPECT_EQ(t.rec.opened[0], 0) << "nor does it count as opened";

    auto a1 = connect_from(client, "127.0.0.67", t.port);
    auto a2 = connect_from(client, "127.0.0.67", t.port);
    auto pbx = connect_from(client, "127.0.0.5", t.port);
    ASSERT_TRUE(eventually([&] { return t.rec.opened[0] == 3; }));
    EXPECT_EQ(t.on_io([&] { return t.transport().close_from(asio::ip::make_address("::ffff:127.0.0.67"), connection_close::banned); }),
              2u);
    EXPECT_TRUE(closed_by_peer(a1, 2s));
    EXPECT_TRUE(closed_by_peer(a2, 2s));
    EXPECT_EQ(t.rec.dropped[static_cast<int>(connection_close::banned)], 2);
    EXPECT_FALSE(closed_by_peer(pbx, 50ms)) << "another source's connection stays";
    EXPECT_EQ(t.on_io([&] { return t.transport().close_from(asio::ip::make_address("127.0.0.67"), connection_close::banned); }), 0u);
}

TEST(asio_transport, a_full_inbound_budget_leaves_outbound_connections_possible) {
    running_transport t({.max_inbound_connections = 2, .max_connections_per_source = 0, .max_outbound_connections = 4});
    asio::io_context client;
    auto a = connect_from(client, "127.0.0.5", t.port);
    auto b = connect_from(client, "127.0.0.6", t.port);
    ASSERT_TRUE(eventually([&] { return t.rec.opened[0] == 2; }));
    auto c = connect_from(client, "127.0.0.7", t.port);
    EXPECT_TRUE(closed_by_peer(c, 2s));
    EXPECT_TRUE(eventually([&] { return t.rec.refused[static_cast<int>(connection_refusal::limit)] == 1; }));

    // A provider listening on 127.0.0.8: we can still open a connection to it and send.
    tcp::acceptor provider(client, {asio::ip::make_address("127.0.0.8"), 0});
    const endpoint provider_ep{asio::ip::make_address("127.0.0.8"), provider.local_endpoint().port()};
    auto sent = t.on_io([&]() -> boost::system::error_code {
        auto f = t.transport().flow_to(transport_kind::tcp, provider_ep);
        if (!f) return f.error();
        return t.transport().send(*f, options_request);
    });
    EXPECT_FALSE(sent) << sent.message();
    tcp::socket at_provider = provider.accept();
    std::string got(options_request.size(), '\0');
    asio::read(at_provider, asio::buffer(got));
    EXPECT_EQ(got, options_request);
    EXPECT_EQ(t.rec.opened[1], 1);
}

TEST(asio_transport, outbound_budget_is_bounded_too) {
    running_transport t({.max_outbound_connections = 1});
    asio::io_context client;
    tcp::acceptor p1(client, {asio::ip::make_address("127.0.0.8"), 0});
    tcp::acceptor p2(client, {asio::ip::make_address("127.0.0.9"), 0});
    auto first = t.on_io([&] {
        return t.transport().flow_to(transport_kind::tcp, {asio::ip::make_address("127.0.0.8"), p1.local_endpoint().port()});
    });
    EXPECT_TRUE(first.has_value());
    auto second = t.on_io([&] {
        return t.transport().flow_to(transport_kind::tcp, {asio::ip::make_address("127.0.0.9"), p2.local_endpoint().port()});
    });
    EXPECT_FALSE(second.has_value());
    EXPECT_EQ(t.rec.refused[static_cast<int>(connection_refusal::outbound_limit)], 1);
}

TEST(asio_transport, a_peer_that_never_reads_is_closed_once_its_queue_outgrows_the_bound) {
    running_transport t({.max_queued_bytes = 64 * 1024});
    t.rec.reply = std::string(32 * 1024, 'x');  // each request answered with 32 KiB
    asio::io_context client;
    auto s = connect_from(client, "127.0.0.5", t.port, 4096);
    // Kernel buffers on loopback take a few MiB before our queue grows: 400 answers are 12.5 MiB.
    std::string burst;
    for (int i = 0; i < 400; ++i) burst += options_request;
    boost::system::error_code ec;
    asio::write(s, asio::buffer(burst), ec);  // may fail once we close: fine
    ASSERT_TRUE(eventually([&] { return t.rec.dropped[static_cast<int>(connection_close::slow_reader)] == 1; }, 10s));
    EXPECT_TRUE(eventually([&] { return t.rec.flows_closed == 1; }));
    EXPECT_EQ(t.on_io([&] { return t.transport().connections(connection_direction::inbound); }), 0u);
}

TEST(asio_transport, a_write_that_stalls_past_the_write_timeout_closes_the_connection) {
    running_transport t({.max_queued_bytes = 64 * 1024 * 1024, .write_timeout = 1s});
    t.rec.reply = std::string(32 * 1024, 'x');
    asio::io_context client;
    auto s = connect_from(client, "127.0.0.5", t.port, 4096);
    std::string burst;
    for (int i = 0; i < 400; ++i) burst += options_request;
    boost::system::error_code ec;
    asio::write(s, asio::buffer(burst), ec);
    ASSERT_TRUE(eventually([&] { return t.rec.dropped[static_cast<int>(connection_close::slow_reader)] == 1; }, 10s))
        << "the queue is under its bound, but nothing was read for a whole write timeout";
}

TEST(asio_transport, a_connect_that_gets_no_answer_is_given_up_after_the_connect_timeout) {
    running_transport t({.connect_timeout = 1s});
    asio::io_context client;
    // A provider that accepts nothing, its accept queue full: Linux drops further SYNs, so a
    // connect to it neither succeeds nor fails (as towards an address that drops packets).
    tcp::acceptor silent(client);
    silent.open(tcp::v4());
    silent.bind({asio::ip::make_address("127.0.0.8"), 0});
    silent.listen(0);
    const endpoint silent_ep{asio::ip::make_address("127.0.0.8"), silent.local_endpoint().port()};
    std::vector<tcp::socket> fillers;
    for (int i = 0; i < 3; ++i) {
        // Asio starts a connect when it is asked (the handler would run only if `client` ran).
        fillers.emplace_back(client);
        fillers.back().async_connect({silent_ep.address, silent_ep.port}, [](boost::system::error_code) {});
    }
    std::this_thread::sleep_for(100ms);
    auto sent = t.on_io([&]() -> boost::system::error_code {
        auto f = t.transport().flow_to(transport_kind::tcp, silent_ep);
        if (!f) return f.error();
        return t.transport().send(*f, options_request);
    });
    ASSERT_FALSE(sent) << "queued until the connection is up";
    EXPECT_FALSE(eventually([&] { return t.rec.flows_closed == 1; }, 500ms)) << "still connecting";
    EXPECT_TRUE(eventually([&] { return t.rec.flows_closed == 1; }, 3s)) << "given up after about 1 s";
    EXPECT_EQ(t.on_io([&] { return t.transport().connections(connection_direction::outbound); }), 0u);
    EXPECT_EQ(t.rec.dropped[static_cast<int>(connection_close::idle)], 0) << "a failed connect, not an idle close";
}

TEST(asio_transport, an_idle_connection_is_closed_and_counted) {
    running_transport t({.tcp_idle_timeout = 1s});
    asio::io_context client;
    auto s = connect_from(client, "127.0.0.5", t.port);
    EXPECT_TRUE(closed_by_peer(s, 5s));
    EXPECT_TRUE(eventually([&] { return t.rec.dropped[static_cast<int>(connection_close::idle)] == 1; }));
    EXPECT_TRUE(eventually([&] { return t.on_io([&] { return t.transport().connections(connection_direction::inbound); }) == 0; }));
}

}  // namespace
}  // namespace b2b::sip
