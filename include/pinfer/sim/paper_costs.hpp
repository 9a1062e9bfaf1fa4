#pragma once
// Conversion of the published Delphi-based measurements (the JSON of the
// artifact of Garimella et al., "Characterizing and Optimizing End-to-End Systems for Private
// Inference", ASPLOS 2023) into cost profiles, step by step in the order the published model
// runs them (docs/SIMULATOR.md, "How the paper profiles encode the published model"). The converted
// profiles are shipped in profiles/paper/<dataset>/<network>.json so a checkout simulates without
// the source data.
//
// What the conversion encodes, so independent-mode simulation reproduces the published model:
// - HE evaluation: a `table` step with the measured by-threads totals (layer-parallel HE) and
//   the per-layer one-thread times (for LPT beyond the table).
// - Garbling / GC evaluation: the least-squares line through the 1/10/100-ReLU benchmarks,
//   evaluated at the network's ReLU count, as one-thread seconds with `linear` scaling over
//   the garbler's / evaluator's threads.
// - Encode steps and everything else: not scaled by threads.
// - Storage: linear_storage * 8 bytes + bytes_per_relu * ReLUs on each side.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "pinfer/sim/cost_profile.hpp"

namespace pinfer::sim {

struct PaperConversionOptions {
  // Bytes of stored garbled-circuit material per ReLU on the side that evaluates and on the
  // side that garbles (README: 18.248 kB and 3.59 kB; the artifact's scripts pass 18.428).
  uint64_t evaluator_bytes_per_relu = 18248;
  uint64_t garbler_bytes_per_relu = 3590;
};

// Least-squares line through (x_i, y_i): returns {slope, intercept}. Requires >= 2 distinct x.
struct LineFit {
  double slope = 0;
  double intercept = 0;
  [[nodiscard]] double at(double x) const noexcept { return slope * x + intercept; }
};
[[nodiscard]] LineFit least_squares_line(const std::vector<double>& x,
                                         const std::vector<double>& y);

// One profile per (dataset, network) found, each with both protocols. Throws FormatError
// naming the field for anything missing or malformed.
[[nodiscard]] std::vector<CostProfile> convert_paper_measurements(
    const nlohmann::json& published, const PaperConversionOptions& options = {});

}  // namespace pinfer::sim
