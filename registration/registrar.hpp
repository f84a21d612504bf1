// The registrar for the PBX (RFC 3261 §10.3): we are the server, and keep its bindings.
#pragma once

#include "sip/message/message.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transport/flow.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::registration {

struct registrar_policy {
    std::chrono::seconds min_expires{60};       ///< shorter (but not 0) gets 423 with Min-Expires
    std::chrono::seconds max_expires{3600};     ///< longer is granted this long
    std::chrono::seconds default_expires{600};  ///< when the REGISTER asks for none
    std::size_t max_bindings = 10;              ///< per address-of-record; a new one beyond gets 403
};

/// One Contact registered for an address-of-record. A REGISTER's Contact names an existing
/// binding when the URIs are equivalent by RFC 3261 §19.1.4 (`sip::equivalent`: scheme and host
/// case-insensitive, user exact, port and the transport, user, ttl, method and maddr parameters
/// compared).
struct binding {
    std::string user;      ///< the address-of-record's user part (the account that registered it)
    std::string contact;   ///< the Contact URI as registered, e.g. "sip:200@192.168.1.5:5060"
    std::string call_id;   ///< of the REGISTER that made or last refreshed it (§10.3 step 7)
    std::uint32_t cseq = 0;
    sip::flow source;      ///< the REGISTER's flow: where it came from, over which connection
    /// The Contact's host:port is not where the REGISTER came from: the PBX is behind NAT, and
    /// requests to it go to `source` (RFC 3581 style), on its connection for TCP. The Contact's
    /// port defaults to 5060 (5061 for sips). A Contact host that is a name, not an IP literal,
    /// counts as behind NAT too: we do not resolve it, and the source is what reaches the PBX.
    bool behind_nat = false;
    /// Where requests to it go: the Contact's address and port, or `source.remote` behind NAT,
    /// or the first Path entry's.
    sip::endpoint destination;
    /// RFC 3327: the Path values of the REGISTER that made or last refreshed it, in order (the
    /// proxy nearest us first). Requests to the Contact carry them as a preloaded Route set and
    /// go to the first; NAT is then that proxy's business, so `behind_nat` is false.
    std::vector<std::string> path;
    sip::timer_service::time_point registered_at{};  ///< last REGISTER for it
    sip::timer_service::time_point expires_at{};
};

/// The answer to a REGISTER: status, reason, and the headers to write (Contact of every current
/// binding with its remaining expires, Min-Expires for a 423, Date).
struct register_response {
    int status = 200;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    bool changed = false;  ///< bindings were added, refreshed or removed
};

/// The bindings of the PBX's accounts (RFC 3261 §10.3 steps 6-8), sans I/O: the caller
/// authenticates the request first (steps 1-5: digest, then 403 when the authenticated account
/// is not the To user, checked here) and writes the answer. Expired bindings are never
/// returned, and are removed by `expire`.
///
/// @par Thread safety
/// None: the event loop's thread.
class registrar {
public:
    /// The wall clock, read only for the Date header of a 200 (RFC 3261 §10.3 step 8, §20.17):
    /// expiry runs on the timer_service's steady clock. Tests inject a fixed one.
    using wall_clock = std::function<std::chrono::system_clock::time_point()>;

    /// An empty `wall` means std::chrono::system_clock::now.
    explicit registrar(registrar_policy policy = {}, wall_clock wall = {});

    /// Processes REGISTER `request`, authenticated as account `user`, from `source`, at `now`:
    /// 403 when the To user is not `user`; `Contact: *` with Expires: 0 removes every binding
    /// of the address-of-record (400 with any other Contact, or another Expires); a Contact
    /// expires (its param, else the Expires header, else default_expires) of 0 removes that
    /// binding, one between 0 and min_expires makes the whole request 423 (nothing changes),
    /// above max_expires is shortened; for a binding that exists, a request with the same Call-ID
    /// and a CSeq not higher than the one stored is refused (400, nothing changes, §10.3 step
    /// 7; reason "Invalid CSeq"); a new binding beyond max_bindings gets 403 "Too Many
    /// Registered Contacts" (as Kamailio answers); a malformed Expires header or expires param,
    /// or a Contact that is not a sip/sips URI, gets 400 "Bad Request"; 200 lists every current
    /// binding. No Contact at all is a query: 200 listing the bindings, nothing changed.
    register_response on_register(std::string_view user, const sip::message& request, const sip::flow& source,
                                  sip::timer_service::time_point now);

    /// The current bindings of `user`, the most recently registered first (those registered by
    /// one REGISTER in its Contact order). The pointers are valid until the next call that
    /// changes bindings (`on_register`, `expire`).
    std::vector<const binding*> bindings_of(std::string_view user, sip::timer_service::time_point now) const;

    /// Removes the bindings expired at `now`; returns how many.
    std::size_t expire(sip::timer_service::time_point now);
    /// The earliest expiry among the bindings, if any.
    std::optional<sip::timer_service::time_point> next_expiry() const;
    /// Puts back a binding kept from before a restart (the store), after the account's others.
    /// Its times are on this process's steady clock; the caller skips those already expired.
    void restore(binding b);
    /// Makes `now` the bindings of account `user`, in that order, whatever it had (none when
    /// `now` is empty): the account as another node of a cluster has it after a REGISTER there.
    /// Each binding's `user` must be `user`.
    void replace(std::string_view user, std::vector<binding> now);
    /// Every stored binding (an expired one until `expire` removes it), account by account.
    void for_each(const std::function<void(const binding&)>& fn) const;
    std::size_t size() const noexcept;

    const registrar_policy& policy() const noexcept { return policy_; }

private:
    /// The bindings of one account, the most recently registered first.
    using binding_list = std::vector<binding>;

    register_response ok(const binding_list* list, sip::timer_service::time_point now, bool changed,
                         const std::vector<std::string>* path = nullptr) const;

    registrar_policy policy_;
    wall_clock wall_;
    /// The one store: account (address-of-record user) -> its bindings. No account maps to an
    /// empty list.
    std::map<std::string, binding_list, std::less<>> bindings_;
};

/// Keeps a registrar tidy and its NAT bindings open on an event loop: removes each binding when
/// it expires (`on_change` is told), and sends a CRLF keep-alive ("\r\n\r\n", RFC 5626 §3.5.1
/// style) every `keepalive` to each binding behind NAT, to its source flow, so the PBX's NAT
/// keeps the mapping open for the calls we send it.
class binding_maintenance {
public:
    using sender = std::function<void(const sip::flow& to, std::string_view bytes)>;

    binding_maintenance(registrar& reg, sip::timer_service& timers, std::chrono::seconds keepalive, sender send,
                        std::function<void()> on_change);
    ~binding_maintenance();
    binding_maintenance(const binding_maintenance&) = delete;
    binding_maintenance& operator=(const binding_maintenance&) = delete;

    /// Arms the timers for the bindings there are (none at start: nothing ticks).
    void start();
    /// After `on_register` changed bindings: re-arms the expiry timer for the earliest expiry,
    /// and starts the keep-alives when a binding behind NAT appeared. The keep-alive timer runs
    /// only while some binding is behind NAT.
    void bindings_changed();

private:
    void arm_expiry();
    void on_expiry_timer(std::uint64_t generation);
    void arm_keepalive();
    bool any_behind_nat() const;
    void on_keepalive_timer(std::uint64_t generation);

    registrar& reg_;
    sip::timer_service& timers_;
    std::chrono::seconds keepalive_;
    sender send_;
    std::function<void()> on_change_;
    sip::timer_service::timer_id expiry_timer_ = 0;
    sip::timer_service::timer_id keepalive_timer_ = 0;
    /// Bumped whenever a timer is replaced, so a callback of a replaced timer does nothing
    /// (STYLE §3), whatever the timer_service's cancel guarantees.
    std::uint64_t expiry_generation_ = 0;
    std::uint64_t keepalive_generation_ = 0;
};

}  // namespace b2b::registration
