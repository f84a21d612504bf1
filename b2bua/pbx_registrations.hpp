// The PBXs' registrations with us: digest, the registrar, and where their calls go.
#pragma once

#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/config.hpp"
#include "b2bua/downstream_auth.hpp"
#include "b2bua/ingress.hpp"
#include "registration/registrar.hpp"
#include "sip/message/message.hpp"
#include "sip/transaction/timer_service.hpp"
#include "sip/transport/flow.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

/// Where a call to a registered PBX account goes: its most recent binding.
struct registered_destination {
    std::string contact;         ///< the Contact URI it registered: the Request-URI of the call
    sip::transport_kind transport = sip::transport_kind::udp;
    sip::endpoint address;       ///< the Contact's address, or the source of its REGISTER behind NAT
    /// Behind NAT, or over a stream: every request of the call goes on the flow the REGISTER
    /// came in on (RFC 3581 style; the connection the PBX opened), never to the Contact.
    std::optional<sip::flow> pinned;
    /// Over a stream, where a new connection goes once `pinned`'s is gone: the Contact, when
    /// it names the address the REGISTER came from (the PBX listens there). Empty when the
    /// Contact names another address: behind NAT, nothing reaches the PBX until it registers
    /// again (RFC 5626 §5.3).
    std::optional<sip::endpoint> reconnect;
    /// RFC 3327: the binding's Path, sent as the call's preloaded Route set (the INVITE goes to
    /// `address`, the first entry's). Empty without one.
    std::vector<std::string> route_set;
};

/// Every PBX account's live bindings as the primary worker's registrar held them at one moment,
/// most recent first: what the other workers place calls to registered accounts by (sip.workers).
using binding_table = std::unordered_map<std::string, std::vector<registration::binding>>;

/// Where a call to `b`'s account goes when `b` is its most recent binding.
registered_destination destination_of(const registration::binding& b);
/// Where a call to account `user` goes by `table` at `now` (the first binding not expired).
std::optional<registered_destination> destination_of(const binding_table& table, std::string_view user,
                                                     sip::timer_service::time_point now);

/// The registrar for the PBXs (RFC 3261 §10.3) on the core's event loop: a REGISTER is
/// authenticated like any PBX request (401 WWW-Authenticate; an unknown user gets the same
/// challenge as a known one, and the same 403 after it), then its bindings are kept by
/// `registration::registrar` and tidied, and those behind NAT kept open, by
/// `registration::binding_maintenance`. b2bua_downstream_registrations follows the bindings.
///
/// @par Thread safety
/// None: the core's event loop.
class pbx_registrations {
public:
    using responder = std::function<void(int status, std::string_view reason, const header_list& headers)>;
    using raw_sender = std::function<void(const sip::flow& to, std::string_view bytes)>;

    pbx_registrations(const config::downstream_section& cfg, downstream_auth& auth, b2bua_metrics& metrics,
                      auth_failure_log& failures, failure_log_limiter& line_limiter, sip::timer_service& timers,
                      raw_sender send,
                      std::function<std::chrono::system_clock::time_point()> wall_now,
                      std::shared_ptr<spdlog::logger> log);
    ~pbx_registrations();
    pbx_registrations(const pbx_registrations&) = delete;
    pbx_registrations& operator=(const pbx_registrations&) = delete;

    /// Starts the keep-alives and expiry.
    void start();
    /// Answers REGISTER `request` from `f` through `respond`.
    void on_register(const sip::message& request, const sip::flow& f, const responder& respond);
    /// Where a call to account `user` goes, when it has a binding.
    std::optional<registered_destination> destination_of(std::string_view user) const;
    std::size_t bindings() const noexcept { return registrar_.size(); }
    /// Every current binding (the admin API's downstream registrations).
    void for_each_binding(const std::function<void(const registration::binding&)>& fn) const { registrar_.for_each(fn); }

    /// Told the current bindings of an account each time a REGISTER changed them (the store
    /// keeps them, so a restart does not make every PBX unreachable until it registers again).
    using binding_sink = std::function<void(const std::string& user, const std::vector<registration::binding>& now)>;
    void set_binding_sink(binding_sink sink) { sink_ = std::move(sink); }
    /// Told every binding, as one immutable table, each time any changed (REGISTER, restore,
    /// keep-alive verdicts): the other workers route calls to registered accounts by it.
    using binding_publisher = std::function<void(std::shared_ptr<const binding_table>)>;
    void set_binding_publisher(binding_publisher publish);
    /// A binding kept from before a restart, expiring at `expires` (wall clock); nothing when
    /// that has passed (false then).
    bool restore(registration::binding b, std::chrono::system_clock::time_point expires);
    /// A binding and when it expires on the wall clock (another process's steady clock means
    /// nothing here).
    using timed_binding = std::pair<registration::binding, std::chrono::system_clock::time_point>;
    /// Another node of the cluster took a REGISTER of account `user` and has `now` for it: they
    /// replace this registrar's (none: the account has none), those expired left out, so a call
    /// for the account reaches the PBX whichever node it lands on. The binding sink is not told
    /// (the caller keeps them, and must not hand them back to the cluster). Returns those kept.
    std::vector<timed_binding> adopt(const std::string& user, std::vector<timed_binding> now);

private:
    void bindings_changed();

    downstream_auth& auth_;
    b2bua_metrics& metrics_;
    auth_failure_log& failures_;
    failure_log_limiter& failure_lines_;
    sip::timer_service& timers_;
    std::function<std::chrono::system_clock::time_point()> wall_now_;
    binding_sink sink_;
    binding_publisher publish_;
    std::shared_ptr<spdlog::logger> log_;
    registration::registrar registrar_;
    registration::binding_maintenance maintenance_;
};

}  // namespace b2b::b2bua
