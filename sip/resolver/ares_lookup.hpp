// DNS queries through c-ares, its sockets and timeouts driven by Boost.Asio: never blocking.
#pragma once

#include "sip/resolver/dns_lookup.hpp"
#include "sip/transport/flow.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace b2b::sip::resolver {

/// A c-ares channel on an Asio event loop: each socket c-ares opens is watched with a
/// `posix::stream_descriptor` (ARES_OPT_SOCK_STATE_CB), its retransmission timeouts with a
/// steady timer (ares_timeout); answers are parsed with c-ares's parsers (TTLs of A/AAAA with
/// ares_addrttl, of NAPTR and SRV with libresolv's ns_parserr). Callbacks are posted to the
/// executor, never called from within a query call.
///
/// @par Thread safety
/// None: the executor must be the one event loop's (single-threaded io_context).
class ares_lookup final : public dns_lookup {
public:
    struct options {
        /// Name servers to ask; empty = the system's (/etc/resolv.conf).
        std::vector<endpoint> servers;
        std::chrono::milliseconds timeout{1000};  ///< per try (c-ares doubles it per round)
        int tries = 3;
    };

    /// Throws std::runtime_error when c-ares cannot be set up (e.g. a server list it refuses).
    ares_lookup(boost::asio::any_io_executor executor, const options& opts);
    ~ares_lookup() override;
    ares_lookup(const ares_lookup&) = delete;
    ares_lookup& operator=(const ares_lookup&) = delete;

    /// Stops: queries under way are dropped (their callbacks never called), later ones are
    /// ignored, and nothing is left on the event loop (so its run() can return).
    void shutdown();

    // dns_lookup
    void naptr(const std::string& name, std::function<void(naptr_answer)> done) override;
    void srv(const std::string& name, std::function<void(srv_answer)> done) override;
    void addresses(const std::string& name, std::function<void(address_answer)> done) override;

private:
    class channel;
    std::shared_ptr<channel> channel_;
};

}  // namespace b2b::sip::resolver
