#include "pinfer/core/prg.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"

namespace pinfer {

void os_random_bytes(std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = getrandom(out.data() + done, out.size() - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw IoError(std::string("getrandom failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(got);
  }
}

Block os_random_block() {
  Block b;
  os_random_bytes(std::as_writable_bytes(std::span<Block>(&b, 1)));
  return b;
}

Prg::Prg() : Prg(os_random_block(), 0) {}

Prg::Prg(const Block& seed, uint64_t stream) : aes_(seed), stream_(stream) {}

Prg Prg::from_seed(const Block& seed, uint64_t stream) {
  return Prg(seed, stream);
}

Prg::~Prg() {
  secure_wipe(buffer_, sizeof buffer_);
}

void Prg::refill() noexcept {
  aes_.ctr_keystream(counter_, stream_, buffer_);
  counter_ += kBuffer;
  used_ = 0;
}

void Prg::fill_blocks(std::span<Block> out) noexcept {
  std::size_t i = 0;
  // Drain the buffer first so the stream is the same however requests are split.
  while (i < out.size() && used_ < kBuffer) out[i++] = buffer_[used_++];
  const std::size_t bulk = out.size() - i;
  const std::size_t whole = bulk - bulk % kBuffer;
  if (whole > 0) {
    aes_.ctr_keystream(counter_, stream_, out.subspan(i, whole));
    counter_ += whole;
    i += whole;
  }
  while (i < out.size()) {
    if (used_ == kBuffer) refill();
    out[i++] = buffer_[used_++];
  }
}

void Prg::fill_bytes(std::span<std::byte> out) noexcept {
  const std::size_t whole = out.size() / sizeof(Block);
  if (whole > 0 && reinterpret_cast<uintptr_t>(out.data()) % alignof(Block) == 0) {
    fill_blocks({reinterpret_cast<Block*>(out.data()), whole});
  } else {
    for (std::size_t i = 0; i < whole; ++i) {
      const Block b = next_block();
      std::memcpy(out.data() + i * sizeof(Block), &b, sizeof b);
    }
  }
  const std::size_t tail = out.size() - whole * sizeof(Block);
  if (tail > 0) {
    Block b = next_block();
    std::memcpy(out.data() + whole * sizeof(Block), &b, tail);
    secure_wipe(&b, sizeof b);
  }
}

Block Prg::next_block() noexcept {
  if (used_ == kBuffer) refill();
  return buffer_[used_++];
}

uint64_t Prg::next_u64() noexcept {
  return next_block().lo;
}

void Prg::fill_ring(const Ring& ring, std::span<uint64_t> out) noexcept {
  fill_bytes(std::as_writable_bytes(out));
  const uint64_t mask = ring.mask();
  for (uint64_t& v : out) v &= mask;
}

void Prg::fill_bits(std::span<uint8_t> out) noexcept {
  std::size_t i = 0;
  while (i < out.size()) {
    Block b = next_block();
    for (int w = 0; w < 2 && i < out.size(); ++w) {
      const uint64_t word = w == 0 ? b.lo : b.hi;
      for (int k = 0; k < 64 && i < out.size(); ++k)
        out[i++] = static_cast<uint8_t>((word >> k) & 1);
    }
  }
}

uint64_t Prg::uniform_below(uint64_t bound) noexcept {
  PINFER_ASSERT(bound > 0);
  // Accept v < limit, the largest multiple of bound that fits: no modulo bias.
  const uint64_t limit = bound * (UINT64_MAX / bound);
  for (;;) {
    const uint64_t v = next_u64();
    if (v < limit) return v % bound;
  }
}

}  // namespace pinfer
