// Lexer, parsers and serializers for Digest challenge and credentials header values.
#include "auth/digest_header.hpp"

#include <boost/throw_exception.hpp>
#include <stdexcept>
#include <utility>

#include "auth/detail/text.hpp"

namespace b2b::auth {
namespace {

using detail::iequals;

// Boost's error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor cannot tell apart.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class parse_category_impl final : public boost::system::error_category {
  public:
    constexpr parse_category_impl() noexcept : error_category(0x6232622e61757402ULL) {}

    const char* name() const noexcept override { return "b2b.auth.parse"; }

    std::string message(int ev) const override {
        switch (static_cast<parse_errc>(ev)) {
            case parse_errc::ok:
                return "success";
            case parse_errc::empty:
                return "empty header value";
            case parse_errc::not_digest:
                return "not a Digest header value";
            case parse_errc::bad_syntax:
                return "bad Digest header syntax";
            case parse_errc::unterminated_quote:
                return "unterminated quoted-string";
            case parse_errc::duplicate_parameter:
                return "duplicate Digest parameter";
            case parse_errc::missing_parameter:
                return "missing Digest parameter";
        }
        return "unknown Digest parse error";
    }
};
#pragma GCC diagnostic pop

parse_error make_error(parse_errc code, std::string detail) {
    return {code, std::move(detail)};
}

/// One `name=value` pair. `name` points into the input; `value` is unescaped.
struct raw_param {
    std::string_view name;
    std::string value;
};

/// Hand-written scanner over `Digest LWS auth-param *(COMMA auth-param)` (RFC 3261 §25.1,
/// RFC 7616 §3.3/§3.4). Every read is bounds-checked against the input, and there is no
/// recursion, so any byte string is safe to feed.
class lexer {
  public:
    explicit lexer(std::string_view in) noexcept : in_(in) {}

    // RFC 3261 §7.3.1: LWS = [*WSP CRLF] 1*WSP, and a fold counts as SP. A bare LF fold is
    // tolerated too. Returns whether anything was consumed.
    bool skip_lws() noexcept {
        const std::size_t start = pos_;
        while (pos_ < in_.size()) {
            if (detail::is_wsp(in_[pos_])) {
                ++pos_;
            } else if (fold_length(pos_) != 0) {
                pos_ += fold_length(pos_);
            } else {
                break;
            }
        }
        return pos_ != start;
    }

    // Length of a line fold (CRLF or LF, followed by at least one WSP) starting at `at`, or 0.
    std::size_t fold_length(std::size_t at) const noexcept {
        std::size_t n = 0;
        if (at < in_.size() && in_[at] == '\r') n = 1;
        if (at + n < in_.size() && in_[at + n] == '\n' && at + n + 1 < in_.size() &&
            detail::is_wsp(in_[at + n + 1]))
            return n + 1;
        return 0;
    }

    std::string_view token() noexcept {
        const std::size_t start = pos_;
        while (pos_ < in_.size() && detail::is_token_char(in_[pos_])) ++pos_;
        return in_.substr(start, pos_ - start);
    }

    bool consume(char c) noexcept {
        if (pos_ < in_.size() && in_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    bool at_end() const noexcept { return pos_ >= in_.size(); }
    bool peek(char c) const noexcept { return pos_ < in_.size() && in_[pos_] == c; }
    std::size_t position() const noexcept { return pos_; }

    // quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE, with the opening quote next.
    // qdtext excludes CTLs other than HTAB (and folds, which become one SP); bytes >= 0x80 are
    // accepted as UTF8-NONASCII without validating the encoding, which nothing here relies on.
    boost::system::result<std::string, parse_error> quoted_string() {
        const std::size_t start = pos_;
        ++pos_;  // opening quote
        std::string out;
        while (pos_ < in_.size()) {
            const char c = in_[pos_];
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (c == '\\') {
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): anything but CR and LF.
                if (pos_ + 1 >= in_.size()) break;
                const char next = in_[pos_ + 1];
                if (next == '\r' || next == '\n')
                    return make_error(
                        parse_errc::bad_syntax,
                        "line break after backslash at offset " + std::to_string(pos_));
                out += next;
                pos_ += 2;
                continue;
            }
            if (const std::size_t fold = fold_length(pos_); fold != 0) {
                pos_ += fold;
                while (pos_ < in_.size() && detail::is_wsp(in_[pos_])) ++pos_;
                out += ' ';
                continue;
            }
            const auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7F)
                return make_error(
                    parse_errc::bad_syntax,
                    "control character in quoted-string at offset " + std::to_string(pos_));
            out += c;
            ++pos_;
        }
        return make_error(parse_errc::unterminated_quote,
                          "quoted-string opened at offset " + std::to_string(start));
    }

  private:
    std::string_view in_;
    std::size_t pos_ = 0;
};

boost::system::result<std::vector<raw_param>, parse_error> parse_params(std::string_view value) {
    // A value handed over with its line terminator still attached is fine; a CRLF inside that
    // is not followed by whitespace (the start of another header line) is not.
    lexer lx(detail::trim_lws(value));
    lx.skip_lws();
    if (lx.at_end()) return make_error(parse_errc::empty, "empty value");
    const std::string_view scheme = lx.token();
    if (scheme.empty())
        return make_error(parse_errc::bad_syntax,
                          "expected an auth scheme at offset " + std::to_string(lx.position()));
    if (!iequals(scheme, "Digest"))
        return make_error(parse_errc::not_digest, "scheme " + std::string(scheme));
    // RFC 3261 §25.1: "Digest" LWS digest-cln *(COMMA digest-cln); at least one parameter.
    if (!lx.skip_lws() || lx.at_end())
        return make_error(parse_errc::bad_syntax, "no parameters after Digest");

    std::vector<raw_param> params;
    for (;;) {
        const std::string_view name = lx.token();
        if (name.empty())
            return make_error(parse_errc::bad_syntax, "expected a parameter name at offset " +
                                                          std::to_string(lx.position()));
        lx.skip_lws();
        if (!lx.consume('='))
            return make_error(parse_errc::bad_syntax, "expected '=' after " + std::string(name));
        lx.skip_lws();
        raw_param p{name, {}};
        if (lx.peek('"')) {
            auto q = lx.quoted_string();
            if (!q) return q.error();
            p.value = std::move(*q);
        } else {
            const std::string_view tok = lx.token();
            if (tok.empty())
                return make_error(
                    parse_errc::bad_syntax,
                    "expected a token or quoted-string value for " + std::string(name));
            p.value = std::string(tok);
        }
        params.push_back(std::move(p));
        lx.skip_lws();
        if (lx.at_end()) break;
        if (!lx.consume(','))
            return make_error(parse_errc::bad_syntax,
                              "expected ',' at offset " + std::to_string(lx.position()));
        lx.skip_lws();
        if (lx.at_end()) return make_error(parse_errc::bad_syntax, "trailing ','");
    }
    return params;
}

/// Assigns a known parameter once; a second occurrence is an error (RFC 7616 §3.3/§3.4 give
/// each directive once, and two different values would make any choice a guess).
class assigner {
  public:
    explicit assigner(const raw_param& p) noexcept : p_(p) {}

    bool is(std::string_view name) const noexcept { return iequals(p_.name, name); }

    template <class Setter>
    std::optional<parse_error> set(bool& seen, Setter&& setter) const {
        if (seen) return make_error(parse_errc::duplicate_parameter, std::string(p_.name));
        seen = true;
        std::forward<Setter>(setter)(p_.value);
        return std::nullopt;
    }

  private:
    const raw_param& p_;
};

bool is_true(std::string_view v) noexcept {
    return iequals(v, "true");
}

// qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT (RFC 3261 §25.1), with
// LWS tolerated around each value as RFC 7616 §3.9.1 writes "auth, auth-int".
std::vector<std::string> split_qop(std::string_view list) {
    std::vector<std::string> out;
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view item = detail::trim_lws(list.substr(0, comma));
        if (!item.empty()) out.push_back(detail::to_lower(item));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return out;
}

// Appends `value` as a quoted-string (RFC 3261 §25.1). '"' and '\\' become quoted-pairs, and
// so do other control bytes, which qdtext cannot carry raw. CR, LF and NUL cannot be carried
// at all, so they are dropped rather than allowed to split or truncate the header.
void append_quoted(std::string& out, std::string_view value) {
    out += '"';
    for (char c : value) {
        if (c == '\r' || c == '\n' || c == '\0') continue;
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\' || (u < 0x20 && c != '\t') || u == 0x7F) out += '\\';
        out += c;
    }
    out += '"';
}

// Token-valued parameters (algorithm, qop, nc) go out bare when they are valid tokens, as
// RFC 7616 §3.4 and SIPp expect; anything else is quoted so the header stays parseable.
void append_token_or_quoted(std::string& out, std::string_view value) {
    if (detail::is_token(value)) {
        out += value;
    } else {
        append_quoted(out, value);
    }
}

class param_writer {
  public:
    explicit param_writer(std::string& out) noexcept : out_(out) { out_ = "Digest "; }

    void quoted(std::string_view name, std::string_view value) {
        separator(name);
        append_quoted(out_, value);
    }
    void token(std::string_view name, std::string_view value) {
        separator(name);
        append_token_or_quoted(out_, value);
    }

  private:
    void separator(std::string_view name) {
        if (!first_) out_ += ", ";
        first_ = false;
        out_ += name;
        out_ += '=';
    }

    std::string& out_;
    bool first_ = true;
};

}  // namespace

const boost::system::error_category& parse_category() noexcept {
    static const parse_category_impl instance;
    return instance;
}

std::string parse_error::what() const {
    std::string out(make_error_code(code).message());
    if (!detail.empty()) {
        out += ": ";
        out += detail;
    }
    return out;
}

void throw_exception_from_error(const parse_error& e, const boost::source_location& loc) {
    boost::throw_exception(std::runtime_error(e.what()), loc);
}

bool digest_challenge::offers_qop_auth() const noexcept {
    for (const auto& q : qop)
        if (q == "auth") return true;
    return false;
}

parse_result<digest_challenge> parse_challenge(std::string_view value) {
    auto params = parse_params(value);
    if (!params) return params.error();
    digest_challenge c;
    bool realm = false, nonce = false, opaque = false, alg = false, qop = false, stale = false,
         domain = false, userhash = false, charset = false;
    for (const raw_param& p : *params) {
        const assigner a(p);
        std::optional<parse_error> err;
        if (a.is("realm")) {
            err = a.set(realm, [&](const std::string& v) { c.realm = v; });
        } else if (a.is("nonce")) {
            err = a.set(nonce, [&](const std::string& v) { c.nonce = v; });
        } else if (a.is("opaque")) {
            err = a.set(opaque, [&](const std::string& v) { c.opaque = v; });
        } else if (a.is("algorithm")) {
            err = a.set(alg, [&](const std::string& v) { c.algorithm_token = v; });
        } else if (a.is("qop")) {
            err = a.set(qop, [&](const std::string& v) { c.qop = split_qop(v); });
        } else if (a.is("stale")) {
            err = a.set(stale, [&](const std::string& v) { c.stale = is_true(v); });
        } else if (a.is("domain")) {
            err = a.set(domain, [&](const std::string& v) { c.domain = v; });
        } else if (a.is("userhash")) {
            err = a.set(userhash, [&](const std::string& v) { c.userhash = is_true(v); });
        } else if (a.is("charset")) {
            err = a.set(charset, [&](const std::string& v) { c.charset = v; });
        }
        // Unknown parameters are ignored (RFC 7616 §3.3: "MUST ignore any unknown ones").
        if (err) return *err;
    }
    if (!realm) return make_error(parse_errc::missing_parameter, "realm");
    if (!nonce) return make_error(parse_errc::missing_parameter, "nonce");
    return c;
}

parse_result<digest_credentials> parse_credentials(std::string_view value) {
    auto params = parse_params(value);
    if (!params) return params.error();
    digest_credentials c;
    bool username = false, realm = false, nonce = false, uri = false, response = false, alg = false,
         cnonce = false, nc = false, qop = false, opaque = false, userhash = false;
    for (const raw_param& p : *params) {
        const assigner a(p);
        std::optional<parse_error> err;
        if (a.is("username")) {
            err = a.set(username, [&](const std::string& v) { c.username = v; });
        } else if (a.is("realm")) {
            err = a.set(realm, [&](const std::string& v) { c.realm = v; });
        } else if (a.is("nonce")) {
            err = a.set(nonce, [&](const std::string& v) { c.nonce = v; });
        } else if (a.is("uri")) {
            err = a.set(uri, [&](const std::string& v) { c.uri = v; });
        } else if (a.is("response")) {
            err = a.set(response, [&](const std::string& v) { c.response = v; });
        } else if (a.is("algorithm")) {
            err = a.set(alg, [&](const std::string& v) { c.algorithm_token = v; });
        } else if (a.is("cnonce")) {
            err = a.set(cnonce, [&](const std::string& v) { c.cnonce = v; });
        } else if (a.is("nc")) {
            err = a.set(nc, [&](const std::string& v) { c.nc = v; });
        } else if (a.is("qop")) {
            err = a.set(qop, [&](const std::string& v) { c.qop = v; });
        } else if (a.is("opaque")) {
            err = a.set(opaque, [&](const std::string& v) { c.opaque = v; });
        } else if (a.is("userhash")) {
            err = a.set(userhash, [&](const std::string& v) { c.userhash = is_true(v); });
        }
        if (err) return *err;
    }
    return c;
}

std::string to_header_value(const digest_challenge& c) {
    std::string out;
    param_writer w(out);
    w.quoted("realm", c.realm);
    if (!c.domain.empty()) w.quoted("domain", c.domain);
    w.quoted("nonce", c.nonce);
    if (c.opaque) w.quoted("opaque", *c.opaque);
    if (!c.algorithm_token.empty()) w.token("algorithm", c.algorithm_token);
    if (!c.qop.empty()) {
        std::string list;
        for (const auto& q : c.qop) {
            if (!list.empty()) list += ',';
            list += q;
        }
        w.quoted("qop", list);
    }
    if (c.stale) w.token("stale", "true");
    if (!c.charset.empty()) w.token("charset", c.charset);
    if (c.userhash) w.token("userhash", "true");
    return out;
}

std::string to_header_value(const digest_credentials& c) {
    std::string out;
    param_writer w(out);
    w.quoted("username", c.username);
    w.quoted("realm", c.realm);
    w.quoted("nonce", c.nonce);
    w.quoted("uri", c.uri);
    w.quoted("response", c.response);
    if (!c.algorithm_token.empty()) w.token("algorithm", c.algorithm_token);
    if (!c.cnonce.empty()) w.quoted("cnonce", c.cnonce);
    if (c.opaque) w.quoted("opaque", *c.opaque);
    if (c.qop) w.token("qop", *c.qop);
    if (!c.nc.empty()) w.token("nc", c.nc);
    if (c.userhash) w.token("userhash", "true");
    return out;
}

}  // namespace b2b::auth
