// Method names: case-sensitive lookup by length, then by text (RFC 3261 §7.1).
#include "sip/message/method.hpp"

namespace b2b::sip {

method method_from_string(std::string_view n) noexcept {
    switch (n.size()) {
        case 3:
            if (n == "ACK") return method::ack;
            if (n == "BYE") return method::bye;
            break;
        case 4:
            if (n == "INFO") return method::info;
            break;
        case 5:
            if (n == "PRACK") return method::prack;
            if (n == "REFER") return method::refer;
            break;
        case 6:
            switch (n[0]) {
                case 'I':
                    return n == "INVITE" ? method::invite : method::unknown;
                case 'C':
                    return n == "CANCEL" ? method::cancel : method::unknown;
                case 'U':
                    return n == "UPDATE" ? method::update : method::unknown;
                case 'N':
                    return n == "NOTIFY" ? method::notify : method::unknown;
                default:
                    break;
            }
            break;
        case 7:
            if (n == "OPTIONS") return method::options;
            if (n == "MESSAGE") return method::message;
            if (n == "PUBLISH") return method::publish;
            break;
        case 8:
            if (n == "REGISTER") return method::register_;
            break;
        case 9:
            if (n == "SUBSCRIBE") return method::subscribe;
            break;
        default:
            break;
    }
    return method::unknown;
}

std::string_view to_string(method m) noexcept {
    switch (m) {
        case method::unknown:
            return "";
        case method::invite:
            return "INVITE";
        case method::ack:
            return "ACK";
        case method::bye:
            return "BYE";
        case method::cancel:
            return "CANCEL";
        case method::options:
            return "OPTIONS";
        case method::register_:
            return "REGISTER";
        case method::info:
            return "INFO";
        case method::update:
            return "UPDATE";
        case method::prack:
            return "PRACK";
        case method::subscribe:
            return "SUBSCRIBE";
        case method::notify:
            return "NOTIFY";
        case method::refer:
            return "REFER";
        case method::message:
            return "MESSAGE";
        case method::publish:
            return "PUBLISH";
    }
    return "";
}

}  // namespace b2b::sip
