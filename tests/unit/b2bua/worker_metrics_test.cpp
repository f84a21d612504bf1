// Several workers, one set of series: each worker's core keeps a b2bua_metrics of its own (its
// trunk indices, its lazily made series pointers: nothing another loop writes), all of them over
// the process's one registry, where equal labels are one series and counts add up. The registry
// refuses a second registration of a family, so the other workers' instances are made from the
// first's.
#include "b2bua/b2bua_metrics.hpp"

#include "metrics/registry.hpp"
#include "sip/message/message.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace b2b::b2bua {
namespace {

using labels = std::map<std::string, std::string>;

struct collected {
    double value = 0;
    int series = 0;
};

collected find(prometheus::Registry& registry, const std::string& name, const labels& want) {
    collected out;
    for (const auto& family : registry.Collect()) {
        if (family.name != name) continue;
        for (const auto& m : family.metric) {
            labels have;
            for (const auto& l : m.label) have[l.name] = l.value;
            bool match = true;
            for (const auto& [k, v] : want) match = match && have.count(k) != 0 && have[k] == v;
            if (!match) continue;
            ++out.series;
            out.value += family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
        }
    }
    return out;
}

// No family holds two series with the same labels.
void expect_no_duplicate_series(prometheus::Registry& registry) {
    for (const auto& family : registry.Collect()) {
        std::set<labels> seen;
        for (const auto& m : family.metric) {
            labels have;
            for (const auto& l : m.label) have[l.name] = l.value;
            EXPECT_TRUE(seen.insert(have).second) << family.name;
        }
    }
}

sip::message response(int status) {
    auto m = sip::parse_message("SIP/2.0 " + std::to_string(status) +
                                " X\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\n"
                                "To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(m);
    return std::move(*m);
}

TEST(worker_metrics, two_workers_count_into_the_same_series) {
    auto registry = metrics::make_registry();
    b2bua_metrics first(*registry, "pbx.local", {"carrier", "backup"}, {"pbx"});
    b2bua_metrics second(first, {"carrier", "backup"}, {"pbx"});

    first.call_setup(call_direction::outbound, 0, call_result::answered);
    second.call_setup(call_direction::outbound, 0, call_result::answered);
    auto calls = find(*registry, "b2bua_calls_total", {{"direction", "outbound"}, {"trunk", "carrier"}, {"result", "answered"}});
    EXPECT_EQ(calls.series, 1);
    EXPECT_EQ(calls.value, 2);

    first.on_received(response(200));
    second.on_received(response(200));
    second.on_sent_response(486);
    auto ok = find(*registry, "b2bua_sip_responses_total", {{"direction", "in"}, {"code", "200"}});
    EXPECT_EQ(ok.series, 1);
    EXPECT_EQ(ok.value, 2);

    first.count_active_call(call_direction::outbound, +1);
    second.count_active_call(call_direction::outbound, +1);
    second.count_active_call(call_direction::outbound, +1);
    first.count_active_call(call_direction::outbound, -1);
    EXPECT_EQ(find(*registry, "b2bua_active_calls", {{"direction", "outbound"}}).value, 2);

    first.on_transaction_count(true, +1);
    second.on_transaction_count(true, +1);
    second.on_transaction_count(false, +1);
    EXPECT_EQ(find(*registry, "b2bua_sip_transactions", {{"kind", "client"}}).value, 2);

    // A trunk added at run time reaches every worker's core: one series, both workers' counts.
    EXPECT_EQ(first.add_trunk("late"), 2u);
    EXPECT_EQ(second.add_trunk("late"), 2u);
    first.call_setup(call_direction::outbound, 2, call_result::rejected);
    second.call_setup(call_direction::outbound, 2, call_result::rejected);
    EXPECT_EQ(find(*registry, "b2bua_calls_total", {{"trunk", "late"}, {"result", "rejected"}}).value, 2);
    first.trunk_failover(0, 1, "503");
    second.trunk_failover(0, 1, "503");
    auto failovers = find(*registry, "b2bua_trunk_failovers_total", {{"from", "carrier"}, {"to", "backup"}, {"status", "503"}});
    EXPECT_EQ(failovers.series, 1);
    EXPECT_EQ(failovers.value, 2);
    expect_no_duplicate_series(*registry);
}

TEST(worker_metrics, a_second_registration_of_the_families_is_refused) {
    auto registry = metrics::make_registry();
    b2bua_metrics first(*registry, "pbx.local", {"carrier"});
    EXPECT_ANY_THROW(b2bua_metrics(*registry, "pbx.local", {"carrier"}));
}

TEST(worker_metrics, workers_count_on_their_own_threads) {
    // Every count lands, none twice, with each worker's metrics touched by its own thread only.
    auto registry = metrics::make_registry();
    std::vector<std::unique_ptr<b2bua_metrics>> workers;
    workers.push_back(std::make_unique<b2bua_metrics>(*registry, "pbx.local", std::vector<std::string>{"carrier"}));
    for (int i = 1; i < 4; ++i) {
        workers.push_back(std::make_unique<b2bua_metrics>(*workers.front(), std::vector<std::string>{"carrier"}));
    }
    std::vector<std::thread> threads;
    for (auto& w : workers) {
        threads.emplace_back([&m = *w] {
            for (int i = 0; i < 1000; ++i) {
                m.on_received(response(100 + i % 600));  // series made on first use, by whichever worker
                m.call_setup(call_direction::inbound, 0, call_result::answered);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(find(*registry, "b2bua_calls_total", {{"direction", "inbound"}, {"trunk", "carrier"}, {"result", "answered"}})
                  .value,
              4000);
    EXPECT_EQ(find(*registry, "b2bua_sip_responses_total", {{"direction", "in"}}).value, 4000);
    expect_no_duplicate_series(*registry);
}

}  // namespace
}  // namespace b2b::b2bua
