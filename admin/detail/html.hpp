// HTML text from untrusted strings: the status page's only way to put a value into markup.
#pragma once

#include <string>
#include <string_view>

namespace b2b::admin::detail {

/// Appends `text` to `out` with the five characters that can end a text node or an attribute
/// value escaped (& < > " '), so a user name, reason phrase or User-Agent chosen by a peer shows
/// as text and never becomes markup (OWASP XSS prevention, rule 1 and 2: we quote every
/// attribute). Bytes that are not valid UTF-8, and control characters but tab and line ends,
/// become U+FFFD: the page is sent as UTF-8, and a browser must not be left to guess what a
/// broken sequence means (HTML's parser maps NUL and most controls to errors).
void append_escaped(std::string& out, std::string_view text);

/// `text` escaped as `append_escaped` does.
std::string escape(std::string_view text);

}  // namespace b2b::admin::detail
