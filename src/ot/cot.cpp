// IKNP extension (Ishai-Kilian-Nissim-Petrank, CRYPTO 2003, Section 4), semi-honest, k = 128.
// Base OTs: the COT receiver is the base-OT sender and gets (k0_i, k1_i); the COT sender with
// s = Delta gets k_{s_i, i}. Per chunk of m OTs (columns of m bits, i < 128):
//   receiver: t_i = G(k0_i), u_i = t_i ^ G(k1_i) ^ r (r = packed choices); sends u_i.
//   sender:   q_i = G(k_{s_i, i}) ^ s_i * u_i = t_i ^ s_i * r.
// Row j of Q (the transpose) is q_j = t_j ^ r_j * s, so the sender's k0_j = q_j and the
// receiver's t_j = k0_j ^ r_j * Delta. G is AES-128-CTR keyed by the base-OT output, at block
// counter position/128, so successive chunks and calls continue one keystream per column.
#include "pinfer/ot/cot.hpp"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "choice_bits.hpp"
#include "ot_frames.hpp"
#include "pinfer/core/bit_packing.hpp"
#include "pinfer/core/cpu_time.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/ot/base_ot.hpp"
#include "pinfer/ot/bit_transpose.hpp"

namespace pinfer::ot {
namespace {

constexpr std::size_t kKappa = 128;
constexpr std::size_t kChunkBlocks = kCotChunkOts / 128;  // blocks per column per chunk
// Column stride of the buffers we transpose: one cache line more than the column, so the 128
// rows of a transpose tile fall into different L1 sets (a 8 KiB stride would alias them all).
constexpr std::size_t kPadBlocks = 4;
std::size_t padded_stride(std::size_t nb) {
  return nb + kPadBlocks;
}

uint64_t round_up_128(uint64_t n) {
  return (n + 127) / 128 * 128;
}

// Runs fn(begin, end) over [0, n) in up to `threads` contiguous pieces of at least `grain`
// items, the first on this thread; adds the helper threads' CPU seconds to `helper_cpu`. fn
// must not throw (it only computes on buffers the caller sized).
template <class F>
void split(unsigned threads, std::size_t n, std::size_t grain, double& helper_cpu, F&& fn) {
  const std::size_t pieces = std::max<std::size_t>(1, std::min<std::size_t>(threads, n / grain));
  if (pieces <= 1) {
    fn(std::size_t{0}, n);
    return;
  }
  std::vector<double> cpu(pieces, 0);
  {
    std::vector<std::jthread> helpers;
    helpers.reserve(pieces - 1);
    for (std::size_t p = 1; p < pieces; ++p) {
      helpers.emplace_back([&, p] {
        const double c0 = thread_cpu_seconds();
        fn(n * p / pieces, n * (p + 1) / pieces);
        cpu[p] = thread_cpu_seconds() - c0;
      });
    }
    fn(std::size_t{0}, n / pieces);
  }
  for (std::size_t p = 1; p < pieces; ++p) helper_cpu += cpu[p];
}

// Transposes the chunk's columns into `out` (out.size() <= 128 * nb rows wanted): directly when
// out takes every row, else through `scratch` (only the last, padded chunk of a call). Block
// range [k0, k1) of every column gives rows 128 k0 .. 128 k1, so threads split the blocks.
void transpose_rows(std::span<const Block> cols, std::size_t stride, std::size_t nb,
                    std::span<Block> scratch, std::span<Block> out, unsigned threads,
                    double& helper_cpu) {
  const bool direct = out.size() == 128 * nb;
  const std::span<Block> rows = direct ? out : scratch.first(128 * nb);
  split(threads, nb, 16, helper_cpu, [&](std::size_t k0, std::size_t k1) {
    transpose_128xn_strided(cols.subspan(k0), stride, k1 - k0,
                            rows.subspan(128 * k0, 128 * (k1 - k0)));
  });
  if (!direct) std::copy_n(rows.begin(), out.size(), out.begin());
}

void check_call_size(uint64_t n) {
  if (n > kMaxOtsPerCall) {
    throw InvalidArgument("OT extension of " + std::to_string(n) + " OTs exceeds " +
                          std::to_string(kMaxOtsPerCall) + " per call");
  }
}

}  // namespace

uint64_t cot_extend_receiver_bytes(uint64_t n) {
  const uint64_t padded = round_up_128(n);
  const uint64_t frames = (padded + kCotChunkOts - 1) / kCotChunkOts;
  return 16 * padded + kFrameHeaderBytes * frames;
}
uint64_t cot_setup_sender_bytes() {
  return base_ot_receiver_bytes(kKappa);
}
uint64_t cot_setup_receiver_bytes() {
  return base_ot_sender_bytes();
}

// ---- sender ----

CotSender::CotSender(Channel& channel, const Delta& delta, Prg& prg)
    : channel_(channel), prg_(prg), delta_(delta) {
  detail::require_frame_capacity(channel, "CotSender");
  // The 128 base OTs, as base-OT receiver with choice string s = Delta.
  SecretBuffer<uint8_t> s(kKappa);
  for (std::size_t i = 0; i < kKappa; ++i) {
    const uint64_t word = i < 64 ? delta_.block().lo : delta_.block().hi;
    s[i] = static_cast<uint8_t>((word >> (i % 64)) & 1);
  }
  SecretBuffer<Block> keys(kKappa);
  base_ot_receive(channel_, prg_, s.span(), keys.span());
  seeds_.reserve(kKappa);
  for (std::size_t i = 0; i < kKappa; ++i) seeds_.emplace_back(keys[i]);
  u_cols_.assign(kKappa * kChunkBlocks, Block());
  q_cols_ = SecretBuffer<Block>(kKappa * padded_stride(kChunkBlocks));
  rows_ = SecretBuffer<Block>(kCotChunkOts);
}

CotSender::~CotSender() = default;

void CotSender::extend(std::span<Block> k0_out) {
  check_call_size(k0_out.size());
  std::size_t done = 0;
  while (done < k0_out.size()) {
    const std::size_t want = std::min(kCotChunkOts, k0_out.size() - done);
    const std::size_t nb = (want + 127) / 128;  // blocks per column in this chunk
    const std::span<Block> u = std::span(u_cols_).first(kKappa * nb);
    channel_.recv_exact(detail::kFrameIknpColumns, std::as_writable_bytes(u));
    const uint64_t counter = position_ / 128;
    const std::size_t stride = padded_stride(nb);
    split(threads_, kKappa, 8, helper_cpu_, [&](std::size_t i0, std::size_t i1) {
      for (std::size_t i = i0; i < i1; ++i) {
        // q_i = G(k_{s_i}) ^ s_i * u_i, with s_i selected by mask (Delta is secret).
        Block* q = q_cols_.data() + i * stride;
        const Block* ui = u.data() + i * nb;
        const uint64_t word = i < 64 ? delta_.block().lo : delta_.block().hi;
        const Block mask = Block::mask_of(word >> (i % 64));
        seeds_[i].ctr_keystream(counter, 0, std::span(q, nb));
        for (std::size_t k = 0; k < nb; ++k) q[k] ^= ui[k] & mask;
      }
    });
    transpose_rows(q_cols_.span(), stride, nb, rows_.span(), k0_out.subspan(done, want), threads_,
                   helper_cpu_);
    position_ += 128 * nb;
    ++frames_;
    done += want;
  }
}

// ---- receiver ----

CotReceiver::CotReceiver(Channel& channel, Prg& prg) : channel_(channel), prg_(prg) {
  detail::require_frame_capacity(channel, "CotReceiver");
  // The 128 base OTs, as base-OT sender.
  SecretBuffer<Block> k0(kKappa);
  SecretBuffer<Block> k1(kKappa);
  base_ot_send(channel_, prg_, k0.span(), k1.span());
  seeds0_.reserve(kKappa);
  seeds1_.reserve(kKappa);
  for (std::size_t i = 0; i < kKappa; ++i) {
    seeds0_.emplace_back(k0[i]);
    seeds1_.emplace_back(k1[i]);
  }
  t_cols_ = SecretBuffer<Block>(kKappa * padded_stride(kChunkBlocks));
  u_cols_.assign(kKappa * kChunkBlocks, Block());
  choices_ = SecretBuffer<Block>(kChunkBlocks);
  rows_ = SecretBuffer<Block>(kCotChunkOts);
}

CotReceiver::~CotReceiver() = default;

void CotReceiver::extend_chunk(std::size_t nb, std::span<Block> out) {
  const std::size_t stride = padded_stride(nb);
  const std::span<Block> u = std::span(u_cols_).first(kKappa * nb);
  const Block* r = choices_.data();
  const uint64_t counter = position_ / 128;
  split(threads_, kKappa, 8, helper_cpu_, [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) {
      Block* ti = t_cols_.data() + i * stride;
      Block* ui = u.data() + i * nb;
      seeds0_[i].ctr_keystream(counter, 0, std::span(ti, nb));
      seeds1_[i].ctr_keystream(counter, 0, std::span(ui, nb));
      for (std::size_t k = 0; k < nb; ++k) ui[k] ^= ti[k] ^ r[k];
    }
  });
  channel_.send(detail::kFrameIknpColumns, std::as_bytes(u));
  transpose_rows(t_cols_.span(), stride, nb, rows_.span(), out, threads_, helper_cpu_);
  position_ += 128 * nb;
  ++frames_;
}

void CotReceiver::extend(std::span<const uint8_t> choice_bits, std::span<Block> out) {
  if (choice_bits.size() != out.size()) {
    throw InvalidArgument("COT choice_bits has " + std::to_string(choice_bits.size()) +
                          " entries but out has " + std::to_string(out.size()));
  }
  check_call_size(out.size());
  detail::check_choice_bits(choice_bits, "COT choice_bits");
  std::size_t done = 0;
  while (done < out.size()) {
    const std::size_t want = std::min(kCotChunkOts, out.size() - done);
    const std::size_t nb = (want + 127) / 128;
    pack_bits(choice_bits.subspan(done, want), std::as_writable_bytes(choices_.span().first(nb)));
    extend_chunk(nb, out.subspan(done, want));
    done += want;
  }
  channel_.flush();
}

void CotReceiver::extend_random(std::span<uint8_t> choice_bits_out, std::span<Block> out) {
  if (choice_bits_out.size() != out.size()) {
    throw InvalidArgument("COT choice_bits_out has " + std::to_string(choice_bits_out.size()) +
                          " entries but out has " + std::to_string(out.size()));
  }
  check_call_size(out.size());
  std::size_t done = 0;
  while (done < out.size()) {
    const std::size_t want = std::min(kCotChunkOts, out.size() - done);
    const std::size_t nb = (want + 127) / 128;
    const std::span<Block> r = choices_.span().first(nb);
    prg_.fill_blocks(r);
    unpack_bits(std::as_bytes(r), choice_bits_out.subspan(done, want));
    extend_chunk(nb, out.subspan(done, want));
    done += want;
  }
  channel_.flush();
}

}  // namespace pinfer::ot
