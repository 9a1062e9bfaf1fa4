#include "pinfer/protocol/cost_report.hpp"

#include <gtest/gtest.h>

#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::protocol {
namespace {

PhaseCost sample() {
  PhaseCost p;
  p.seconds = 1.5;
  p.upload_bytes = 1000;
  p.download_bytes = 2000;
  p.add(Component::garble, 0.5);
  LayerCost l;
  l.name = "conv1";
  l.kind = "linear";
  l.seconds["he_evaluate"] = 0.25;
  l.upload_bytes = 7;
  p.layers.push_back(l);
  return p;
}

TEST(CostReport, PhaseRoundTripsThroughJson) {
  const PhaseCost p = phase_from_json(to_json(sample()));
  EXPECT_EQ(p.seconds, 1.5);
  EXPECT_EQ(p.upload_bytes, 1000u);
  EXPECT_EQ(p.download_bytes, 2000u);
  EXPECT_EQ(p.components.at("garble"), 0.5);
  ASSERT_EQ(p.layers.size(), 1u);
  EXPECT_EQ(p.layers[0].upload_bytes, 7u);
}

// Found by fuzzing (docs/perf/fuzz.md): a byte count of 1e107 reached get<uint64_t>(), a
// float-to-integer conversion out of range (undefined behaviour, UBSan).
TEST(CostReport, NonIntegerOrNegativeByteCountsAreFormatErrors) {
  for (const char* bad : {"1.1e107", "-5", "2.5", "\"12\""}) {
    nlohmann::json j = to_json(sample());
    j["upload_bytes"] = nlohmann::json::parse(bad);
    EXPECT_THROW((void)phase_from_json(j), FormatError) << bad;
    j = to_json(sample());
    j["layers"][0]["download_bytes"] = nlohmann::json::parse(bad);
    EXPECT_THROW((void)phase_from_json(j), FormatError) << bad;
  }
}

}  // namespace
}  // namespace pinfer::protocol
