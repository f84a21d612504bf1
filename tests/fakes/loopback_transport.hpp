// Test fake: an in-memory sip::transport that records sends, injects input and links two ends.
#pragma once

#include "sip/message/message.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transport/flow.hpp"
#include "sip/transport/transport.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::test {

/// An in-memory transport for one SIP element (after Beast's test::stream and Seastar's
/// loopback_socket):
///
/// - every successful `send` is recorded in `sent()` with its flow;
/// - `inject` hands bytes to the `transport_user` as if they had been received;
/// - `fail_sends` / `fail_send_number` / `fail_if` make sends fail (nothing is recorded or
///   delivered then), for failure sweeps;
/// - `link(a, b)` connects two of them: what `a` sends to `b`'s local endpoint is queued for
///   `b`'s user, and the reverse. Delivery is never synchronous (a send never re-enters the
///   sender's caller): queued messages go up on `deliver_pending()`, or by themselves through
///   a timer_service when the link was given one (`latency` after the send).
///
/// Flows: UDP flows have connection 0. `flow_to(tcp, remote)` gives one connection id per
/// remote endpoint, shared by both ends of a link so that replies find the connection. Like
/// the Asio transport, a connection closed with `close_flow` is gone: a send on it fails with
/// `not_connected` (nothing recorded), and `flow_to` that remote opens a new one (a new id).
///
/// @par Thread safety
/// None. The transport_user and a linked peer must outlive it; the destructor cancels its
/// scheduled deliveries.
class loopback_transport final : public sip::transport {
public:
    struct sent_message {
        sip::flow flow;
        std::string bytes;
    };

    explicit loopback_transport(sip::endpoint local = {boost::asio::ip::make_address("127.0.0.1"), 5060})
        : local_(std::move(local)) {}
    loopback_transport(const loopback_transport&) = delete;
    loopback_transport& operator=(const loopback_transport&) = delete;
    ~loopback_transport() override {
        if (clock_ != nullptr) {
            for (const auto id : scheduled_) {
                clock_->cancel(id);
            }
        }
        if (peer_ != nullptr && peer_->peer_ == this) {
            peer_->peer_ = nullptr;
        }
    }

    /// Who receives injected and delivered bytes (the transaction manager).
    void set_user(sip::transport_user* user) noexcept { user_ = user; }
    const sip::endpoint& local() const noexcept { return local_; }

    // sip::transport
    boost::system::result<sip::flow> flow_to(sip::transport_kind kind,
                                             const sip::endpoint& remote) override {
        sip::flow f{kind, local_, remote, 0};
        if (kind != sip::transport_kind::udp) {
            f.connection = connection_for(remote);
        }
        return f;
    }

    boost::system::error_code send(const sip::flow& f, std::string_view bytes) override {
        const std::size_t n = attempts_++;
        if (f.reliable() && closed_.contains(f.connection)) {
            ++failures_;
            return make_error_code(boost::system::errc::not_connected);
        }
        if (auto ec = injected_failure(n, f, bytes)) {
            ++failures_;
            return ec;
        }
        sent_.push_back({f, std::string(bytes)});
        if (peer_ != nullptr && f.remote == peer_->local_) {
            sip::flow in{f.transport, peer_->local_, local_, f.connection};
            peer_->enqueue(std::move(in), std::string(bytes));
        }
        return {};
    }

    // Recording

    const std::vector<sent_message>& sent() const noexcept { return sent_; }
    /// The bytes of the i-th recorded send.
    const std::string& sent_bytes(std::size_t i) const { return sent_.at(i).bytes; }
    void clear_sent() noexcept { sent_.clear(); }
    /// Every call to `send`, failed ones included.
    std::size_t send_attempts() const noexcept { return attempts_; }
    std::size_t failed_sends() const noexcept { return failures_; }

    // Failure injection

    /// Every send fails with `ec` until `stop_failing()`.
    void fail_sends(boost::system::error_code ec = default_error()) { fail_all_ = ec; }
    /// Only the send attempt number `n` (0-based, counting every attempt so far) fails.
    void fail_send_number(std::size_t n, boost::system::error_code ec = default_error()) {
        fail_numbers_[n] = ec;
    }
    /// Sends for which `pred(flow, bytes)` is true fail with `ec`.
    void fail_if(std::function<bool(const sip::flow&, std::string_view)> pred,
                 boost::system::error_code ec = default_error()) {
        fail_pred_ = std::move(pred);
        fail_pred_ec_ = ec;
    }
    void stop_failing() {
        fail_all_.reset();
        fail_numbers_.clear();
        fail_pred_ = nullptr;
    }

    // Input

    /// Hands `bytes` to the user as received on `f` (whose `local` should be ours).
    void inject(std::string_view bytes, const sip::flow& f,
                sip::framing fr = sip::framing::datagram) {
        if (user_ != nullptr) {
            user_->on_bytes(bytes, f, fr);
        }
    }
    /// Same, on a UDP flow from `remote` to our local endpoint.
    void inject_from(const sip::endpoint& remote, std::string_view bytes) {
        inject(bytes, sip::flow{sip::transport_kind::udp, local_, remote, 0});
    }
    /// Stream flow `f` closed: its connection is gone (sends on it fail with not_connected,
    /// `flow_to` its remote opens another), and the user is told.
    void close_flow(const sip::flow& f,
                    boost::system::error_code ec = make_error_code(boost::system::errc::connection_reset)) {
        if (f.reliable()) {
            closed_.insert(f.connection);
            std::erase_if(connections_, [&](const auto& kv) { return kv.second == f.connection; });
        }
        if (user_ != nullptr) {
            user_->on_flow_closed(f, ec);
        }
    }

    // Linking

    /// Connects `a` and `b` (each must have a different local endpoint). With `clock`, a
    /// message sent by one reaches the other's user `latency` later through that clock;
    /// without, it waits for `deliver_pending()`.
    static void link(loopback_transport& a, loopback_transport& b,
                     sip::timer_service* clock = nullptr,
                     sip::timer_service::duration latency = sip::timer_service::duration::zero()) {
        a.peer_ = &b;
        b.peer_ = &a;
        b.connection_ids_ = a.connection_ids_;
        a.clock_ = b.clock_ = clock;
        a.latency_ = b.latency_ = latency;
    }

    /// Delivers queued messages to the user, including ones queued meanwhile, until none is
    /// left. Returns how many were delivered.
    std::size_t deliver_pending() {
        std::size_t n = 0;
        while (!inbox_.empty()) {
            deliver_front();
            ++n;
        }
        return n;
    }
    std::size_t queued() const noexcept { return inbox_.size(); }

private:
    struct pending {
        sip::flow flow;
        std::string bytes;
    };

    static boost::system::error_code default_error() {
        return make_error_code(boost::system::errc::network_unreachable);
    }

    boost::system::error_code injected_failure(std::size_t n, const sip::flow& f,
                                               std::string_view bytes) const {
        if (fail_all_) {
            return *fail_all_;
        }
        if (auto it = fail_numbers_.find(n); it != fail_numbers_.end()) {
            return it->second;
        }
        if (fail_pred_ && fail_pred_(f, bytes)) {
            return fail_pred_ec_;
        }
        return {};
    }

    std::uint64_t connection_for(const sip::endpoint& remote) {
        auto [it, inserted] = connections_.try_emplace(key(remote), 0);
        if (inserted) {
            // Linked ends share the counter, so an id names one connection on both sides.
            it->second = ++*connection_ids_;
            if (peer_ != nullptr && remote == peer_->local_) {
                peer_->connections_[key(local_)] = it->second;
            }
        }
        return it->second;
    }

    static std::string key(const sip::endpoint& e) { return e.to_string(); }

    void enqueue(sip::flow f, std::string bytes) {
        inbox_.push_back({std::move(f), std::move(bytes)});
        if (clock_ != nullptr) {
            scheduled_.push_back(clock_->schedule(latency_, [this] {
                scheduled_.pop_front();
                if (!inbox_.empty()) {
                    deliver_front();
                }
            }));
        }
    }

    void deliver_front() {
        pending p = std::move(inbox_.front());
        inbox_.pop_front();
        if (user_ != nullptr) {
            user_->on_bytes(p.bytes, p.flow,
                            p.flow.reliable() ? sip::framing::stream : sip::framing::datagram);
        }
    }

    sip::endpoint local_;
    sip::transport_user* user_ = nullptr;
    loopback_transport* peer_ = nullptr;
    sip::timer_service* clock_ = nullptr;
    sip::timer_service::duration latency_{0};

    std::vector<sent_message> sent_;
    std::size_t attempts_ = 0;
    std::size_t failures_ = 0;
    std::optional<boost::system::error_code> fail_all_;
    std::map<std::size_t, boost::system::error_code> fail_numbers_;
    std::function<bool(const sip::flow&, std::string_view)> fail_pred_;
    boost::system::error_code fail_pred_ec_;

    std::map<std::string, std::uint64_t> connections_;  // remote endpoint -> connection id
    std::set<std::uint64_t> closed_;                    // connections gone (close_flow)
    std::shared_ptr<std::uint64_t> connection_ids_ = std::make_shared<std::uint64_t>(0);
    std::deque<pending> inbox_;
    std::deque<sip::timer_service::timer_id> scheduled_;
};

}  // namespace b2b::test
