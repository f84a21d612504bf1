// b2bua --export-config and --import-config.
#include "admin/config_io.hpp"

#include "admin/documents.hpp"
#include "admin/seeding.hpp"
#include "admin/store.hpp"

#include <yaml-cpp/yaml.h>

#include <ostream>

namespace b2b::admin {

int export_config(const std::string& config_path, std::ostream& out, std::ostream& err) {
    try {
        const auto root = load_config_root(config_path);
        const auto cfg = b2bua::load_config(config_path);
        auto st = store::open(cfg.data_dir);
        const auto seeded = st->seeded();
        if (!seeded) throw std::runtime_error(seeded.error().what());
        // Before the first start the file is all there is.
        const auto docs = *seeded ? load_documents(*st) : document_set::from_config(root);
        if (!docs) throw std::runtime_error(st->path() + ": " + docs.error());
        YAML::Emitter e;
        e << docs->merge_into(root);
        out << "# b2bua configuration exported from " << st->path() << " (trunks, users and routes from the store)\n"
            << e.c_str() << '\n';
        return 0;
    } catch (const std::exception& e) {
        err << "error: " << e.what() << '\n';
        return 1;
    }
}

int import_config(const std::string& config_path, const std::string& file, bool dry_run, std::ostream& out,
                  std::ostream& err) {
    try {
        const auto base = load_config_root(config_path);
        const auto cfg = b2bua::load_config(config_path);
        const auto incoming = document_set::from_config(load_config_root(file));
        const auto v = validate(base, incoming);
        if (v.error) {
            err << "error: " << file << ": " << (v.error->field.empty() ? "" : v.error->field + ": ") << v.error->message
                << "\nnothing imported\n";
            return 1;
        }
        auto st = store::open(cfg.data_dir);
        const auto seeded = st->seeded();
        if (!seeded) throw std::runtime_error(seeded.error().what());
        const auto current = *seeded ? load_documents(*st) : document_set::from_config(base);
        if (!current) throw std::runtime_error(st->path() + ": " + current.error());
        const auto lines = differences(*current, incoming);
        for (const auto& l : lines) out << l << '\n';
        if (lines.empty()) out << "no difference\n";
        if (dry_run) {
            out << "dry run: nothing imported\n";
            return 0;
        }
        auto changes = replace_all(*current, incoming);
        changes.mark_seeded = true;
        changes.audit = audit_entry{std::chrono::system_clock::now(), "b2bua --import-config", "import " + file,
                                    "configuration", 200};
        if (auto w = st->commit(changes); !w) throw std::runtime_error(w.error().what());
        out << "imported into " << st->path()
            << "; a running b2bua applies it on POST /api/v1/reload or SIGHUP\n";
        return 0;
    } catch (const std::exception& e) {
        err << "error: " << e.what() << "\nnothing imported\n";
        return 1;
    }
}

}  // namespace b2b::admin
