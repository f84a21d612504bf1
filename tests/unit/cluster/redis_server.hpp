// A real redis-server for the tests: on 127.0.0.1 and a free port, killed (only it) at the end.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace b2b::cluster::test {

/// One redis-server child process: no persistence, loopback only, in the foreground. The
/// child gets SIGKILL when the thread that started it ends, so a crashed or timed-out test
/// binary leaves no server behind. `stop` and the destructor kill only this PID.
class redis_server {
public:
    /// Extra arguments for every start (e.g. {"--requirepass", "secret"}).
    explicit redis_server(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {}
    ~redis_server() { stop(); }
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    /// Starts it on a free port the first time, on the same port after a stop, and waits (5 s
    /// at most) until it answers.
    testing::AssertionResult start() {
        const auto program = find_program();
        if (program.empty())
            return testing::AssertionFailure()
                   << "redis-server is not installed (not in PATH, /usr/bin or /usr/sbin): these "
                      "tests need a real "
                      "one; install it with deploy/install-deps.sh (apt-get install redis-server)";
        if (port_ != 0) return start_on(program);
        // Another test binary (ctest -j) may take the port between our look and redis's bind.
        testing::AssertionResult result = testing::AssertionFailure() << "no free loopback port";
        for (int attempt = 0; attempt < 3; ++attempt) {
            port_ = free_port();
            if (port_ == 0) continue;
            result = start_on(program);
            if (result) return result;
        }
        return result;
    }

    /// SIGKILL, as a crash; the port stays reserved for the next start.
    void stop() {
        if (pid_ <= 0) return;
        resume();
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    /// SIGSTOP: the server keeps its connections open and answers nothing.
    void pause() {
        if (pid_ > 0 && !paused_) paused_ = kill(pid_, SIGSTOP) == 0;
    }
    void resume() {
        if (pid_ > 0 && paused_) kill(pid_, SIGCONT);
        paused_ = false;
    }

    std::uint16_t port() const noexcept { return port_; }

    /// A loopback port nothing listens on (bound, read, closed).
    static std::uint16_t free_port() {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return 0;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        std::uint16_t port = 0;
        if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
            port = ntohs(addr.sin_port);
        close(fd);
        return port;
    }

private:
    testing::AssertionResult start_on(const std::filesystem::path& program) {
        std::vector<std::string> args{program.string(),
                                      "--port",
                                      std::to_string(port_),
                                      "--bind",
                                      "127.0.0.1",
                                      "--save",
                                      "",
                                      "--appendonly",
                                      "no",
                                      "--daemonize",
                                      "no",
                                      "--dir",
                                      "/tmp",
                                      "--loglevel",
                                      "warning"};
        args.insert(args.end(), extra_.begin(), extra_.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);

        const pid_t parent = getpid();
        pid_ = fork();
        if (pid_ < 0) return testing::AssertionFailure() << "fork failed";
        if (pid_ == 0) {
            // Only async-signal-safe calls between fork and exec.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(126);
            // Its log (warnings about overcommit and the like) would bury the test output.
            const int null = open("/dev/null", O_WRONLY);
            if (null >= 0) dup2(null, STDOUT_FILENO);
            execv(argv[0], argv.data());
            _exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return testing::AssertionFailure()
                       << "redis-server exited (status " << status << ") before answering on port "
                       << port_ << "; run it by hand to see why: " << command_line(args);
            }
            if (answers()) return testing::AssertionSuccess();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stop();
        return testing::AssertionFailure() << "redis-server did not answer on port " << port_
                                           << " within 5 s: " << command_line(args);
    }

    static std::string command_line(const std::vector<std::string>& args) {
        std::string line;
        for (const auto& a : args)
            line += (line.empty() ? "" : " ") + (a.empty() ? std::string{"\"\""} : a);
        return line;
    }

    static std::filesystem::path find_program() {
        std::vector<std::filesystem::path> dirs;
        if (const char* path = std::getenv("PATH")) {
            std::string_view rest{path};
            while (!rest.empty()) {
                const auto colon = rest.find(':');
                dirs.emplace_back(rest.substr(0, colon));
                rest =
                    colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
            }
        }
        dirs.emplace_back("/usr/bin");
        dirs.emplace_back("/usr/sbin");
        for (const auto& d : dirs) {
            const auto p = d / "redis-server";
            if (access(p.c_str(), X_OK) == 0) return p;
        }
        return {};
    }

    // A raw INFO, so that the harness does not depend on the code it tests; the process id in
    // the answer tells our server from one another test started on the same port.
    bool answers() const {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return false;
        timeval tv{0, 200000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port_);
        bool ok = false;
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
            constexpr std::string_view info = "INFO server\r\n";
            const std::string mine = "process_id:" + std::to_string(pid_) + "\r\n";
            if (send(fd, info.data(), info.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(info.size())) {
                std::string reply;
                char buffer[4096];
                ssize_t n = 0;
                while (!ok && (n = recv(fd, buffer, sizeof buffer, 0)) > 0) {
                    reply.append(buffer, static_cast<std::size_t>(n));
                    // With --requirepass it answers -NOAUTH: it is up, and no one else's would
                    // have that password.
                    ok = reply.find(mine) != std::string::npos || reply.starts_with("-NOAUTH");
                }
            }
        }
        close(fd);
        return ok;
    }

    std::vector<std::string> extra_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
    bool paused_ = false;
};

}  // namespace b2b::cluster::test
