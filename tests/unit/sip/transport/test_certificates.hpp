// Certificates made in memory for transport tests: a CA and leaves it signs, written as PEM files.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace b2b::sip::test {

struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct x509_free {
    void operator()(X509* c) const noexcept { X509_free(c); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

/// A key and its certificate, and where they were written.
struct issued {
    pkey_ptr key;
    x509_ptr cert;
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
};

/// A directory of PEM files under the system temp dir, removed with the object.
class pki_dir {
public:
    explicit pki_dir(const std::string& name)
        : dir_(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(dir_);
    }
    ~pki_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    pki_dir(const pki_dir&) = delete;
    pki_dir& operator=(const pki_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return dir_; }

    /// A self-signed CA (`issuer` null) or a leaf signed by `issuer`, valid from now for
    /// `seconds`, with `san` ("IP:127.0.0.1,DNS:b2bua.test") for a leaf.
    issued make(const std::string& name, const issued* issuer, long seconds, const std::string& san = {}) const {
        issued out;
        out.key.reset(EVP_EC_gen("P-256"));
        if (!out.key) throw std::runtime_error("EVP_EC_gen");
        out.cert.reset(X509_new());
        X509* c = out.cert.get();
        X509_set_version(c, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(c), serial_++);
        X509_gmtime_adj(X509_getm_notBefore(c), -60);
        X509_gmtime_adj(X509_getm_notAfter(c), seconds);
        X509_set_pubkey(c, out.key.get());
        X509_NAME* subject = X509_get_subject_name(c);
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()),
                                   -1, -1, 0);
        X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer->cert.get()) : subject);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer->cert.get() : c, c, nullptr, nullptr, 0);
        add_ext(c, ctx, NID_basic_constraints, issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
        if (!issuer) add_ext(c, ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        if (!san.empty()) add_ext(c, ctx, NID_subject_alt_name, san);
        if (X509_sign(c, issuer ? issuer->key.get() : out.key.get(), EVP_sha256()) == 0) throw std::runtime_error("X509_sign");
        out.cert_file = dir_ / (name + ".pem");
        out.key_file = dir_ / (name + ".key");
        write(out.cert_file, [&](FILE* f) { return PEM_write_X509(f, c); });
        write(out.key_file, [&](FILE* f) { return PEM_write_PrivateKey(f, out.key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
        return out;
    }

private:
    static void add_ext(X509* c, X509V3_CTX& ctx, int nid, const std::string& value) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        if (ext == nullptr) throw std::runtime_error("X509V3_EXT_conf_nid " + value);
        X509_add_ext(c, ext, -1);
        X509_EXTENSION_free(ext);
    }

    template <class Write>
    static void write(const std::filesystem::path& p, Write w) {
        FILE* f = std::fopen(p.c_str(), "w");
        if (f == nullptr) throw std::runtime_error("cannot write " + p.string());
        const int ok = w(f);
        std::fclose(f);
        if (ok != 1) throw std::runtime_error("PEM write " + p.string());
    }

    std::filesystem::path dir_;
    mutable long serial_ = 1;
};

}  // namespace b2b::sip::test
