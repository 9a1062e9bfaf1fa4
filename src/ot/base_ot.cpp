// Naor-Pinkas random OT on ristretto255 (SODA 2001, Section 3), in the form:
//   sender:   c, r random scalars; C = c*G, R = r*G; sends C || R.
//   receiver: k_i random; X_i = k_i*G; PK0_i = b_i ? C - X_i : X_i; sends PK0_i.
//   sender:   K0_i = r*PK0_i, K1_i = r*C - K0_i (= r*(C - PK0_i)); m_j[i] = H(i, j, K_j_i).
//   receiver: K_i = k_i*R (= r*PK_{b_i}); out[i] = H(i, b_i, K_i).
// The receiver never knows log_G(C - X_i), so learning m_{1-b}[i] means computing
// r*(C - X_i) = r*C - k_i*R, i.e. CDH(C, R): sharing one C and one R across instances reduces
// every instance to the same CDH instance, which is why a single pair suffices (semi-honest).
#include "pinfer/ot/base_ot.hpp"

#include <sodium.h>

#include <array>
#include <string>
#include <vector>

#include "choice_bits.hpp"
#include "ot_frames.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"

namespace pinfer::ot {
namespace {

using Point = std::array<unsigned char, crypto_core_ristretto255_BYTES>;
using Scalar = std::array<unsigned char, crypto_core_ristretto255_SCALARBYTES>;

void init_sodium() {
  if (sodium_init() < 0) throw Error("libsodium initialisation failed");
}

void check_count(std::size_t count) {
  if (count == 0 || count > kMaxBaseOts) {
    throw InvalidArgument("base OT count " + std::to_string(count) + " must be in [1, " +
                          std::to_string(kMaxBaseOts) + "]");
  }
}

// A uniform nonzero scalar from the PRG (64 bytes reduced mod L: bias < 2^-250).
void random_scalar(Prg& prg, unsigned char* out) {
  std::array<std::byte, crypto_core_ristretto255_NONREDUCEDSCALARBYTES> wide;
  prg.fill_bytes(wide);
  crypto_core_ristretto255_scalar_reduce(out, reinterpret_cast<const unsigned char*>(wide.data()));
  secure_wipe(wide.data(), wide.size());
  // Zero has probability 2^-252; treat it as a broken PRG rather than branch on it.
  PINFER_ASSERT(sodium_is_zero(out, crypto_core_ristretto255_SCALARBYTES) == 0);
}

// Decodes a point from the peer: canonical encoding and not the identity.
void check_point(const unsigned char* p, const char* field) {
  if (crypto_core_ristretto255_is_valid_point(p) != 1) {
    throw FormatError(std::string(field) + " is not a valid ristretto255 encoding");
  }
  if (sodium_is_zero(p, crypto_core_ristretto255_BYTES) != 0) {
    throw ProtocolError(std::string(field) + " is the identity element");
  }
}

// Key derivation: BLAKE2b-128 of a domain tag, the instance index, the message index and the
// shared point (a random oracle in the NP proof; the index makes keys of instances independent).
Block derive_key(uint64_t instance, uint8_t which, const unsigned char* point) {
  static constexpr char kTag[] = "pinfer/ot/base/naor-pinkas/ristretto255/v1";
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sizeof(Block));
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kTag), sizeof kTag);
  unsigned char idx[9];
  for (int k = 0; k < 8; ++k) idx[k] = static_cast<unsigned char>(instance >> (8 * k));
  idx[8] = which;
  crypto_generichash_update(&st, idx, sizeof idx);
  crypto_generichash_update(&st, point, crypto_core_ristretto255_BYTES);
  Block out;
  crypto_generichash_final(&st, reinterpret_cast<unsigned char*>(&out), sizeof out);
  secure_wipe(&st, sizeof st);
  return out;
}

}  // namespace

void base_ot_send(Channel& channel, Prg& prg, std::span<Block> m0_out, std::span<Block> m1_out) {
  init_sodium();
  const std::size_t n = m0_out.size();
  check_count(n);
  if (m1_out.size() != n) {
    throw InvalidArgument("base OT m1_out has " + std::to_string(m1_out.size()) +
                          " entries, expected " + std::to_string(n));
  }
  SecretBuffer<Scalar> sk(2);  // c, r
  random_scalar(prg, sk[0].data());
  random_scalar(prg, sk[1].data());
  std::array<unsigned char, 2 * crypto_core_ristretto255_BYTES> hello;
  crypto_scalarmult_ristretto255_base(hello.data(), sk[0].data());
  crypto_scalarmult_ristretto255_base(hello.data() + 32, sk[1].data());
  channel.send(detail::kFrameBaseOtSetup, std::as_bytes(std::span(hello)));
  channel.flush();

  std::vector<std::byte> msg(32 * n);
  channel.recv_exact(detail::kFrameBaseOtKeys, msg);
  const auto* pk0 = reinterpret_cast<const unsigned char*>(msg.data());

  SecretBuffer<Point> k(3);  // r*C, K0, K1
  if (crypto_scalarmult_ristretto255(k[0].data(), sk[1].data(), hello.data()) != 0) {
    PINFER_ASSERT(false);  // C = c*G with c != 0 is never the identity
  }
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char* p = pk0 + 32 * i;
    check_point(p, ("base OT key " + std::to_string(i)).c_str());
    if (crypto_scalarmult_ristretto255(k[1].data(), sk[1].data(), p) != 0) {
      throw ProtocolError("base OT key " + std::to_string(i) + " has small order");
    }
    crypto_core_ristretto255_sub(k[2].data(), k[0].data(), k[1].data());
    m0_out[i] = derive_key(i, 0, k[1].data());
    m1_out[i] = derive_key(i, 1, k[2].data());
  }
}

void base_ot_receive(Channel& channel, Prg& prg, std::span<const uint8_t> choices,
                     std::span<Block> out) {
  init_sodium();
  const std::size_t n = choices.size();
  check_count(n);
  if (out.size() != n) {
    throw InvalidArgument("base OT out has " + std::to_string(out.size()) + " entries, expected " +
                          std::to_string(n));
  }
  detail::check_choice_bits(choices, "base OT choices");

  std::array<unsigned char, 2 * crypto_core_ristretto255_BYTES> hello;
  channel.recv_exact(detail::kFrameBaseOtSetup, std::as_writable_bytes(std::span(hello)));
  const unsigned char* big_c = hello.data();
  const unsigned char* big_r = hello.data() + 32;
  check_point(big_c, "base OT point C");
  check_point(big_r, "base OT point R");

  SecretBuffer<Scalar> sk(n);
  SecretBuffer<Point> tmp(2);  // X, C - X
  std::vector<std::byte> msg(32 * n);
  auto* pk0 = reinterpret_cast<unsigned char*>(msg.data());
  for (std::size_t i = 0; i < n; ++i) {
    random_scalar(prg, sk[i].data());
    crypto_scalarmult_ristretto255_base(tmp[0].data(), sk[i].data());
    crypto_core_ristretto255_sub(tmp[1].data(), big_c, tmp[0].data());
    // PK0 = b ? C - X : X, selected with a mask (b is secret).
    const auto mask = static_cast<unsigned char>(0 - (choices[i] & 1u));
    for (std::size_t k = 0; k < 32; ++k) {
      pk0[32 * i + k] = static_cast<unsigned char>((tmp[0][k] & ~mask) | (tmp[1][k] & mask));
    }
  }
  channel.send(detail::kFrameBaseOtKeys, msg);
  channel.flush();

  for (std::size_t i = 0; i < n; ++i) {
    // R was checked to be a non-identity point of the prime-order group, k_i != 0.
    PINFER_ASSERT(crypto_scalarmult_ristretto255(tmp[0].data(), sk[i].data(), big_r) == 0);
    out[i] = derive_key(i, choices[i], tmp[0].data());
  }
}

}  // namespace pinfer::ot
