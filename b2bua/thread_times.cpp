// Where a thread's time went, from the kernel's scheduler statistics.
#include "b2bua/thread_times.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string_view>

namespace b2b::b2bua {

thread_clock::thread_clock() : fd_(::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)) {}

thread_clock::~thread_clock() {
    if (fd_ >= 0) ::close(fd_);
}

std::optional<thread_times> thread_clock::read() const {
    if (fd_ < 0) return std::nullopt;
    std::array<char, 96> buf{};
    const auto n = ::pread(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) return std::nullopt;
    const char* p = buf.data();
    const char* const end = buf.data() + n;
    std::uint64_t values[2] = {};
    for (auto& v : values) {
        while (p < end && *p == ' ') ++p;
        const auto [next, ec] = std::from_chars(p, end, v);
        if (ec != std::errc{}) return std::nullopt;
        p = next;
    }
    return thread_times{std::chrono::nanoseconds(values[0]), std::chrono::nanoseconds(values[1])};
}

std::chrono::nanoseconds stall_account::off() const noexcept {
    return std::max(wall - on_cpu - waiting, std::chrono::nanoseconds::zero());
}

stall_account account_between(const thread_times& before, const thread_times& after, std::chrono::nanoseconds wall) {
    stall_account a;
    a.wall = wall;
    // Both counters only grow; clamp anyway, and to the wall time (the kernel updates them at
    // context switches and ticks, so a reading may be a tick ahead of the clock read beside it).
    a.on_cpu = std::clamp(after.on_cpu - before.on_cpu, std::chrono::nanoseconds::zero(), wall);
    a.waiting = std::clamp(after.waiting - before.waiting, std::chrono::nanoseconds::zero(), wall - a.on_cpu);
    return a;
}

std::string describe(const stall_account& a) {
    const auto ms = [](std::chrono::nanoseconds d) {
        return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    };
    return "ran " + ms(a.on_cpu) + " ms, waited " + ms(a.waiting) + " ms for a CPU, off " + ms(a.off()) +
           " ms (blocked in a system call or a page fault, or the machine paused)";
}

}  // namespace b2b::b2bua
