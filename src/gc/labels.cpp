#include "pinfer/gc/labels.hpp"

#include "half_gates_kernels.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::gc {
namespace {

// Domain of public labels ("PUBLABEL"): pi of distinct indices gives distinct public labels,
// and no other fixed input of pi in this library uses this high word.
constexpr uint64_t kPublicLabelDomain = 0x4C4542414C425550ull;

}  // namespace

void LabelDeriver::zero_labels(uint64_t first_index, std::span<Block> out) const noexcept {
  // Prg::from_seed(seed, stream) is AES_seed(counter, stream) for counter = 0, 1, ...
  aes_.ctr_keystream(first_index, stream_, out);
}

void public_labels(uint64_t first_index, std::span<Block> out) noexcept {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = Block(first_index + i, kPublicLabelDomain);
  detail::fixed_key_aes().encrypt_ecb(out, out);
}

void folded_zero_labels(uint64_t first_index, std::span<const uint8_t> bits, const Block& delta,
                        std::span<Block> out) noexcept {
  PINFER_ASSERT(bits.size() == out.size());
  public_labels(first_index, out);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] ^= Block::mask_of(bits[i]) & delta;
}

void active_labels(std::span<const Block> zero_labels, std::span<const uint8_t> bits,
                   const Block& delta, std::span<Block> out) noexcept {
  PINFER_ASSERT(zero_labels.size() == bits.size() && bits.size() == out.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = zero_labels[i] ^ (Block::mask_of(bits[i]) & delta);
  }
}

void decode_bits(std::span<const Block> output_zero_labels, std::span<uint8_t> out) noexcept {
  PINFER_ASSERT(output_zero_labels.size() == out.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = output_zero_labels[i].lo & 1;
}

void decode_outputs(std::span<const Block> output_labels, std::span<const uint8_t> decode,
                    std::span<uint8_t> out_bits) noexcept {
  PINFER_ASSERT(output_labels.size() == decode.size() && decode.size() == out_bits.size());
  for (std::size_t i = 0; i < out_bits.size(); ++i) {
    out_bits[i] = static_cast<uint8_t>((output_labels[i].lo ^ decode[i]) & 1);
  }
}

namespace {

uint64_t pack_lsbs(const Block* labels, unsigned bits) {
  uint64_t w = 0;
  for (unsigned b = 0; b < bits; ++b) w |= (labels[b].lo & 1) << b;
  return w;
}

}  // namespace

void decode_words(std::span<const Block> output_zero_labels, unsigned bits,
                  std::span<uint64_t> out_decode) noexcept {
  PINFER_ASSERT(bits >= 1 && bits <= 64 && output_zero_labels.size() == out_decode.size() * bits);
  for (std::size_t i = 0; i < out_decode.size(); ++i) {
    out_decode[i] = pack_lsbs(output_zero_labels.data() + i * bits, bits);
  }
}

void decode_output_words(std::span<const Block> output_labels, std::span<const uint64_t> decode,
                         unsigned bits, std::span<uint64_t> out_words) noexcept {
  PINFER_ASSERT(bits >= 1 && bits <= 64 && decode.size() == out_words.size() &&
                output_labels.size() == out_words.size() * bits);
  for (std::size_t i = 0; i < out_words.size(); ++i) {
    out_words[i] = pack_lsbs(output_labels.data() + i * bits, bits) ^ decode[i];
  }
}

}  // namespace pinfer::gc
