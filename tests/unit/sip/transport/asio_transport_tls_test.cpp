// SIP over TLS on real loopback sockets: a message and its answer on one verified connection,
// and connections refused when the peer's certificate does not verify.
#include "sip/transport/asio_transport.hpp"

#include "sip/transport/tls_context.hpp"
#include "test_certificates.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace b2b::sip {
namespace {

namespace asio = boost::asio;

// Records what a transport hands up.
struct recording_user final : transport_user {
    struct received {
        std::string bytes;
        flow f;
    };
    std::vector<received> messages;
    std::vector<std::pair<flow, boost::system::error_code>> closed;

    void on_bytes(std::string_view bytes, const flow& f, framing) override { messages.push_back({std::string(bytes), f}); }
    void on_framing_error(std::string_view, const flow&, const parse_error&) override {}
    void on_flow_closed(const flow& f, boost::system::error_code ec) override { closed.emplace_back(f, ec); }
};

struct recording_observer final : tls_observer {
    std::vector<std::pair<tls_direction, tls_failure>> failures;
    void on_handshake_failure(tls_direction d, tls_failure why) override { failures.emplace_back(d, why); }
};

// One side: a transport with a tls:// listener on 127.0.0.1 and its recorders.
struct side {
    side(asio::io_context& io, const test::issued& id, const test::issued& ca) : transport(io) {
        transport.set_user(user);
        transport.set_tls_observer(observer);
        transport.set_tls(load_tls({id.cert_file.string(), id.key_file.string(), ca.cert_file.string()}));
        EXPECT_FALSE(transport.listen(transport_kind::tls, {asio::ip::make_address("127.0.0.1"), 0}));
        transport.start();
    }
    endpoint local() const { return transport.listening().front().second; }

    recording_user user;
    recording_observer observer;
    asio_transport transport;
};

// Runs the loop until `done` or 5 s have passed (never sleeps on its own).
bool run_until(asio::io_context& io, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(std::chrono::milliseconds(20));
    }
    return done();
}

const std::string options =
    "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n"
    "To: <sip:127.0.0.1>\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nCall-ID: tls-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
const std::string ok =
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK1\r\nTo: <sip:127.0.0.1>;tag=2\r\n"
    "From: <sip:a@127.0.0.1>;tag=1\r\nCall-ID: tls-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

class asio_transport_tls : public ::testing::Test {
protected:
    test::pki_dir pki{"b2b-tls-transport"};
    test::issued ca = pki.make("ca", nullptr, 86400);
    test::issued server_id = pki.make("server", &ca, 86400, "IP:127.0.0.1,DNS:b2bua.test");
    test::issued client_id = pki.make("client", &ca, 86400, "IP:127.0.0.1");
    asio::io_context io;
};

TEST_F(asio_transport_tls, request_and_response_on_one_verified_connection) {
    side server(io, server_id, ca);
    side client(io, client_id, ca);
    auto f = client.transport.flow_to_host(transport_kind::tls, server.local(), "127.0.0.1");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->transport, transport_kind::tls);
    EXPECT_TRUE(f->reliable());
    EXPECT_NE(f->connection, 0u);
    // Queued until the handshake is done.
    ASSERT_FALSE(client.transport.send(*f, options));
    ASSERT_TRUE(run_until(io, [&] { return !server.user.messages.empty(); }));
    const auto& in = server.user.messages.front();
    EXPECT_EQ(in.bytes, options);
    EXPECT_EQ(in.f.transport, transport_kind::tls);
    EXPECT_EQ(in.f.remote.address, f->local.address);
    // The answer goes back on the connection the request came in on (RFC 3261 §18.2.2).
    ASSERT_FALSE(server.transport.send(in.f, ok));
    ASSERT_TRUE(run_until(io, [&] { return !client.user.messages.empty(); }));
    EXPECT_EQ(client.user.messages.front().bytes, ok);
    EXPECT_EQ(client.user.messages.front().f.connection, f->connection);
    // The same peer reuses the connection; a name the certificate carries verifies too.
    EXPECT_EQ(client.transport.flow_to_host(transport_kind::tls, server.local(), "127.0.0.1")->connection, f->connection);
    EXPECT_TRUE(client.observer.failures.empty());
    EXPECT_TRUE(server.observer.failures.empty());
    EXPECT_EQ(server.transport.tcp_connections(), 1u);
}

TEST_F(asio_transport_tls, a_certificate_from_another_ca_is_refused) {
    const auto other_ca = pki.make("other-ca", nullptr, 86400);
    const auto stranger = pki.make("stranger", &other_ca, 86400, "IP:127.0.0.1");
    side server(io, stranger, other_ca);
    side client(io, client_id, ca);
    auto f = client.transport.flow_to_host(transport_kind::tls, server.local(), "127.0.0.1");
    ASSERT_TRUE(f);
    ASSERT_FALSE(client.transport.send(*f, options));
    ASSERT_TRUE(run_until(io, [&] { return !client.user.closed.empty() && !server.observer.failures.empty(); }));
    EXPECT_EQ(client.user.closed.front().first.connection, f->connection);
    ASSERT_EQ(client.observer.failures.size(), 1u);
    EXPECT_EQ(client.observer.failures.front(), std::pair(tls_direction::outbound, tls_failure::verify_failed));
    // The server heard the client's alert: a failed handshake, not a verification of its own.
    EXPECT_EQ(server.observer.failures.front().first, tls_direction::inbound);
    EXPECT_TRUE(server.user.messages.empty());
    // Nothing is kept of the refused connection: the next flow is a new connection.
    auto again = client.transport.flow_to_host(transport_kind::tls, server.local(), "127.0.0.1");
    ASSERT_TRUE(again);
    EXPECT_NE(again->connection, f->connection);
}

TEST_F(asio_transport_tls, a_certificate_for_another_host_is_refused) {
    side server(io, server_id, ca);
    side client(io, client_id, ca);
    // The certificate names 127.0.0.1 and b2bua.test, not provider.test (RFC 5922 §7.2).
    auto f = client.transport.flow_to_host(transport_kind::tls, server.local(), "provider.test");
    ASSERT_TRUE(f);
    ASSERT_FALSE(client.transport.send(*f, options));
    ASSERT_TRUE(run_until(io, [&] { return !client.user.closed.empty(); }));
    ASSERT_EQ(client.observer.failures.size(), 1u);
    EXPECT_EQ(client.observer.failures.front(), std::pair(tls_direction::outbound, tls_failure::verify_failed));
    EXPECT_TRUE(server.user.messages.empty());

    // The name it carries verifies.
    client.user.closed.clear();
    auto named = client.transport.flow_to_host(transport_kind::tls, server.local(), "b2bua.test");
    ASSERT_TRUE(named);
    ASSERT_FALSE(client.transport.send(*named, options));
    ASSERT_TRUE(run_until(io, [&] { return !server.user.messages.empty(); }));
    EXPECT_EQ(client.observer.failures.size(), 1u);
}

TEST_F(asio_transport_tls, new_contexts_serve_new_connections_and_old_ones_go_on) {
    side server(io, server_id, ca);
    side client(io, client_id, ca);
    auto first = client.transport.flow_to_host(transport_kind::tls, server.local(), "127.0.0.1");
    ASSERT_FALSE(client.transport.send(*first, options));
    ASSERT_TRUE(run_until(io, [&] { return server.user.messages.size() == 1; }));
    // The server's certificate is replaced by one from a CA the client does not trust: the
    // connection made before goes on; a new one is refused (it met the new certificate).
    const auto other_ca = pki.make("other-ca", nullptr, 86400);
    const auto renewed = pki.make("renewed", &other_ca, 86400, "IP:127.0.0.1");
    server.transport.set_tls(load_tls({renewed.cert_file.string(), renewed.key_file.string(), other_ca.cert_file.string()}));
    ASSERT_FALSE(client.transport.send(*first, options));
    ASSERT_TRUE(run_until(io, [&] { return server.user.messages.size() == 2; }));
    side second(io, client_id, ca);
    auto f = second.transport.flow_to_host(transport_kind::tls, server.local(), "127.0.0.1");
    ASSERT_FALSE(second.transport.send(*f, options));
    ASSERT_TRUE(run_until(io, [&] { return !second.observer.failures.empty(); }));
    EXPECT_EQ(second.observer.failures.front(), std::pair(tls_direction::outbound, tls_failure::verify_failed));
    EXPECT_EQ(server.user.messages.size(), 2u);
    EXPECT_TRUE(client.user.closed.empty());
}

// A peer that connects to a tls:// listener and says nothing, or speaks plain SIP to it: its
// connection is closed, counted as an inbound handshake failure, and nothing reaches the user.
TEST_F(asio_transport_tls, a_silent_or_plain_text_peer_fails_the_handshake) {
    asio_transport_options quick;
    quick.tls_handshake_timeout = std::chrono::seconds(1);
    recording_user user;
    recording_observer observer;
    asio_transport server(io, quick);
    server.set_user(user);
    server.set_tls_observer(observer);
    server.set_tls(load_tls({server_id.cert_file.string(), server_id.key_file.string(), ca.cert_file.string()}));
    ASSERT_FALSE(server.listen(transport_kind::tls, {asio::ip::make_address("127.0.0.1"), 0}));
    server.start();
    const auto at = server.listening().front().second;
    const asio::ip::tcp::endpoint to(at.address, at.port);

    asio::ip::tcp::socket plain(io);
    plain.connect(to);
    asio::write(plain, asio::buffer(options));
    ASSERT_TRUE(run_until(io, [&] { return observer.failures.size() == 1; }));
    EXPECT_EQ(observer.failures.front(), std::pair(tls_direction::inbound, tls_failure::handshake));

    asio::ip::tcp::socket silent(io);
    silent.connect(to);
    const auto opened = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(io, [&] { return observer.failures.size() == 2; }));
    EXPECT_EQ(observer.failures.back(), std::pair(tls_direction::inbound, tls_failure::timeout));
    EXPECT_GE(std::chrono::steady_clock::now() - opened, std::chrono::milliseconds(900));
    EXPECT_TRUE(user.messages.empty());
    EXPECT_EQ(server.tcp_connections(), 0u);
}

TEST_F(asio_transport_tls, a_tls_listener_needs_a_certificate) {
    asio_transport t(io);
    recording_user user;
    t.set_user(user);
    EXPECT_TRUE(t.listen(transport_kind::tls, {asio::ip::make_address("127.0.0.1"), 0}));
    // A flow over TLS needs a tls:// listener, as TCP needs a tcp:// one.
    EXPECT_FALSE(t.flow_to_host(transport_kind::tls, {asio::ip::make_address("127.0.0.1"), 5061}, "127.0.0.1"));
}

}  // namespace
}  // namespace b2b::sip
