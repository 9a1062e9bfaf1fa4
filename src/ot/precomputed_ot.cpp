#include "pinfer/ot/precomputed_ot.hpp"

#include <algorithm>
#include <string>

#include "choice_bits.hpp"
#include "ot_frames.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"

namespace pinfer::ot {
namespace {

constexpr std::size_t kStep = kDerandomizeFrameOts;

void check_len(std::size_t got, std::size_t n, const char* what) {
  if (got != n) {
    throw InvalidArgument(std::string(what) + " has " + std::to_string(got) +
                          " entries, expected " + std::to_string(n));
  }
}

uint64_t frames(uint64_t n) {
  return (n + kStep - 1) / kStep;
}

}  // namespace

uint64_t derandomize_receiver_bytes(uint64_t n) {
  // Full steps carry kStep / 8 bytes; the last one (n % kStep) / 8 rounded up.
  return n / 8 + ((n % 8) != 0 ? 1 : 0) + kFrameHeaderBytes * frames(n);
}
uint64_t derandomize_sender_bytes(uint64_t n) {
  return 16 * n + kFrameHeaderBytes * frames(n);
}

std::vector<std::byte> derandomize_choices(std::span<const uint8_t> b, std::span<const uint8_t> c) {
  check_len(c.size(), b.size(), "derandomize c");
  detail::check_choice_bits(b, "derandomize b");
  detail::check_choice_bits(c, "derandomize c");
  std::vector<std::byte> d((b.size() + 7) / 8);
  for (std::size_t j = 0; j < b.size(); ++j) {
    d[j / 8] |= static_cast<std::byte>(((b[j] ^ c[j]) & 1u) << (j % 8));
  }
  return d;
}

void derandomize_corrections(std::span<const Block> k0, std::span<const Block> zero_labels,
                             const Block& delta, std::span<const std::byte> d_packed,
                             std::span<Block> corrections_out) {
  const std::size_t n = k0.size();
  check_len(zero_labels.size(), n, "derandomize zero_labels");
  check_len(corrections_out.size(), n, "derandomize corrections_out");
  if (d_packed.size() != (n + 7) / 8) {
    throw FormatError("derandomize d has " + std::to_string(d_packed.size()) + " bytes, expected " +
                      std::to_string((n + 7) / 8));
  }
  if (n % 8 != 0 && (std::to_integer<unsigned>(d_packed.back()) >> (n % 8)) != 0) {
    throw FormatError("derandomize d has nonzero padding bits");
  }
  for (std::size_t j = 0; j < n; ++j) {
    const unsigned d = (std::to_integer<unsigned>(d_packed[j / 8]) >> (j % 8)) & 1u;
    corrections_out[j] = zero_labels[j] ^ k0[j] ^ (delta & Block::mask_of(d));
  }
}

void derandomize_labels(std::span<const Block> m, std::span<const Block> corrections,
                        std::span<Block> labels_out) {
  check_len(corrections.size(), m.size(), "derandomize corrections");
  check_len(labels_out.size(), m.size(), "derandomize labels_out");
  for (std::size_t j = 0; j < m.size(); ++j) labels_out[j] = m[j] ^ corrections[j];
}

void derandomize_receive(Channel& channel, std::span<const uint8_t> b, std::span<const uint8_t> c,
                         std::span<const Block> m, std::span<Block> labels_out) {
  const std::size_t n = b.size();
  check_len(c.size(), n, "derandomize c");
  check_len(m.size(), n, "derandomize m");
  check_len(labels_out.size(), n, "derandomize labels_out");
  detail::require_frame_capacity(channel, "derandomize_receive");
  // Keep one d frame ahead of the corrections being read: the sender never waits for d while
  // we wait for corrections, and at most one small d frame is in flight while the sender is
  // blocked writing a large correction frame, so bounded socket buffers cannot deadlock.
  const auto send_d = [&](std::size_t done) {
    const std::size_t k = std::min(kStep, n - done);
    const std::vector<std::byte> d = derandomize_choices(b.subspan(done, k), c.subspan(done, k));
    channel.send(detail::kFrameDerandChoices, d);
  };
  if (n > 0) send_d(0);
  std::vector<Block> e(std::min(kStep, n));
  for (std::size_t done = 0; done < n; done += kStep) {
    if (done + kStep < n) send_d(done + kStep);
    channel.flush();
    const std::size_t k = std::min(kStep, n - done);
    channel.recv_exact(detail::kFrameDerandCorrection,
                       std::as_writable_bytes(std::span(e).first(k)));
    derandomize_labels(m.subspan(done, k), std::span(e).first(k), labels_out.subspan(done, k));
  }
}

void derandomize_send(Channel& channel, std::span<const Block> k0,
                      std::span<const Block> zero_labels, const Block& delta) {
  const std::size_t n = k0.size();
  check_len(zero_labels.size(), n, "derandomize zero_labels");
  detail::require_frame_capacity(channel, "derandomize_send");
  std::vector<std::byte> d((std::min(kStep, n) + 7) / 8);
  std::vector<Block> e(std::min(kStep, n));  // safe to send: one-time padded by k0
  for (std::size_t done = 0; done < n; done += kStep) {
    const std::size_t k = std::min(kStep, n - done);
    const std::span<std::byte> dk = std::span(d).first((k + 7) / 8);
    channel.recv_exact(detail::kFrameDerandChoices, dk);
    derandomize_corrections(k0.subspan(done, k), zero_labels.subspan(done, k), delta, dk,
                            std::span(e).first(k));
    channel.send(detail::kFrameDerandCorrection, std::as_bytes(std::span(e).first(k)));
  }
  channel.flush();
}

}  // namespace pinfer::ot
