// Fuzz target: the server's cost report as the client handles it (JSON text in a kPhaseCost
// frame): parse, phase_from_json, then merge into the client's own figures as
// inference_client.cpp does.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "fuzz_util.hpp"
#include "pinfer/protocol/cost_report.hpp"

using namespace pinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // the client turns this into FormatError before phase_from_json
  }
  fuzz::expect_clean([&] {
    protocol::PhaseCost mine;
    mine.add(protocol::Component::he_encrypt, 1.0);
    mine.layers.resize(2);
    mine.label_side(protocol::Side::client);
    protocol::PhaseCost theirs = protocol::phase_from_json(j);
    theirs.label_side(protocol::Side::server);
    mine.merge_seconds(theirs);
  });
  return 0;
}
