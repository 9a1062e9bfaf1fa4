#include "pinfer/he/lphe.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "pinfer/core/error.hpp"

namespace pinfer::he {
namespace {

// Runs job(k) for k in [0, count) on `threads` threads; rethrows the first exception.
template <typename Job>
void run_parallel(std::size_t count, std::size_t threads, Job&& job) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mu;
  auto worker = [&] {
    try {
      Prg prg;  // OS-seeded, one per thread
      for (std::size_t k = next++; k < count && !failed.load(); k = next++) job(k, prg);
    } catch (...) {
      std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  const std::size_t extra = std::min(threads, count) > 0 ? std::min(threads, count) - 1 : 0;
  for (std::size_t i = 0; i < extra; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

std::vector<std::vector<std::byte>> evaluate_layers(std::span<const LayerTask> tasks,
                                                    const PublicKey& pk, std::size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (const LayerTask& t : tasks) {
    if (t.server == nullptr) throw InvalidArgument("LPHE task without a layer");
    const LinearPlan& p = t.server->plan();
    const std::size_t out = p.out_channels * p.out_h * p.out_w;
    if (t.s_out.size() != out) {
      throw InvalidArgument("LPHE mask output has " + std::to_string(t.s_out.size()) +
                            " elements, layer output has " + std::to_string(out));
    }
  }
  std::vector<std::shared_ptr<const LinearServer::ParsedQuery>> parsed(tasks.size());
  std::vector<std::vector<std::byte>> responses(tasks.size());
  run_parallel(tasks.size(), threads, [&](std::size_t k, Prg&) {
    parsed[k] = tasks[k].server->parse_query(tasks[k].query);
    responses[k].resize(tasks[k].server->plan().response_bytes);
    tasks[k].server->write_response_header(responses[k]);
  });
  // Work items, biggest layers first so the tail is short: (task, group).
  std::vector<std::pair<std::size_t, std::size_t>> items;
  for (std::size_t k = 0; k < tasks.size(); ++k) {
    for (std::size_t g = 0; g < tasks[k].server->plan().n_groups; ++g) items.emplace_back(k, g);
  }
  run_parallel(items.size(), threads, [&](std::size_t i, Prg& prg) {
    const auto [k, g] = items[i];
    tasks[k].server->evaluate_group(*parsed[k], pk, g, prg, responses[k], tasks[k].s_out);
  });
  return responses;
}

}  // namespace pinfer::he
