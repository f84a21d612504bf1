// The `b2b.cluster` error category.
#include "cluster/error.hpp"

#include <string>

namespace b2b::cluster {

namespace {

// error_category's destructor is protected and non-virtual by design (categories are never
// deleted through a base pointer), which -Wnon-virtual-dtor cannot tell.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class cluster_category_impl final : public boost::system::error_category {
public:
    // A fixed id keeps the category comparable across shared objects (Boost.System idiom).
    constexpr cluster_category_impl() noexcept : error_category(0x6232622e636c7301ULL) {}

    const char* name() const noexcept override { return "b2b.cluster"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok:
                return "success";
            case errc::not_connected:
                return "not connected to Redis";
            case errc::io_error:
                return "Redis connection failed";
            case errc::protocol_error:
                return "unexpected reply from Redis";
            case errc::server_error:
                return "Redis answered with an error";
        }
        return "unknown cluster error";
    }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& cluster_category() noexcept {
    static const cluster_category_impl category;
    return category;
}

}  // namespace b2b::cluster
