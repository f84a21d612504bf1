// The blocking hiredis connection: timeouts, one command at a time, replies copied out.
#include "cluster/detail/redis_connection.hpp"

#include "cluster/error.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <climits>
#include <string_view>
#include <vector>

namespace b2b::cluster::detail {

namespace {

timeval to_timeval(std::chrono::milliseconds d) noexcept {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(d.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((d.count() % 1000) * 1000);
    return tv;
}

// Copies the reply tree out of hiredis's allocation, which the caller frees at once: nothing
// of hiredis outlives the call that produced it.
redis_reply convert(const redisReply& r) {
    redis_reply out;
    switch (r.type) {
        case REDIS_REPLY_INTEGER:
            out.type = redis_reply::kind::integer;
            out.integer = r.integer;
            break;
        case REDIS_REPLY_STRING:
            out.type = redis_reply::kind::string;
            out.text.assign(r.str, r.len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = redis_reply::kind::status;
            out.text.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = redis_reply::kind::error;
            out.text.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ARRAY:
            out.type = redis_reply::kind::array;
            out.elements.reserve(r.elements);
            for (std::size_t i = 0; i < r.elements; ++i)
                out.elements.push_back(convert(*r.element[i]));
            break;
        default:  // REDIS_REPLY_NIL, and nothing else exists in RESP2
            break;
    }
    return out;
}

struct reply_free {
    void operator()(void* r) const noexcept { freeReplyObject(r); }
};

}  // namespace

void redis_connection::context_free::operator()(redisContext* c) const noexcept {
    redisFree(c);
}

redis_connection::redis_connection() = default;
redis_connection::~redis_connection() = default;

void redis_connection::close() noexcept {
    ctx_.reset();
}

boost::system::result<void> redis_connection::connect(const std::string& host, std::uint16_t port,
                                                      std::chrono::milliseconds connect_timeout,
                                                      std::chrono::milliseconds command_timeout) {
    close();
    const std::string where = host + ":" + std::to_string(port);
    std::unique_ptr<redisContext, context_free> ctx{
        redisConnectWithTimeout(host.c_str(), port, to_timeval(connect_timeout))};
    if (!ctx) {
        last_error_ = "connect " + where + ": out of memory";
        return errc::io_error;
    }
    if (ctx->err != 0) {
        last_error_ = "connect " + where + ": " + ctx->errstr;
        return errc::io_error;
    }
    // Without it a server that stops answering (SIGSTOP, a dead peer behind a firewall) would
    // hold the link's thread for as long as TCP takes to give up.
    if (redisSetTimeout(ctx.get(), to_timeval(command_timeout)) != REDIS_OK) {
        last_error_ = "connect " + where + ": cannot set the command timeout: " + ctx->errstr;
        return errc::io_error;
    }
    ctx_ = std::move(ctx);
    last_error_.clear();
    return {};
}

boost::system::result<redis_reply> redis_connection::command(std::span<const std::string> args) {
    if (!ctx_) {
        last_error_ = "not connected";
        return errc::not_connected;
    }
    if (args.empty() || args.size() > static_cast<std::size_t>(INT_MAX)) {
        last_error_ = "bad command: no words or too many";
        return errc::protocol_error;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> argvlen;
    argv.reserve(args.size());
    argvlen.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        argvlen.push_back(a.size());
    }
    std::unique_ptr<void, reply_free> raw{
        redisCommandArgv(ctx_.get(), static_cast<int>(args.size()), argv.data(), argvlen.data())};
    if (!raw || ctx_->err != 0) {
        // hiredis leaves the context unusable after any of these (its buffers may hold half a
        // reply), so the caller must reconnect.
        const bool protocol = ctx_->err == REDIS_ERR_PROTOCOL;
        last_error_ = args[0] + ": " + (ctx_->err != 0 ? ctx_->errstr : "no reply");
        if (ctx_->err == REDIS_ERR_IO &&
            std::string_view{ctx_->errstr} == "Resource temporarily unavailable")
            last_error_ = args[0] + ": timed out";
        close();
        return protocol ? errc::protocol_error : errc::io_error;
    }
    redis_reply reply = convert(*static_cast<const redisReply*>(raw.get()));
    if (reply.type == redis_reply::kind::error) {
        last_error_ = args[0] + ": " + reply.text;
        return errc::server_error;
    }
    return reply;
}

}  // namespace b2b::cluster::detail
