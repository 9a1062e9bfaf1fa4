// Steps shared by the garbled-circuit phases of both protocols (gc_phases.hpp).
#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

#include "frames.hpp"
#include "gc_phases.hpp"
#include "pinfer/core/cpu_time.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/gc/half_gates.hpp"

namespace pinfer::protocol::detail {

void gather_share_bits(const StagePlan& s, const ChunkRange& chunk, const RingTensor& share,
                       std::span<uint8_t> bits) {
  const unsigned l = s.l();
  const uint64_t a_bits = s.a_bits_per_instance();
  PINFER_ASSERT(bits.size() == chunk.count * a_bits);
  for (std::size_t i = 0; i < chunk.count; ++i) {
    for (unsigned j = 0; j < s.elements; ++j) {
      word_to_bits(share[s.pre_index(chunk.first + i, j)],
                   std::span(bits.data() + i * a_bits + j * l, l));
    }
  }
}

void receive_garbled_chunk(Channel& ch, const StagePlan& s, const ChunkRange& chunk,
                           ByteSink& out) {
  const uint64_t expect = gc::garbled_stream_bytes(s.circuit->circuit, chunk.count, s.scheme);
  const std::vector<std::byte> tables = ch.recv(frames::kGarbledChunk, expect);
  if (tables.size() != expect) {
    throw ProtocolError("garbled chunk has " + std::to_string(tables.size()) + " bytes, expected " +
                        std::to_string(expect));
  }
  out.write(tables);
}

void run_pipelined(Channel& ch, PhaseCost& cost, LayerCost& layer,
                   const std::function<void(PhaseCost&, LayerCost&)>& produce,
                   const std::function<void()>& consume) {
  PhaseCost produce_cost;
  LayerCost produce_layer;
  std::exception_ptr produce_error;
  std::thread producer([&] {
    try {
      // All CPU of this thread counts toward the side's total (not a step of its own).
      ScopedTimer busy(produce_cost, Component::cpu_total);
      produce(produce_cost, produce_layer);
      ch.flush();
    } catch (...) {
      produce_error = std::current_exception();
      ch.close();
    }
  });
  try {
    consume();
  } catch (...) {
    ch.close();
    producer.join();
    throw;
  }
  producer.join();
  if (produce_error) std::rethrow_exception(produce_error);
  for (const auto& [k, v] : produce_cost.components) cost.components[k] += v;
  for (const auto& [k, v] : produce_layer.seconds) layer.seconds[k] += v;
}

double parallel_ranges(unsigned threads, std::size_t n,
                       const std::function<void(std::size_t, std::size_t)>& fn) {
  // Below this many items a thread costs more than it saves.
  constexpr std::size_t kMinPerThread = 1024;
  const std::size_t pieces =
      std::max<std::size_t>(1, std::min<std::size_t>(threads, n / kMinPerThread));
  if (pieces <= 1) {
    fn(0, n);
    return 0;
  }
  std::vector<std::exception_ptr> errors(pieces);
  std::vector<double> cpu(pieces, 0);
  const auto piece = [&](std::size_t p) {
    const double c0 = thread_cpu_seconds();
    try {
      fn(n * p / pieces, n * (p + 1) / pieces);
    } catch (...) {
      errors[p] = std::current_exception();
    }
    cpu[p] = thread_cpu_seconds() - c0;
  };
  {
    std::vector<std::jthread> helpers;
    helpers.reserve(pieces - 1);
    for (std::size_t p = 1; p < pieces; ++p) helpers.emplace_back(piece, p);
    piece(0);
  }
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  double helper_cpu = 0;
  for (std::size_t p = 1; p < pieces; ++p) helper_cpu += cpu[p];
  return helper_cpu;
}

}  // namespace pinfer::protocol::detail
