#pragma once
// Parameters and precomputation of the BFV-style scheme with plaintext modulus t = 2^l.
//
// Ring R_Q = Z_Q[X]/(X^N + 1), Q = p_0 * ... * p_{k-1} (RNS, each p_i < 2^50 so the AVX-512 IFMA
// kernels apply, p_i = 1 mod 2N for the negacyclic NTT). Secret keys are uniform ternary, errors
// centered binomial with eta = 21 (sigma = 3.24, the HE Standard's sigma ~ 3.2, every sample in
// [-21, 21]). A linear layer uses the first L primes, L chosen per layer from its noise bound
// (linear.hpp); the public key is generated for all k.
//
// Security: the pair (N, log2 Q) must satisfy the Homomorphic Encryption Standard (Albrecht et al.,
// "Homomorphic Encryption Security Standard", HomomorphicEncryption.org, Nov. 2018), Table 1,
// 128-bit classical security, uniform ternary secret: log2 Q <= 27 / 54 / 109 / 218 / 438 / 881 for
// N = 1024 / 2048 / 4096 / 8192 / 16384 / 32768. Parameters::validate() refuses anything else.
// Thread safety: a Context is immutable after construction (apart from an internal, mutex-guarded
// memo of layer plans) and may be shared between threads.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "pinfer/core/ring.hpp"
#include "pinfer/he/ntt.hpp"

namespace pinfer::he {

inline constexpr unsigned kMinPlainBits = 16;
inline constexpr unsigned kMaxPlainBits = 44;
inline constexpr unsigned kErrorEta = 21;  // centered binomial parameter: |e| <= 21

// Key generation resamples the ternary secret until ||s||_1 <= max_secret_l1(N) = floor(7N / 10)
// (docs/HE.md, sections 1 and 5): the decryption bound of a response uses it. ||s||_1 of a
// uniform ternary s is Binomial(N, 2/3) (mean 0.667 N); by the Chernoff bound a resample happens
// with probability <= exp(-N * KL(0.7 || 2/3)) = 2^-30.1 at N = 8192, and only keys of atypically
// high weight are excluded.
[[nodiscard]] constexpr std::size_t max_secret_l1(std::size_t n) {
  return n * 7 / 10;
}

// The HE Standard's largest log2 Q for 128-bit security at ring dimension n (Table 1, ternary
// secret, classical). Throws InvalidArgument for an n the table does not list.
[[nodiscard]] unsigned he_standard_max_log_q(std::size_t n);

struct Parameters {
  std::size_t poly_degree = 8192;
  std::vector<uint64_t> primes;  // RNS chain; a layer uses a prefix
  unsigned plain_bits = 32;      // l: plaintext modulus t = 2^l
  // Noise flooding: the statistical distance of everything the client sees from a simulation
  // that knows only W r - s is at most 2^-stat_security_bits, as long as at most
  // 2^max_revealed_log2 flooded coefficients are revealed under one key (docs/HE.md).
  unsigned stat_security_bits = 40;
  unsigned max_revealed_log2 = 22;

  // N = 8192 and the four largest primes p < 2^50 with p = 1 mod 2N (log2 Q = 200 <= 218).
  // Throws InvalidArgument unless kMinPlainBits <= plain_bits <= kMaxPlainBits.
  [[nodiscard]] static Parameters standard(unsigned plain_bits);
  // The `count` largest primes below 2^bits that are 1 mod 2n (deterministic).
  [[nodiscard]] static std::vector<uint64_t> ntt_primes(std::size_t n, unsigned bits,
                                                        std::size_t count);

  // Throws InvalidArgument on an insecure or malformed set (see the header comment), or on more
  // than 5 primes.
  void validate() const;
  [[nodiscard]] double log2_modulus() const;
};

namespace detail {
struct ContextImpl;
}

class Context {
 public:
  // Validates `params` (InvalidArgument) and precomputes NTT tables and RNS constants.
  explicit Context(Parameters params);
  [[nodiscard]] static Context create(unsigned plain_bits) {
    return Context(Parameters::standard(plain_bits));
  }
  ~Context();
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  [[nodiscard]] const Parameters& params() const noexcept;
  [[nodiscard]] std::size_t n() const noexcept { return params().poly_degree; }
  [[nodiscard]] unsigned plain_bits() const noexcept { return params().plain_bits; }
  [[nodiscard]] std::size_t max_limbs() const noexcept { return params().primes.size(); }
  [[nodiscard]] Ring ring() const { return Ring(plain_bits()); }
  [[nodiscard]] const NttTables& ntt(std::size_t limb) const;

  [[nodiscard]] const detail::ContextImpl& impl() const noexcept { return *impl_; }

 private:
  std::unique_ptr<detail::ContextImpl> impl_;
};

}  // namespace pinfer::he
