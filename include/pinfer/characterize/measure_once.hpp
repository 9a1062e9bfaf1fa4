#pragma once
// One measured run of a protocol: an offline phase, then an online phase that uses it, on an
// open connection, with the private result checked bit for bit against the fixed-point engine.
// `pinfer characterize` and `pinfer bench arrivals --simulate` build their profiles from it.
#include "pinfer/characterize/measured_profile.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/precompute_store.hpp"

namespace pinfer::characterize {

struct MeasuredRun {
  protocol::CostReport offline;  // the precompute
  protocol::CostReport online;   // the inference (its `offline` is copied from above)
  MeasuredCosts costs;           // both as simulator steps
};

// An input with values in [0, 1) for measurement runs (test data, not secret).
[[nodiscard]] FloatTensor sample_input(const nn::LoweredModel& model, Prg& prg);

// Runs the session on `channel` (authenticated with options.credentials) against a server
// running `kind`. Throws ProtocolError when the private logits differ from
// nn::run_fixed_point(model, encode_input(model, input)), besides the errors of the protocol.
[[nodiscard]] MeasuredRun measure_once(Channel& channel, protocol::PrecomputeStore& store,
                                       protocol::ClientOptions options,
                                       const nn::LoweredModel& model, const FloatTensor& input);

}  // namespace pinfer::characterize
