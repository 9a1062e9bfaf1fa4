#pragma once
// Negacyclic number-theoretic transform over Z_p[X]/(X^N + 1), p < 2^50 prime, p = 1 mod 2N.
//
// forward() maps coefficients (natural order, values in [0, p)) to evaluations at the odd powers
// of a primitive 2N-th root of unity psi, in bit-reversed order; inverse() undoes it. Both use
// Harvey's lazy butterflies (values kept in [0, 4p) between stages, one reduction at the end;
// Harvey 2014, Alg. 4 and 3) with 52-bit Shoup quotients, so the portable code and the AVX-512
// IFMA kernels run the same algorithm and give identical outputs (both fully reduced).
//
// Paths: `ifma` (AVX-512 IFMA, 8 lanes of 52-bit multiply) and `portable` (any x86-64). The
// default is chosen once: ifma when the CPU has it and PINFER_CPU does not cap below `vaes`, after
// a known-answer comparison with the portable path.
// Thread safety: an NttTables is immutable after construction and may be shared between threads.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace pinfer::he {

enum class NttPath { portable = 0, ifma = 1 };

[[nodiscard]] std::string_view to_string(NttPath path);
// True if this machine can run `path`.
[[nodiscard]] bool ntt_path_supported(NttPath path);
// The path the HE kernels use by default (after its self-test passed).
[[nodiscard]] NttPath ntt_active_path();

class NttTables {
 public:
  // Throws InvalidArgument unless n is a power of two in [16, 32768], p < 2^50 is prime and
  // p = 1 mod 2n.
  NttTables(std::size_t n, uint64_t p);

  [[nodiscard]] std::size_t n() const noexcept { return n_; }
  [[nodiscard]] uint64_t modulus() const noexcept { return p_; }

  // In place. Requires: a.size() == n(), every value < p.
  void forward(std::span<uint64_t> a) const noexcept { forward_with(ntt_active_path(), a); }
  void inverse(std::span<uint64_t> a) const noexcept { inverse_with(ntt_active_path(), a); }
  // Requires additionally: ntt_path_supported(path).
  void forward_with(NttPath path, std::span<uint64_t> a) const noexcept;
  void inverse_with(NttPath path, std::span<uint64_t> a) const noexcept;

  // Precomputed data, read by the kernels.
  struct Data {
    std::size_t n = 0;
    unsigned log_n = 0;
    uint64_t p = 0;
    std::vector<uint64_t> roots, roots_q;          // psi^bitrev(k) and Shoup quotients
    std::vector<uint64_t> inv_roots, inv_roots_q;  // inverses of roots
    uint64_t n_inv = 0, n_inv_q = 0;
    uint64_t last_w_ninv = 0, last_w_ninv_q = 0;  // inv_roots[1] * n^-1 (fused last stage)
    // Per-lane twiddles for the last three forward (t = 4, 2, 1) and first three inverse
    // (t = 1, 2, 4) stages, expanded so that 8-lane kernels load them without gathers:
    // index [s][k] with s = log2(t), k = 8 * (16-element block) + lane.
    std::vector<uint64_t> fwd_lane[3], fwd_lane_q[3], inv_lane[3], inv_lane_q[3];
  };
  [[nodiscard]] const Data& data() const noexcept { return d_; }

 private:
  std::size_t n_;
  uint64_t p_;
  Data d_;
};

}  // namespace pinfer::he
