#pragma once
// The fixed-point plaintext engine: computes, bit for bit, what the secure protocols compute on a
// LoweredModel (semantics in lowered_model.hpp). It is the oracle of every protocol test.
//
// The building blocks are public so that the protocols can run the same linear algebra on shares:
// apply_linear without the bias is linear over Z_2^l, so W*(x - r) + W*r = W*x.
// Nothing here depends on secret values for control flow except the ReLU / max of the plaintext
// reference itself, which only ever runs on data its caller already knows.
#include <cstdint>
#include <span>
#include <vector>

#include "pinfer/core/tensor.hpp"
#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::nn {

// Encodes a float input of shape model.input_shape (or any shape with the same element count) at
// scale 2^f: round(x * 2^f) mod 2^l. Throws InvalidArgument on a size mismatch or a value that
// does not fit.
[[nodiscard]] RingTensor encode_input(const LoweredModel& model, const FloatTensor& input);

// W * x (+ bias when add_bias) mod 2^l, shaped op.output_shape(). `x` must have the element count
// of the activation the op reads. Throws InvalidArgument on a size mismatch.
[[nodiscard]] RingTensor apply_linear(const Ring& ring, const LinearOp& op, const RingTensor& x,
                                      bool add_bias = true);

// The stage sum y (before the non-linear step), from the activations computed so far.
[[nodiscard]] RingTensor stage_preactivation(const LoweredModel& model, const Stage& stage,
                                             std::span<const RingTensor> activations);

// The non-linear step: ReLU(floor(signed(y) / 2^f)) [max-pooled], or y itself for kind none.
[[nodiscard]] RingTensor apply_nonlinear(const LoweredModel& model, const Stage& stage,
                                         const RingTensor& y);

// Every activation (index 0 = encoded input, last = logits at scale 2f) and every stage's y.
struct FixedPointTrace {
  std::vector<RingTensor> activations;
  std::vector<RingTensor> preactivations;  // one per stage
};
[[nodiscard]] FixedPointTrace trace_fixed_point(const LoweredModel& model,
                                                const RingTensor& encoded_input);

// The logits (ring elements at scale 2^(2f)) for an encoded input.
[[nodiscard]] RingTensor run_fixed_point(const LoweredModel& model,
                                         const RingTensor& encoded_input);

// The same model over Z_2^64: weights and biases sign-extended (exact while |y| < 2^63).
[[nodiscard]] LoweredModel widen_to_64_bits(const LoweredModel& model);

// Headroom of one input: l - 1 - log2(max |y|) over every stage sum (and the input), computed
// exactly in Z_2^64. Positive: the l-bit run did not wrap on this input, so its result is the
// intended fixed-point value; <= 0: some |y| reached 2^(l-1). Inputs outside the calibration
// distribution (docs/MODELS.md) should be checked with this in tests.
[[nodiscard]] double headroom_bits(const LoweredModel& model, const RingTensor& encoded_input);

// The logits decoded to doubles (signed value / 2^(2f)).
[[nodiscard]] std::vector<double> decode_logits(const LoweredModel& model,
                                                const RingTensor& logits);

}  // namespace pinfer::nn
