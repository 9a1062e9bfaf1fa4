// Fuzz target: the precompute store's MANIFEST parser, reached as the server reaches it: a
// ready entry ready/c1/e1/ with one data file is opened (recovery scan) and taken.
// Byte 0, bit 0 set: the input is the MANIFEST body and the target appends the valid
// "end <sha256>" line, so the fuzzer gets past the checksum into the line parser; clear: the
// input is the whole file.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "pinfer/core/sha256.hpp"
#include "pinfer/store/precompute_store.hpp"

using namespace pinfer;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const fs::path root = fuzz::scratch_dir() / "store";
  fs::remove_all(root);
  const store::StoreLimits limits{uint64_t{1} << 20, 0};
  { store::PrecomputeStore create(root, limits); }
  const fs::path entry = root / "ready" / "c1" / "e1";
  fs::create_directories(entry);
  write_file(entry / "a.bin", "hello");
  std::string manifest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) manifest += "end " + sha256_hex(manifest) + "\n";
  write_file(entry / "MANIFEST", manifest);
  fuzz::expect_clean([&] {
    store::PrecomputeStore store(root, limits);
    if (auto taken = store.take_oldest("c1")) (void)taken->path("a.bin");
  });
  return 0;
}
