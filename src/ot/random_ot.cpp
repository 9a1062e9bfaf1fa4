#include "pinfer/ot/random_ot.hpp"

#include <algorithm>
#include <string>

#include "ot_frames.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "tccr_hash.hpp"

namespace pinfer::ot {
namespace {

// Hash domains keep random-OT and chosen-OT pads apart even at equal stream indices (they never
// are equal today; the domain makes that independent of call order).
constexpr uint64_t kDomainRandomOt = 0x524F54;  // "ROT"
constexpr uint64_t kDomainChosenOt = 0x434F54;  // "COT"
// OTs hashed per step; bounds memory for any n.
constexpr std::size_t kStep = kCotChunkOts;

void check_same(std::size_t a, std::size_t b, const char* what) {
  if (a != b) {
    throw InvalidArgument(std::string(what) + ": sizes " + std::to_string(a) + " and " +
                          std::to_string(b) + " differ");
  }
}

// Sender side of one step: pad0 = H(k0, j), pad1 = H(k0 ^ Delta, j), j from `index`.
void sender_pads(CotSender& cot, uint64_t domain, std::span<Block> k0, std::span<Block> pad0,
                 std::span<Block> pad1) {
  const uint64_t index = cot.position();
  cot.extend(k0);
  const Block& delta = cot.delta();
  for (std::size_t j = 0; j < k0.size(); ++j) pad1[j] = k0[j] ^ delta;
  detail::tccr_hash(k0, index, domain, pad0);
  detail::tccr_hash(pad1, index, domain, pad1);
}

}  // namespace

void rot_send(CotSender& cot, std::span<Block> m0_out, std::span<Block> m1_out) {
  check_same(m0_out.size(), m1_out.size(), "rot_send m0_out/m1_out");
  SecretBuffer<Block> k0(std::min(kStep, m0_out.size()));
  for (std::size_t done = 0; done < m0_out.size(); done += kStep) {
    const std::size_t n = std::min(kStep, m0_out.size() - done);
    sender_pads(cot, kDomainRandomOt, k0.span().first(n), m0_out.subspan(done, n),
                m1_out.subspan(done, n));
  }
}

void rot_receive(CotReceiver& cot, std::span<const uint8_t> choice_bits, std::span<Block> out) {
  check_same(choice_bits.size(), out.size(), "rot_receive choice_bits/out");
  for (std::size_t done = 0; done < out.size(); done += kStep) {
    const std::size_t n = std::min(kStep, out.size() - done);
    const uint64_t index = cot.position();
    const std::span<Block> o = out.subspan(done, n);
    cot.extend(choice_bits.subspan(done, n), o);
    detail::tccr_hash(o, index, kDomainRandomOt, o);
  }
}

uint64_t ot_send_bytes(uint64_t n) {
  const uint64_t frames = (n + kStep - 1) / kStep;
  return 32 * n + kFrameHeaderBytes * frames;
}

void ot_send(CotSender& cot, std::span<const Block> m0, std::span<const Block> m1) {
  check_same(m0.size(), m1.size(), "ot_send m0/m1");
  const std::size_t cap = std::min(kStep, m0.size());
  SecretBuffer<Block> k0(cap);
  SecretBuffer<Block> pads(2 * cap);
  std::vector<Block> msg(2 * cap);  // y0_j, y1_j interleaved; safe to send
  for (std::size_t done = 0; done < m0.size(); done += kStep) {
    const std::size_t n = std::min(kStep, m0.size() - done);
    const std::span<Block> pad0 = pads.span().first(n);
    const std::span<Block> pad1 = pads.span().subspan(cap, n);
    sender_pads(cot, kDomainChosenOt, k0.span().first(n), pad0, pad1);
    for (std::size_t j = 0; j < n; ++j) {
      msg[2 * j] = m0[done + j] ^ pad0[j];
      msg[2 * j + 1] = m1[done + j] ^ pad1[j];
    }
    cot.channel().send(detail::kFrameChosenOt, std::as_bytes(std::span(msg).first(2 * n)));
  }
  cot.channel().flush();
}

void ot_receive(CotReceiver& cot, std::span<const uint8_t> choice_bits, std::span<Block> out) {
  check_same(choice_bits.size(), out.size(), "ot_receive choice_bits/out");
  const std::size_t cap = std::min(kStep, out.size());
  std::vector<Block> msg(2 * cap);
  for (std::size_t done = 0; done < out.size(); done += kStep) {
    const std::size_t n = std::min(kStep, out.size() - done);
    const uint64_t index = cot.position();
    const std::span<Block> o = out.subspan(done, n);
    cot.extend(choice_bits.subspan(done, n), o);
    detail::tccr_hash(o, index, kDomainChosenOt, o);
    cot.channel().recv_exact(detail::kFrameChosenOt,
                             std::as_writable_bytes(std::span(msg).first(2 * n)));
    for (std::size_t j = 0; j < n; ++j) {
      // y_b selected by mask: the choice is secret.
      const Block mask = Block::mask_of(choice_bits[done + j]);
      const Block y = (msg[2 * j] & Block(~mask.lo, ~mask.hi)) ^ (msg[2 * j + 1] & mask);
      o[j] ^= y;
    }
  }
}

}  // namespace pinfer::ot
