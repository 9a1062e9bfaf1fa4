#pragma once
// Wire-label helpers: seed-derived input labels, public labels for folding a garbler-known input
// into the circuit, selecting active labels, and output decoding. The global offset is core's
// Delta (pinfer/core/delta.hpp), lsb 1 by construction; these kernels take it as a Block.
//
// Folding (docs/GC.md): for an input bit v the garbler already knows, the evaluator uses a
// public label P (public_labels, identical on both sides) and the garbler sets that wire's
// zero-label to P ^ v * Delta (folded_zero_labels). The evaluator then holds P, which is the
// label of v, without any label being sent, stored or obtained by OT; its work and view are
// those of an ordinary wire (one label per wire; Delta stays secret).
#include <cstdint>
#include <span>

#include "pinfer/core/aes.hpp"
#include "pinfer/core/block.hpp"
#include "pinfer/core/delta.hpp"

namespace pinfer::gc {

// Zero-labels expanded from a secret seed: label k = AES_seed(k, stream), the k-th block of
// Prg::from_seed(seed, stream); any range can be regenerated instead of stored.
// Thread safety: immutable; may be shared.
class LabelDeriver {
 public:
  // Secret: seed.
  LabelDeriver(const Block& seed, uint64_t stream) : aes_(seed), stream_(stream) {}
  // out[i] = label first_index + i.
  void zero_labels(uint64_t first_index, std::span<Block> out) const noexcept;

 private:
  Aes128 aes_;  // wipes its key schedule on destruction
  uint64_t stream_;
};

// Public labels P_k = pi(k, domain) for k = first_index .. first_index + out.size() - 1, with
// pi the fixed-key AES of the garbling hash and a domain constant of its own.
void public_labels(uint64_t first_index, std::span<Block> out) noexcept;

// Garbler side of folding: out[i] = P_{first_index + i} ^ bits[i] * delta (bits are 0/1).
// Secret: bits, delta. Requires: bits.size() == out.size().
void folded_zero_labels(uint64_t first_index, std::span<const uint8_t> bits, const Block& delta,
                        std::span<Block> out) noexcept;

// out[i] = zero_labels[i] ^ bits[i] * delta: the label for bit bits[i] (what a garbler sends
// for its own inputs, and what OT delivers). Secret: all. Requires equal sizes.
void active_labels(std::span<const Block> zero_labels, std::span<const uint8_t> bits,
                   const Block& delta, std::span<Block> out) noexcept;

// Decode bits of output wires: lsb of each output zero-label. Requires equal sizes.
void decode_bits(std::span<const Block> output_zero_labels, std::span<uint8_t> out) noexcept;
// Output bits: lsb(label) ^ decode bit. Requires equal sizes.
void decode_outputs(std::span<const Block> output_labels, std::span<const uint8_t> decode,
                    std::span<uint8_t> out_bits) noexcept;

// Word-level decoding for circuits whose outputs are words of `bits` bits per instance (the
// non-linear circuits: one l-bit word each). Requires: 1 <= bits <= 64 and
// labels.size() == words.size() * bits (PINFER_ASSERT).
// Garbler: the decode bits of each word packed into one u64 (bit i = lsb of output i's
// zero-label); this is what the garbler sends when the evaluator is to learn the output.
void decode_words(std::span<const Block> output_zero_labels, unsigned bits,
                  std::span<uint64_t> out_decode) noexcept;
// Evaluator: out[i] = (lsbs of instance i's output labels, packed) ^ decode[i].
void decode_output_words(std::span<const Block> output_labels, std::span<const uint64_t> decode,
                         unsigned bits, std::span<uint64_t> out_words) noexcept;

}  // namespace pinfer::gc
