// The b2bua executable: command line, configuration, then the application.
#include "admin/config_io.hpp"
#include "admin/store.hpp"
#include "b2bua/app.hpp"
#include "b2bua/capabilities.hpp"
#include "b2bua/config.hpp"
#include "b2bua/downstream_auth.hpp"
#include "b2bua/parse_command.hpp"
#include "version/version.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>


namespace {

constexpr const char* usage =
    "usage: b2bua --config FILE [--log-level LEVEL]   run the B2BUA\n"
    "       b2bua --check-config FILE                 validate a configuration and exit\n"
    "       b2bua --capabilities --config FILE        print the Linux capabilities FILE needs (CAP_NET_BIND_SERVICE\n"
    "                                                 for a port below 1024), one a line; nothing when none\n"
    "       b2bua --backup FILE --config CFG          copy the store (CFG's data_dir) to FILE, also while running\n"
    "       b2bua --export-config --config CFG        print the configuration in use (CFG with the store's trunks,\n"
    "                                                 users and routes) as YAML\n"
    "       b2bua --import-config FILE [--dry-run] --config CFG\n"
    "                                                 replace the store's trunks, users and routes with FILE's,\n"
    "                                                 printing the differences (--dry-run: only print)\n"
    "       b2bua parse [FILE|-]                      print one SIP message (raw bytes) as JSON\n"
    "       b2bua --version | --help\n"
    "LEVEL: trace, debug, info, warn, error, critical, off (default: log.level of the config)\n";

int parse_main(const std::vector<std::string>& args) {
    std::string path = args.size() > 2 ? args[2] : "-";
    std::string bytes;
    if (path == "-") {
        std::ostringstream s;
        s << std::cin.rdbuf();
        bytes = s.str();
    } else {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            std::cerr << "error: cannot open " << path << '\n';
            return 1;
        }
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return b2b::b2bua::run_parse(bytes, std::cout, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    if (args.size() >= 2 && args[1] == "parse") return parse_main(args);

    std::string config_path;
    std::string log_level;
    bool check_only = false;
    std::string backup_file;
    std::string import_file;
    bool export_config = false;
    bool capabilities = false;
    bool dry_run = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* what) -> std::string {
            if (i + 1 >= args.size()) {
                std::cerr << "error: " << a << " needs " << what << "\n" << usage;
                std::exit(2);
            }
            return args[++i];
        };
        if (a == "--version") {
            std::cout << "b2bua " << b2b::version::describe() << '\n';
            return 0;
        } else if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        } else if (a == "--config" || a == "-c") {
            config_path = value("a file name");
        } else if (a == "--check-config") {
            config_path = value("a file name");
            check_only = true;
        } else if (a == "--backup") {
            backup_file = value("a file name");
        } else if (a == "--capabilities") {
            capabilities = true;
        } else if (a == "--export-config") {
            export_config = true;
        } else if (a == "--import-config") {
            import_file = value("a file name");
        } else if (a == "--dry-run") {
            dry_run = true;
        } else if (a == "--log-level") {
            log_level = value("a level");
            if (!b2b::b2bua::valid_log_level(log_level)) {
                std::cerr << "error: --log-level: '" << log_level << "' is not a log level\n" << usage;
                return 2;
            }
        } else {
            std::cerr << "error: unknown argument '" << a << "'\n" << usage;
            return 2;
        }
    }
    if (config_path.empty()) {
        std::cerr << "error: --config FILE is required\n" << usage;
        return 2;
    }

    b2b::b2bua::config cfg;
    try {
        cfg = b2b::b2bua::load_config(config_path);
    } catch (const b2b::b2bua::config_error& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
    if (capabilities) {
        // For the unit's generator (deploy/systemd): the service gets only what this prints.
        for (const auto& c : b2b::b2bua::needed_capabilities(cfg, b2b::b2bua::unprivileged_port_start())) {
            std::cout << c << '\n';
        }
        return 0;
    }
    if (export_config) return b2b::admin::export_config(config_path, std::cout, std::cerr);
    if (!import_file.empty()) return b2b::admin::import_config(config_path, import_file, dry_run, std::cout, std::cerr);
    if (dry_run) {
        std::cerr << "error: --dry-run goes with --import-config\n" << usage;
        return 2;
    }
    if (!backup_file.empty()) {
        // SQLite's online backup: a consistent copy while the running b2bua writes.
        auto summary = b2b::admin::store::backup(cfg.data_dir, backup_file);
        if (!summary) {
            std::cerr << "error: backup: " << summary.error().what() << '\n';
            return 1;
        }
        std::cout << "store " << summary->source << " (schema version " << summary->schema_version << ") copied to "
                  << summary->file << " (" << summary->bytes << " bytes)\n";
        return 0;
    }
    if (check_only) {
        try {
            // Builds the credential store too, which checks users more deeply than the parser.
            b2b::b2bua::downstream_auth probe(cfg.downstream);
        } catch (const std::exception& e) {
            std::cerr << "error: " << config_path << ": " << e.what() << '\n';
            return 1;
        }
        std::cout << config_path << ": configuration OK (" << cfg.upstream.trunks.size() << " trunk(s), "
                  << cfg.routes.size() << " route(s), " << cfg.downstream.users.size() << " user(s))\n";
        return 0;
    }

    b2b::b2bua::setup_logging(log_level.empty() ? cfg.log.level : log_level);
    try {
        b2b::b2bua::application app(std::move(cfg), config_path, b2b::version::describe());
        app.run();
    } catch (const std::exception& e) {
        spdlog::get("b2bua")->critical("{}", e.what());
        return 1;
    }
    return 0;
}
