// The TLS Prometheus metrics.
#include "b2bua/tls_metrics.hpp"

namespace b2b::b2bua {

tls_metrics::tls_metrics(prometheus::Registry& registry)
    : failures_(prometheus::BuildCounter()
                    .Name("b2bua_tls_handshake_failures_total")
                    .Help("TLS handshakes that failed, by direction (inbound: to our tls:// listeners; outbound: to "
                          "providers) and reason (verify_failed: the peer's certificate did not verify; handshake; "
                          "timeout).")
                    .Register(registry)),
      expiry_(prometheus::BuildGauge()
                  .Name("b2bua_tls_certificate_expiry_timestamp_seconds")
                  .Help("The notAfter of the certificate a tls:// listener presents, as Unix time; updated on SIGHUP.")
                  .Register(registry)) {
    for (auto d : {sip::tls_direction::inbound, sip::tls_direction::outbound}) {
        for (std::size_t r = 0; r < failure_count; ++r) {
            counters_[static_cast<std::size_t>(d)][r] = &failures_.Add(
                {{"direction", std::string(sip::to_string(d))}, {"reason", std::string(sip::to_string(sip::all_tls_failures[r]))}});
        }
    }
}

void tls_metrics::add_listener(const std::string& label) { listeners_.push_back(&expiry_.Add({{"listener", label}})); }

void tls_metrics::set_certificate_expiry(std::optional<std::chrono::system_clock::time_point> not_after) {
    const double value =
        not_after ? static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(not_after->time_since_epoch()).count())
                  : 0.0;
    for (auto* g : listeners_) g->Set(value);
}

void tls_metrics::on_handshake_failure(sip::tls_direction d, sip::tls_failure why) {
    counters_[static_cast<std::size_t>(d)][static_cast<std::size_t>(why)]->Increment();
}

}  // namespace b2b::b2bua
