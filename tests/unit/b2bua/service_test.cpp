// systemd integration: the watchdog's keep-alives (manual clock, the other loop as a queue) and
// the notify protocol's datagrams, read from a real $NOTIFY_SOCKET.
#include "b2bua/capabilities.hpp"
#include "b2bua/service_notifier.hpp"
#include "b2bua/service_watchdog.hpp"

#include "tests/fakes/manual_timer_service.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <functional>
#include <optional>
#include <string>

namespace b2b::b2bua {
namespace {

using namespace std::chrono_literals;

// The HTTP loop, as the watchdog sees it: probes wait here until the test runs them.
struct other_loop {
    std::deque<std::function<void()>> queued;
    service_watchdog::probe post() {
        return [this](std::function<void()> answer) { queued.push_back(std::move(answer)); };
    }
    void run() {
        while (!queued.empty()) {
            auto f = std::move(queued.front());
            queued.pop_front();
            f();
        }
    }
};

TEST(service_watchdog, pings_every_third_of_the_limit_while_both_loops_turn) {
    b2b::test::manual_timer_service timers;
    other_loop http;
    int pings = 0;
    service_watchdog w(timers, 3s, [&] { ++pings; }, http.post());
    w.start();
    EXPECT_EQ(pings, 1);  // at once: READY=1 and the first keep-alive go together
    for (int i = 0; i < 5; ++i) {
        http.run();
        timers.advance(1s);
    }
    EXPECT_EQ(pings, 6);
    EXPECT_EQ(w.skipped(), 0u);
}

TEST(service_watchdog, withholds_the_keep_alive_while_the_other_loop_is_stuck) {
    b2b::test::manual_timer_service timers;
    other_loop http;
    int pings = 0;
    service_watchdog w(timers, 3s, [&] { ++pings; }, http.post());
    w.start();
    http.run();
    timers.advance(1s);
    EXPECT_EQ(pings, 2);
    // The HTTP loop stops answering: no keep-alive for as long as it stays stuck, so systemd's
    // limit (3 s) passes without one and it restarts the process.
    timers.advance(1s);
    timers.advance(1s);
    timers.advance(1s);
    EXPECT_EQ(pings, 2);
    EXPECT_EQ(w.skipped(), 3u);
    // It recovers (runs every probe it owed): the next tick pings again.
    http.run();
    timers.advance(1s);
    EXPECT_EQ(pings, 3);
}

TEST(service_watchdog, stop_ends_the_keep_alives) {
    b2b::test::manual_timer_service timers;
    other_loop http;
    int pings = 0;
    service_watchdog w(timers, 3s, [&] { ++pings; }, http.post());
    w.start();
    w.stop();
    http.run();
    timers.advance(10s);
    EXPECT_EQ(pings, 1);
}

// A datagram socket standing in for systemd's, named by $NOTIFY_SOCKET for one test.
class notify_socket {
public:
    notify_socket() {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        path_ = ::testing::TempDir() + "notify-" + std::to_string(::getpid()) + ".sock";
        ::unlink(path_.c_str());
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        path_.copy(a.sun_path, sizeof a.sun_path - 1);
        bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
        timeval tv{2, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    ~notify_socket() {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    bool bound() const { return bound_; }
    std::string next() {
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("(nothing)");
    }

private:
    int fd_ = -1;
    bool bound_ = false;
    std::string path_;
};

TEST(service_notifier, speaks_the_notify_protocol_on_notify_socket) {
    notify_socket systemd;
    ASSERT_TRUE(systemd.bound());
    ::setenv("WATCHDOG_USEC", "30000000", 1);
    const service_notifier n;
    ASSERT_TRUE(n.watchdog_limit());
    EXPECT_EQ(*n.watchdog_limit(), 30s);
    n.ready("2 trunks,\n0 calls");
    EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=2 trunks, 0 calls");
    n.watchdog();
    EXPECT_EQ(systemd.next(), "WATCHDOG=1");
    n.reloading();
    const std::string reloading = systemd.next();
    EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
    n.stopping("draining 3 calls");
    EXPECT_EQ(systemd.next(), "STOPPING=1\nSTATUS=draining 3 calls");
}

TEST(service_notifier, without_systemd_has_no_watchdog_and_sends_nothing) {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    const service_notifier n;
    EXPECT_FALSE(n.watchdog_limit());
    n.ready("x");  // no socket: nothing to send, and no error
}

config with_ports(std::uint16_t sip, std::optional<std::uint16_t> http) {
    config c;
    c.sip.listen = {{sip::transport_kind::udp, {boost::asio::ip::make_address("127.0.0.1"), 5060}},
                    {sip::transport_kind::tls, {boost::asio::ip::make_address("::1"), sip}}};
    if (http) {
        c.http.listen = sip::endpoint{boost::asio::ip::make_address("127.0.0.1"), *http};
    } else {
        c.http.listen.reset();
    }
    return c;
}

TEST(needed_capabilities, none_for_unprivileged_ports) {
    EXPECT_TRUE(needed_capabilities(with_ports(5061, 8090), 1024).empty());
    EXPECT_TRUE(needed_capabilities(with_ports(5061, std::nullopt), 1024).empty());
    EXPECT_TRUE(needed_capabilities(with_ports(0, 0), 1024).empty());  // 0: any free port
}

TEST(needed_capabilities, bind_service_for_a_port_below_the_kernels_start) {
    const std::vector<std::string> bind{"CAP_NET_BIND_SERVICE"};
    EXPECT_EQ(needed_capabilities(with_ports(443, 8090), 1024), bind);  // SIP over TLS on 443
    EXPECT_EQ(needed_capabilities(with_ports(5061, 80), 1024), bind);   // the HTTP server on 80
    // A kernel that lets anyone bind from 443 up (net.ipv4.ip_unprivileged_port_start=443).
    EXPECT_TRUE(needed_capabilities(with_ports(443, 8090), 443).empty());
}

}  // namespace
}  // namespace b2b::b2bua
