// Fixed-size keys for IP addresses.
#include "auth/detail/address_key.hpp"

#include <algorithm>

namespace b2b::auth::detail {

address_key key_of(const boost::asio::ip::address& a) noexcept {
    address_key k;
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        const auto v4 =
            boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()).to_bytes();
        k.bytes[0] = 4;
        std::copy(v4.begin(), v4.end(), k.bytes.begin() + 1);
    } else if (a.is_v4()) {
        const auto v4 = a.to_v4().to_bytes();
        k.bytes[0] = 4;
        std::copy(v4.begin(), v4.end(), k.bytes.begin() + 1);
    } else {
        const auto v6 = a.to_v6().to_bytes();
        k.bytes[0] = 6;
        std::copy(v6.begin(), v6.end(), k.bytes.begin() + 1);
    }
    return k;
}

boost::asio::ip::address address_of(const address_key& k) {
    if (k.bytes[0] == 4) {
        boost::asio::ip::address_v4::bytes_type v4{};
        std::copy_n(k.bytes.begin() + 1, v4.size(), v4.begin());
        return boost::asio::ip::address_v4(v4);
    }
    boost::asio::ip::address_v6::bytes_type v6{};
    std::copy_n(k.bytes.begin() + 1, v6.size(), v6.begin());
    return boost::asio::ip::address_v6(v6);
}

}  // namespace b2b::auth::detail
