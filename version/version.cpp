// The build's identity, from the header cmake/write_revision.cmake writes at every build.
#include "version/version.hpp"

#include "b2b_revision.hpp"  // generated: B2B_VERSION, B2B_COMMIT

namespace b2b::version {

std::string_view number() noexcept { return B2B_VERSION; }

std::string_view commit() noexcept { return B2B_COMMIT; }

std::string_view describe() noexcept { return B2B_VERSION " (commit " B2B_COMMIT ")"; }

}  // namespace b2b::version
