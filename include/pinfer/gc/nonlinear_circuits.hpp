#pragma once
// The per-neuron non-linear circuits the protocols garble, and their plaintext references.
//
// ReLU step (one neuron): inputs a (the evaluator's share), c (the garbler's share) and r' (the
// garbler's fresh output mask), each l bits; output
//     ReLU(trunc_f(a + c mod 2^l)) - r'  mod 2^l,
// with trunc_f the exact arithmetic shift by f (floor division by 2^f of the signed value).
// AND gates: (l - 1) adder + (l - f - 1) ReLU select + (l - 1) re-masking subtractor
//          = 3l - f - 3   (85 at l = 32, f = 8; 2,720 bytes of half-gates tables).
// The select ANDs the kept bits s_f .. s_{l-2} with NOT s_{l-1}; ReLU's output sign is 0, so the
// sign bit and the sign-extension bits are constants and cost nothing.
//
// Max pooling with ReLU merged (one k x k window, n = k^2 elements): inputs a_j, c_j per element,
// one r'; output ReLU(max_j trunc_f(a_j + c_j)) - r' mod 2^l. Truncation is monotone, so the max
// is taken over the truncated values, which are only l - f bits wide (their top f bits are sign
// copies), and ReLU is applied once to the maximum. AND gates:
//     n (l - 1) + (n - 1) * 2 (l - f) + (l - f - 1) + (l - 1)
// (322 at l = 32, f = 8, k = 2; 3 signed compare+mux steps of 2 (l - f) ANDs each).
//
// A window of any shape (n = k_h k_w elements, e.g. a padded or ceil-mode window whose positions
// outside the input repeat an input element) uses the same circuit with n elements.
//
// Clip step (ReLU6 and any clip with constant bounds; one neuron, same inputs as the ReLU step):
// output min(max(trunc_f(a + c), lo), hi) - r' mod 2^l, lo <= hi at scale f. The maximum and
// minimum with public constants are a signed comparison and a multiplexer each on the (l - f)-bit
// truncated value; a bound outside that range is no bound and costs nothing (both absent: the
// "rescale" step that only truncates and re-masks a linear output). AND gates (constant inputs
// folded; measured by clip_step_and_count): at most
//     (l - 1) adder + 2 (l - f) per bound + (l - 1) re-masking subtractor,
// measured (tests/gc/clip_circuit_test.cpp): ReLU6 at l = 32, f = 8: 132 (ReLU: 85); a clip with
// a negative lower bound: 149; rescale only: 2 (l - 1) = 62.
//
// Argmax (the label the client learns, --reveal label; one instance over n classes): inputs
// a_j, c_j per class and r', output argmax_j signed(a_j + c_j) - r' mod 2^l, the first of equal
// maxima. A running maximum: per further class a signed comparison (l ANDs) and multiplexers of
// the best value (l, skipped after the last class) and of the index (b = bit_width(n - 1) bits,
// fewer where constant bits fold):
//     n (l - 1) + (n - 1) (l + b) + (n - 2) l + (l - 1)   at most
// (measured by argmax_and_count, about 3l + b per class: 906 at l = 32, n = 10 (29 KB of
// tables); 10,001 at n = 100; 20,272 at n = 200; 103,902 at n = 1000 (3.3 MB)).
//
// Top-k (the K best labels in order, --reveal topk:K; one instance over n classes): inputs a_j,
// c_j per class and K output masks r'_0 .. r'_{K-1}; output word k is the index of the k-th
// largest signed(a_j + c_j) minus r'_k mod 2^l, equal values ranked by lower index first (a
// stable sort, as nn's fixed-point engine ranks them). A sorted list of K (value, index) slots
// takes each class in turn: per filled slot a signed comparison with the new value (l ANDs; the
// results are monotone along the list, so the new class goes in front of the first smaller
// slot) and two multiplexers (keep / take the previous slot / take the new class) of l + b bits,
// the value part skipped after the last class. AND gates, at most
//     n (l - 1) + (n - 1) K (3 l + 2 b) + K (l - 1)
// (measured by top_k_and_count, docs/GC.md: about K (3l + 2b) per class).
//
// Input layout (wire indices): the evaluator's inputs first, so the evaluator's labels are one
// contiguous prefix; a_j = [j l, (j+1) l), c_j = [(n + j) l, ...), r'_k = [(2 n + k) l, ...).
// Each word is little-endian (bit 0 first). Outputs: the l bits of each result word, bit 0
// first, word after word (one word except for top-k).
#include <cstdint>
#include <span>
#include <vector>

#include "pinfer/core/bit_packing.hpp"  // word_to_bits / word_from_bits for the circuits' words
#include "pinfer/core/ring.hpp"
#include "pinfer/gc/circuit.hpp"

namespace pinfer::gc {

struct NonlinearCircuit {
  Circuit circuit;
  unsigned ring_bits = 0;
  unsigned frac_bits = 0;
  unsigned elements = 1;  // 1 for the ReLU step, k^2 for max pooling
  unsigned outputs = 1;   // result words (and output masks r') per instance: K for top-k

  [[nodiscard]] uint32_t a_offset(unsigned j) const { return j * ring_bits; }
  [[nodiscard]] uint32_t c_offset(unsigned j) const { return (elements + j) * ring_bits; }
  [[nodiscard]] uint32_t r_offset(unsigned k = 0) const { return (2 * elements + k) * ring_bits; }
  // Inputs supplied by the evaluator (a_0 .. a_{n-1}): the first evaluator_inputs() wires.
  [[nodiscard]] uint32_t evaluator_inputs() const { return elements * ring_bits; }
};

// Throws InvalidArgument unless 2 <= l <= 64 and f <= l - 2.
[[nodiscard]] NonlinearCircuit relu_step_circuit(unsigned ring_bits, unsigned frac_bits);
// Throws InvalidArgument as above or unless 1 <= k <= 16.
[[nodiscard]] NonlinearCircuit maxpool_relu_circuit(unsigned ring_bits, unsigned frac_bits,
                                                    unsigned k);

// Max pooling with ReLU over windows of `elements` inputs (1 <= elements <= 256).
[[nodiscard]] NonlinearCircuit maxpool_relu_window_circuit(unsigned ring_bits, unsigned frac_bits,
                                                           unsigned elements);
// Throws InvalidArgument as above or unless lo <= hi.
[[nodiscard]] NonlinearCircuit clip_step_circuit(unsigned ring_bits, unsigned frac_bits, int64_t lo,
                                                 int64_t hi);
[[nodiscard]] uint64_t clip_step_and_count(unsigned ring_bits, unsigned frac_bits, int64_t lo,
                                           int64_t hi);
[[nodiscard]] uint64_t clip_step_reference(const Ring& ring, unsigned frac_bits, int64_t lo,
                                           int64_t hi, uint64_t a, uint64_t c, uint64_t r);

// Throws InvalidArgument as above or unless 1 <= classes <= 65536.
[[nodiscard]] NonlinearCircuit argmax_circuit(unsigned ring_bits, unsigned classes);
[[nodiscard]] uint64_t argmax_and_count(unsigned ring_bits, unsigned classes);
// Requires: a.size() == c.size() >= 1.
[[nodiscard]] uint64_t argmax_reference(const Ring& ring, std::span<const uint64_t> a,
                                        std::span<const uint64_t> c, uint64_t r);

// Throws InvalidArgument as argmax_circuit or unless 1 <= k <= classes.
[[nodiscard]] NonlinearCircuit top_k_circuit(unsigned ring_bits, unsigned classes, unsigned k);
[[nodiscard]] uint64_t top_k_and_count(unsigned ring_bits, unsigned classes, unsigned k);
// The k output words (index of the i-th largest - r[i]). Requires: a.size() == c.size() >= k,
// r.size() == k >= 1.
[[nodiscard]] std::vector<uint64_t> top_k_reference(const Ring& ring, std::span<const uint64_t> a,
                                                    std::span<const uint64_t> c,
                                                    std::span<const uint64_t> r);

// The AND counts stated above (the builders are tested against these).
[[nodiscard]] uint64_t relu_step_and_count(unsigned ring_bits, unsigned frac_bits);
[[nodiscard]] uint64_t maxpool_relu_and_count(unsigned ring_bits, unsigned frac_bits, unsigned k);

// Plaintext references on reduced ring elements.
[[nodiscard]] uint64_t relu_step_reference(const Ring& ring, unsigned frac_bits, uint64_t a,
                                           uint64_t c, uint64_t r);
// Requires: a.size() == c.size() >= 1.
[[nodiscard]] uint64_t maxpool_relu_reference(const Ring& ring, unsigned frac_bits,
                                              std::span<const uint64_t> a,
                                              std::span<const uint64_t> c, uint64_t r);

}  // namespace pinfer::gc
