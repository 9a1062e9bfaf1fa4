// Fuzz target: the simulator's JSON inputs, a cost profile (cost_profile_from_json) and a
// scenario (parse_scenario). Byte 0 picks which; the rest is JSON text.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "fuzz_util.hpp"
#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/scenario.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data + 1, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // load_cost_profile / load_scenario report this as FormatError themselves
  }
  fuzz::expect_clean([&] {
    if (data[0] & 1) {
      (void)sim::parse_scenario(j);
    } else {
      (void)sim::cost_profile_from_json(j);
    }
  });
  return 0;
}
