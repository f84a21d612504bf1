// One node's link to the Redis server its cluster shares: an event stream and leases.
#pragma once

#include "cluster/event.hpp"
#include "cluster/lease_change.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::cluster {

/// How a link reaches Redis and paces itself. The constructor of `link` checks it.
struct link_options {
    /// This node's name, unique in the cluster: its own events are recognised by it, and its
    /// leases are stored under it. Two nodes with one name would skip each other's events.
    std::string node_id;
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    /// Sent with AUTH after each connect when not empty (the default user).
    std::string password;
    /// Every key starts with it: "<prefix>:events", "<prefix>:lease:<name>".
    std::string key_prefix = "b2bua";
    /// The time between two rounds (connect if needed, renew leases, publish, read).
    std::chrono::milliseconds poll_interval{250};
    std::chrono::milliseconds connect_timeout{500};
    /// For each command, to send it and again to read its reply.
    std::chrono::milliseconds command_timeout{500};
    /// How long Redis keeps a lease nobody renews. This node trusts its own lease for
    /// `lease_ttl - lease_margin()` after each renewal, and must be at least twice
    /// `poll_interval + command_timeout` longer than the margin.
    std::chrono::milliseconds lease_ttl{10000};
    /// Where reading the stream starts: "$" for the events added after the first connect, or
    /// a stream id ("0" for all kept, or the `last_delivered_id()` of an earlier run).
    std::string start_after = "$";
    /// Events queued for publishing at most; `publish` refuses (and counts) beyond it.
    std::size_t max_queued = 10000;
    /// The stream is trimmed to about this many entries.
    std::size_t stream_max_length = 100000;
};

/// How long before Redis can give a lease away this node stops trusting it: one round's worst
/// delay (the wait, a connect and a command that time out), so the loss is reported before the
/// key expires in Redis even when the report comes one round late.
std::chrono::milliseconds lease_margin(const link_options& options) noexcept;

/// Redis reachable or not, as the link last found it; `reason` says why when not.
struct link_status {
    bool up = false;
    std::string reason;
};

/// The owner's callbacks, each optional. They run on the executor given to the link.
struct link_handlers {
    /// The first outcome after start, then each change between up and down. Up means a whole
    /// round (connect, leases, publish, read) went through.
    std::function<void(const link_status&)> on_status;
    /// Each event another node published, in stream order.
    std::function<void(const event&)> on_event;
    /// Each change of the set of leases held.
    std::function<void(const lease_change&)> on_leases;
    /// Each event this node published, as reading the stream passes it, in order with the
    /// others' (`on_event`): what this node published is known to come after what came before.
    std::function<void(const event&)> on_own_event;
    /// Once, the first time reading reaches the end of the stream: every event there was from
    /// `start_after` on has been handed over (before this call, on the same executor).
    std::function<void()> on_caught_up;
};

/// What the link did so far.
struct link_counters {
    std::uint64_t published = 0;      ///< events added to the stream
    std::uint64_t dropped = 0;        ///< events `publish` refused: the queue was full
    std::uint64_t received = 0;       ///< other nodes' events read from the stream
    std::uint64_t failures = 0;       ///< connects and commands that failed
    std::uint64_t stream_resets = 0;  ///< the stream was found behind what was read (lost)
    std::size_t queued = 0;           ///< events waiting to be published
};

/// One node's link to Redis, on a thread of its own so that no SIP work ever waits for Redis.
/// Every `poll_interval` the thread runs one round: it connects when it is not connected (and
/// reports up or down), renews or takes the wanted leases, adds the queued events to the
/// stream "<prefix>:events", and reads the entries other nodes added since the last one read.
/// Policy-free: kinds, bodies and lease names are the owner's opaque strings.
///
/// Events: at least once. An event published while Redis is unreachable stays queued and goes
/// out when it is back; one whose add timed out may be added twice. If Redis comes back
/// without the stream (restarted without persistence), reading starts over from its start.
///
/// Leases: "<prefix>:lease:<name>" holds the node id for `lease_ttl`, renewed each round with
/// one atomic script. This node holds a lease from a renewal Redis confirmed until
/// `lease_ttl - lease_margin()` after that renewal was sent, whether or not Redis can be reached
/// since, so no two nodes ever both hold one (given clocks that run at the same rate).
///
/// @par Thread safety
/// Every member function may be called from any thread; none waits for Redis, except `stop`
/// and `abandon`, which wait for the current round (bounded by the timeouts).
///
/// @par Callbacks
/// Handlers are posted to the executor given to the constructor; with a loop run on several
/// threads, give a strand, or events may be handled out of order. No handler starts after
/// `stop` or `abandon` returns, and one running on another thread is waited for; callbacks
/// still queued on the executor then do nothing. The handlers' own objects, and the executor's
/// execution context, must outlive the link; the link itself may be destroyed from inside a
/// handler. `stop` must not be called while holding a lock that a handler takes.
class link {
public:
    /// Checks `options` (throws std::invalid_argument) and starts the thread.
    link(boost::asio::any_io_executor handler_executor, link_options options,
         link_handlers handlers = {});
    /// `stop()`.
    ~link();
    link(const link&) = delete;
    link& operator=(const link&) = delete;

    /// Queues an event for the stream. False when `max_queued` are waiting: the event is dropped
    /// and counted.
    bool publish(std::string kind, std::string body);

    /// The leases this node wants from now on. One it holds and no longer wants is deleted
    /// (where still its own) and reported lost.
    void want_leases(std::vector<std::string> names);
    /// `want_leases({})`: gives every lease back.
    void release_leases();
    /// Whether this node holds `name` at this moment: exact, unlike the report, which may come
    /// one round late.
    bool owns(std::string_view name) const;
    /// The node Redis last named as the holder of wanted lease `name`: this node's id while it
    /// holds it, another's while that one does, empty when none is known (not wanted, Redis not
    /// reached yet, or the lease just lapsed). Unlike the report, it follows every renewal,
    /// also while this node holds none.
    std::string holder(std::string_view name) const;

    /// Whether the last round reached Redis.
    bool up() const noexcept;
    /// The id up to which the stream has been read and every event handed to `on_event`
    /// (own ones skipped): an owner can persist it and pass it as `start_after` next time.
    /// Before the first read: `start_after` as given, or its resolution of "$".
    std::string last_delivered_id() const;
    link_counters counters() const;

    /// Ends the rounds, deletes the leases still held (best effort, one command), and waits for
    /// the thread. Idempotent.
    void stop();
    /// Like `stop`, but leaves the leases in Redis to expire, as a node that crashed would.
    void abandon();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace b2b::cluster
