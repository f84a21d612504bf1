// b2buactl's output: the API's JSON documents as text, and exit codes.
#pragma once

#include "admin/ctl/command_line.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace b2b::admin::ctl {

/// The exit codes of the design contract.
enum class exit_code : int {
    ok = 0,
    refused = 1,         ///< the API answered 4xx/5xx (but 401/403)
    usage = 2,           ///< the command line cannot be run
    unreachable = 3,     ///< no answer from the API (connect, TLS, read)
    not_authorised = 4,  ///< 401 or 403
};

/// The exit code of an HTTP answer with `status`.
exit_code exit_code_for(int status) noexcept;

/// How text is shown: ANSI colours only on a terminal (and without NO_COLOR).
struct style {
    bool color = false;
};

/// `why`: one block per failure, newest first as the API sends them: time, direction, reason
/// (red for wrong_password, rejected, forbidden and unknown_user, yellow for the others),
/// peer, source and user, count, then the hint. Control characters of the peer's text are
/// shown as '?'.
std::string render_failures(const boost::json::value& doc, style s);
/// `summary`: counts per direction, reason and peer, then the most frequent sources.
std::string render_summary(const boost::json::value& doc, style s);

/// The text of a successful answer `doc` (null when the body was empty) for `inv`'s command.
std::string render(const invocation& inv, const boost::json::value& doc, style s);

/// The sentence of an error answer: its "error" (and "field"), else the status line.
std::string error_message(int status, std::string_view reason, std::string_view body);

}  // namespace b2b::admin::ctl
