// The standard process_* metrics, from Linux /proc.
#include "metrics/process_collector.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace b2b::metrics {

namespace {

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    return std::move(out).str();
}

// The next space-separated field of `rest`, consumed from it.
std::string_view next_field(std::string_view& rest) {
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        rest = {};
        return {};
    }
    rest.remove_prefix(start);
    const auto end = rest.find(' ');
    const std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    return field;
}

bool to_number(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type, double value) {
    prometheus::MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    prometheus::ClientMetric m;
    if (type == prometheus::MetricType::Counter) {
        m.counter.value = value;
    } else {
        m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
    return f;
}

prometheus::MetricFamily gauge(std::string name, std::string help, double value) {
    return family(std::move(name), std::move(help), prometheus::MetricType::Gauge, value);
}

// Entries of the process's fd directory: its open descriptors (including, while it is read,
// the one reading it, as client_golang's count does too).
std::optional<std::size_t> count_open_fds(const std::string& dir) {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) return std::nullopt;
    std::size_t n = 0;
    for (const std::filesystem::directory_iterator end; it != end; it.increment(ec)) {
        if (ec) return std::nullopt;
        ++n;
    }
    return ec ? std::nullopt : std::optional<std::size_t>(n);
}

}  // namespace

std::optional<proc_stat> parse_proc_stat(std::string_view text) {
    const auto close = text.rfind(')');
    if (close == std::string_view::npos || text.find('(') > close) return std::nullopt;
    std::string_view rest = text.substr(close + 1);
    // Fields 3.. follow the command name; keep those up to rss (24).
    std::array<std::string_view, 25> fields{};
    for (std::size_t i = 3; i < fields.size(); ++i) {
        fields[i] = next_field(rest);
        if (fields[i].empty()) return std::nullopt;
    }
    proc_stat s;
    if (!to_number(fields[14], s.utime_ticks) || !to_number(fields[15], s.stime_ticks) ||
        !to_number(fields[22], s.start_ticks) || !to_number(fields[23], s.vsize_bytes)) {
        return std::nullopt;
    }
    // rss is signed in the kernel's format (%ld); a negative value never occurs for a live
    // process, and is refused rather than wrapped.
    if (!to_number(fields[24], s.rss_pages)) return std::nullopt;
    return s;
}

std::optional<std::uint64_t> parse_boot_time(std::string_view text) {
    while (!text.empty()) {
        const auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        if (next_field(line) != "btime") continue;
        std::uint64_t secs = 0;
        if (to_number(next_field(line), secs)) return secs;
        return std::nullopt;
    }
    return std::nullopt;
}

process_collector::process_collector(std::string proc_root)
    : self_(proc_root + "/self"), proc_stat_(std::move(proc_root) + "/stat") {}

std::vector<prometheus::MetricFamily> process_collector::Collect() const {
    std::vector<prometheus::MetricFamily> out;
    const long ticks = ::sysconf(_SC_CLK_TCK);
    const long page = ::sysconf(_SC_PAGESIZE);
    const auto text = read_text(self_ + "/stat");
    const auto stat = text ? parse_proc_stat(*text) : std::nullopt;
    if (stat && ticks > 0 && page > 0) {
        const double hz = static_cast<double>(ticks);
        out.push_back(family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                             prometheus::MetricType::Counter,
                             static_cast<double>(stat->utime_ticks + stat->stime_ticks) / hz));
        out.push_back(gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                            static_cast<double>(stat->rss_pages) * static_cast<double>(page)));
        out.push_back(gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                            static_cast<double>(stat->vsize_bytes)));
        // The process started start_ticks after boot; boot time is in /proc/stat.
        const auto sys = read_text(proc_stat_);
        if (const auto boot = sys ? parse_boot_time(*sys) : std::nullopt) {
            out.push_back(gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                                static_cast<double>(*boot) + static_cast<double>(stat->start_ticks) / hz));
        }
    }
    if (const auto fds = count_open_fds(self_ + "/fd")) {
        out.push_back(gauge("process_open_fds", "Number of open file descriptors.", static_cast<double>(*fds)));
    }
    // The soft limit: the one open() and accept() fail at (EMFILE).
    ::rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        out.push_back(gauge("process_max_fds", "Maximum number of open file descriptors.",
                            static_cast<double>(lim.rlim_cur)));
    }
    return out;
}

}  // namespace b2b::metrics
