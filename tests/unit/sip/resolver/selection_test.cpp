#include "sip/resolver/selection.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>

namespace b2b::sip::resolver {
namespace {

std::vector<std::string> targets_of(const std::vector<srv_record>& v) {
    std::vector<std::string> out;
    for (const auto& r : v) out.push_back(r.target);
    return out;
}

// Draws from a script, checking each bound asked for.
struct scripted_random {
    std::deque<std::pair<std::uint32_t, std::uint32_t>> draws;  // (expected bound, value)
    std::uint32_t operator()(std::uint32_t bound) {
        EXPECT_FALSE(draws.empty());
        if (draws.empty()) return 0;
        auto [expected, value] = draws.front();
        draws.pop_front();
        EXPECT_EQ(bound, expected);
        return value;
    }
};

TEST(naptr_choices, keeps_supported_services_in_order_then_preference) {
    std::vector<naptr_record> records{
        {20, 10, "s", "SIP+D2U", "_sip._udp.example.com"},
        {10, 20, "s", "SIP+D2T", "_sip._tcp.example.com"},
        {10, 10, "s", "SIPS+D2T", "_sips._tcp.example.com"},  // TLS (RFC 3263 §4.1)
        {10, 5, "s", "SIP+D2S", "_sip._sctp.example.com"},    // SCTP: never
        {5, 5, "u", "SIP+D2U", "!^.*$!sip:x@example.com!"},   // not an SRV pointer
    };
    const auto c = naptr_choices(records);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].transport, transport_kind::tls);
    EXPECT_EQ(c[0].name, "_sips._tcp.example.com");
    EXPECT_EQ(c[1].transport, transport_kind::tcp);
    EXPECT_EQ(c[1].name, "_sip._tcp.example.com");
    EXPECT_EQ(c[2].transport, transport_kind::udp);
    EXPECT_EQ(c[2].name, "_sip._udp.example.com");
}

TEST(naptr_choices, service_and_flags_are_case_insensitive) {
    std::vector<naptr_record> records{{10, 10, "S", "sip+d2u", "_sip._udp.example.com"}};
    ASSERT_EQ(naptr_choices(records).size(), 1u);
}

TEST(naptr_choices, defaults_without_naptr_prefer_udp) {
    const auto c = default_srv_choices("example.com");
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].name, "_sip._udp.example.com");
    EXPECT_EQ(c[0].transport, transport_kind::udp);
    EXPECT_EQ(c[1].name, "_sip._tcp.example.com");
    EXPECT_EQ(c[1].transport, transport_kind::tcp);
}

TEST(order_srv, lower_priority_first_whatever_the_weight) {
    std::vector<srv_record> records{{20, 100, 5060, "b"}, {10, 0, 5060, "a"}, {30, 50, 5060, "c"}};
    const auto ordered = order_srv(records, [](std::uint32_t) { return 0u; });
    EXPECT_EQ(targets_of(ordered), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(order_srv, weighted_selection_follows_the_running_sum) {
    // Weights 10, 30, 60 (sum 100). RFC 2782: draw in [0, 100]; the first record whose running
    // sum (10, 40, 100) is >= the draw goes first; then again among those left.
    std::vector<srv_record> records{{1, 10, 1, "a"}, {1, 30, 2, "b"}, {1, 60, 3, "c"}};
    scripted_random r{{{100, 41}, {40, 11}}};  // 41 -> c; then a(10) b(40): 11 -> b; then a alone
    const auto ordered = order_srv(records, std::ref(r));
    EXPECT_EQ(targets_of(ordered), (std::vector<std::string>{"c", "b", "a"}));
    EXPECT_TRUE(r.draws.empty());
}

TEST(order_srv, zero_weight_records_are_first_in_the_running_sum) {
    std::vector<srv_record> records{{1, 5, 1, "heavy"}, {1, 0, 2, "zero"}};
    // A draw of 0 reaches the zero-weight record (running sum 0 >= 0).
    EXPECT_EQ(targets_of(order_srv(records, [](std::uint32_t) { return 0u; })),
              (std::vector<std::string>{"zero", "heavy"}));
    EXPECT_EQ(targets_of(order_srv(records, [](std::uint32_t b) { return b; })),
              (std::vector<std::string>{"heavy", "zero"}));
}

TEST(order_srv, dot_target_means_no_service) {
    std::vector<srv_record> records{{1, 0, 0, "."}};
    EXPECT_TRUE(order_srv(records, [](std::uint32_t) { return 0u; }).empty());
}

TEST(order_srv, frequencies_follow_the_weights) {
    std::mt19937 engine(7);
    const random_source random = [&](std::uint32_t bound) {
        return std::uniform_int_distribution<std::uint32_t>(0, bound)(engine);
    };
    std::vector<srv_record> records{{1, 1, 1, "light"}, {1, 3, 2, "heavy"}};
    std::map<std::string, int> first;
    for (int i = 0; i < 4000; ++i) ++first[order_srv(records, random).front().target];
    // Expected shares 1:3 (draws of 0..1 pick light out of 0..4: 2/5 vs 3/5 by RFC 2782's
    // inclusive range); heavy clearly dominates.
    EXPECT_GT(first["heavy"], first["light"]);
    EXPECT_GT(first["light"], 1000);
}

}  // namespace
}  // namespace b2b::sip::resolver
