// b2buactl: the operators' command line client of the b2bua admin API.
#include "admin/ctl/command_line.hpp"
#include "admin/ctl/http_client.hpp"
#include "admin/ctl/render.hpp"
#include "version/version.hpp"

#include <boost/json/parse.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace ctl = b2b::admin::ctl;

namespace {

std::optional<std::string> read_whole_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return text.str();
}

std::optional<std::string> environment(std::string_view name) {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
}

int finish(ctl::exit_code c) { return static_cast<int>(c); }

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 1 && args[0] == "--version") {
        std::cout << "b2buactl " << b2b::version::describe() << '\n';
        return finish(ctl::exit_code::ok);
    }
    auto parsed = ctl::parse_command_line(args, environment, read_whole_file);
    if (auto* e = std::get_if<ctl::usage_error>(&parsed)) {
        if (e->message.empty()) {  // --help
            std::cout << ctl::usage_text();
            return finish(ctl::exit_code::ok);
        }
        std::cerr << "b2buactl: " << e->message << "\n" << ctl::usage_text();
        return finish(ctl::exit_code::usage);
    }
    const auto& inv = std::get<ctl::invocation>(parsed);
    const auto url = ctl::parse_base_url(inv.url);
    if (!url) {
        std::cerr << "b2buactl: " << inv.url << " is not an http:// or https:// URL\n";
        return finish(ctl::exit_code::usage);
    }
    const auto answer = ctl::exchange(*url, inv.request, inv.token);
    if (const auto* f = std::get_if<ctl::transport_failure>(&answer)) {
        std::cerr << "b2buactl: cannot reach the admin API at " << inv.url << ": " << f->message << "\n";
        return finish(ctl::exit_code::unreachable);
    }
    const auto& rsp = std::get<ctl::api_response>(answer);
    const auto code = ctl::exit_code_for(rsp.status);
    if (inv.json) {
        // The API's document unchanged, whatever the status: scripts read the error too.
        std::cout << rsp.body;
        if (!rsp.body.empty() && rsp.body.back() != '\n') std::cout << "\n";
        return finish(code);
    }
    if (code != ctl::exit_code::ok) {
        std::cerr << "b2buactl: " << ctl::error_message(rsp.status, rsp.reason, rsp.body) << "\n";
        if (rsp.status == 401 && inv.token.empty())
            std::cerr << "b2buactl: no token given: set B2BUA_ADMIN_TOKEN or use --token-file\n";
        return finish(code);
    }
    boost::json::value doc;
    if (!rsp.body.empty()) {
        boost::system::error_code ec;
        doc = boost::json::parse(rsp.body, ec);
        if (ec) {
            std::cerr << "b2buactl: the API's answer is not JSON: " << ec.message() << "\n";
            return finish(ctl::exit_code::refused);
        }
    }
    const bool tty = ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
    std::cout << ctl::render(inv, doc, ctl::style{tty});
    return finish(ctl::exit_code::ok);
}
