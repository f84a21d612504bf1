// DNS records the locator uses, as c-ares's parsers give them, each with its TTL.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace b2b::sip::resolver {

/// RFC 3403 NAPTR, as RFC 3263 §4.1 uses it (the regexp field is unused by SIP: its
/// records name an SRV domain in `replacement`).
struct naptr_record {
    std::uint16_t order = 0;
    std::uint16_t preference = 0;
    std::string flags;        ///< "s": the replacement is an SRV name
    std::string service;      ///< "SIP+D2U", "SIP+D2T", "SIPS+D2T"...
    std::string replacement;  ///< e.g. "_sip._udp.example.com"
};

/// RFC 2782 SRV.
struct srv_record {
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
    std::uint16_t port = 0;
    std::string target;  ///< a host name; "." says the service is not offered there
};

/// What one query returned: records of one type, or why none.
template <typename Record>
struct answer {
    enum class status : std::uint8_t {
        ok,        ///< records (may still be empty after filtering)
        no_data,   ///< the name or the type does not exist (NXDOMAIN, NODATA): a valid answer
        failed,    ///< no usable answer (timeout, server failure, malformed): try again later
    };
    status result = status::failed;
    std::vector<Record> records;
    std::uint32_t ttl = 0;  ///< the smallest TTL among the records (or of the negative answer)
};

using naptr_answer = answer<naptr_record>;
using srv_answer = answer<srv_record>;
using address_answer = answer<boost::asio::ip::address>;

}  // namespace b2b::sip::resolver
