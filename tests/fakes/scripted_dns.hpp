// A scripted DNS for tests: answers from tables, delivered when the test says.
#pragma once

#include "sip/resolver/dns_lookup.hpp"

#include <boost/asio/ip/address.hpp>

#include <deque>
#include <functional>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace b2b::sip::resolver::test {

// Answers from tables, delivered later (run()), as the dns_lookup contract says; records
// every query asked, in order.
class scripted_dns final : public dns_lookup {
public:
    std::map<std::string, naptr_answer> naptrs;
    std::map<std::string, srv_answer> srvs;
    std::map<std::string, address_answer> hosts;
    std::vector<std::string> asked;

    void naptr(const std::string& name, std::function<void(naptr_answer)> done) override {
        asked.push_back("NAPTR " + name);
        queue_.push_back([this, name, done] { done(find(naptrs, name)); });
    }
    void srv(const std::string& name, std::function<void(srv_answer)> done) override {
        asked.push_back("SRV " + name);
        queue_.push_back([this, name, done] { done(find(srvs, name)); });
    }
    void addresses(const std::string& name, std::function<void(address_answer)> done) override {
        asked.push_back("A " + name);
        queue_.push_back([this, name, done] { done(find(hosts, name)); });
    }
    void run() {
        while (!queue_.empty()) {
            auto f = std::move(queue_.front());
            queue_.pop_front();
            f();
        }
    }

private:
    template <typename A>
    static A find(const std::map<std::string, A>& m, const std::string& name) {
        auto it = m.find(name);
        if (it != m.end()) return it->second;
        A none;
        none.result = A::status::no_data;
        return none;
    }
    std::deque<std::function<void()>> queue_;
};

inline address_answer a_records(const std::vector<const char*>& ips, std::uint32_t ttl) {
    address_answer a;
    a.result = address_answer::status::ok;
    for (auto ip : ips) a.records.push_back(boost::asio::ip::make_address(ip));
    a.ttl = ttl;
    return a;
}

}  // namespace b2b::sip::resolver::test
