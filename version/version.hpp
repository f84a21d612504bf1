// Which build this is: the project's version and the git commit it was built from.
#pragma once

#include <string_view>

namespace b2b::version {

/// The project's version (CMake PROJECT_VERSION), e.g. "0.1.0".
std::string_view number() noexcept;

/// The git commit the binary was built from: `git describe --always --dirty` at build time
/// (a short hash, "-dirty" when the tree had uncommitted changes), the B2B_GIT_COMMIT value a
/// build outside git was given (a source tarball, a container build without .git), or "unknown".
std::string_view commit() noexcept;

/// "0.1.0 (commit 4f54b09)", for --version and the first log line.
std::string_view describe() noexcept;

}  // namespace b2b::version
