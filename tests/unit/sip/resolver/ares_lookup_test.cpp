#include "sip/resolver/ares_lookup.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <memory>

namespace b2b::sip::resolver {
namespace {

// A name server that never answers (a bound UDP socket nobody reads): the query ends as
// `failed` after c-ares's own timeouts, driven by the event loop, which keeps serving other
// work in the meantime (nothing blocks).
TEST(ares_lookup, silent_server_fails_without_blocking_the_loop) {
    boost::asio::io_context io;
    boost::asio::ip::udp::socket silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    ares_lookup::options o;
    o.servers.push_back({silent.local_endpoint().address(), silent.local_endpoint().port()});
    o.timeout = std::chrono::milliseconds(100);
    o.tries = 1;
    ares_lookup dns(io.get_executor(), o);
    std::optional<srv_answer> got;
    dns.srv("_sip._udp.example.test", [&](srv_answer a) { got = std::move(a); });
    EXPECT_FALSE(got);  // never from within the call
    int ticks = 0;
    std::function<void()> tick = [&] {
        if (got) return;
        ++ticks;
        boost::asio::post(io, tick);
    };
    boost::asio::post(io, tick);
    io.run_for(std::chrono::seconds(5));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->result, srv_answer::status::failed);
    EXPECT_GT(ticks, 10);
}

// Destroyed (or shut down) with a query under way: its callback is never called and nothing
// of c-ares is left on the loop, whose run() then returns at once.
TEST(ares_lookup, destroyed_or_shut_down_with_aquery_under_way_leaves_nothing) {
    for (const bool shut_down : {false, true}) {
        boost::asio::io_context io;
        boost::asio::ip::udp::socket silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
        ares_lookup::options o;
        o.servers.push_back({silent.local_endpoint().address(), silent.local_endpoint().port()});
        o.timeout = std::chrono::milliseconds(5000);
        bool called = false;
        auto dns = std::make_unique<ares_lookup>(io.get_executor(), o);
        dns->naptr("example.test", [&](naptr_answer) { called = true; });
        io.run_for(std::chrono::milliseconds(50));  // the query is sent and its socket watched
        if (shut_down) {
            dns->shutdown();
        } else {
            dns.reset();
        }
        io.restart();
        const auto t0 = std::chrono::steady_clock::now();
        io.run_for(std::chrono::seconds(3));
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1)) << "shut_down=" << shut_down;
        EXPECT_FALSE(called);
    }
}

TEST(ares_lookup, defaults_to_the_system_resolver) {
    boost::asio::io_context io;
    ares_lookup::options o;
    EXPECT_NO_THROW(ares_lookup(io.get_executor(), o));  // the system's resolv.conf
}

}  // namespace
}  // namespace b2b::sip::resolver
