// Tests of the process_* collector: /proc/<pid>/stat parsing, the values computed from a procfs
// tree made by the test, and plausible values for this very process.
#include "metrics/process_collector.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace b2b::metrics {
namespace {

// A stat line as proc(5) gives it: pid, (comm), state, then fields 4..52.
std::string stat_line(std::string_view comm, std::uint64_t utime, std::uint64_t stime, std::uint64_t start,
                      std::uint64_t vsize, std::uint64_t rss) {
    std::string s = "4242 (" + std::string(comm) + ") S";
    for (int field = 4; field <= 52; ++field) {
        std::uint64_t v = static_cast<std::uint64_t>(field) * 1000;  // recognisably not ours
        if (field == 14) v = utime;
        if (field == 15) v = stime;
        if (field == 22) v = start;
        if (field == 23) v = vsize;
        if (field == 24) v = rss;
        s += " " + std::to_string(v);
    }
    return s + "\n";
}

struct sample {
    prometheus::MetricType type;
    double value;
};

std::map<std::string, sample> collect(const process_collector& c) {
    std::map<std::string, sample> out;
    for (const auto& f : c.Collect()) {
        EXPECT_EQ(f.metric.size(), 1u) << f.name;
        EXPECT_FALSE(f.help.empty()) << f.name;
        if (f.metric.size() != 1) continue;
        const auto& m = f.metric[0];
        EXPECT_TRUE(m.label.empty()) << f.name;
        out[f.name] = {f.type, f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value};
    }
    return out;
}

TEST(parse_proc_stat, reads_the_fields_after_the_last_parenthesis) {
    // The command name is the program's to choose: spaces and ") " inside it must not shift fields.
    const auto s = parse_proc_stat(stat_line("b2b ) x (y) 1 2", 150, 50, 123456, 987654321, 2500));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->utime_ticks, 150u);
    EXPECT_EQ(s->stime_ticks, 50u);
    EXPECT_EQ(s->start_ticks, 123456u);
    EXPECT_EQ(s->vsize_bytes, 987654321u);
    EXPECT_EQ(s->rss_pages, 2500u);
}

TEST(parse_proc_stat, refuses_what_is_not_a_stat_line) {
    EXPECT_FALSE(parse_proc_stat("").has_value());
    EXPECT_FALSE(parse_proc_stat("4242 b2bua S 1 2 3").has_value());
    EXPECT_FALSE(parse_proc_stat("4242 (b2bua) S 1 2 3").has_value());  // cut short before rss
    std::string bad = stat_line("b2bua", 1, 2, 3, 4, 777);
    bad.replace(bad.find(" 777 "), 5, " -777 ");  // rss negative
    EXPECT_FALSE(parse_proc_stat(bad).has_value());
}

TEST(parse_boot_time, finds_the_btime_line) {
    EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1764662400\nprocesses 9\n"), 1764662400u);
    EXPECT_FALSE(parse_boot_time("cpu  1 2 3\nbtimex 5\n").has_value());
    EXPECT_FALSE(parse_boot_time("btime soon\n").has_value());
}

class fake_proc : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = std::filesystem::temp_directory_path() /
                ("b2b-proc-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(root_);
        std::filesystem::create_directories(root_ / "self" / "fd");
    }
    void TearDown() override { std::filesystem::remove_all(root_); }
    void write(const std::filesystem::path& rel, const std::string& text) {
        std::ofstream(root_ / rel) << text;
    }
    std::filesystem::path root_;
};

TEST_F(fake_proc, computes_each_metric_as_the_client_libraries_do) {
    const long hz = ::sysconf(_SC_CLK_TCK);
    const long page = ::sysconf(_SC_PAGESIZE);
    const auto h = static_cast<std::uint64_t>(hz);
    write("self/stat", stat_line("b2bua", 3 * h, h / 2, 100 * h, 123 << 20, 2000));
    write("stat", "cpu  1 2 3 4\nbtime 1764662400\n");
    for (int fd : {0, 1, 2, 7}) write(std::filesystem::path("self/fd") / std::to_string(fd), "");

    const auto got = collect(process_collector(root_.string()));
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got.at("process_cpu_seconds_total").type, prometheus::MetricType::Counter);
    EXPECT_DOUBLE_EQ(got.at("process_cpu_seconds_total").value, static_cast<double>(3 * h + h / 2) / static_cast<double>(hz));
    EXPECT_EQ(got.at("process_resident_memory_bytes").type, prometheus::MetricType::Gauge);
    EXPECT_DOUBLE_EQ(got.at("process_resident_memory_bytes").value, 2000.0 * static_cast<double>(page));
    EXPECT_DOUBLE_EQ(got.at("process_virtual_memory_bytes").value, static_cast<double>(123 << 20));
    EXPECT_DOUBLE_EQ(got.at("process_start_time_seconds").value, 1764662400.0 + 100.0);
    EXPECT_DOUBLE_EQ(got.at("process_open_fds").value, 4.0);
    ::rlimit lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
    EXPECT_DOUBLE_EQ(got.at("process_max_fds").value, static_cast<double>(lim.rlim_cur));
}

TEST_F(fake_proc, leaves_out_what_cannot_be_read) {
    // No stat files, no fd directory: only the descriptor limit (from getrlimit) is known.
    std::filesystem::remove_all(root_ / "self");
    const auto got = collect(process_collector(root_.string()));
    EXPECT_EQ(got.size(), 1u);
    EXPECT_TRUE(got.contains("process_max_fds"));

    // A stat without btime: all but the start time.
    std::filesystem::create_directories(root_ / "self" / "fd");
    write("self/stat", stat_line("b2bua", 1, 1, 1, 1, 1));
    write("stat", "cpu  1 2 3 4\n");
    const auto more = collect(process_collector(root_.string()));
    EXPECT_EQ(more.size(), 5u);
    EXPECT_FALSE(more.contains("process_start_time_seconds"));
}

TEST(process_collector, this_process_has_plausible_values) {
    const process_collector c;
    const auto before = collect(c);
    ASSERT_EQ(before.size(), 6u);

    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const double start = before.at("process_start_time_seconds").value;
    EXPECT_LE(start, now + 1);  // ticks are 10 ms: allow rounding
    EXPECT_GT(start, now - 60) << "this test binary started more than a minute ago?";
    EXPECT_GT(before.at("process_resident_memory_bytes").value, 0);
    EXPECT_GE(before.at("process_virtual_memory_bytes").value, before.at("process_resident_memory_bytes").value);
    EXPECT_GE(before.at("process_open_fds").value, 3);  // stdin, stdout, stderr
    EXPECT_GE(before.at("process_max_fds").value, before.at("process_open_fds").value);

    // Ten more descriptors open: ten more counted.
    std::vector<int> fds;
    for (int i = 0; i < 10; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    // Burn 100 ms of CPU (process CPU time, not wall time: the machine may be busy), so the
    // counter, counted in clock ticks of 10 ms, has something to add.
    const auto cpu_now = [] {
        ::timespec ts{};
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    };
    const double cpu_start = cpu_now();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    volatile std::uint64_t spin = 0;
    while (cpu_now() - cpu_start < 0.1 && std::chrono::steady_clock::now() < give_up) spin = spin + 1;
    const auto after = collect(c);
    for (int fd : fds) ::close(fd);
    EXPECT_EQ(after.at("process_open_fds").value, before.at("process_open_fds").value + 10);
    EXPECT_GT(after.at("process_cpu_seconds_total").value, before.at("process_cpu_seconds_total").value);
    EXPECT_LE(after.at("process_cpu_seconds_total").value, cpu_now() + 0.05);  // ticks round, never invent
    EXPECT_EQ(after.at("process_start_time_seconds").value, start);
    EXPECT_EQ(collect(c).at("process_open_fds").value, before.at("process_open_fds").value);
}

}  // namespace
}  // namespace b2b::metrics
