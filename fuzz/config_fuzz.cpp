// libFuzzer target: the configuration loader (b2bua::parse_config), YAML text to a validated
// configuration. Its contract: any text either parses or throws config_error naming the field;
// nothing else escapes, nothing crashes. A configuration that parses is checked once more the
// way the process uses it (the credential store built from downstream.users).
#include "b2bua/config.hpp"
#include "b2bua/downstream_auth.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto c = b2b::b2bua::parse_config(text);
        // A user the credential store cannot take (an HA1 of the wrong length) is refused at
        // start with config_error naming it, as admin::validate does.
        b2b::b2bua::downstream_auth probe(c.downstream);
    } catch (const b2b::b2bua::config_error&) {
    }
    return 0;
}
