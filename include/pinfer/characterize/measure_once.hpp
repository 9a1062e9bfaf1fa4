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
#include "pinfer/store/precompute_store.hpp"

namespace pinfer::characterize {

struct MeasuredRun {
  protocol::CostReport offline;  // the precompute
  protocol::CostReport online;   // the inference (its `offline` is copied from above)
  MeasuredCosts costs;           // both as simulator steps
};

// An input with values in [0, 1) for measurement runs (test data, not secret).
[[nodiscard]] FloatTensor sample_input(const nn::LoweredModel& model, Prg& prg);

// Runs the session on `channel` (authenticated with options.credentials) against a server
// running `kind`. With `warmups` > 0 it first runs that many offline + online pairs on the same
// session and discards their costs: the first phases of a process pay for growing its heap and
// filling caches (digits, Server-Garbler: the first offline phase 0.63 s, later ones 0.55 s), so
// a profile meant to predict a long run measures a warm phase; each measured pair then starts
// after 3 s idle, as phases under arrivals start (memory freed seconds earlier costs more to
// write into on this VM, docs/perf/closed_loop.md "Store writes"). With `runs` > 1 it then measures
// that many pairs and keeps the offline phase and the online phase of median wall time (each
// chosen on its own): single phases vary with the disk (ResNet-32 Server-Garbler offline phases
// of one run measured 11.1-16.3 s, the spread in the fsync of 1.1 GB of tables). Throws
// ProtocolError when the private logits of any run differ from
// nn::run_fixed_point(model, encode_input(model, input)), besides the errors of the protocol;
// InvalidArgument when runs is 0.
[[nodiscard]] MeasuredRun measure_once(Channel& channel, store::PrecomputeStore& store,
                                       protocol::ClientOptions options,
                                       const nn::LoweredModel& model, const FloatTensor& input,
                                       unsigned warmups = 0, unsigned runs = 1);

}  // namespace pinfer::characterize
