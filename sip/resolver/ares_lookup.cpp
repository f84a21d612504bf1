// The c-ares channel on Asio: sockets watched with stream_descriptor, timeouts with a timer.
#include "sip/resolver/ares_lookup.hpp"

#include "sip/resolver/detail/ares_parse.hpp"

#include <ares.h>
#include <arpa/nameser.h>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <limits>
#include <map>
#include <optional>
#include <stdexcept>

namespace b2b::sip::resolver {

class ares_lookup::channel : public std::enable_shared_from_this<channel> {
public:
    channel(boost::asio::any_io_executor executor, const options& opts) : executor_(executor), timer_(executor) {
        if (const int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
            throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
        }
        ares_options o{};
        o.sock_state_cb = &channel::on_sock_state;
        o.sock_state_cb_data = this;
        o.timeout = static_cast<int>(opts.timeout.count());
        o.tries = opts.tries;
        const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
        if (const int rc = ares_init_options(&channel_, &o, mask); rc != ARES_SUCCESS) {
            ares_library_cleanup();
            throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
        }
        if (!opts.servers.empty()) {
            std::string csv;
            for (const auto& s : opts.servers) csv += (csv.empty() ? "" : ",") + s.to_string();
            if (const int rc = ares_set_servers_ports_csv(channel_, csv.c_str()); rc != ARES_SUCCESS) {
                ares_destroy(channel_);
                ares_library_cleanup();
                throw std::runtime_error("c-ares: name servers '" + csv + "': " + ares_strerror(rc));
            }
        }
    }

    ~channel() {
        destroying_ = true;
        timer_.cancel();
        // The sockets are c-ares's to close: stop watching them (pending waits end aborted).
        for (auto& [fd, w] : watches_) w->descriptor.release();
        // Pending queries end with ARES_EDESTRUCTION: their callbacks are dropped.
        ares_destroy(channel_);
        ares_library_cleanup();
    }

    using raw_handler = std::function<void(int status, std::span<const unsigned char> message)>;

    void query(const std::string& name, int type, raw_handler done) {
        if (stopped_) return;
        auto* pending = new raw_handler(std::move(done));
        ares_query(channel_, name.c_str(), ns_c_in, type, &channel::on_answer, pending);
        rearm_timer();
    }

    void shutdown() {
        stopped_ = true;
        ares_cancel(channel_);  // ARES_ECANCELLED: dropped in on_answer
        timer_.cancel();
        // Whatever sockets c-ares keeps open are no longer watched: nothing is left on the loop.
        for (auto& [fd, w] : watches_) w->descriptor.release();
        watches_.clear();
    }

    /// Posts `fn` to the loop, dropped if the lookup is gone by then.
    void post(std::function<void()> fn) {
        boost::asio::post(executor_, [weak = weak_from_this(), fn = std::move(fn)] {
            if (weak.lock()) fn();
        });
    }

private:
    struct watch {
        explicit watch(boost::asio::any_io_executor ex, int fd) : descriptor(ex, fd) {}
        boost::asio::posix::stream_descriptor descriptor;
        bool want_read = false;
        bool want_write = false;
        bool reading = false;
        bool writing = false;
    };

    static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
        std::unique_ptr<raw_handler> done(static_cast<raw_handler*>(arg));
        if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) return;
        (*done)(status, std::span<const unsigned char>(abuf, abuf != nullptr ? static_cast<std::size_t>(alen) : 0));
    }

    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
        static_cast<channel*>(data)->sock_state(fd, readable != 0, writable != 0);
    }

    void sock_state(int fd, bool readable, bool writable) {
        if (destroying_ || stopped_) return;
        auto it = watches_.find(fd);
        if (!readable && !writable) {
            // c-ares is about to close it: stop watching without closing it ourselves.
            if (it != watches_.end()) {
                it->second->descriptor.release();  // pending waits end with operation_aborted
                watches_.erase(it);
            }
            return;
        }
        if (it == watches_.end()) it = watches_.emplace(fd, std::make_shared<watch>(executor_, fd)).first;
        it->second->want_read = readable;
        it->second->want_write = writable;
        arm(fd, it->second);
    }

    void arm(int fd, const std::shared_ptr<watch>& w) {
        if (w->want_read && !w->reading) {
            w->reading = true;
            w->descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                                     [weak = weak_from_this(), w, fd](boost::system::error_code ec) {
                                         w->reading = false;
                                         if (auto self = weak.lock()) self->on_ready(fd, w, ec, true);
                                     });
        }
        if (w->want_write && !w->writing) {
            w->writing = true;
            w->descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                                     [weak = weak_from_this(), w, fd](boost::system::error_code ec) {
                                         w->writing = false;
                                         if (auto self = weak.lock()) self->on_ready(fd, w, ec, false);
                                     });
        }
    }

    void on_ready(int fd, const std::shared_ptr<watch>& w, boost::system::error_code ec, bool read) {
        if (ec == boost::asio::error::operation_aborted || destroying_ || stopped_) return;
        auto it = watches_.find(fd);
        if (it == watches_.end() || it->second != w) return;  // closed, or the number reused since
        ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
        if (auto again = watches_.find(fd); again != watches_.end() && again->second == w) arm(fd, w);
        rearm_timer();
    }

    // c-ares's own timeouts (retries to the next server, giving up): ares_process_fd with no
    // socket when the earliest is due.
    void rearm_timer() {
        if (destroying_ || stopped_) return;
        timeval tv{};
        if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
            timer_.cancel();
            return;
        }
        timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
        timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            if (ec) return;
            auto self = weak.lock();
            if (!self || self->destroying_) return;
            ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            self->rearm_timer();
        });
    }

    boost::asio::any_io_executor executor_;
    boost::asio::steady_timer timer_;
    ares_channel channel_ = nullptr;
    std::map<int, std::shared_ptr<watch>> watches_;
    bool destroying_ = false;
    bool stopped_ = false;
};

ares_lookup::ares_lookup(boost::asio::any_io_executor executor, const options& opts)
    : channel_(std::make_shared<channel>(std::move(executor), opts)) {}

ares_lookup::~ares_lookup() = default;

void ares_lookup::shutdown() { channel_->shutdown(); }

// Each answer is parsed at once (the buffer is c-ares's) and handed on through the loop.
void ares_lookup::naptr(const std::string& name, std::function<void(naptr_answer)> done) {
    channel_->query(name, ns_t_naptr, [c = channel_.get(), done = std::move(done)](int status, std::span<const unsigned char> m) {
        c->post([done, a = detail::parse_naptr(status, m)] { done(a); });
    });
}

void ares_lookup::srv(const std::string& name, std::function<void(srv_answer)> done) {
    channel_->query(name, ns_t_srv, [c = channel_.get(), done = std::move(done)](int status, std::span<const unsigned char> m) {
        c->post([done, a = detail::parse_srv(status, m)] { done(a); });
    });
}

void ares_lookup::addresses(const std::string& name, std::function<void(address_answer)> done) {
    // A and AAAA in parallel; the answer is theirs together, IPv4 first.
    struct both {
        std::function<void(address_answer)> done;
        std::optional<address_answer> a;
        std::optional<address_answer> aaaa;
    };
    auto state = std::make_shared<both>();
    state->done = std::move(done);
    const auto complete = [state] {
        if (!state->a || !state->aaaa) return;
        address_answer out;
        using status = address_answer::status;
        const bool any_ok = state->a->result == status::ok || state->aaaa->result == status::ok;
        const bool any_failed = state->a->result == status::failed || state->aaaa->result == status::failed;
        out.result = any_ok ? status::ok : any_failed ? status::failed : status::no_data;
        std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
        for (const auto* part : {&*state->a, &*state->aaaa}) {
            if (part->result != status::ok || part->records.empty()) continue;
            out.records.insert(out.records.end(), part->records.begin(), part->records.end());
            ttl = std::min(ttl, part->ttl);
        }
        out.ttl = out.records.empty() ? 0 : ttl;
        state->done(std::move(out));
    };
    channel_->query(name, ns_t_a, [c = channel_.get(), state, complete](int status, std::span<const unsigned char> m) {
        c->post([state, complete, a = detail::parse_a(status, m)] {
            state->a = a;
            complete();
        });
    });
    channel_->query(name, ns_t_aaaa, [c = channel_.get(), state, complete](int status, std::span<const unsigned char> m) {
        c->post([state, complete, a = detail::parse_aaaa(status, m)] {
            state->aaaa = a;
            complete();
        });
    });
}

}  // namespace b2b::sip::resolver
