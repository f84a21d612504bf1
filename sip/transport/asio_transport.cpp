// SIP over UDP, TCP and TLS on Boost.Asio.
#include "sip/transport/asio_transport.hpp"

#include "sip/message/message.hpp"
#include "sip/transport/connection_budget.hpp"
#include "sip/transport/detail/datagram_batch.hpp"
#include "sip/transport/detail/log_throttle.hpp"
#include "sip/transport/tls_context.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <type_traits>
#include <unordered_map>

namespace b2b::sip {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;

namespace {

std::shared_ptr<spdlog::logger> transport_logger() {
    auto log = spdlog::get("sip.transport");
    return log ? log : spdlog::default_logger()->clone("sip.transport");
}

template <class Endpoint>
endpoint to_endpoint(const Endpoint& e) {
    return {e.address(), e.port()};
}

// Datagrams that are only whitespace are keep-alives (RFC 5626 §4.4.1 sends STUN over UDP,
// but many devices send bare CRLFs): not SIP, not an error.
bool only_whitespace(std::string_view s) {
    return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

using tls_stream = asio::ssl::stream<tcp::socket>;

template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

// Why a handshake failed, for the metric: the peer's certificate (chain, validity, name) or
// anything else TLS refused.
tls_failure classify(const error_code& ec, long verify_result) {
    if (verify_result != X509_V_OK) return tls_failure::verify_failed;
    if (ec.category() == asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        return tls_failure::verify_failed;
    }
    return tls_failure::handshake;
}

// RFC 5922 §7.2 through Asio's check (a subjectAltName naming the host; an address literal
// against the certificate's IP addresses), recording a mismatch as the verify result so the
// failure says what it was.
struct peer_name_check {
    asio::ssl::host_name_verification check;
    bool address;

    bool operator()(bool preverified, asio::ssl::verify_context& ctx) const {
        if (check(preverified, ctx)) return true;
        if (preverified) {
            X509_STORE_CTX_set_error(ctx.native_handle(),
                                     address ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH);
        }
        return false;
    }
};

}  // namespace

class asio_transport::impl {
public:
    impl(asio::io_context& io, asio_transport_options options)
        : io_(io),
          options_(options),
          log_(transport_logger()),
          budget_(options.budget ? options.budget : std::make_shared<connection_budget>(connection_limits(options))) {}

    // ---------------------------------------------------------------- UDP
    // Datagrams in and out in batches (detail/datagram_batch.hpp): when the socket is readable,
    // recvmmsg reads up to `receive_slots` at once; the answers they cause wait in the sending
    // socket's queue and leave with one sendmmsg once the batch is handled. A quiet socket gets
    // one datagram per call, sent at once, as before; a busy one saves most of the system calls.
    static constexpr std::size_t receive_slots = 32;
    static constexpr std::size_t send_slots = 32;
    static constexpr std::size_t send_octets = 64 * 1024;
    /// Batches read per readiness before the loop runs timers and TCP (then it comes back).
    static constexpr int batches_per_turn = 4;

    struct udp_listener {
        udp_listener(impl& owner, asio::io_context& io)
            : owner_(owner),
              socket_(io),
              // One octet more than the limit, so an oversized datagram is recognised as such.
              receiver_(receive_slots, owner.options_.max_message_size + 1),
              sender_(send_slots, send_octets) {}

        // The socket is non-blocking and drained to empty before each wait: with the reactor's
        // edge-triggered epoll a wait started on a socket that still holds data would sleep.
        void do_receive() {
            socket_.async_wait(udp::socket::wait_read, [this](error_code ec) {
                if (ec == asio::error::operation_aborted || !socket_.is_open()) return;
                read_batches();
            });
        }

        void read_batches() {
            for (int turn = 0; turn < batches_per_turn && socket_.is_open(); ++turn) {
                error_code ec;
                const std::size_t n = receiver_.receive(socket_.native_handle(), ec);
                if (ec == asio::error::would_block) {  // EAGAIN (EWOULDBLOCK is the same on Linux)
                    do_receive();
                    return;
                }
                if (ec) {
                    // ICMP port unreachable surfaces here as connection_refused on Linux: not fatal.
                    owner_.log_->debug("udp receive on {}: {}", local_.to_string(), ec.message());
                    continue;
                }
                owner_.deliver_batch(*this, n);
                if (n < receiver_.slots()) {
                    // The socket was empty when read: wait for the next datagram.
                    if (socket_.is_open()) do_receive();
                    return;
                }
            }
            // Still busy: let timers and TCP run, then read on (no wait: the data is there).
            // The weak token: the transport may be gone by the time the loop runs it.
            if (socket_.is_open()) {
                asio::post(socket_.get_executor(), [this, alive = std::weak_ptr<int>(alive_)] {
                    if (!alive.expired()) read_batches();
                });
            }
        }

        void deliver(std::size_t i) {
            if (receiver_.oversized(i)) {
                owner_.log_->debug("udp datagram of {} bytes or more from {} dropped: too large",
                                   receiver_.bytes(i).size(), to_endpoint(source(i)).to_string());
                return;
            }
            const std::string_view bytes = receiver_.bytes(i);
            if (only_whitespace(bytes)) return;
            flow f{transport_kind::udp, local_, to_endpoint(source(i)), 0};
            owner_.user_->on_bytes(bytes, f, framing::datagram);
        }

        udp::endpoint source(std::size_t i) const {
            udp::endpoint from;
            const socklen_t length = receiver_.source_length(i);
            if (length > from.capacity()) return from;
            std::memcpy(from.data(), receiver_.source(i), length);
            from.resize(length);
            return from;
        }

        error_code send_now(std::string_view bytes, const udp::endpoint& to) {
            error_code ec;
            socket_.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
            return ec;
        }

        void flush() {
            if (sender_.empty() || !socket_.is_open()) return;
            const auto r = sender_.flush(socket_.native_handle());
            if (r.lost > 0) {
                owner_.log_->debug("udp send on {}: {} datagram(s) lost: {}", local_.to_string(), r.lost,
                                   r.last_error.message());
            }
        }

        impl& owner_;
        udp::socket socket_;
        endpoint local_;
        detail::datagram_receiver receiver_;
        detail::datagram_sender sender_;
        std::shared_ptr<int> alive_ = std::make_shared<int>(0);
    };

    // Hands a batch up, holding back what it causes to be sent until every datagram is handled.
    void deliver_batch(udp_listener& from, std::size_t n) {
        holding_ = true;
        for (std::size_t i = 0; i < n && from.socket_.is_open(); ++i) from.deliver(i);
        holding_ = false;
        for (auto& u : udp_) u->flush();
    }

    // ---------------------------------------------------------------- TCP and TLS
    // A stream connection as the maps and the budgets see it, whatever it runs over.
    class connection {
    public:
        virtual ~connection() = default;
        connection(const connection&) = delete;
        connection& operator=(const connection&) = delete;

        /// False when nothing was queued (the peer does not read: see stream_connection::send).
        virtual bool send(std::string_view bytes) = 0;
        virtual void close(error_code why) = 0;
        /// A close we decide, counted for `why`.
        virtual void drop_for(connection_close why) = 0;

        const flow& get_flow() const noexcept { return flow_; }
        std::uint64_t id() const noexcept { return id_; }
        connection_direction direction() const noexcept { return direction_; }

    protected:
        connection(std::uint64_t id, connection_direction direction) : id_(id), direction_(direction) {}

        std::uint64_t id_;
        connection_direction direction_;
        flow flow_;
    };

    // One TCP connection, or one TLS connection over TCP (RFC 3261 §26.2.1): the same framing,
    // keep-alives, idle timeout, write bound and budgets; TLS adds the handshake before the first
    // message, bounded by `tls_handshake_timeout`.
    template <class Stream>
    class stream_connection final : public connection, public std::enable_shared_from_this<stream_connection<Stream>> {
    public:
        static constexpr transport_kind kind = is_tls<Stream> ? transport_kind::tls : transport_kind::tcp;

        stream_connection(impl& owner, tcp::socket socket, std::uint64_t id, connection_direction direction)
            requires(!is_tls<Stream>)
            : connection(id, direction),
              owner_(owner),
              stream_(std::move(socket)),
              idle_(stream_.get_executor()),
              write_timer_(stream_.get_executor()) {}

        // The connection keeps `ctx`: a reload replaces the transport's contexts, not this one's.
        stream_connection(impl& owner, tcp::socket socket, std::uint64_t id, connection_direction direction,
                          std::shared_ptr<asio::ssl::context> ctx)
            requires(is_tls<Stream>)
            : connection(id, direction),
              owner_(owner),
              ctx_(std::move(ctx)),
              stream_(std::move(socket), *ctx_),
              idle_(stream_.get_executor()),
              write_timer_(stream_.get_executor()) {}

        void start_inbound(const endpoint& local, const endpoint& remote) {
            flow_ = flow{kind, local, remote, id_};
            if constexpr (is_tls<Stream>) {
                handshake(asio::ssl::stream_base::server);
            } else {
                on_open();
            }
        }

        /// `host`, for TLS: the name (or address) the peer's certificate must carry; empty = the
        /// address connected to.
        void start_outbound(const tcp::endpoint& remote, const endpoint& advertised_local, std::string_view host) {
            flow_ = flow{kind, advertised_local, to_endpoint(remote), id_};
            if constexpr (is_tls<Stream>) {
                host_ = host.empty() ? remote.address().to_string() : std::string(host);
            }
            arm_idle(std::min<std::chrono::steady_clock::duration>(owner_.options_.connect_timeout,
                                                                   owner_.options_.tcp_idle_timeout));
            socket().async_connect(remote, [self = this->shared_from_this()](error_code ec) { self->on_connect(ec); });
        }

        // False when the peer has left more unread than the bound: the connection is closed (from
        // the event loop, not from inside the caller's send) and nothing is queued.
        bool send(std::string_view bytes) override {
            if (closed_ || doomed_) return false;
            if (queued_bytes_ + bytes.size() > owner_.options_.max_queued_bytes) {
                doomed_ = true;
                asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
                    self->drop(connection_close::slow_reader, asio::error::no_buffer_space);
                });
                return false;
            }
            queued_bytes_ += bytes.size();
            queue_.emplace_back(bytes);
            if (open_ && !writing_) do_write();
            return true;
        }

        // A close we decide (idle, slow reader, framing): counted and logged at debug.
        void drop(connection_close why, error_code ec) {
            if (closed_) return;
            owner_.log_->debug("{} connection {} with {} closed: {}", to_string(kind), id_, flow_.remote.to_string(),
                               to_string(why));
            if (owner_.observer_) owner_.observer_->on_connection_dropped(flow_.transport, why);
            close(ec);
        }

        void drop_for(connection_close why) override { drop(why, asio::error::connection_aborted); }

        void close(error_code why) override {
            if (closed_) return;
            closed_ = true;
            open_ = false;
            error_code ignored;
            // No TLS close_notify: the peer learns of the end from the TCP FIN, and waiting for its
            // answer would hold the connection for nothing (SIP frames its own messages).
            socket().shutdown(tcp::socket::shutdown_both, ignored);
            socket().close(ignored);
            idle_.cancel();
            write_timer_.cancel();
            owner_.on_connection_closed(*this, why);
        }

    private:
        tcp::socket& socket() {
            if constexpr (is_tls<Stream>) {
                return stream_.next_layer();
            } else {
                return stream_;
            }
        }

        void on_connect(error_code ec) {
            if (closed_) return;
            if (ec) {
                owner_.log_->debug("{} connect to {} failed: {}", to_string(kind), flow_.remote.to_string(), ec.message());
                close(ec);
                return;
            }
            if constexpr (is_tls<Stream>) {
                error_code ignored;
                socket().set_option(tcp::no_delay(true), ignored);
                // SNI carries a name only (RFC 6066 §3); an address is checked, never sent.
                error_code not_address;
                asio::ip::make_address(host_, not_address);
                // SSL_set_tlsext_host_name, without the macro's C cast.
                if (not_address) {
                    SSL_ctrl(stream_.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                             const_cast<char*>(host_.c_str()));
                }
                stream_.set_verify_mode(asio::ssl::verify_peer);
                stream_.set_verify_callback(peer_name_check{asio::ssl::host_name_verification(host_), !not_address});
                handshake(asio::ssl::stream_base::client);
            } else {
                on_open();
            }
        }

        void handshake(asio::ssl::stream_base::handshake_type type)
            requires(is_tls<Stream>)
        {
            handshaking_ = true;
            arm_idle(std::min<std::chrono::steady_clock::duration>(owner_.options_.tls_handshake_timeout,
                                                                   owner_.options_.tcp_idle_timeout));
            stream_.async_handshake(type, [self = this->shared_from_this()](error_code ec) { self->on_handshake(ec); });
        }

        void on_handshake(error_code ec)
            requires(is_tls<Stream>)
        {
            handshaking_ = false;
            if (closed_) {
                if (handshake_timed_out_) owner_.handshake_failed(*this, tls_failure::timeout, "no handshake in time", host_);
                return;
            }
            if (ec) {
                const long verify = SSL_get_verify_result(stream_.native_handle());
                std::string why = ec.message();
                if (verify != X509_V_OK) {
                    why += ": ";
                    why += X509_verify_cert_error_string(verify);
                }
                owner_.handshake_failed(*this, classify(ec, verify), why, host_);
                close(ec);
                return;
            }
            on_open();
        }

        void on_open() {
            open_ = true;
            arm_idle(owner_.options_.tcp_idle_timeout);
            do_read();
            if (!queue_.empty() && !writing_) do_write();
        }

        void arm_idle(std::chrono::steady_clock::duration after) {
            idle_.expires_after(after);
            idle_.async_wait([weak = this->weak_from_this()](error_code ec) {
                if (ec) return;  // re-armed or cancelled
                auto self = weak.lock();
                if (!self) return;
                if (self->handshaking_) {
                    // Counted as a failed handshake (on_handshake), not as an idle connection.
                    self->handshake_timed_out_ = true;
                    self->close(asio::error::timed_out);
                } else if (!self->open_) {
                    // Still connecting (ours, outbound): a failed connect, like a refused one.
                    self->owner_.log_->debug("{} connect to {} timed out", to_string(kind), self->flow_.remote.to_string());
                    self->close(asio::error::timed_out);
                } else {
                    self->drop(connection_close::idle, asio::error::timed_out);
                }
            });
        }

        void do_read() {
            const std::size_t chunk = 16 * 1024;
            if (buffer_.size() < used_ + chunk) buffer_.resize(used_ + chunk);
            stream_.async_read_some(asio::buffer(buffer_.data() + used_, chunk),
                                    [self = this->shared_from_this()](error_code ec, std::size_t n) {
                                        self->on_read(ec, n);
                                    });
        }

        void on_read(error_code ec, std::size_t n) {
            if (closed_) return;
            if (ec) {
                // The peer closing is the normal end of a connection (over TLS without close_notify
                // too: SIP frames its own messages, a truncation cannot cut one short unseen).
                if (ec != asio::error::eof && ec != asio::error::operation_aborted &&
                    ec != asio::ssl::error::stream_truncated) {
                    owner_.log_->debug("{} read from {}: {}", to_string(kind), flow_.remote.to_string(), ec.message());
                }
                close(ec);
                return;
            }
            used_ += n;
            if (!process()) return;
            do_read();
        }

        // Cuts every complete message out of the buffer. Returns false when the connection
        // was closed (framing error, or the user closed it from a callback).
        bool process() {
            std::size_t start = 0;
            bool any = false;
            while (!closed_) {
                std::string_view pending(buffer_.data() + start, used_ - start);
                if (pending.empty()) break;
                auto frame = frame_stream(pending, owner_.options_.max_message_size, &searched_);
                if (!frame) {
                    owner_.user_->on_framing_error(pending, flow_, frame.error());
                    drop(connection_close::framing_error, asio::error::invalid_argument);
                    return false;
                }
                if (frame->leading_crlf >= 4) {
                    // RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong.
                    send("\r\n");
                }
                // A keep-alive is activity: a PBX pinging every 30 s keeps its connection,
                // and the calls pinned to it, through any idle timeout longer than that.
                any = any || frame->leading_crlf > 0;
                start += frame->leading_crlf;
                searched_ = searched_ > frame->leading_crlf ? searched_ - frame->leading_crlf : 0;
                if (frame->size == 0) break;
                any = true;
                searched_ = 0;  // the next message's search starts afresh
                std::string_view msg(buffer_.data() + start, frame->size);
                start += frame->size;
                owner_.user_->on_bytes(msg, flow_, framing::stream);
            }
            if (closed_) return false;
            if (any) arm_idle(owner_.options_.tcp_idle_timeout);
            if (start > 0) {
                std::memmove(buffer_.data(), buffer_.data() + start, used_ - start);
                used_ -= start;
            }
            return true;
        }

        void do_write() {
            writing_ = true;
            arm_write_timer();
            asio::async_write(stream_, asio::buffer(queue_.front()),
                              [self = this->shared_from_this()](error_code ec, std::size_t) {
                                  self->on_write(ec);
                              });
        }

        void on_write(error_code ec) {
            writing_ = false;
            if (closed_) return;
            if (ec) {
                owner_.log_->debug("{} write to {}: {}", to_string(kind), flow_.remote.to_string(), ec.message());
                close(ec);
                return;
            }
            ++writes_done_;
            queued_bytes_ -= queue_.front().size();
            queue_.pop_front();
            if (!queue_.empty()) do_write();
        }

        // A peer that stops reading fills its receive window and our send buffer; the write then
        // never completes. The timer is armed once per period, not per write (a busy connection
        // writes thousands of messages a second): when it fires with a write still pending and
        // none finished since it was armed, the peer has read nothing for a whole period.
        void arm_write_timer() {
            if (write_timer_armed_) return;
            write_timer_armed_ = true;
            writes_at_arming_ = writes_done_;
            write_timer_.expires_after(owner_.options_.write_timeout);
            write_timer_.async_wait([weak = this->weak_from_this()](error_code ec) {
                auto self = weak.lock();
                if (!self) return;
                self->write_timer_armed_ = false;
                if (ec || self->closed_ || !self->writing_) return;
                if (self->writes_done_ == self->writes_at_arming_) {
                    self->drop(connection_close::slow_reader, asio::error::timed_out);
                } else {
                    self->arm_write_timer();
                }
            });
        }

        impl& owner_;
        std::shared_ptr<asio::ssl::context> ctx_;  // TLS: the context this connection was made with
        Stream stream_;
        asio::steady_timer idle_;
        asio::steady_timer write_timer_;
        std::string host_;  // TLS outbound: the name the peer's certificate must carry
        std::vector<char> buffer_;
        std::size_t used_ = 0;
        std::size_t searched_ = 0;  // how far frame_stream searched the pending message's header
        std::deque<std::string> queue_;
        std::size_t queued_bytes_ = 0;
        std::uint64_t writes_done_ = 0;
        std::uint64_t writes_at_arming_ = 0;
        bool write_timer_armed_ = false;
        bool open_ = false;
        bool writing_ = false;
        bool closed_ = false;
        bool doomed_ = false;  // over the write bound, closing
        bool handshaking_ = false;         // TLS: the handshake is under way
        bool handshake_timed_out_ = false; // TLS: closed because the handshake took too long
    };

    // A tcp:// or tls:// listener.
    struct tcp_listener {
        tcp_listener(impl& owner, asio::io_context& io, transport_kind kind)
            : owner_(owner), acceptor_(io), pause_(io), kind_(kind) {}

        void do_accept() {
            acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
                on_accept(ec, std::move(socket));
            });
        }

        void on_accept(error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
            if (ec == asio::error::no_descriptors || ec == asio::error::no_memory ||
                ec == asio::error::no_buffer_space) {
                // Out of descriptors, the pending connection stays in the backlog and accept would
                // fail again at once: a busy loop. Pause, so closing connections can free some.
                owner_.refused(kind_, connection_refusal::descriptors, endpoint{});
                pause_.expires_after(std::chrono::milliseconds(100));
                pause_.async_wait([this](error_code e) {
                    if (!e && acceptor_.is_open()) do_accept();
                });
                return;
            }
            if (ec) {
                owner_.log_->warn("{} accept on {}: {}", to_string(kind_), local_.to_string(), ec.message());
            } else {
                owner_.accepted(std::move(socket), kind_);
            }
            do_accept();
        }

        impl& owner_;
        tcp::acceptor acceptor_;
        asio::steady_timer pause_;
        transport_kind kind_;
        endpoint local_;
    };

    // TLS connections take their share of the same budgets as TCP ones: a TLS flood is a TCP flood.
    void accepted(tcp::socket socket, transport_kind kind) {
        error_code ec;
        const auto remote = socket.remote_endpoint(ec);
        if (ec) return;  // reset before we got to it
        const auto local = socket.local_endpoint(ec);
        if (ec) return;
        // A banned source is refused before it takes a share of any budget.
        if (admit_ && !admit_(to_endpoint(remote))) {
            refused(kind, connection_refusal::banned, to_endpoint(remote));
            socket.close(ec);
            return;
        }
        if (auto refusal = budget_->admit_inbound(remote.address())) {
            refused(kind, *refusal, to_endpoint(remote));
            socket.close(ec);
            return;
        }
        socket.set_option(tcp::no_delay(true), ec);
        std::shared_ptr<connection> conn;
        if (kind == transport_kind::tls) {
            // The contexts loaded last: after a reload, the next connection gets the new certificate.
            auto c = std::make_shared<stream_connection<tls_stream>>(*this, std::move(socket), next_connection_id_++,
                                                                     connection_direction::inbound, tls_.server);
            connections_.emplace(c->id(), c);
            c->start_inbound(to_endpoint(local), to_endpoint(remote));
            conn = std::move(c);
        } else {
            auto c = std::make_shared<stream_connection<tcp::socket>>(*this, std::move(socket), next_connection_id_++,
                                                                      connection_direction::inbound);
            connections_.emplace(c->id(), c);
            c->start_inbound(to_endpoint(local), to_endpoint(remote));
            conn = std::move(c);
        }
        by_remote_[remote_key(kind, conn->get_flow().remote, {})] = conn->id();
        if (observer_) observer_->on_connection_opened(kind, connection_direction::inbound);
    }

    // Connections are reused per transport and peer (RFC 3261 §18.1.1); over TLS per expected
    // certificate name too: a connection verified for one name proves nothing of another.
    static std::string remote_key(transport_kind kind, const endpoint& remote, std::string_view host) {
        std::string key(to_string(kind));
        key += ' ';
        key += remote.to_string();
        if (kind == transport_kind::tls && !host.empty()) {
            key += ' ';
            key += host;
        }
        return key;
    }

    // A refused handshake: counted, and logged where someone can act on it (a provider's
    // certificate is for us to fix or report: warn; a PBX or a scanner failing is theirs: debug).
    void handshake_failed(const connection& c, tls_failure why, const std::string& detail, const std::string& host) {
        const flow& f = c.get_flow();
        if (c.direction() == connection_direction::outbound) {
            log_->warn("tls connection {} to {}: handshake failed ({}), expecting a certificate for {}: {}", c.id(),
                       f.remote.to_string(), to_string(why), host, detail);
        } else {
            log_->debug("tls connection {} from {}: handshake failed ({}): {}", c.id(), f.remote.to_string(),
                        to_string(why), detail);
        }
        if (tls_observer_) {
            tls_observer_->on_handshake_failure(
                c.direction() == connection_direction::outbound ? tls_direction::outbound : tls_direction::inbound, why);
        }
    }

    // Counted every time, logged at most once per 10 s per reason: an attacker opening thousands
    // of connections must not also fill the disk with one line each.
    void refused(transport_kind kind, connection_refusal why, const endpoint& peer) {
        if (observer_) observer_->on_connection_refused(kind, why);
        auto& throttle = refusal_log_[static_cast<std::size_t>(why)];
        const auto unlogged = throttle.admit(detail::log_throttle::clock::now());
        if (!unlogged) return;
        // The limits of the budget counted against (a shared one's, with several workers).
        const auto& limits = budget_->get_limits();
        std::string what;
        switch (why) {
            case connection_refusal::limit:
                what = "the limit of " + std::to_string(limits.inbound) + " inbound connections is reached";
                break;
            case connection_refusal::source_limit:
                what = peer.address.to_string() + " holds its limit of " + std::to_string(limits.inbound_per_source) +
                       " connections";
                break;
            case connection_refusal::outbound_limit:
                what = "the limit of " + std::to_string(limits.outbound) + " outbound connections is reached";
                break;
            case connection_refusal::descriptors:
                what = "the process is out of file descriptors (raise LimitNOFILE / ulimit -n)";
                break;
            case connection_refusal::banned:
                what = "the source is banned";
                break;
        }
        log_->warn("{} connection {} {}: {}{}", to_string(kind),
                   why == connection_refusal::outbound_limit ? "to" : "from",
                   peer.port != 0 ? peer.to_string() : std::string("peer"), what,
                   *unlogged > 0 ? " (" + std::to_string(*unlogged) + " more refused since the last such line)"
                                 : std::string());
    }

    // ---------------------------------------------------------------- operations
    // Linux caps SO_RCVBUF/SO_SNDBUF at net.core.rmem_max/wmem_max without an error (Asio
    // reads back what was granted, the kernel's doubling undone): say so once, since a burst
    // then overflows a small buffer and costs retransmissions, and only the operator can raise
    // the cap.
    void warn_small_buffers(udp::socket& socket, const endpoint& ep) {
        error_code ec;
        asio::socket_base::receive_buffer_size rcv;
        asio::socket_base::send_buffer_size snd;
        socket.get_option(rcv, ec);
        if (ec) return;
        socket.get_option(snd, ec);
        if (ec) return;
        const int granted_rcv = rcv.value();
        const int granted_snd = snd.value();
        if (granted_rcv >= options_.udp_receive_buffer && granted_snd >= options_.udp_send_buffer) return;
        log_->warn("udp {}: socket buffers are receive {} KiB, send {} KiB (asked {} KiB, {} KiB): raise the "
                   "sysctls net.core.rmem_max and net.core.wmem_max to allow more",
                   ep.to_string(), granted_rcv / 1024, granted_snd / 1024, options_.udp_receive_buffer / 1024,
                   options_.udp_send_buffer / 1024);
    }

    // SO_REUSEPORT when several transports share the port (options_.reuse_port).
    error_code join_port_group(int fd) const {
        if (!options_.reuse_port) return {};
        const int on = 1;
        if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
            return error_code(errno, boost::system::system_category());
        }
        return {};
    }

    error_code listen(transport_kind kind, const endpoint& ep) {
        error_code ec;
        if (kind == transport_kind::udp) {
            auto l = std::make_unique<udp_listener>(*this, io_);
            udp::endpoint uep(ep.address, ep.port);
            l->socket_.open(uep.protocol(), ec);
            if (ec) return ec;
            if (options_.udp_receive_buffer > 0) {
                l->socket_.set_option(asio::socket_base::receive_buffer_size(options_.udp_receive_buffer), ec);
            }
            if (options_.udp_send_buffer > 0) {
                l->socket_.set_option(asio::socket_base::send_buffer_size(options_.udp_send_buffer), ec);
            }
            warn_small_buffers(l->socket_, ep);
            if (auto e = join_port_group(l->socket_.native_handle())) return e;
            l->socket_.bind(uep, ec);
            if (ec) return ec;
            l->socket_.non_blocking(true, ec);
            if (ec) return ec;
            l->local_ = to_endpoint(l->socket_.local_endpoint(ec));
            order_.emplace_back(kind, l->local_);
            udp_.push_back(std::move(l));
        } else {
            // A tls:// listener presents our certificate: without one loaded it has nothing to say.
            if (kind == transport_kind::tls && !tls_.server) return asio::error::no_protocol_option;
            auto l = std::make_unique<tcp_listener>(*this, io_, kind);
            tcp::endpoint tep(ep.address, ep.port);
            l->acceptor_.open(tep.protocol(), ec);
            if (ec) return ec;
            l->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
            if (auto e = join_port_group(l->acceptor_.native_handle())) return e;
            l->acceptor_.bind(tep, ec);
            if (ec) return ec;
            l->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
            if (ec) return ec;
            l->local_ = to_endpoint(l->acceptor_.local_endpoint(ec));
            order_.emplace_back(kind, l->local_);
            tcp_.push_back(std::move(l));
        }
        return {};
    }

    void start() {
        for (auto& l : udp_) l->do_receive();
        for (auto& l : tcp_) l->do_accept();
    }

    void stop() {
        error_code ignored;
        for (auto& l : udp_) l->socket_.close(ignored);
        for (auto& l : tcp_) l->acceptor_.close(ignored);
        // close() erases from connections_, so work on a copy.
        auto conns = connections_;
        for (auto& [id, c] : conns) c->close(asio::error::operation_aborted);
    }

    boost::system::result<flow> flow_to(transport_kind kind, const endpoint& remote, std::string_view host) {
        if (kind == transport_kind::udp) {
            udp_listener* l = pick_udp(remote.address.is_v6());
            if (!l) return error_code(asio::error::address_family_not_supported);
            return flow{transport_kind::udp, l->local_, remote, 0};
        }
        auto key = remote_key(kind, remote, host);
        if (auto it = by_remote_.find(key); it != by_remote_.end()) {
            if (auto c = connections_.find(it->second); c != connections_.end()) return c->second->get_flow();
        }
        // Our Via and Contact name a listener of this transport (RFC 3261 §18.1.1).
        tcp_listener* listener = nullptr;
        for (auto& l : tcp_) {
            if (l->kind_ == kind && l->local_.address.is_v6() == remote.address.is_v6()) {
                listener = l.get();
                break;
            }
        }
        if (!listener) return error_code(asio::error::address_family_not_supported);
        if (auto refusal = budget_->admit_outbound()) {
            refused(kind, *refusal, remote);
            return error_code(asio::error::no_buffer_space);
        }
        const tcp::endpoint to(remote.address, remote.port);
        std::shared_ptr<connection> conn;
        if (kind == transport_kind::tls) {
            auto c = std::make_shared<stream_connection<tls_stream>>(*this, tcp::socket(io_), next_connection_id_++,
                                                                     connection_direction::outbound, tls_.client);
            connections_.emplace(c->id(), c);
            c->start_outbound(to, listener->local_, host);
            conn = std::move(c);
        } else {
            auto c = std::make_shared<stream_connection<tcp::socket>>(*this, tcp::socket(io_), next_connection_id_++,
                                                                      connection_direction::outbound);
            connections_.emplace(c->id(), c);
            c->start_outbound(to, listener->local_, host);
            conn = std::move(c);
        }
        by_remote_[key] = conn->id();
        if (observer_) observer_->on_connection_opened(kind, connection_direction::outbound);
        return conn->get_flow();
    }

    error_code send(const flow& f, std::string_view bytes) {
        if (f.transport == transport_kind::udp) {
            udp_listener* l = nullptr;
            for (auto& u : udp_) {
                if (u->local_ == f.local) {
                    l = u.get();
                    break;
                }
            }
            if (!l) l = pick_udp(f.remote.address.is_v6());
            if (!l) return asio::error::address_family_not_supported;
            const udp::endpoint to(f.remote.address, f.remote.port);
            // A full socket buffer (would_block) loses this datagram; the transaction layer's
            // retransmission covers it as it covers any loss on UDP.
            if (!holding_) return l->send_now(bytes, to);
            if (l->sender_.queue(bytes, to.data(), static_cast<socklen_t>(to.size()))) return {};
            l->flush();  // full: what waits goes first, in order
            if (l->sender_.queue(bytes, to.data(), static_cast<socklen_t>(to.size()))) return {};
            return l->send_now(bytes, to);  // larger than the whole queue
        }
        auto it = connections_.find(f.connection);
        if (it == connections_.end()) return asio::error::not_connected;
        if (!it->second->send(bytes)) return asio::error::no_buffer_space;
        return {};
    }

    void on_connection_closed(connection& c, error_code why) {
        flow f = c.get_flow();
        auto keep = connections_.find(c.id());
        std::shared_ptr<connection> hold;
        if (keep != connections_.end()) {
            hold = keep->second;  // keep `c` alive until this function returns
            connections_.erase(keep);
        }
        // Its key holds the name it was opened for (TLS): find it by id.
        std::erase_if(by_remote_, [&c](const auto& entry) { return entry.second == c.id(); });
        if (c.direction() == connection_direction::inbound) {
            budget_->release_inbound(f.remote.address);
        } else {
            budget_->release_outbound();
        }
        if (observer_) observer_->on_connection_closed(f.transport, c.direction());
        if (user_) user_->on_flow_closed(f, why);
    }

    std::size_t close_from(const boost::asio::ip::address& source, connection_close why) {
        // Collected first: each close erases its connection from the map.
        std::vector<std::shared_ptr<connection>> doomed;
        for (const auto& [id, c] : connections_) {
            if (c->direction() == connection_direction::inbound && unmapped(c->get_flow().remote.address) == source) {
                doomed.push_back(c);
            }
        }
        for (auto& c : doomed) c->drop_for(why);
        return doomed.size();
    }

    udp_listener* pick_udp(bool v6) {
        for (auto& u : udp_) {
            if (u->local_.address.is_v6() == v6) return u.get();
        }
        return nullptr;
    }

    asio::io_context& io_;
    asio_transport_options options_;
    std::shared_ptr<spdlog::logger> log_;
    transport_user* user_ = nullptr;
    connection_observer* observer_ = nullptr;
    tls_observer* tls_observer_ = nullptr;
    tls_contexts tls_;  // the ones new connections take; connections up keep theirs
    std::shared_ptr<connection_budget> budget_;
    std::array<detail::log_throttle, 5> refusal_log_{
        detail::log_throttle(std::chrono::seconds(10)), detail::log_throttle(std::chrono::seconds(10)),
        detail::log_throttle(std::chrono::seconds(10)), detail::log_throttle(std::chrono::seconds(10)),
        detail::log_throttle(std::chrono::seconds(10))};
    asio_transport::admission admit_;
    bool holding_ = false;  ///< a received batch is being handled: UDP sends wait for its end
    std::vector<std::unique_ptr<udp_listener>> udp_;
    std::vector<std::unique_ptr<tcp_listener>> tcp_;
    std::vector<std::pair<transport_kind, endpoint>> order_;
    std::unordered_map<std::uint64_t, std::shared_ptr<connection>> connections_;
    std::unordered_map<std::string, std::uint64_t> by_remote_;
    std::uint64_t next_connection_id_ = options_.connection_id_base + 1;
};

asio_transport::asio_transport(asio::io_context& io, asio_transport_options options)
    : impl_(std::make_unique<impl>(io, options)) {}

asio_transport::~asio_transport() = default;

void asio_transport::set_user(transport_user& user) noexcept { impl_->user_ = &user; }

void asio_transport::set_observer(connection_observer& observer) noexcept { impl_->observer_ = &observer; }

error_code asio_transport::listen(transport_kind kind, const endpoint& ep) { return impl_->listen(kind, ep); }

std::vector<std::pair<transport_kind, endpoint>> asio_transport::listening() const { return impl_->order_; }

void asio_transport::start() { impl_->start(); }

void asio_transport::stop() { impl_->stop(); }

boost::system::result<flow> asio_transport::flow_to(transport_kind kind, const endpoint& remote) {
    return impl_->flow_to(kind, remote, {});
}

boost::system::result<flow> asio_transport::flow_to_host(transport_kind kind, const endpoint& remote,
                                                         std::string_view host) {
    return impl_->flow_to(kind, remote, host);
}

void asio_transport::set_admission(admission admit) { impl_->admit_ = std::move(admit); }

std::size_t asio_transport::close_from(const boost::asio::ip::address& source, connection_close why) {
    return impl_->close_from(unmapped(source), why);
}

void asio_transport::set_tls(tls_contexts contexts) { impl_->tls_ = std::move(contexts); }

void asio_transport::set_tls_observer(tls_observer& observer) noexcept { impl_->tls_observer_ = &observer; }

error_code asio_transport::send(const flow& f, std::string_view bytes) { return impl_->send(f, bytes); }

std::size_t asio_transport::tcp_connections() const noexcept { return impl_->connections_.size(); }

connection_budget::limits connection_limits(const asio_transport_options& o) {
    return {o.max_inbound_connections, o.max_connections_per_source, o.max_outbound_connections};
}

std::size_t asio_transport::connections(connection_direction d) const {
    return d == connection_direction::inbound ? impl_->budget_->inbound() : impl_->budget_->outbound();
}

}  // namespace b2b::sip
