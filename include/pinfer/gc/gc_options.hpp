#pragma once
// How garble_batch / evaluate_batch garble: the scheme, the kernel path, the threads, and the
// per-call keys (docs/GC.md).
#include <cstdint>
#include <optional>
#include <string_view>

#include "pinfer/core/block.hpp"
#include "pinfer/core/detail/cpu_features.hpp"

namespace pinfer::gc {

// half_gates: ZRE15, 2 kappa bits per AND. three_halves: Rosulek-Roy 2021, 1.5 kappa + 5 bits
// per AND (about 23 % fewer table bytes, 1.5x the hashing).
enum class GcScheme : uint32_t { half_gates = 0, three_halves = 1 };

[[nodiscard]] std::string_view to_string(GcScheme scheme) noexcept;
// "half-gates" or "three-halves"; throws InvalidArgument naming the text otherwise.
[[nodiscard]] GcScheme parse_gc_scheme(std::string_view text);

// The kernel path garble_batch / evaluate_batch use by default: the AES path (after its
// known-answer test), so PINFER_CPU caps it too.
[[nodiscard]] CpuPath gc_active_path();

struct GcOptions {
  GcScheme scheme = GcScheme::half_gates;
  CpuPath path = gc_active_path();
  // Threads one call splits its batches over (>= 1). Output bytes and order do not depend on it.
  unsigned threads = 1;
  // Garbler only. Public key of the hash's permutation pi for this call, written in the stream
  // header (the evaluator takes it from there). Empty: a fresh key from the OS per call, so no
  // two calls share pi (the multi-instance bound of docs/GC.md). Tests fix it.
  std::optional<Block> hash_key;
  // Garbler only, three-halves. Secret seed of the per-gate random coins. Empty: fresh from the
  // OS per call. Tests fix it to compare outputs byte for byte.
  std::optional<Block> coin_seed;
};

}  // namespace pinfer::gc
