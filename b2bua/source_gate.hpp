// The source gate: every received message screened before it is parsed (bans, flood, scanners).
#pragma once

#include "auth/failure.hpp"
#include "b2bua/config.hpp"
#include "b2bua/gate_metrics.hpp"
#include "security/forwarded_source.hpp"
#include "security/source_screen.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transport/transport.hpp"

#include <spdlog/logger.h>

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::b2bua {

/// Stands between the transport and the transaction manager (a `transport_user` decorator)
/// and screens each message from its start line and User-Agent before the parser sees it
/// (security::source_screen): a banned source's messages are dropped unanswered and, over TCP
/// or TLS, its connections closed; requests beyond the per-source rate and requests from
/// scanners are dropped unanswered. Each drop is counted by reason. Trusted networks and
/// every trunk's source are exempt; requests to emergency numbers pass.
///
/// Behind a load balancer (cluster.dispatchers) a request is screened as its original
/// source's, read from the header the balancer stamps (security::forwarded_source); the
/// balancer itself is never screened, banned, or cut off, since every PBX reaches us through it.
///
/// Failed digest answers (`on_auth_failure`) ban their source once they cross the limit; an
/// operator adds and lifts bans (`add_ban`, `remove_ban`). Bans end by themselves, checked on
/// every message and once a second, so `b2bua_banned_sources` stays true with no traffic.
///
/// @par Thread safety
/// None: the SIP event loop's thread (the admin API posts onto it).
class source_gate final : public sip::transport_user {
public:
    using address = boost::asio::ip::address;
    /// Closes the stream connections accepted from an address.
    using closer = std::function<void(const address&)>;

    source_gate(const config::security_section& cfg, sip::timer_service& timers, gate_metrics& metrics,
                security::source_screen::trunk_test is_trunk, security::forwarded_source forwarding = security::forwarded_source());
    ~source_gate() override;
    source_gate(const source_gate&) = delete;
    source_gate& operator=(const source_gate&) = delete;

    /// With several workers (sip.workers) every gate keeps the same bans (each screens what its
    /// own sockets read), and one of them speaks for them: the others (`replica`) neither count
    /// nor log a ban, so b2bua_bans_total and the log tell each ban once.
    void set_replica(bool replica) noexcept { replica_ = replica; }
    /// Who receives the messages that pass (the transaction manager). Before the first message.
    void set_next(sip::transport_user& next) noexcept { next_ = &next; }
    /// How a banned source's connections are closed (the transport's); optional.
    void set_closer(closer close) { close_ = std::move(close); }
    /// Where the bans this node imposes and lifts go for the rest of a cluster (`length` 0 =
    /// lifted). Called by the gate that speaks for the node only, never for a shared ban.
    using ban_publisher = std::function<void(const address& source, std::chrono::seconds length)>;
    void set_ban_publisher(ban_publisher publish) { publish_ = std::move(publish); }
    /// A ban another node of the cluster imposed, or lifted: applied here, not published again.
    void apply_shared_ban(const address& source, std::chrono::seconds length, std::string_view node);
    void lift_shared_ban(const address& source, std::string_view node);

    /// Starts the once-a-second expiry of bans; `stop` ends it.
    void start();
    void stop();

    // sip::transport_user
    void on_bytes(std::string_view bytes, const sip::flow& f, sip::framing fr) override;
    void on_framing_error(std::string_view bytes, const sip::flow& f, const sip::parse_error& e) override;
    void on_flow_closed(const sip::flow& f, boost::system::error_code ec) override;

    /// Whether a connection from `remote` may be accepted (the transport's admission check).
    bool admit_connection(const sip::endpoint& remote);

    /// A downstream digest failure from `source`: the ones that show guessing count towards a
    /// ban (security.ban); a stale nonce or an unanswered challenge does not.
    void on_auth_failure(const sip::endpoint& source, std::string_view username, auth::failure why);

    /// The bans in force, soonest to end first.
    std::vector<security::ban> bans();
    /// An operator's ban of `source` for `duration`; an error (no ban) for an exempt source.
    std::optional<std::string> add_ban(const address& source, std::chrono::seconds duration);
    /// False when `source` was not banned.
    bool remove_ban(const address& source);
    /// The length of a first ban (security.ban.first_s): what an operator's ban lasts by default.
    std::chrono::seconds first_ban() const noexcept { return screen_.bans().policy().first; }
    /// The clock the bans run on (the SIP loop's).
    sip::timer_service::time_point now() const noexcept { return timers_.now(); }
    /// Trusted, a trunk's or a load balancer's: never banned, never limited.
    bool exempt(const address& source) const {
        return forwarding_.from_front(source) || screen_.exempt(source, 0);
    }

    /// True for the failures that count towards a ban.
    static bool counts_towards_ban(auth::failure why) noexcept;

private:
    void banned(const security::ban& b, std::string_view why);
    void sync_gauge();
    bool replica_ = false;
    void schedule_expiry();

    security::source_screen screen_;
    security::forwarded_source forwarding_;
    sip::timer_service& timers_;
    gate_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
    sip::transport_user* next_ = nullptr;
    closer close_;
    ban_publisher publish_;
    bool sharing_in_ = false;  ///< applying another node's ban: not published again
    sip::timer_service::timer_id expiry_ = 0;
    std::size_t shown_banned_ = 0;
    std::uint64_t shown_ban_evictions_ = 0;
    std::uint64_t shown_rate_evictions_ = 0;
};

/// The screen's settings from the configuration's security section.
security::screen_settings screen_settings_of(const config::security_section& cfg);
/// Which load balancers forward requests, and in what header, from the cluster section.
security::forwarding_policy forwarding_of(const config::cluster_section& cfg);

}  // namespace b2b::b2bua
