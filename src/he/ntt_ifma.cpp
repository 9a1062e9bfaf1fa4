// AVX-512 IFMA kernels (compiled with -mavx512ifma for this file only; selected at run time).
// Same algorithm as the portable kernels in ntt.cpp: 52-bit Shoup butterflies with lazy
// reduction (Harvey 2014) and Barrett products, 8 lanes per instruction.
#include <immintrin.h>

#include "he/ntt_kernels.hpp"

namespace pinfer::he::detail {
namespace {

inline __m512i mask52() {
  return _mm512_set1_epi64((int64_t{1} << 52) - 1);
}

// Conditional subtract: x >= m ? x - m : x (unsigned min of x and x - m, which wraps if x < m).
inline __m512i csub(__m512i x, __m512i m) {
  return _mm512_min_epu64(x, _mm512_sub_epi64(x, m));
}

// y * w mod p in [0, 2p) for y < 2^52 (Shoup with 52-bit quotient w_q).
inline __m512i mul_shoup(__m512i y, __m512i w, __m512i wq, __m512i neg_p) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i q = _mm512_madd52hi_epu64(zero, wq, y);
  __m512i r = _mm512_madd52lo_epu64(zero, w, y);
  r = _mm512_madd52lo_epu64(r, q, neg_p);  // + lo52(q * (2^52 - p)) = - q*p mod 2^52
  return _mm512_and_si512(r, mask52());
}

inline void fwd_butterfly(__m512i& x, __m512i& y, __m512i w, __m512i wq, __m512i two_p,
                          __m512i neg_p) {
  const __m512i u = csub(x, two_p);
  const __m512i v = mul_shoup(y, w, wq, neg_p);
  x = _mm512_add_epi64(u, v);
  y = _mm512_add_epi64(_mm512_sub_epi64(u, v), two_p);
}

inline void inv_butterfly(__m512i& x, __m512i& y, __m512i w, __m512i wq, __m512i two_p,
                          __m512i neg_p) {
  const __m512i s = csub(_mm512_add_epi64(x, y), two_p);
  const __m512i d = _mm512_add_epi64(_mm512_sub_epi64(x, y), two_p);
  x = s;
  y = mul_shoup(d, w, wq, neg_p);
}

// Lane permutations for stages with butterfly distance t in {1, 2, 4} inside 16-element blocks:
// kSplitX/kSplitY pick the X and Y operands from (lo, hi); kJoinLo/kJoinHi put them back.
struct SmallStagePerm {
  __m512i split_x, split_y, join_lo, join_hi;
};

SmallStagePerm make_perm(unsigned t) {
  alignas(64) int64_t sx[8], sy[8], jl[8], jh[8];
  int64_t where[16];  // element e -> index in concat(X, Y)
  for (int k = 0; k < 8; ++k) {
    const int64_t group = k / t, off = k % t;
    const int64_t ex = group * 2 * t + off, ey = ex + t;
    sx[k] = ex;
    sy[k] = ey;
    where[ex] = k;
    where[ey] = 8 + k;
  }
  for (int e = 0; e < 8; ++e) {
    jl[e] = where[e];
    jh[e] = where[8 + e];
  }
  return {_mm512_load_si512(sx), _mm512_load_si512(sy), _mm512_load_si512(jl),
          _mm512_load_si512(jh)};
}

const SmallStagePerm& perm(unsigned s) {
  static const SmallStagePerm perms[3] = {make_perm(1), make_perm(2), make_perm(4)};
  return perms[s];
}

}  // namespace

void ntt_forward_ifma(const NttTables::Data& d, uint64_t* a) noexcept {
  const std::size_t n = d.n;
  const __m512i two_p = _mm512_set1_epi64(static_cast<int64_t>(2 * d.p));
  const __m512i neg_p = _mm512_set1_epi64(static_cast<int64_t>((uint64_t{1} << 52) - d.p));
  std::size_t t = n;
  for (std::size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    if (t < 8) break;
    for (std::size_t i = 0; i < m; ++i) {
      const __m512i w = _mm512_set1_epi64(static_cast<int64_t>(d.roots[m + i]));
      const __m512i wq = _mm512_set1_epi64(static_cast<int64_t>(d.roots_q[m + i]));
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (std::size_t j = 0; j < t; j += 8) {
        __m512i vx = _mm512_loadu_si512(x + j), vy = _mm512_loadu_si512(y + j);
        fwd_butterfly(vx, vy, w, wq, two_p, neg_p);
        _mm512_storeu_si512(x + j, vx);
        _mm512_storeu_si512(y + j, vy);
      }
    }
  }
  // t = 4, 2, 1: butterflies inside 16-element blocks, operands regrouped by permutes.
  for (int s = 2; s >= 0; --s) {
    const SmallStagePerm& pm = perm(static_cast<unsigned>(s));
    const uint64_t* w_lane = d.fwd_lane[s].data();
    const uint64_t* wq_lane = d.fwd_lane_q[s].data();
    for (std::size_t b = 0; b < n / 16; ++b) {
      const __m512i lo = _mm512_loadu_si512(a + 16 * b), hi = _mm512_loadu_si512(a + 16 * b + 8);
      __m512i vx = _mm512_permutex2var_epi64(lo, pm.split_x, hi);
      __m512i vy = _mm512_permutex2var_epi64(lo, pm.split_y, hi);
      fwd_butterfly(vx, vy, _mm512_loadu_si512(w_lane + 8 * b), _mm512_loadu_si512(wq_lane + 8 * b),
                    two_p, neg_p);
      if (s == 0) {  // last stage: reduce [0, 4p) to [0, p)
        const __m512i p = _mm512_set1_epi64(static_cast<int64_t>(d.p));
        vx = csub(csub(vx, two_p), p);
        vy = csub(csub(vy, two_p), p);
      }
      _mm512_storeu_si512(a + 16 * b, _mm512_permutex2var_epi64(vx, pm.join_lo, vy));
      _mm512_storeu_si512(a + 16 * b + 8, _mm512_permutex2var_epi64(vx, pm.join_hi, vy));
    }
  }
}

void ntt_inverse_ifma(const NttTables::Data& d, uint64_t* a) noexcept {
  const std::size_t n = d.n;
  const __m512i two_p = _mm512_set1_epi64(static_cast<int64_t>(2 * d.p));
  const __m512i neg_p = _mm512_set1_epi64(static_cast<int64_t>((uint64_t{1} << 52) - d.p));
  for (int s = 0; s < 3; ++s) {
    const SmallStagePerm& pm = perm(static_cast<unsigned>(s));
    const uint64_t* w_lane = d.inv_lane[s].data();
    const uint64_t* wq_lane = d.inv_lane_q[s].data();
    for (std::size_t b = 0; b < n / 16; ++b) {
      const __m512i lo = _mm512_loadu_si512(a + 16 * b), hi = _mm512_loadu_si512(a + 16 * b + 8);
      __m512i vx = _mm512_permutex2var_epi64(lo, pm.split_x, hi);
      __m512i vy = _mm512_permutex2var_epi64(lo, pm.split_y, hi);
      inv_butterfly(vx, vy, _mm512_loadu_si512(w_lane + 8 * b), _mm512_loadu_si512(wq_lane + 8 * b),
                    two_p, neg_p);
      _mm512_storeu_si512(a + 16 * b, _mm512_permutex2var_epi64(vx, pm.join_lo, vy));
      _mm512_storeu_si512(a + 16 * b + 8, _mm512_permutex2var_epi64(vx, pm.join_hi, vy));
    }
  }
  std::size_t t = 8;
  for (std::size_t m = n >> 4; m >= 2; m >>= 1) {
    for (std::size_t i = 0; i < m; ++i) {
      const __m512i w = _mm512_set1_epi64(static_cast<int64_t>(d.inv_roots[m + i]));
      const __m512i wq = _mm512_set1_epi64(static_cast<int64_t>(d.inv_roots_q[m + i]));
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (std::size_t j = 0; j < t; j += 8) {
        __m512i vx = _mm512_loadu_si512(x + j), vy = _mm512_loadu_si512(y + j);
        inv_butterfly(vx, vy, w, wq, two_p, neg_p);
        _mm512_storeu_si512(x + j, vx);
        _mm512_storeu_si512(y + j, vy);
      }
    }
    t <<= 1;
  }
  // Last stage (m = 1) fused with the n^-1 scaling: x' = (x + y) n^-1, y' = (x - y) w n^-1.
  const __m512i ninv = _mm512_set1_epi64(static_cast<int64_t>(d.n_inv));
  const __m512i ninv_q = _mm512_set1_epi64(static_cast<int64_t>(d.n_inv_q));
  const __m512i wn = _mm512_set1_epi64(static_cast<int64_t>(d.last_w_ninv));
  const __m512i wn_q = _mm512_set1_epi64(static_cast<int64_t>(d.last_w_ninv_q));
  const __m512i p = _mm512_set1_epi64(static_cast<int64_t>(d.p));
  uint64_t* x = a;
  uint64_t* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 8) {
    const __m512i vx = _mm512_loadu_si512(x + j), vy = _mm512_loadu_si512(y + j);
    const __m512i sum = _mm512_add_epi64(vx, vy);                           // [0, 4p)
    const __m512i dif = _mm512_add_epi64(_mm512_sub_epi64(vx, vy), two_p);  // (0, 4p)
    _mm512_storeu_si512(x + j, csub(mul_shoup(sum, ninv, ninv_q, neg_p), p));
    _mm512_storeu_si512(y + j, csub(mul_shoup(dif, wn, wn_q, neg_p), p));
  }
}

namespace {
inline __m512i barrett_mul(__m512i a, __m512i b, __m512i p, __m512i neg_p, __m512i mu,
                           unsigned bits) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i lo = _mm512_madd52lo_epu64(zero, a, b);
  const __m512i hi = _mm512_madd52hi_epu64(zero, a, b);
  const __m512i c =
      _mm512_or_si512(_mm512_srl_epi64(lo, _mm_cvtsi32_si128(static_cast<int>(bits - 1))),
                      _mm512_sll_epi64(hi, _mm_cvtsi32_si128(static_cast<int>(53 - bits))));
  const __m512i q = _mm512_madd52hi_epu64(zero, c, mu);
  __m512i r = _mm512_and_si512(_mm512_madd52lo_epu64(lo, q, neg_p), mask52());
  r = csub(r, p);
  return csub(r, p);
}
}  // namespace

void dyadic_mac_ifma(const Barrett52& m, uint64_t* acc, const uint64_t* a, const uint64_t* b,
                     std::size_t n) noexcept {
  const __m512i p = _mm512_set1_epi64(static_cast<int64_t>(m.p));
  const __m512i neg_p = _mm512_set1_epi64(static_cast<int64_t>((uint64_t{1} << 52) - m.p));
  const __m512i mu = _mm512_set1_epi64(static_cast<int64_t>(m.mu));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i r =
        barrett_mul(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i), p, neg_p, mu, m.bits);
    _mm512_storeu_si512(acc + i, csub(_mm512_add_epi64(_mm512_loadu_si512(acc + i), r), p));
  }
  if (i < n) dyadic_mac_portable(m, acc + i, a + i, b + i, n - i);
}

void dyadic_mul_ifma(const Barrett52& m, uint64_t* out, const uint64_t* a, const uint64_t* b,
                     std::size_t n) noexcept {
  const __m512i p = _mm512_set1_epi64(static_cast<int64_t>(m.p));
  const __m512i neg_p = _mm512_set1_epi64(static_cast<int64_t>((uint64_t{1} << 52) - m.p));
  const __m512i mu = _mm512_set1_epi64(static_cast<int64_t>(m.mu));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm512_storeu_si512(out + i, barrett_mul(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i),
                                             p, neg_p, mu, m.bits));
  }
  if (i < n) dyadic_mul_portable(m, out + i, a + i, b + i, n - i);
}

}  // namespace pinfer::he::detail
