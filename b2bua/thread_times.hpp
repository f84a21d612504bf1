// Where a thread's time went, from the kernel's scheduler statistics: to tell a loop that was
// busy from one that waited for a CPU and from one that was off (blocked, or the machine paused).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace b2b::b2bua {

/// A thread's time on a CPU and its time runnable but waiting for one, since it started.
struct thread_times {
    std::chrono::nanoseconds on_cpu{};
    std::chrono::nanoseconds waiting{};
};

/// Reads the calling thread's times from /proc/thread-self/schedstat (CONFIG_SCHED_INFO:
/// "on-CPU ns, run-queue wait ns, slices"). The file is opened once, by the thread it describes,
/// and read again with one pread each time.
///
/// @par Thread safety
/// Construct and read on the thread to describe.
class thread_clock {
public:
    thread_clock();
    ~thread_clock();
    thread_clock(const thread_clock&) = delete;
    thread_clock& operator=(const thread_clock&) = delete;

    /// The times now; nothing when the kernel does not offer them.
    std::optional<thread_times> read() const;

private:
    int fd_ = -1;
};

/// `wall` of a thread's life split three ways: running, waiting for a CPU, and the rest (neither:
/// blocked in a system call or a page fault, or the whole machine paused, as a VM's host may do).
struct stall_account {
    std::chrono::nanoseconds wall{};
    std::chrono::nanoseconds on_cpu{};
    std::chrono::nanoseconds waiting{};

    std::chrono::nanoseconds off() const noexcept;
};

/// The account of `wall` between two readings of one thread.
stall_account account_between(const thread_times& before, const thread_times& after, std::chrono::nanoseconds wall);

/// "ran 12 ms, waited 5 ms for a CPU, off 1346 ms (blocked in a system call or a page fault, or
/// the machine paused)": for a log line.
std::string describe(const stall_account& a);

}  // namespace b2b::b2bua
