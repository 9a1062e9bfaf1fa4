#include "pinfer/core/detail/cpu_features.hpp"

#include <cpuid.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

CpuFeatures detect() {
  __builtin_cpu_init();
  CpuFeatures f;
  f.aesni = __builtin_cpu_supports("aes");
  f.pclmul = __builtin_cpu_supports("pclmul");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512ifma = __builtin_cpu_supports("avx512ifma");
#if defined(__clang__) && __clang_major__ < 15
  // clang 14's __builtin_cpu_supports knows neither "vaes" nor "vpclmulqdq": read CPUID leaf 7
  // (ECX bits 9 and 10, Intel SDM Vol. 2A, CPUID). Both need OS-enabled AVX state, which the
  // avx2 check above already includes.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool leaf7 = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0;
  f.vaes = f.avx2 && leaf7 && ((ecx >> 9) & 1u) != 0;
  f.vpclmulqdq = f.avx2 && leaf7 && ((ecx >> 10) & 1u) != 0;
#else
  f.vaes = __builtin_cpu_supports("vaes");
  f.vpclmulqdq = __builtin_cpu_supports("vpclmulqdq");
#endif
  return f;
}

// -1: no explicit cap; otherwise the CpuPath value.
std::atomic<int> g_cap{-1};

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

std::vector<std::string> cpu_feature_names() {
  const CpuFeatures& f = cpu_features();
  std::vector<std::string> names;
  auto add = [&](bool has, const char* name) {
    if (has) names.emplace_back(name);
  };
  add(f.aesni, "aes");
  add(f.pclmul, "pclmul");
  add(f.avx2, "avx2");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.avx512dq, "avx512dq");
  add(f.avx512ifma, "avx512ifma");
  add(f.vaes, "vaes");
  add(f.vpclmulqdq, "vpclmulqdq");
  return names;
}

std::string_view to_string(CpuPath path) {
  switch (path) {
    case CpuPath::openssl:
      return "openssl";
    case CpuPath::aesni:
      return "aesni";
    case CpuPath::vaes:
      return "vaes";
  }
  return "unknown";
}

CpuPath parse_cpu_path(std::string_view name) {
  if (name == "openssl") return CpuPath::openssl;
  if (name == "aesni") return CpuPath::aesni;
  if (name == "vaes") return CpuPath::vaes;
  if (name == "portable") {
    // Renamed: that path's AES is OpenSSL's, which uses AES-NI wherever the CPU has it, so the
    // old name promised a portability it did not give.
    throw InvalidArgument(
        "cpu path 'portable' is now called 'openssl' (its AES runs in OpenSSL, which uses the "
        "CPU's AES instructions when present); use 'openssl'");
  }
  throw InvalidArgument("cpu path '" + std::string(name) + "' is not one of openssl, aesni, vaes");
}

bool cpu_supports(CpuPath path) {
  const CpuFeatures& f = cpu_features();
  switch (path) {
    case CpuPath::openssl:
      return true;
    case CpuPath::aesni:
      return f.aesni && f.pclmul;
    case CpuPath::vaes:
      return f.aesni && f.vaes && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
  }
  return false;
}

void set_cpu_path_cap(CpuPath cap) {
  g_cap.store(static_cast<int>(cap));
}

CpuPath preferred_cpu_path() {
  int cap = g_cap.load();
  if (cap < 0) {
    if (const char* env = std::getenv("PINFER_CPU"); env != nullptr && *env != '\0') {
      cap = static_cast<int>(parse_cpu_path(env));
    } else {
      cap = static_cast<int>(CpuPath::vaes);
    }
  }
  for (int p = cap; p > 0; --p) {
    if (cpu_supports(static_cast<CpuPath>(p))) return static_cast<CpuPath>(p);
  }
  return CpuPath::openssl;
}

}  // namespace pinfer
