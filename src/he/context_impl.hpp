#pragma once
// Precomputed constants of a Context (private to the he layer).
#include <cstdint>
#include <memory>
#include <vector>

#include "he/mod_arith.hpp"
#include "he/ntt_kernels.hpp"
#include "he/wide_int.hpp"
#include "pinfer/he/context.hpp"

namespace pinfer::he::detail {

// Constants for the first L primes (Q_L = p_0 ... p_{L-1}).
struct PrefixConstants {
  std::vector<uint64_t> qhat_inv;    // (Q_L / p_i)^-1 mod p_i
  std::vector<uint64_t> qhat_inv_q;  // Shoup quotients
  uint64_t q_mod_2_64 = 0;           // Q_L mod 2^64
  double log2_q = 0;
  U256 q;                  // Q_L
  std::vector<U256> qhat;  // Q_L / p_i
};

struct PlanCache;  // linear_parts.hpp: layer plans memoised per context

struct ContextImpl {
  Parameters params;
  std::vector<NttTables> ntt;
  std::vector<Barrett52> barrett;
  std::vector<uint64_t> ratio64;                      // floor(2^64 / p_i), for reduce64
  std::vector<uint64_t> t_inv;                        // (2^l)^-1 mod p_i
  std::vector<uint64_t> t_inv_q;                      // Shoup quotients of t_inv
  std::vector<uint64_t> two64_mod;                    // 2^64 mod p_i
  std::vector<std::vector<uint64_t>> pow64, pow64_q;  // [i][j] = 2^(64 j) mod p_i, j < 4
  std::vector<PrefixConstants> prefix;                // index L-1
  NttPath path = NttPath::portable;
  // Plans are pure functions of (context, geometry); client and server plan every layer several
  // times (encrypt, decrypt, server setup), so they are memoised (thread-safe, bounded).
  std::shared_ptr<PlanCache> plans;
};

}  // namespace pinfer::he::detail
