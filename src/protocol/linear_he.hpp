#pragma once
// The homomorphic step of the offline phase for every linear op (docs/PROTOCOLS.md):
// the client sends Enc(r) of the op's input mask, the server answers Enc(W r - s) with a fresh
// uniform s it keeps, the client decrypts c = W r - s mod 2^l.
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "he_key_schedule.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/cost_report.hpp"

namespace pinfer::protocol::detail {

// Server-side HE state of a model: weights encoded once, reused by every session.
// Thread safety: evaluate may be called concurrently by many sessions.
class HeServerModel {
 public:
  // Caches NTT-form weights of the layers in order, up to 256 MiB per layer (he::LinearServer)
  // and weight_cache_bytes in all; the rest are encoded again for every query.
  HeServerModel(const nn::LoweredModel& model, std::size_t weight_cache_bytes);
  ~HeServerModel();
  HeServerModel(const HeServerModel&) = delete;
  HeServerModel& operator=(const HeServerModel&) = delete;

  // Bytes of encoded weights kept (at most weight_cache_bytes).
  [[nodiscard]] std::size_t cached_weight_bytes() const noexcept;

  struct Impl;
  [[nodiscard]] const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Client: returns c_op (shaped op.output_shape()) for every linear op, from the masks of the
// activations (masks[k] = r of activation k). One fresh key per key of `keys` (from the OS
// random source), its public key sent before the first query under it.
// `progress` (optional) is called with (ops decrypted, ops in total).
[[nodiscard]] std::vector<RingTensor> he_offline_client(
    Channel& ch, const nn::LoweredModel& arch, const HeKeySchedule& keys,
    std::span<const RingTensor> masks, PhaseCost& cost,
    const std::function<void(uint64_t, uint64_t)>& progress = {});
// Server: returns s_op for every linear op; reads a public key where `keys` starts one.
[[nodiscard]] std::vector<RingTensor> he_offline_server(Channel& ch, const nn::LoweredModel& model,
                                                        const HeKeySchedule& keys,
                                                        const HeServerModel& he, PhaseCost& cost);

}  // namespace pinfer::protocol::detail
