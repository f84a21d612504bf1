// The RFC 3263 §4 procedure, step by step over an asynchronous dns_lookup.
#include "sip/resolver/locator.hpp"

#include <algorithm>
#include <limits>
#include <memory>

namespace b2b::sip::resolver {

namespace {


// One location under way: it owns its state, each step's callback keeps it alive.
class location_op : public std::enable_shared_from_this<location_op> {
public:
    location_op(dns_lookup& dns, peer_name peer, random_source random, std::function<void(location)> done)
        : dns_(dns), peer_(std::move(peer)), random_(std::move(random)), done_(std::move(done)) {}

    void start() {
        if (peer_.port != 0 || peer_.transport) {
            // §4.1/§4.2: an explicit port or transport: no NAPTR, no SRV.
            const auto kind = peer_.transport.value_or(transport_kind::udp);
            return resolve_host(kind, peer_.port ? peer_.port : default_port(kind));
        }
        dns_.naptr(peer_.host, [self = shared_from_this()](naptr_answer a) { self->on_naptr(std::move(a)); });
    }

private:
    void on_naptr(naptr_answer a) {
        if (a.result == naptr_answer::status::failed) {
            // No answer at all (timeout, SERVFAIL): the server is unlikely to answer the SRV
            // and A queries either; the caller retries on its back-off.
            problem_ = "DNS query NAPTR " + peer_.host + " failed";
            return finish();
        }
        if (a.result == naptr_answer::status::ok) {
            choices_ = naptr_choices(a.records);
            if (!choices_.empty()) note_ttl(a.ttl);
        }
        // §4.1: no NAPTR records (or none for a service we support): SRV for each transport.
        if (choices_.empty()) choices_ = default_srv_choices(peer_.host);
        next_srv();
    }

    void next_srv() {
        if (choice_ >= choices_.size()) {
            if (!found_.empty()) return finish();
            // §4.2: no SRV records: the host's A/AAAA records, on the default port.
            return resolve_host(transport_kind::udp, default_port(transport_kind::udp));
        }
        dns_.srv(choices_[choice_].name, [self = shared_from_this()](srv_answer a) { self->on_srv(std::move(a)); });
    }

    void on_srv(srv_answer a) {
        if (a.result != srv_answer::status::ok || a.records.empty()) {
            ++choice_;
            return next_srv();
        }
        note_ttl(a.ttl);
        srv_ = order_srv(std::move(a.records), random_);
        record_ = 0;
        next_srv_target();
    }

    void next_srv_target() {
        if (record_ >= srv_.size()) {
            ++choice_;
            return next_srv();
        }
        dns_.addresses(srv_[record_].target,
                       [self = shared_from_this()](address_answer a) { self->on_srv_target(std::move(a)); });
    }

    void on_srv_target(address_answer a) {
        if (a.result == address_answer::status::ok && !a.records.empty()) {
            note_ttl(a.ttl);
            for (const auto& addr : a.records) add({choices_[choice_].transport, {addr, srv_[record_].port}});
        } else if (a.result == address_answer::status::failed) {
            problem_ = "no address for SRV target " + srv_[record_].target;
        }
        ++record_;
        next_srv_target();
    }

    void resolve_host(transport_kind transport, std::uint16_t port) {
        dns_.addresses(peer_.host, [self = shared_from_this(), transport, port](address_answer a) {
            if (a.result == address_answer::status::ok && !a.records.empty()) {
                self->note_ttl(a.ttl);
                for (const auto& addr : a.records) self->add({transport, {addr, port}});
            } else {
                self->problem_ = a.result == address_answer::status::failed
                                     ? "DNS query for " + self->peer_.host + " failed"
                                     : self->peer_.host + " has no A/AAAA record";
            }
            self->finish();
        });
    }

    void add(target t) {
        if (std::find(found_.begin(), found_.end(), t) == found_.end()) found_.push_back(std::move(t));
    }
    void note_ttl(std::uint32_t ttl) { ttl_ = std::min(ttl_, ttl); }

    void finish() {
        location out;
        if (found_.empty()) {
            out.problem = problem_.empty() ? "no target found for " + peer_.host : problem_;
        } else {
            out.found = resolution{std::move(found_), std::chrono::seconds(ttl_)};
        }
        auto done = std::move(done_);
        done(std::move(out));
    }

    dns_lookup& dns_;
    peer_name peer_;
    random_source random_;
    std::function<void(location)> done_;
    std::vector<srv_choice> choices_;
    std::size_t choice_ = 0;
    std::vector<srv_record> srv_;
    std::size_t record_ = 0;
    std::vector<target> found_;
    std::uint32_t ttl_ = std::numeric_limits<std::uint32_t>::max();
    std::string problem_;
};

}  // namespace

void locate(dns_lookup& dns, const peer_name& peer, random_source random, std::function<void(location)> done) {
    std::make_shared<location_op>(dns, peer, std::move(random), std::move(done))->start();
}

}  // namespace b2b::sip::resolver
