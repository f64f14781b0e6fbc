#include "tests/docker/duration.h"

#include <regex>
#include <stdexcept>

namespace gptoss::testing {

double parse_duration_seconds(const std::string& text) {
    static const std::regex whole(R"(([0-9]+(\.[0-9]+)?(h|ms|m|s|us))+)");
    static const std::regex part(R"(([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us))");
    if (!std::regex_match(text, whole)) throw std::runtime_error("not a duration: '" + text + "'");
    double seconds = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), part); it != std::sregex_iterator(); ++it) {
        double value = std::stod((*it)[1].str());
        std::string unit = (*it)[2].str();
        seconds += unit == "h"    ? value * 3600
                   : unit == "m"  ? value * 60
                   : unit == "s"  ? value
                   : unit == "ms" ? value / 1e3
                                  : value / 1e6;
    }
    return seconds;
}

}  // namespace gptoss::testing
