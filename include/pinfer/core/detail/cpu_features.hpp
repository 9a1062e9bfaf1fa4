#pragma once
// Runtime CPU feature detection and kernel-path selection.
//
// The build targets baseline x86-64; kernels that need AES-NI, VAES/AVX-512 or IFMA live in
// their own files and are selected here once. PINFER_CPU=openssl|aesni|vaes (or `--cpu`)
// forces a path so tests can run every path on one machine and compare outputs.
//
// `openssl` is the baseline: no hand-written AES-NI/VAES/AVX kernels, plain C++ for NTT and
// transposes, and AES through OpenSSL. It does NOT remove hardware AES: OpenSSL itself uses
// AES-NI when the CPU has it (set OPENSSL_ia32cap to mask that). It was called `portable`;
// that name is refused with an error naming the new one.
#include <string>
#include <string_view>
#include <vector>

namespace pinfer {

struct CpuFeatures {
  bool aesni = false;
  bool pclmul = false;
  bool avx2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512ifma = false;
  bool vaes = false;
  bool vpclmulqdq = false;
};

// Detected once; thread safe.
[[nodiscard]] const CpuFeatures& cpu_features();

// Names of the detected features, for `pinfer version`.
[[nodiscard]] std::vector<std::string> cpu_feature_names();

// Kernel paths in order of width. A kernel family supports some subset.
enum class CpuPath { openssl = 0, aesni = 1, vaes = 2 };

[[nodiscard]] std::string_view to_string(CpuPath path);
// Parses "openssl", "aesni" or "vaes"; throws InvalidArgument otherwise (for the old name
// "portable", one that names "openssl").
[[nodiscard]] CpuPath parse_cpu_path(std::string_view name);

// True if this machine can run `path`.
[[nodiscard]] bool cpu_supports(CpuPath path);

// The widest path this machine supports, capped by PINFER_CPU when set (an unknown value
// throws InvalidArgument; a value the CPU cannot run is capped to what it can).
[[nodiscard]] CpuPath preferred_cpu_path();

// Overrides the cap that PINFER_CPU would set (used by `pinfer --cpu`); call before any
// kernel runs.
void set_cpu_path_cap(CpuPath cap);

}  // namespace pinfer
