#pragma once
// Layer-parallel HE (LPHE): the offline HE of the linear layers of a network is independent per
// layer, so the server evaluates all layers' queries concurrently on a pool of std::threads.
// Work items are (layer, output-channel group), so one big layer is also split across threads.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pinfer/he/keys.hpp"
#include "pinfer/he/linear.hpp"

namespace pinfer::he {

struct LayerTask {
  const LinearServer* server = nullptr;
  std::span<const std::byte> query;
  std::span<uint64_t> s_out;  // the layer's mask s, output layout
};

// Returns the responses in task order, each identical in distribution to
// tasks[i].server->evaluate(...). Every worker draws from its own OS-seeded Prg.
// threads == 0 means std::thread::hardware_concurrency(). Throws what evaluate() throws (the
// first error, after all workers stopped).
[[nodiscard]] std::vector<std::vector<std::byte>> evaluate_layers(std::span<const LayerTask> tasks,
                                                                  const PublicKey& pk,
                                                                  std::size_t threads);

}  // namespace pinfer::he
