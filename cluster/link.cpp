// The link's thread: one round per poll interval (connect, leases, publish, read), results posted.
#include "cluster/link.hpp"

#include "cluster/detail/callback_gate.hpp"
#include "cluster/detail/lease_codec.hpp"
#include "cluster/detail/lease_table.hpp"
#include "cluster/detail/redis_connection.hpp"
#include "cluster/detail/stream_codec.hpp"
#include "cluster/detail/stream_id.hpp"

#include <boost/asio/post.hpp>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace b2b::cluster {

namespace {

using clock = std::chrono::steady_clock;

// Entries read per XREAD, and XREADs per round at most: a backlog after an outage is caught
// up over a few rounds rather than by one round that delays the next lease renewal.
constexpr std::size_t read_count = 512;
constexpr int reads_per_round = 8;

void check(bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("cluster::link: ") + what);
}

void validate(const link_options& o) {
    check(!o.node_id.empty(), "node_id is empty");
    check(!o.host.empty(), "host is empty");
    check(o.port != 0, "port is 0");
    check(!o.key_prefix.empty(), "key_prefix is empty");
    check(o.poll_interval.count() > 0, "poll_interval must be positive");
    check(o.connect_timeout.count() > 0, "connect_timeout must be positive");
    check(o.command_timeout.count() > 0, "command_timeout must be positive");
    // A lease must survive one missed renewal, or a single slow round would drop it.
    check(o.lease_ttl - lease_margin(o) >= 2 * (o.poll_interval + o.command_timeout),
          "lease_ttl is too short: it must exceed lease_margin() by twice poll_interval + "
          "command_timeout");
    check(o.start_after == "$" || detail::parse_stream_id(o.start_after).has_value(),
          "start_after is neither \"$\" nor a stream id");
    check(o.max_queued > 0, "max_queued is 0");
    check(o.stream_max_length > 0, "stream_max_length is 0");
}

// hiredis writes with write(), so a write to a socket Redis closed raises SIGPIPE, whose
// default action ends the process. Blocked on this thread only, it stays pending here and the
// write fails with EPIPE; the process's own signal setup is left alone.
void block_sigpipe_on_this_thread() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

struct queued_event {
    std::string kind;
    std::string body;
};

}  // namespace

std::chrono::milliseconds lease_margin(const link_options& o) noexcept {
    return o.poll_interval + o.connect_timeout + o.command_timeout;
}

struct link::impl {
    // What posted callbacks share with the link; it outlives the link while any is queued.
    struct shared_state {
        link_handlers handlers;
        detail::callback_gate gate;
        std::mutex id_mutex;
        std::string delivered_id;
    };

    impl(boost::asio::any_io_executor executor, link_options options, link_handlers handlers)
        : options_(std::move(options)),
          stream_key_(options_.key_prefix + ":events"),
          executor_(std::move(executor)),
          shared_(std::make_shared<shared_state>()),
          leases_(options_.node_id, options_.lease_ttl - lease_margin(options_)) {
        shared_->handlers = std::move(handlers);
        shared_->delivered_id = options_.start_after;
        if (options_.start_after != "$") {
            last_id_ = detail::parse_stream_id(options_.start_after)->to_string();
            position_known_ = true;
        }
    }

    // ---- any thread

    bool publish(std::string kind, std::string body) {
        std::lock_guard lock(queue_mutex_);
        if (queue_.size() >= options_.max_queued) {
            ++dropped_;
            return false;
        }
        queue_.push_back({std::move(kind), std::move(body)});
        return true;
    }

    void want_leases(std::vector<std::string> names) {
        {
            std::lock_guard lock(lease_mutex_);
            leases_.want(std::move(names));
        }
        // Take or give back at once rather than one poll interval later.
        wake();
    }

    bool owns(std::string_view name) const {
        std::lock_guard lock(lease_mutex_);
        return leases_.owns(name, clock::now());
    }

    std::string holder(std::string_view name) const {
        std::lock_guard lock(lease_mutex_);
        return leases_.holder(name);
    }

    std::string last_delivered_id() const {
        std::lock_guard lock(shared_->id_mutex);
        return shared_->delivered_id;
    }

    link_counters counters() const {
        link_counters c;
        c.published = published_;
        c.dropped = dropped_;
        c.received = received_;
        c.failures = failures_;
        c.stream_resets = stream_resets_;
        std::lock_guard lock(queue_mutex_);
        c.queued = queue_.size();
        return c;
    }

    void wake() {
        {
            std::lock_guard lock(control_mutex_);
            wake_ = true;
        }
        control_cv_.notify_one();
    }

    void stop(bool release) {
        {
            std::lock_guard lock(control_mutex_);
            if (!stopping_) {
                stopping_ = true;
                release_on_stop_ = release;
            }
        }
        control_cv_.notify_one();
        shared_->gate.close();
        // From a handler that stops its own link, the thread is another one: still joinable.
        std::call_once(join_once_, [this] {
            if (thread_.joinable()) thread_.join();
        });
    }

    // ---- the link's thread

    void run() {
        block_sigpipe_on_this_thread();
        std::unique_lock lock(control_mutex_);
        while (!stopping_) {
            lock.unlock();
            round();
            lock.lock();
            control_cv_.wait_for(lock, options_.poll_interval,
                                 [this] { return stopping_ || wake_; });
            wake_ = false;
        }
        const bool release = release_on_stop_;
        lock.unlock();
        if (release) release_all();
        connection_.close();
    }

    void round() {
        const auto deadline = clock::now() + options_.poll_interval;
        report_leases();
        if (!connection_.connected() && !open()) {
            report_leases();
            return;
        }
        const bool ok = renew_leases() && publish_queued(deadline) && read_events(deadline);
        report_leases();
        if (ok) set_up();
    }

    bool open() {
        if (!connection_.connect(options_.host, options_.port, options_.connect_timeout,
                                 options_.command_timeout)) {
            return failed();
        }
        if (!options_.password.empty()) {
            const std::string auth[] = {"AUTH", options_.password};
            if (!execute(auth)) return false;
        }
        return sync_position();
    }

    // Where reading goes on from: "$" resolved to the stream's end on the first connect; after
    // that, a stream whose end lies before what was read was lost with a Redis that came back
    // empty, and is read again from its start.
    bool sync_position() {
        const auto reply = execute(detail::last_entry_command(stream_key_));
        if (!reply) return false;
        const auto end = detail::parse_last_entry(*reply);
        if (!end) return protocol_failure("XREVRANGE");
        if (!position_known_) {
            last_id_ = end->value_or("0-0");
            position_known_ = true;
            std::lock_guard lock(shared_->id_mutex);
            shared_->delivered_id = last_id_;
            return true;
        }
        const auto read = detail::parse_stream_id(last_id_);
        const auto last =
            *end ? detail::parse_stream_id(**end) : std::optional<detail::stream_id>{};
        const detail::stream_id origin{};
        if (read && *read > origin && (!last || *last < *read)) {
            last_id_ = "0-0";
            ++stream_resets_;
        }
        return true;
    }

    bool renew_leases() {
        std::vector<std::string> wanted, releasing;
        {
            std::lock_guard lock(lease_mutex_);
            wanted = leases_.wanted();
            releasing = leases_.releasing();
        }
        if (!releasing.empty()) {
            if (!execute(detail::release_command(options_.key_prefix, releasing, options_.node_id)))
                return false;
            std::lock_guard lock(lease_mutex_);
            leases_.released(releasing);
        }
        if (wanted.empty()) return true;
        // Taken before sending: Redis starts the ttl no earlier, so trust measured from here
        // never outlasts the key.
        const auto sent_at = clock::now();
        const auto reply = execute(detail::renew_command(options_.key_prefix, wanted,
                                                         options_.node_id, options_.lease_ttl));
        if (!reply) return false;
        const auto holders = detail::parse_renew(*reply, wanted.size());
        if (!holders) return protocol_failure("EVAL");
        std::lock_guard lock(lease_mutex_);
        leases_.renewed(wanted, *holders, sent_at);
        return true;
    }

    bool publish_queued(clock::time_point deadline) {
        while (clock::now() < deadline) {
            queued_event e;
            {
                std::lock_guard lock(queue_mutex_);
                if (queue_.empty()) return true;
                e = std::move(queue_.front());
                queue_.pop_front();
            }
            if (!execute(detail::xadd_command(stream_key_, options_.stream_max_length,
                                              options_.node_id, e.kind, e.body))) {
                // Only this thread takes from the queue, so the front is still where it was.
                std::lock_guard lock(queue_mutex_);
                queue_.push_front(std::move(e));
                return false;
            }
            ++published_;
        }
        return true;
    }

    bool read_events(clock::time_point deadline) {
        for (int i = 0; i < reads_per_round; ++i) {
            const auto reply = execute(detail::xread_command(stream_key_, read_count, last_id_));
            if (!reply) return false;
            auto entries = detail::parse_xread(*reply, stream_key_);
            if (!entries) return protocol_failure("XREAD");
            if (entries->empty()) {
                report_caught_up();
                return true;
            }
            const bool full = entries->size() >= read_count;
            last_id_ = entries->back().id;
            received_ += static_cast<std::uint64_t>(std::count_if(
                entries->begin(), entries->end(), [this](const event& e) { return e.node != options_.node_id; }));
            deliver(std::move(*entries), last_id_);
            if (!full) report_caught_up();
            if (!full || clock::now() >= deadline) return true;
        }
        return true;
    }

    void release_all() {
        std::vector<std::string> names;
        {
            std::lock_guard lock(lease_mutex_);
            names = leases_.all_held();
        }
        // Best effort: a lease left behind expires after its ttl anyway.
        if (names.empty() || !connection_.connected()) return;
        (void)execute(detail::release_command(options_.key_prefix, names, options_.node_id));
    }

    // A failed command ends the connection (see failed), whatever the failure: a server that
    // refuses our commands (NOAUTH, READONLY after a failover, OOM) is as good as unreachable.
    boost::system::result<detail::redis_reply> execute(std::span<const std::string> args) {
        auto r = connection_.command(args);
        if (!r) failed();
        return r;
    }
    boost::system::result<detail::redis_reply> execute(const std::vector<std::string>& args) {
        return execute(std::span<const std::string>{args});
    }

    bool protocol_failure(const char* command) {
        connection_.close();
        ++failures_;
        set_down(std::string(command) + ": unexpected reply");
        return false;
    }

    bool failed() {
        ++failures_;
        const auto reason = connection_.last_error();
        connection_.close();
        set_down(reason);
        return false;
    }

    void set_up() {
        up_ = true;
        if (reported_up_ == true) return;
        reported_up_ = true;
        post([](shared_state& s) {
            if (s.handlers.on_status) s.handlers.on_status(link_status{true, {}});
        });
    }

    void set_down(std::string reason) {
        up_ = false;
        if (reported_up_ == false) return;
        reported_up_ = false;
        post([reason = std::move(reason)](shared_state& s) {
            if (s.handlers.on_status) s.handlers.on_status(link_status{false, reason});
        });
    }

    void report_leases() {
        std::optional<lease_change> change;
        {
            std::lock_guard lock(lease_mutex_);
            leases_.expire(clock::now());
            change = leases_.take_change();
        }
        if (!change) return;
        post([change = std::move(*change)](shared_state& s) {
            if (s.handlers.on_leases) s.handlers.on_leases(change);
        });
    }

    void report_caught_up() {
        if (caught_up_) return;
        caught_up_ = true;
        post([](shared_state& s) {
            if (s.handlers.on_caught_up) s.handlers.on_caught_up();
        });
    }

    void deliver(std::vector<event> events, std::string last_id) {
        post([events = std::move(events), last_id = std::move(last_id), self = options_.node_id](shared_state& s) {
            for (const auto& e : events) {
                // A handler may have stopped the link: the rest of the batch is not for it.
                if (s.gate.closed()) return;
                const auto& handler = e.node == self ? s.handlers.on_own_event : s.handlers.on_event;
                if (handler) handler(e);
            }
            std::lock_guard lock(s.id_mutex);
            s.delivered_id = last_id;
        });
    }

    template <class F>
    void post(F f) {
        boost::asio::post(
            executor_, [s = shared_, f = std::move(f)]() mutable { s->gate.run([&] { f(*s); }); });
    }

    const link_options options_;
    const std::string stream_key_;
    boost::asio::any_io_executor executor_;
    std::shared_ptr<shared_state> shared_;

    mutable std::mutex queue_mutex_;
    std::deque<queued_event> queue_;

    mutable std::mutex lease_mutex_;
    detail::lease_table leases_;

    std::mutex control_mutex_;
    std::condition_variable control_cv_;
    bool stopping_ = false;
    bool release_on_stop_ = true;
    bool wake_ = false;

    std::atomic<bool> up_{false};
    std::atomic<std::uint64_t> published_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> received_{0};
    std::atomic<std::uint64_t> failures_{0};
    std::atomic<std::uint64_t> stream_resets_{0};

    // Only the link's thread touches these.
    detail::redis_connection connection_;
    std::string last_id_;
    bool position_known_ = false;
    bool caught_up_ = false;  ///< on_caught_up posted (the link's thread only)
    std::optional<bool> reported_up_;

    std::once_flag join_once_;
    std::thread thread_;  // last: started once everything above exists
};

link::link(boost::asio::any_io_executor handler_executor, link_options options,
           link_handlers handlers) {
    validate(options);
    impl_ = std::make_unique<impl>(std::move(handler_executor), std::move(options),
                                   std::move(handlers));
    impl_->thread_ = std::thread([i = impl_.get()] { i->run(); });
}

link::~link() {
    stop();
}

bool link::publish(std::string kind, std::string body) {
    return impl_->publish(std::move(kind), std::move(body));
}
void link::want_leases(std::vector<std::string> names) {
    impl_->want_leases(std::move(names));
}
void link::release_leases() {
    impl_->want_leases({});
}
std::string link::holder(std::string_view name) const { return impl_->holder(name); }

bool link::owns(std::string_view name) const {
    return impl_->owns(name);
}
bool link::up() const noexcept {
    return impl_->up_;
}
std::string link::last_delivered_id() const {
    return impl_->last_delivered_id();
}
link_counters link::counters() const {
    return impl_->counters();
}
void link::stop() {
    impl_->stop(true);
}
void link::abandon() {
    impl_->stop(false);
}

}  // namespace b2b::cluster
