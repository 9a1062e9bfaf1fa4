#pragma once
// IKNP OT extension producing correlated OT with a chosen global offset Delta.
//
// Ishai, Kilian, Nissim, Petrank, "Extending Oblivious Transfers Efficiently", CRYPTO 2003,
// Section 4 (semi-honest), kappa = 128. The COT sender is the base-OT *receiver* with choice
// string s = Delta; the COT receiver is the base-OT sender. After extension the sender holds
// k0_j and the receiver holds k0_j ^ b_j * Delta, where b_j is the receiver's choice. With
// lsb(Delta) = 1 these are free-XOR labels directly (zero-label k0_j, point-and-permute bit
// lsb). Per OT the receiver sends 16 bytes (one 128-bit column slice) and the sender nothing;
// see docs/OT.md for the exact byte counts.
//
// Streaming: extend() may be called any number of times; each call continues the same OT
// stream (both parties must make calls of the same sizes in the same order). Work is done in
// chunks of kCotChunkOts, so memory stays bounded for any n. A call for n OTs consumes
// round_up(n, 128) OTs of the stream (the padding is discarded), and position() counts them.
// Ready on construction: each constructor runs the 128 base OTs with the peer, so the peer
// must construct its side at the same time (on its own thread or process), and a constructed
// object can extend at once; there is no separate setup step to forget or repeat.
// Lifetime: the Channel and Prg passed to a constructor must outlive the object.
// Thread safety: none; one thread per object. The channel must not be used by others while a
// call runs. set_threads(T) lets a call split its column expansion and transposes over T
// threads (helpers it starts and joins itself); outputs and bytes sent do not depend on T.
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "pinfer/core/aes.hpp"
#include "pinfer/core/block.hpp"
#include "pinfer/core/channel.hpp"
#include "pinfer/core/delta.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/secret_buffer.hpp"

namespace pinfer::ot {

// OTs per extension chunk (one frame of 16 * kCotChunkOts bytes, 128 KiB). Small enough that
// the parties pipeline through a batch of OTs: the receiver computes chunk k + 1 while chunk k
// is on the link and the sender takes it in. With 2^16 (1 MiB frames) a garbled-circuit chunk
// of the digits model was one frame, so the receiver's compute, the link and the sender's
// compute ran one after the other (docs/perf/closed_loop.md, "IKNP frames").
inline constexpr std::size_t kCotChunkOts = std::size_t{1} << 13;
// Smallest Channel::max_frame_bytes the ot layer works with (its largest frame, a chosen-OT
// frame of kCotChunkOts message pairs, is 256 KiB; the cap keeps headroom above it).
inline constexpr std::size_t kOtMinFrameBytes = std::size_t{4} << 20;
// Most OTs a single extend() call accepts (memory stays bounded; this only caps counters).
inline constexpr uint64_t kMaxOtsPerCall = uint64_t{1} << 40;

// Bytes the COT receiver sends for one extend(n) call, frame headers included; the sender
// sends nothing during extension.
[[nodiscard]] uint64_t cot_extend_receiver_bytes(uint64_t n);
// Bytes each party sends while constructing (the 128 base OTs).
[[nodiscard]] uint64_t cot_setup_sender_bytes();
[[nodiscard]] uint64_t cot_setup_receiver_bytes();

class CotSender {
 public:
  // Runs the 128 base OTs with the peer's CotReceiver (as base-OT receiver, choices = bits of
  // delta). Secret: delta (lsb 1 by construction). Throws InvalidArgument if the channel's
  // max_frame_bytes is below kOtMinFrameBytes; what base_ot_receive throws (FormatError /
  // ProtocolError / IoError from the peer).
  CotSender(Channel& channel, const Delta& delta, Prg& prg);
  ~CotSender();
  CotSender(const CotSender&) = delete;
  CotSender& operator=(const CotSender&) = delete;

  // Writes k0_j for the next k0_out.size() OTs of the stream.
  // Throws FormatError / ProtocolError / IoError from the peer.
  void extend(std::span<Block> k0_out);

  [[nodiscard]] const Delta& delta() const noexcept { return delta_; }
  // Threads each extension chunk is split over (>= 1; 0 is taken as 1).
  void set_threads(unsigned threads) noexcept { threads_ = threads == 0 ? 1 : threads; }
  // CPU seconds of helper threads since the last call (the calling thread's are not in it).
  [[nodiscard]] double take_helper_cpu_seconds() noexcept { return std::exchange(helper_cpu_, 0); }
  // OTs of the stream consumed so far (including per-call padding to a multiple of 128).
  [[nodiscard]] uint64_t position() const noexcept { return position_; }
  // Extension frames (chunks of at most kCotChunkOts) taken in so far: the steps the two
  // parties pipeline through (a cost profile's OT pipeline depth).
  [[nodiscard]] uint64_t frames() const noexcept { return frames_; }
  [[nodiscard]] Channel& channel() noexcept { return channel_; }

 private:
  Channel& channel_;
  Prg& prg_;
  Delta delta_;
  uint64_t position_ = 0;
  uint64_t frames_ = 0;
  unsigned threads_ = 1;
  double helper_cpu_ = 0;
  std::vector<Aes128> seeds_;   // PRG keyed by k_{s_i, i}, i < 128
  std::vector<Block> u_cols_;   // the receiver's columns of one chunk, as received
  SecretBuffer<Block> q_cols_;  // 128 columns q_i, rows padded (see transpose_128xn_strided)
  SecretBuffer<Block> rows_;    // transposed chunk
};

class CotReceiver {
 public:
  // Runs the 128 base OTs with the peer's CotSender (as base-OT sender). Throws
  // InvalidArgument if the channel's max_frame_bytes is below kOtMinFrameBytes; what
  // base_ot_send throws (FormatError / ProtocolError / IoError from the peer).
  CotReceiver(Channel& channel, Prg& prg);
  ~CotReceiver();
  CotReceiver(const CotReceiver&) = delete;
  CotReceiver& operator=(const CotReceiver&) = delete;

  // Secret: choice_bits (0/1 per byte), out. out[j] = k0_j ^ choice_bits[j] * delta.
  // Throws InvalidArgument if sizes differ or a choice is not 0/1; IoError.
  void extend(std::span<const uint8_t> choice_bits, std::span<Block> out);
  // Same with uniformly random choices, written to choice_bits_out (0/1 per byte).
  void extend_random(std::span<uint8_t> choice_bits_out, std::span<Block> out);

  [[nodiscard]] uint64_t position() const noexcept { return position_; }
  // Extension frames sent so far (as CotSender::frames).
  [[nodiscard]] uint64_t frames() const noexcept { return frames_; }
  [[nodiscard]] Channel& channel() noexcept { return channel_; }
  // As for CotSender.
  void set_threads(unsigned threads) noexcept { threads_ = threads == 0 ? 1 : threads; }
  [[nodiscard]] double take_helper_cpu_seconds() noexcept { return std::exchange(helper_cpu_, 0); }

 private:
  // Extends one chunk of 128 * nb OTs whose packed choices are in choices_; writes the first
  // out.size() outputs.
  void extend_chunk(std::size_t nb, std::span<Block> out);

  Channel& channel_;
  Prg& prg_;
  uint64_t position_ = 0;
  uint64_t frames_ = 0;
  unsigned threads_ = 1;
  double helper_cpu_ = 0;
  std::vector<Aes128> seeds0_;   // PRG keyed by k_{0, i}
  std::vector<Aes128> seeds1_;   // PRG keyed by k_{1, i}
  SecretBuffer<Block> t_cols_;   // rows padded (see transpose_128xn_strided)
  std::vector<Block> u_cols_;    // sent as is (safe to send: masked by G(k1_i))
  SecretBuffer<Block> choices_;  // packed choice bits of one chunk
  SecretBuffer<Block> rows_;
};

}  // namespace pinfer::ot
