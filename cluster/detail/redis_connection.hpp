// A blocking connection to one Redis server (hiredis), for the link's own thread only.
#pragma once

#include "cluster/detail/redis_reply.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

struct redisContext;

namespace b2b::cluster::detail {

/// One synchronous hiredis context. Every call blocks for at most the timeout it was opened
/// with (connect, or each command's send and receive). An I/O or protocol failure closes the
/// connection: `connected()` turns false and the caller opens it again when it wants to.
///
/// Writes to a socket the server has closed raise SIGPIPE (hiredis 0.14 uses write(), not
/// send(MSG_NOSIGNAL)): the calling thread must have SIGPIPE blocked or ignored.
///
/// @par Thread safety
/// None: one thread uses it.
class redis_connection {
public:
    redis_connection();
    ~redis_connection();
    redis_connection(const redis_connection&) = delete;
    redis_connection& operator=(const redis_connection&) = delete;

    /// Opens a connection to `host`:`port` (closing any open one), waiting at most
    /// `connect_timeout`; each later command may take `command_timeout` to send and as long
    /// again to be answered. On failure, `last_error()` says why.
    boost::system::result<void> connect(const std::string& host, std::uint16_t port,
                                        std::chrono::milliseconds connect_timeout,
                                        std::chrono::milliseconds command_timeout);

    bool connected() const noexcept { return ctx_ != nullptr; }
    void close() noexcept;

    /// Sends one command, its words as given (binary-safe), and waits for the reply. An error
    /// reply at the top level is `errc::server_error`, with the server's line in `last_error()`
    /// (the connection stays open); a failed send or receive is `errc::io_error` and closes it.
    boost::system::result<redis_reply> command(std::span<const std::string> args);

    /// What went wrong last, for a log line or a down report.
    const std::string& last_error() const noexcept { return last_error_; }

private:
    struct context_free {
        void operator()(redisContext* c) const noexcept;
    };

    std::unique_ptr<redisContext, context_free> ctx_;
    std::string last_error_;
};

}  // namespace b2b::cluster::detail
