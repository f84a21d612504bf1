// The registration client: one trunk's binding at its provider, refreshed, retried, removed.
#include "registration/client.hpp"

#include "registration/detail/register_request.hpp"
#include "registration/detail/register_response.hpp"
#include "sip/message/random.hpp"

#include <boost/asio/error.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace b2b::registration {

std::string_view to_string(registration_state s) noexcept {
    switch (s) {
        case registration_state::unregistered: return "unregistered";
        case registration_state::registering: return "registering";
        case registration_state::registered: return "registered";
        case registration_state::failing: return "failing";
    }
    return "unknown";
}

std::string_view to_string(attempt_outcome o) noexcept {
    switch (o) {
        case attempt_outcome::registered: return "registered";
        case attempt_outcome::auth_failed: return "auth_failed";
        case attempt_outcome::forbidden: return "forbidden";
        case attempt_outcome::timeout: return "timeout";
        case attempt_outcome::transport_error: return "transport_error";
        case attempt_outcome::interval_too_brief: return "interval_too_brief";
        case attempt_outcome::error: return "error";
    }
    return "unknown";
}

namespace {

using clock_duration = sip::timer_service::duration;

/// What moves the operator's state.
enum class event : std::uint8_t {
    started,          ///< start(): the first REGISTER goes out
    succeeded,        ///< a 2xx granted our binding
    failed,           ///< an attempt failed
    binding_expired,  ///< the granted interval ran out without a successful refresh
    stopped,          ///< stop() finished: our binding is removed, or there was none
};

/// The one place the state changes.
registration_state next_state(registration_state s, event e) noexcept {
    switch (e) {
        case event::started: return registration_state::registering;
        case event::succeeded: return registration_state::registered;
        case event::failed:
            // Any failed attempt, a refresh included, is `failing` at once (an alert fires
            // before the binding lapses); `expires_at` still says how long the binding holds.
            return registration_state::failing;
        case event::binding_expired:
            return s == registration_state::registered ? registration_state::failing : s;
        case event::stopped: return registration_state::unregistered;
    }
    return s;
}

/// How one REGISTER ended, read from its final response or failure.
struct attempt {
    attempt_outcome outcome = attempt_outcome::error;
    int status = 0;
    std::string reason;
    std::string warning;
    std::optional<std::chrono::seconds> retry_after;
    std::chrono::seconds granted{0};
};

attempt failed(attempt_outcome o) {
    attempt a;
    a.outcome = o;
    return a;
}

failure_kind kind_of(attempt_outcome o) noexcept {
    return o == attempt_outcome::auth_failed || o == attempt_outcome::forbidden ? failure_kind::credentials
                                                                                : failure_kind::transient;
}

// A final response that is not a 2xx (the 2xx is read against our binding by the caller).
attempt_outcome classify_failure(const sip::message& rsp, const std::optional<auth::failure>& auth) noexcept {
    if (auth) {
        // The request sender gave up on authentication: our credentials, or their lack, are
        // the problem either way, and retrying them soon only risks the account being locked.
        return *auth == auth::failure::forbidden ? attempt_outcome::forbidden : attempt_outcome::auth_failed;
    }
    switch (rsp.status()) {
        case 401:
        case 407: return attempt_outcome::auth_failed;  // a challenge the sender could not take up
        case 403: return attempt_outcome::forbidden;     // refused before credentials were asked
        case 408: return attempt_outcome::timeout;
        default: return attempt_outcome::error;         // 423 without a usable Min-Expires too
    }
}

}  // namespace

class registration_client::impl {
public:
    impl(sip::timer_service& timers, sip::transport& transport, dialog::request_sender& sender,
         registration_target target, registration_observer* observer, random_unit random, backoff_policy policy)
        : timers_(timers),
          transport_(transport),
          sender_(sender),
          target_(std::move(target)),
          observer_(observer),
          random_(std::move(random)),
          backoff_(policy) {
        auto log = spdlog::get("registration");
        log_ = log ? log : spdlog::default_logger()->clone("registration");
        request_ = std::make_shared<detail::register_request>(
            detail::make_register_request(target_, tokens_.hex(16), tokens_.tag()));
        status_.asked = target_.expires;
    }

    ~impl() {
        cancel_timers();
        abandon_pending();
    }

    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    void start() {
        if (phase_ != phase::idle) return;
        phase_ = phase::running;
        const auto before = status_.state;
        status_.state = next_state(status_.state, event::started);
        status_.next_attempt = {};
        notify_status(before);
        send_register();
    }

    void stop(std::function<void()> done) {
        if (phase_ == phase::removing) {
            if (done) on_removed_.push_back(std::move(done));
            return;
        }
        cancel_timers();
        const bool was_sending = pending_ != nullptr;
        abandon_pending();
        const bool started = phase_ == phase::running;
        const bool binding_held = status_.expires_at != sip::timer_service::time_point{};
        if (!started || (!binding_held && !was_sending)) {
            // Nothing the provider may hold: done at once, nothing sent.
            phase_ = phase::idle;
            if (started) finish_stop();
            if (done) done();
            return;
        }
        phase_ = phase::removing;
        if (done) on_removed_.push_back(std::move(done));
        send_removal();
    }

    const registration_status& status() const noexcept { return status_; }
    const registration_target& target() const noexcept { return target_; }

private:
    enum class phase : std::uint8_t {
        idle,      ///< not started, or stopped
        running,   ///< started: a REGISTER under way, or the timer of the next one armed
        removing,  ///< stop(): the REGISTER with Expires: 0 under way
    };

    // ---- sending ----

    /// The next REGISTER (first, refresh or retry). Never while one is under way.
    void send_register() {
        auto flow = flow_to_registrar();
        if (!flow) {
            log_->debug("registration {}: no flow to the registrar: {}", target_.name, flow.error().message());
            return finish(failed(attempt_outcome::transport_error));
        }
        detail::aim(*request_, target_, *flow, status_.asked);
        const std::uint64_t generation = ++generation_;
        auto plan = make_plan(*flow);
        // §10.2.8: a 423 names the shortest interval the registrar accepts; asking again for
        // it, at once, in a new transaction (next CSeq, fresh credentials) is the sender's re-send.
        plan.retry = [this, generation](const sip::message& rsp) { return on_interval_too_brief(generation, rsp); };
        auto sent = sender_.send(std::move(plan),
                                 [this, generation](dialog::request_event& ev) { on_register_event(generation, ev); });
        if (!sent) {
            log_->debug("registration {}: REGISTER not sent: {}", target_.name, sent.error().message());
            return finish(failed(attempt_outcome::transport_error));
        }
        pending_ = std::move(*sent);
        log_->debug("registration {}: REGISTER cseq={} expires={}", target_.name, request_->cseq, request_->expires);
    }

    /// The registrar's current address (its DNS target when the trunk names a host); over TLS
    /// its certificate must name `host`.
    boost::system::result<sip::flow> flow_to_registrar() {
        if (!target_.locate) return transport_.flow_to_host(target_.transport, target_.address, target_.host);
        const auto where = target_.locate();
        if (!where) return boost::system::error_code(boost::asio::error::host_not_found);
        return transport_.flow_to_host(where->first, where->second, target_.host);
    }

    /// REGISTER with Expires: 0 for our Contact (§10.2.2), its outcome ends the stop.
    void send_removal() {
        auto flow = flow_to_registrar();
        if (!flow) return removed(nullptr);
        detail::aim(*request_, target_, *flow, std::chrono::seconds{0});
        const std::uint64_t generation = ++generation_;
        auto sent = sender_.send(make_plan(*flow), [this, generation](dialog::request_event& ev) {
            if (generation != generation_ || !pending_) return;
            if (ev.response != nullptr && ev.response->status() < 200) return;
            pending_.reset();
            removed(ev.response);
        });
        if (!sent) return removed(nullptr);
        pending_ = std::move(*sent);
        log_->debug("registration {}: REGISTER cseq={} expires=0 (removing our binding)", target_.name,
                    request_->cseq);
    }

    dialog::request_plan make_plan(const sip::flow& flow) {
        dialog::request_plan plan;
        plan.flow = flow;
        plan.method = "REGISTER";
        plan.request_uri = request_->request_uri;
        plan.credentials = target_.credentials;
        plan.peer = target_.peer;
        plan.reuse_nonce = target_.reuse_nonce;
        plan.build = [r = request_](std::string_view branch, std::string_view name, std::string_view value) {
            return detail::build(*r, branch, name, value);
        };
        return plan;
    }

    // ---- outcomes ----

    bool on_interval_too_brief(std::uint64_t generation, const sip::message& rsp) {
        if (generation != generation_ || phase_ != phase::running || rsp.status() != 423) return false;
        const auto min = detail::min_expires(rsp);
        // Without a Min-Expires above what we asked, asking again would get the same answer.
        if (!min || *min <= status_.asked) return false;
        status_.asked = *min;
        request_->expires = std::to_string(min->count());
        status_.last_status = rsp.status();
        status_.last_reason = std::string(rsp.reason());
        status_.last_warning = detail::warning(rsp);
        log_->debug("registration {}: 423, asking again for {} s", target_.name, min->count());
        const auto before = status_.state;
        if (observer_ != nullptr) observer_->on_attempt(target_, attempt_outcome::interval_too_brief);
        notify_status(before);
        return true;
    }

    void on_register_event(std::uint64_t generation, dialog::request_event& ev) {
        if (generation != generation_ || !pending_) return;
        if (ev.response != nullptr && ev.response->status() < 200) return;
        pending_.reset();
        attempt a;
        if (ev.failure || ev.response == nullptr) {
            a.outcome = ev.failure == sip::transaction_failure::timeout ? attempt_outcome::timeout
                                                                        : attempt_outcome::transport_error;
            return finish(std::move(a));
        }
        const sip::message& rsp = *ev.response;
        a.status = rsp.status();
        a.reason = std::string(rsp.reason());
        a.warning = detail::warning(rsp);
        if (a.status >= 200 && a.status < 300) {
            const auto granted = detail::granted(rsp, target_.contact_user, request_->contact_host_port, status_.asked);
            // A 2xx without our binding, or granting it 0 s, keeps nothing we can refresh.
            if (granted && granted->count() > 0) {
                a.outcome = attempt_outcome::registered;
                a.granted = *granted;
            } else {
                a.outcome = attempt_outcome::error;
            }
            return finish(std::move(a));
        }
        a.outcome = classify_failure(rsp, ev.auth_failure);
        a.retry_after = detail::retry_after(rsp);
        finish(std::move(a));
    }

    /// Records an attempt's outcome and arms the timer of the next REGISTER.
    void finish(attempt a) {
        const auto before = status_.state;
        const auto now = timers_.now();
        status_.last_status = a.status;
        status_.last_reason = std::move(a.reason);
        status_.last_warning = std::move(a.warning);
        clock_duration wait{};
        if (a.outcome == attempt_outcome::registered) {
            backoff_.reset();
            status_.failure.reset();
            status_.granted = a.granted;
            status_.expires_at = now + a.granted;
            status_.state = next_state(status_.state, event::succeeded);
            wait = refresh_delay(a.granted);
            arm_expiry();
        } else {
            status_.failure = a.outcome;
            status_.state = next_state(status_.state, event::failed);
            if (now >= status_.expires_at) binding_gone();  // a refresh's binding may still hold
            wait = backoff_.next(kind_of(a.outcome), a.retry_after, draw());
        }
        log_->debug("registration {}: {} (status {}), next REGISTER in {} ms", target_.name, to_string(a.outcome),
                    status_.last_status, std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
        status_.next_attempt = now + wait;
        attempt_timer_ = timers_.schedule(wait, [this] {
            attempt_timer_ = 0;
            status_.next_attempt = {};
            send_register();
        });
        if (observer_ != nullptr) observer_->on_attempt(target_, a.outcome);
        notify_status(before);
    }

    /// The removal's final response (null: it failed or could not be sent).
    void removed(const sip::message* rsp) {
        if (rsp != nullptr) {
            status_.last_status = rsp->status();
            status_.last_reason = std::string(rsp->reason());
            status_.last_warning = detail::warning(*rsp);
            log_->debug("registration {}: removal answered {}", target_.name, rsp->status());
        } else {
            log_->debug("registration {}: removal got no answer", target_.name);
        }
        phase_ = phase::idle;
        finish_stop();
        // Called last: a `done` may destroy us.
        auto done = std::move(on_removed_);
        on_removed_.clear();
        for (auto& fn : done) fn();
    }

    void finish_stop() {
        const auto before = status_.state;
        status_.state = next_state(status_.state, event::stopped);
        binding_gone();
        status_.next_attempt = {};
        notify_status(before);
    }

    // ---- timers ----

    /// A uniform point between 50 % and 80 % of `granted` (§10.2.4 lets the UA choose; the
    /// spread keeps a thousand trunks from refreshing together).
    clock_duration refresh_delay(std::chrono::seconds granted) {
        const double factor = 0.5 + 0.3 * std::clamp(draw(), 0.0, 1.0);
        const double ms = std::floor(static_cast<double>(granted.count()) * 1000.0 * factor);
        return clock_duration{static_cast<clock_duration::rep>(ms)};
    }

    void arm_expiry() {
        if (expiry_timer_ != 0) timers_.cancel(expiry_timer_);
        expiry_timer_ = timers_.schedule(std::chrono::ceil<clock_duration>(status_.expires_at - timers_.now()), [this] {
            expiry_timer_ = 0;
            const auto before = status_.state;
            status_.state = next_state(status_.state, event::binding_expired);
            binding_gone();
            notify_status(before);
        });
    }

    /// The provider holds no binding of ours any more (as far as we know).
    void binding_gone() {
        if (expiry_timer_ != 0) timers_.cancel(expiry_timer_);
        expiry_timer_ = 0;
        status_.expires_at = {};
    }

    void cancel_timers() {
        if (attempt_timer_ != 0) timers_.cancel(attempt_timer_);
        attempt_timer_ = 0;
        if (expiry_timer_ != 0) timers_.cancel(expiry_timer_);
        expiry_timer_ = 0;
        status_.next_attempt = {};
    }

    void abandon_pending() {
        if (!pending_) return;
        dialog::request_sender::abandon(pending_);
        pending_.reset();
        ++generation_;
    }

    double draw() { return random_ ? random_() : 0.5; }

    void notify_status(registration_state before) {
        if (observer_ != nullptr) observer_->on_status(target_, status_, status_.state != before);
    }

    sip::timer_service& timers_;
    sip::transport& transport_;
    dialog::request_sender& sender_;
    registration_target target_;
    registration_observer* observer_;
    random_unit random_;
    retry_backoff backoff_;
    sip::token_source tokens_;
    std::shared_ptr<detail::register_request> request_;  // Call-ID, From tag, CSeq: for our whole life
    registration_status status_;
    phase phase_ = phase::idle;
    dialog::request_handle pending_;  // the one REGISTER under way, if any
    std::uint64_t generation_ = 0;    // of the send `pending_` is; events of older ones are ignored
    sip::timer_service::timer_id attempt_timer_ = 0;  // the next REGISTER (refresh or retry)
    sip::timer_service::timer_id expiry_timer_ = 0;   // the end of the binding we hold
    std::vector<std::function<void()>> on_removed_;
    std::shared_ptr<spdlog::logger> log_;
};

registration_client::registration_client(sip::timer_service& timers, sip::transport& transport,
                                         dialog::request_sender& sender, registration_target target,
                                         registration_observer* observer, random_unit random, backoff_policy backoff)
    : impl_(std::make_unique<impl>(timers, transport, sender, std::move(target), observer, std::move(random),
                                   backoff)) {}

registration_client::~registration_client() = default;

void registration_client::start() { impl_->start(); }
void registration_client::stop(std::function<void()> done) { impl_->stop(std::move(done)); }
const registration_status& registration_client::status() const noexcept { return impl_->status(); }
const registration_target& registration_client::target() const noexcept { return impl_->target(); }

}  // namespace b2b::registration
