#include "pinfer/he/keys.hpp"

#include <string>

#include "he/context_impl.hpp"
#include "he/sampling.hpp"
#include "pinfer/core/bit_packing.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/serialization.hpp"

namespace pinfer::he {
namespace {

constexpr uint32_t kKeyMagic = 0x4B454850;  // "PHEK"
constexpr uint32_t kKeyVersion = 1;
constexpr uint64_t kPkStream = 0x706b;  // PRG stream id of the public key's uniform part

}  // namespace

void PublicKey::expand_a(const Context& ctx) {
  const auto& c = ctx.impl();
  a_ntt_.assign(n_ * limbs_, 0);
  Prg prg = Prg::from_seed(seed_, kPkStream);
  for (std::size_t i = 0; i < limbs_; ++i) {
    detail::sample_uniform_mod(prg, c.params.primes[i], std::span(a_ntt_).subspan(i * n_, n_));
  }
}

ClientKeys::ClientKeys(const Context& ctx, Prg& prg) {
  const auto& c = ctx.impl();
  const std::size_t n = ctx.n(), k = ctx.max_limbs();
  s_ = SecretBuffer<int8_t>(n);
  // Resample until ||s||_1 <= max_secret_l1(N) (context.hpp; probability of a resample
  // <= 2^-30). The count is computed without branches on s; whether a resample happened depends
  // only on the discarded sample.
  for (;;) {
    detail::sample_ternary(prg, s_.span());
    std::size_t weight = 0;
    for (const int8_t v : s_) weight += static_cast<uint8_t>(v) & 1u;  // -1 = 0xFF, 1, 0
    if (weight <= max_secret_l1(n)) break;
  }
  s_ntt_ = SecretBuffer<uint64_t>(n * k);
  SecretBuffer<int8_t> e(n);
  detail::sample_cbd21(prg, e.span());
  pk_.n_ = n;
  pk_.limbs_ = k;
  pk_.seed_ = prg.next_block();
  pk_.expand_a(ctx);
  pk_.b_ntt_.assign(n * k, 0);
  SecretBuffer<uint64_t> tmp(n);
  for (std::size_t i = 0; i < k; ++i) {
    const uint64_t p = c.params.primes[i];
    uint64_t* s_i = s_ntt_.data() + i * n;
    for (std::size_t j = 0; j < n; ++j) s_i[j] = detail::lift_signed(s_[j], p);
    c.ntt[i].forward({s_i, n});
    // b = -a*s + e, all in NTT form.
    for (std::size_t j = 0; j < n; ++j) tmp[j] = detail::lift_signed(e[j], p);
    c.ntt[i].forward(tmp.span());
    uint64_t* b_i = pk_.b_ntt_.data() + i * n;
    const uint64_t* a_i = pk_.a_ntt_.data() + i * n;
    detail::dyadic_mul_portable(c.barrett[i], b_i, a_i, s_i, n);
    for (std::size_t j = 0; j < n; ++j) {
      const uint64_t sum = p - b_i[j] + tmp[j];  // in [1, 2p)
      b_i[j] = sum >= p ? sum - p : sum;
    }
  }
}

std::vector<std::byte> PublicKey::serialize() const {
  ByteWriter w;
  w.u32(kKeyMagic);
  w.u32(kKeyVersion);
  w.u64(n_);
  w.u32(static_cast<uint32_t>(limbs_));
  w.block(seed_);
  std::vector<std::byte> out = w.take();
  const std::size_t header = out.size();
  std::size_t body = 0;
  std::vector<unsigned> bits(limbs_);
  for (std::size_t i = 0; i < limbs_; ++i) {
    // Every b value is < p_i < 2^50, so 50 bits suffice for the standard chain; the width is
    // the bit length of the largest value allowed (max prime).
    bits[i] = 50;
    body += packed_size_bytes(n_, bits[i]);
  }
  out.resize(header + body);
  std::byte* dst = out.data() + header;
  for (std::size_t i = 0; i < limbs_; ++i) {
    pack_values(std::span(b_ntt_.data() + i * n_, n_), bits[i],
                std::span(dst, packed_size_bytes(n_, bits[i])));
    dst += packed_size_bytes(n_, bits[i]);
  }
  return out;
}

PublicKey PublicKey::deserialize(const Context& ctx, std::span<const std::byte> bytes) {
  const auto& c = ctx.impl();
  ByteReader r(bytes);
  r.expect_u32(kKeyMagic, "public key magic");
  r.expect_u32(kKeyVersion, "public key version");
  const uint64_t n = r.u64("public key N");
  if (n != ctx.n()) {
    throw FormatError("public key N " + std::to_string(n) + " does not match the context's " +
                      std::to_string(ctx.n()));
  }
  const uint32_t limbs = r.u32("public key limbs");
  if (limbs != ctx.max_limbs()) {
    throw FormatError("public key limb count " + std::to_string(limbs) +
                      " does not match the context's " + std::to_string(ctx.max_limbs()));
  }
  PublicKey pk;
  pk.n_ = n;
  pk.limbs_ = limbs;
  pk.seed_ = r.block("public key seed");
  const std::size_t per_limb = packed_size_bytes(n, 50);
  const std::span<const std::byte> body = r.bytes(per_limb * limbs, "public key b");
  r.expect_end("public key");
  pk.b_ntt_.assign(n * limbs, 0);
  for (std::size_t i = 0; i < limbs; ++i) {
    uint64_t* b_i = pk.b_ntt_.data() + i * n;
    unpack_values(std::span(body.data() + i * per_limb, packed_size_bytes(n, 50)), 50,
                  std::span(b_i, n));
    const uint64_t p = c.params.primes[i];
    for (std::size_t j = 0; j < n; ++j) {
      if (b_i[j] >= p) {
        throw FormatError("public key coefficient " + std::to_string(j) + " of limb " +
                          std::to_string(i) + " is not reduced modulo its prime");
      }
    }
  }
  pk.expand_a(ctx);
  return pk;
}

}  // namespace pinfer::he
