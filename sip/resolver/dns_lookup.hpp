// The DNS queries the locator needs, as an interface: c-ares in production, a fake in tests.
#pragma once

#include "sip/resolver/records.hpp"

#include <functional>
#include <string>

namespace b2b::sip::resolver {

/// Asynchronous DNS queries with parsed answers. Each callback is called exactly once, later
/// (never from within the call that asked), on the owner's event loop; when the lookup is
/// destroyed first, callbacks still pending are called with status `failed` or not at all
/// (callers guard their state accordingly).
///
/// @par Thread safety
/// None: one event loop.
class dns_lookup {
public:
    virtual ~dns_lookup() = default;
    virtual void naptr(const std::string& name, std::function<void(naptr_answer)> done) = 0;
    virtual void srv(const std::string& name, std::function<void(srv_answer)> done) = 0;
    /// A and AAAA records of `name` (IPv4 first).
    virtual void addresses(const std::string& name, std::function<void(address_answer)> done) = 0;
};

}  // namespace b2b::sip::resolver
