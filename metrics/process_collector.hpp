// The process_* metrics that every official Prometheus client library exports (client_golang's
// process collector, client_python's ProcessCollector), read from Linux /proc at scrape time:
// prometheus-cpp core has no such collector.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::metrics {

/// The fields of /proc/<pid>/stat the process metrics need (proc(5), numbered from 1).
struct proc_stat {
    std::uint64_t utime_ticks = 0;      ///< (14) user-mode CPU time, in clock ticks
    std::uint64_t stime_ticks = 0;      ///< (15) kernel-mode CPU time, in clock ticks
    std::uint64_t start_ticks = 0;      ///< (22) start time after system boot, in clock ticks
    std::uint64_t vsize_bytes = 0;      ///< (23) virtual memory size, in bytes
    std::uint64_t rss_pages = 0;        ///< (24) resident set size, in pages
};

/// Parses the text of /proc/<pid>/stat. The command name (2) is in parentheses and may itself
/// hold spaces and ')' (it is whatever the program set), so the fields are counted from the
/// LAST ')'. Nullopt when the text is not such a line.
std::optional<proc_stat> parse_proc_stat(std::string_view text);

/// The boot time, in seconds since the Unix epoch, from the "btime" line of /proc/stat.
std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat_text);

/// Exports, at each collection, the standard process metrics of the calling process:
///   process_cpu_seconds_total (counter), process_resident_memory_bytes,
///   process_virtual_memory_bytes, process_open_fds, process_max_fds (the soft RLIMIT_NOFILE),
///   process_start_time_seconds (gauges), computed as the official client libraries compute
///   them. A value that cannot be read (no /proc) is left out rather than exported as 0.
///
/// @par Thread safety
/// Collect() reads only the kernel's view of the process: it may run on any thread.
class process_collector final : public prometheus::Collectable {
public:
    /// `proc_root`: where procfs is mounted; the process reads its own "self" entries.
    explicit process_collector(std::string proc_root = "/proc");

    std::vector<prometheus::MetricFamily> Collect() const override;

private:
    std::string self_;       // <proc_root>/self
    std::string proc_stat_;  // <proc_root>/stat
};

}  // namespace b2b::metrics
