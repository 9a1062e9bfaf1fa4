#include "pinfer/gc/half_gates.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "garble_plan.hpp"
#include "gc_avx512.hpp"
#include "half_gates_kernels.hpp"
#include "pinfer/core/aes.hpp"
#include "pinfer/core/cpu_time.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/core/serialization.hpp"
#include "stream_checksum.hpp"
#include "three_halves_kernels.hpp"

namespace pinfer::gc {
namespace {

constexpr uint64_t kStreamMagic = 0x3130304347464E50ull;  // "PNFGC001"
constexpr uint32_t kStreamVersion = 2;         // 2: scheme and per-call hash key in the header
constexpr uint32_t kBatchMagic = 0x54414247u;  // "GBAT"
// One batch's wire labels and tables should stay in L2 (1 MiB per core here) or close to it:
// a gate's inputs are then read from cache while its n outputs are written. Large circuits get
// small batches (down to one instance), so memory stays bounded whatever the circuit.
constexpr uint64_t kBatchTargetBytes = 2 * 1024 * 1024;
constexpr uint64_t kMinBatch = 1, kMaxBatch = 1024;

// Overflow-checked arithmetic on the caller's sizes (InvalidArgument: these are arguments, not
// untrusted bytes).
uint64_t arg_mul(uint64_t a, uint64_t b, const char* what) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r))
    throw InvalidArgument(std::string(what) + " overflows 64 bits");
  return r;
}

uint64_t arg_add(uint64_t a, uint64_t b, const char* what) {
  uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r))
    throw InvalidArgument(std::string(what) + " overflows 64 bits");
  return r;
}

using GarbleFn = void (*)(const Aes128&, const Block*, const Block*, const Block&, const Block&,
                          const Block&, uint64_t, uint64_t, Block*, Block*, Block*,
                          std::size_t) noexcept;
using EvalFn = void (*)(const Aes128&, const Block*, const Block*, const Block*, const Block*,
                        uint64_t, uint64_t, Block*, std::size_t) noexcept;

GarbleFn garble_fn(CpuPath path) {
  switch (path) {
    case CpuPath::vaes:
      return &detail::garble_and_vaes;
    case CpuPath::aesni:
      return &detail::garble_and_aesni;
    case CpuPath::openssl:
      break;
  }
  return &detail::garble_and_portable;
}

EvalFn eval_fn(CpuPath path) {
  switch (path) {
    case CpuPath::vaes:
      return &detail::eval_and_vaes;
    case CpuPath::aesni:
      return &detail::eval_and_aesni;
    case CpuPath::openssl:
      break;
  }
  return &detail::eval_and_portable;
}

// Known-answer check of a fast path against the portable kernels before it is trusted: 13
// instances cover the full-width loops and every tail length.
bool self_test(CpuPath path) {
  constexpr std::size_t n = 13;
  std::vector<Block> a(n), b(n), c(n), tg(n), te(n), c_ref(n), tg_ref(n), te_ref(n), e(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = Block(0x0123456789ABCDEFull * (i + 1), 0xFEDCBA9876543210ull ^ i);
    b[i] = Block(0x1111111111111111ull * (i + 3), 0x0F0F0F0F0F0F0F0Full + 7 * i);
  }
  const Block delta(0x5555555555555555ull, 0xAAAAAAAAAAAAAAAAull);
  const Aes128& pi = detail::fixed_key_aes();
  const Block none;
  detail::garble_and_portable(pi, a.data(), b.data(), delta, delta, none, 77, 5, c_ref.data(),
                              tg_ref.data(), te_ref.data(), n);
  garble_fn(path)(pi, a.data(), b.data(), delta, delta, none, 77, 5, c.data(), tg.data(), te.data(),
                  n);
  eval_fn(path)(pi, a.data(), b.data(), tg.data(), te.data(), 77, 5, e.data(), n);
  return c == c_ref && tg == tg_ref && te == te_ref && e == c;
}

CpuPath choose_path() {
  for (CpuPath p = aes_active_path(); p != CpuPath::openssl;
       p = static_cast<CpuPath>(static_cast<int>(p) - 1)) {
    if (cpu_supports(p) && self_test(p)) return p;
  }
  return CpuPath::openssl;
}

struct Shape {
  uint64_t instances = 0;
  uint32_t batch = 0;
  detail::GarblePlan plan;
};

uint32_t batch_for(const detail::GarblePlan& plan, uint64_t and_count) {
  const uint64_t per_instance = uint64_t{plan.num_slots} * 16 + and_count * kAndTableBytes + 1;
  uint64_t b = std::clamp(kBatchTargetBytes / per_instance, kMinBatch, kMaxBatch);
  if (b >= 16) b -= b % 16;  // whole VAES steps
  return static_cast<uint32_t>(b);
}

Shape check_call(const Circuit& circuit, std::size_t input_labels, std::size_t output_labels,
                 uint64_t gate_index_start, const GcOptions& opt) {
  const CpuPath path = opt.path;
  if (opt.threads == 0) throw InvalidArgument("garbling: threads must be at least 1");
  if (opt.scheme != GcScheme::half_gates && opt.scheme != GcScheme::three_halves) {
    throw InvalidArgument("garbling: unknown scheme " +
                          std::to_string(static_cast<uint32_t>(opt.scheme)));
  }
  if (circuit.num_inputs() == 0) throw InvalidArgument("garbling: circuit has no inputs");
  if (input_labels % circuit.num_inputs() != 0) {
    throw InvalidArgument("garbling: " + std::to_string(input_labels) +
                          " input labels are not a multiple of num_inputs " +
                          std::to_string(circuit.num_inputs()));
  }
  Shape s;
  s.instances = input_labels / circuit.num_inputs();
  if (arg_mul(s.instances, uint64_t{circuit.num_outputs()}, "output labels") != output_labels) {
    throw InvalidArgument("garbling: output span holds " + std::to_string(output_labels) +
                          " labels, need " + std::to_string(s.instances) + " x " +
                          std::to_string(circuit.num_outputs()));
  }
  const uint64_t end = arg_add(
      gate_index_start, arg_mul(s.instances, circuit.and_count(), "gate indices"), "gate indices");
  if (end > kMaxGateIndex) {
    throw InvalidArgument("garbling: gate indices up to " + std::to_string(end) +
                          " exceed the limit 2^62");
  }
  if (!cpu_supports(path)) {
    throw InvalidArgument("garbling: this CPU cannot run kernel path " +
                          std::string(to_string(path)));
  }
  s.plan = detail::make_plan(circuit);
  s.batch = batch_for(s.plan, circuit.and_count());
  return s;
}

std::vector<std::byte> stream_header(const Circuit& circuit, const Shape& s, uint64_t start,
                                     GcScheme scheme, const Block& hash_key) {
  ByteWriter w;
  w.u64(kStreamMagic);
  w.u32(kStreamVersion);
  w.u32(s.batch);
  w.u64(circuit_digest(circuit));
  w.u64(circuit.and_count());
  w.u64(s.instances);
  w.u64(start);
  w.u32(static_cast<uint32_t>(scheme));
  w.u32(0);
  w.u64(hash_key.lo);
  w.u64(hash_key.hi);
  PINFER_ASSERT(w.size() == kStreamHeaderBytes);
  return w.take();
}

Block batch_checksum(std::span<const std::byte> stream_header, std::span<const std::byte> header,
                     std::span<const std::byte> tables) {
  detail::StreamChecksum sum;
  sum.update(stream_header);
  sum.update(header);
  sum.update(tables);
  return sum.finish();
}

// Transposes are tiled over kTile instances: the tile's source rows stay in L1 while each
// destination row is written sequentially (a plain double loop strides one side by kilobytes).
constexpr std::size_t kTile = 16;

// [instance][wire] labels of one batch into the [slot][instance] layout the kernels use.
void load_inputs(std::span<const Block> labels, uint32_t num_inputs, uint64_t first, std::size_t n,
                 std::size_t batch, Block* wires) {
  for (std::size_t i0 = 0; i0 < n; i0 += kTile) {
    const std::size_t m = std::min(kTile, n - i0);
    const Block* src = labels.data() + (first + i0) * num_inputs;
    for (uint32_t w = 0; w < num_inputs; ++w) {
      Block* dst = wires + std::size_t{w} * batch + i0;
      for (std::size_t i = 0; i < m; ++i) dst[i] = src[i * num_inputs + w];
    }
  }
}

// Output labels back to [instance][output]; `flip` is Delta for the garbler (inverted outputs
// of the plan get their zero-label flipped) and zero for the evaluator.
void store_outputs(const detail::GarblePlan& plan, const Block& flip, const Block* wires,
                   uint64_t first, std::size_t n, std::size_t batch, std::span<Block> out) {
  const std::size_t outputs = plan.output_slots.size();
  for (std::size_t i0 = 0; i0 < n; i0 += kTile) {
    const std::size_t m = std::min(kTile, n - i0);
    Block* dst = out.data() + (first + i0) * outputs;
    for (std::size_t o = 0; o < outputs; ++o) {
      const Block* src = wires + std::size_t{plan.output_slots[o]} * batch + i0;
      const Block mask = Block::mask_of(plan.output_flip[o]) & flip;
      for (std::size_t i = 0; i < m; ++i) dst[i * outputs + o] = src[i] ^ mask;
    }
  }
}

void xor_rows_portable(const Block* a, const Block* b, Block* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] ^ b[i];
}

using XorFn = void (*)(const Block*, const Block*, Block*, std::size_t) noexcept;

XorFn xor_fn(CpuPath path) {
  return path == CpuPath::vaes ? &detail::xor_rows_avx512 : &xor_rows_portable;
}

}  // namespace

CpuPath gc_active_path() {
  static const CpuPath path = choose_path();
  return path;
}

std::string_view to_string(GcScheme scheme) noexcept {
  return scheme == GcScheme::three_halves ? "three-halves" : "half-gates";
}

GcScheme parse_gc_scheme(std::string_view text) {
  if (text == "half-gates") return GcScheme::half_gates;
  if (text == "three-halves") return GcScheme::three_halves;
  throw InvalidArgument("unknown garbling scheme '" + std::string(text) +
                        "' (expected half-gates or three-halves)");
}

uint32_t batch_instances(const Circuit& circuit) {
  return batch_for(detail::make_plan(circuit), circuit.and_count());
}

uint64_t batch_table_bytes(const Circuit& circuit, GcScheme scheme, uint64_t n) {
  const uint64_t per_gate =
      scheme == GcScheme::three_halves
          ? arg_add(arg_mul(24, n, "table bytes"), 40 * ((n + 63) / 64), "table bytes")
          : arg_mul(kAndTableBytes, n, "table bytes");
  return arg_mul(circuit.and_count(), per_gate, "table bytes");
}

uint64_t garbled_stream_bytes(const Circuit& circuit, uint64_t instances, GcScheme scheme) {
  const uint64_t batch = batch_instances(circuit);
  const uint64_t full = instances / batch, rest = instances % batch;
  const uint64_t batches = full + (rest != 0 ? 1 : 0);
  uint64_t tables = arg_mul(full, batch_table_bytes(circuit, scheme, batch), "stream bytes");
  if (rest != 0) tables = arg_add(tables, batch_table_bytes(circuit, scheme, rest), "stream bytes");
  const uint64_t framing = arg_add(
      kStreamHeaderBytes, arg_mul(batches, kBatchOverheadBytes, "stream bytes"), "stream bytes");
  return arg_add(framing, tables, "stream bytes");
}

uint64_t circuit_digest(const Circuit& circuit) {
  ByteWriter w;
  w.u32(circuit.num_inputs());
  w.u32(circuit.num_wires());
  for (const Gate& g : circuit.gates()) {
    w.u32(static_cast<uint32_t>(g.op));
    w.u32(g.in0);
    w.u32(g.in1);
    w.u32(g.out);
  }
  w.u32(circuit.num_outputs());
  for (uint32_t o : circuit.outputs()) w.u32(o);
  if (w.size() % 8 != 0) w.u32(0);
  detail::StreamChecksum sum;
  sum.update(w.data());
  return sum.finish().lo;
}

namespace {

// One compute thread's buffers (secret): wire labels and kernel scratch of the batch it runs.
struct Worker {
  SecretBuffer<Block> wires;
  SecretBuffer<Block> scratch;  // three-halves kernels
  SecretBuffer<uint8_t> coins;  // three-halves garbler: 2 bits per AND gate of the batch
  SecretBuffer<Block> keystream;
  uint64_t and_gates = 0;
};

// One batch in flight between the I/O thread and a worker: its public tables and framing.
struct Slot {
  std::span<Block> tables;  // a buffer of the calling thread's table cache
  std::byte batch_header[16] = {};
  Block sum;
  std::size_t table_bytes = 0;
  bool checksum_ok = true;
};

// Runs batches 0 .. batches-1. With one thread: prepare, work, flush in turn. With T > 1: T
// worker threads take batches in order as they become available (work(b, slot, t), must not
// throw) while the calling thread prepares batches ahead (prepare(b, slot): the evaluator reads
// tables from the source) and flushes finished ones strictly in batch order (flush(b, slot):
// the garbler writes to the sink); at most `window` batches are in flight, each in slot
// b % window. So the bytes never depend on T, I/O overlaps compute, and no thread waits for a
// round to finish (on a shared machine a descheduled thread only delays its own batch).
// `worker_cpu` gets the CPU seconds the worker threads used (the caller's own CPU time is not
// in it), so a caller timing its thread can add the rest.
template <class Prepare, class Work, class Flush>
void run_batches(unsigned threads, uint64_t batches, std::size_t window, Prepare&& prepare,
                 Work&& work, Flush&& flush, double& worker_cpu) {
  if (threads <= 1 || batches <= 1) {
    for (uint64_t b = 0; b < batches; ++b) {
      prepare(b, std::size_t{0});
      work(b, std::size_t{0}, 0u);
      flush(b, std::size_t{0});
    }
    return;
  }
  std::mutex mu;
  std::condition_variable work_ready, batch_done;
  uint64_t loaded = 0, claimed = 0;
  std::vector<uint8_t> done(window, 0);
  bool stop = false;
  std::vector<std::jthread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const double cpu0 = thread_cpu_seconds();
      for (;;) {
        uint64_t b = 0;
        {
          std::unique_lock lock(mu);
          work_ready.wait(lock, [&] { return stop || claimed < loaded; });
          if (stop) {
            worker_cpu += thread_cpu_seconds() - cpu0;
            return;
          }
          b = claimed++;
        }
        work(b, static_cast<std::size_t>(b % window), t);
        {
          std::lock_guard lock(mu);
          done[b % window] = 1;
        }
        batch_done.notify_one();
      }
    });
  }
  const auto finish = [&] {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    work_ready.notify_all();
    pool.clear();  // joins; a worker mid-batch finishes it first
  };
  try {
    for (uint64_t flushed = 0; flushed < batches; ++flushed) {
      // Slot loaded % window is free once batch loaded - window has been flushed.
      while (loaded < batches && loaded < flushed + window) {
        prepare(loaded, static_cast<std::size_t>(loaded % window));
        {
          std::lock_guard lock(mu);
          ++loaded;
        }
        work_ready.notify_one();
      }
      const std::size_t slot = static_cast<std::size_t>(flushed % window);
      {
        std::unique_lock lock(mu);
        batch_done.wait(lock, [&] { return done[slot] != 0; });
        done[slot] = 0;
      }
      flush(flushed, slot);
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
}

std::vector<Worker> make_workers(unsigned threads, const Shape& s, uint64_t and_count,
                                 GcScheme scheme, bool garbler) {
  const std::size_t batch = s.batch;
  const bool three = scheme == GcScheme::three_halves;
  std::vector<Worker> workers(threads);
  for (Worker& w : workers) {
    w.wires = SecretBuffer<Block>(std::size_t{s.plan.num_slots} * batch);
    w.scratch = SecretBuffer<Block>(three ? detail::three_halves_scratch_blocks(batch) : 0);
    w.coins = SecretBuffer<uint8_t>(three && garbler ? and_count * batch : 0);
    w.keystream = SecretBuffer<Block>(three && garbler ? (2 * and_count * batch + 127) / 128 : 0);
  }
  return workers;
}

// Table buffers of the batches in flight, kept per calling thread across calls: they are
// public, and allocating (and faulting in) megabytes per call cost more than the garbling of a
// small call. Only grows; at most 2 x threads buffers of one batch's tables each.
std::vector<Slot> make_slots(std::size_t count, const Shape& s, GcScheme scheme,
                             const Circuit& circuit) {
  thread_local std::vector<std::vector<Block>> cache;
  const std::size_t table_blocks =
      static_cast<std::size_t>((batch_table_bytes(circuit, scheme, s.batch) + 15) / 16);
  if (cache.size() < count) cache.resize(count);
  std::vector<Slot> slots(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (cache[i].size() < table_blocks) cache[i].resize(table_blocks);
    slots[i].tables = std::span<Block>(cache[i].data(), table_blocks);
  }
  return slots;
}

unsigned thread_count(const GcOptions& opt, const Shape& s) {
  const uint64_t batches = (s.instances + s.batch - 1) / s.batch;
  return static_cast<unsigned>(std::max<uint64_t>(1, std::min<uint64_t>(opt.threads, batches)));
}

// Batches in flight: two per thread keeps every worker busy while the I/O thread flushes.
std::size_t window_for(unsigned threads) {
  return threads <= 1 ? 1 : 2 * std::size_t{threads};
}

}  // namespace

GarbleStats garble_batch(const Circuit& circuit, std::span<const Block> input_zero_labels,
                         const Delta& delta, uint64_t gate_index_start, ByteSink& sink,
                         std::span<Block> output_zero_labels, CpuPath path) {
  GcOptions opt;
  opt.path = path;
  return garble_batch(circuit, input_zero_labels, delta, gate_index_start, sink, output_zero_labels,
                      opt);
}

GarbleStats evaluate_batch(const Circuit& circuit, std::span<const Block> input_labels,
                           uint64_t gate_index_start, ByteSource& source,
                           std::span<Block> output_labels, CpuPath path) {
  GcOptions opt;
  opt.path = path;
  return evaluate_batch(circuit, input_labels, gate_index_start, source, output_labels, opt);
}

GarbleStats garble_batch(const Circuit& circuit, std::span<const Block> input_zero_labels,
                         const Delta& delta, uint64_t gate_index_start, ByteSink& sink,
                         std::span<Block> output_zero_labels, const GcOptions& opt) {
  const Shape s = check_call(circuit, input_zero_labels.size(), output_zero_labels.size(),
                             gate_index_start, opt);
  const CpuPath path = opt.path;
  const GcScheme scheme = opt.scheme;
  const bool three = scheme == GcScheme::three_halves;
  const GarbleFn garble_and = garble_fn(path);
  const XorFn xor_rows = xor_fn(path);
  const Aes128 pi(opt.hash_key.value_or(os_random_block()));  // public per-call key
  const Aes128 coin_prf(three ? opt.coin_seed.value_or(os_random_block()) : Block());
  const std::size_t batch = s.batch;
  const uint64_t and_count = circuit.and_count();
  const unsigned threads = thread_count(opt, s);
  std::vector<Worker> workers = make_workers(threads, s, and_count, scheme, true);
  const std::size_t window = window_for(threads);
  std::vector<Slot> slots = make_slots(window, s, scheme, circuit);

  const std::vector<std::byte> header =
      stream_header(circuit, s, gate_index_start, scheme, pi.key());
  sink.write(header);
  GarbleStats stats;
  stats.stream_bytes = header.size();

  const uint64_t batches = (s.instances + batch - 1) / batch;
  auto work = [&](uint64_t number, std::size_t slot, unsigned t) {
    Worker& wk = workers[t];
    Slot& sl = slots[slot];
    const uint64_t first = number * batch;
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(batch, s.instances - first));
    Block* w = wk.wires.data();
    load_inputs(input_zero_labels, circuit.num_inputs(), first, n, batch, w);
    sl.table_bytes = static_cast<std::size_t>(batch_table_bytes(circuit, scheme, n));
    const std::size_t gate_words = detail::three_halves_gate_bytes(n) / 8;
    if (three) {
      // Coins: 2 bits per AND gate from AES-CTR under the secret coin key, keyed by batch
      // number and position, so they do not depend on the thread that garbles the batch.
      const std::size_t blocks = (2 * and_count * n + 127) / 128;
      coin_prf.ctr_keystream(0, number, wk.keystream.span().first(blocks));
      const auto* words = reinterpret_cast<const uint64_t*>(wk.keystream.data());
      for (std::size_t q = 0; q < and_count * n; ++q) {
        wk.coins[q] = static_cast<uint8_t>((words[q / 32] >> (2 * (q % 32))) & 3);
      }
    }
    uint64_t k = 0;
    for (const detail::PlanOp& op : s.plan.ops) {
      Block* out = w + std::size_t{op.out} * batch;
      const Block* in0 = w + std::size_t{op.s0} * batch;
      const Block* in1 = w + std::size_t{op.s1} * batch;
      if (!op.is_and) {
        xor_rows(in0, in1, out, n);
        continue;
      }
      const Block fa = Block::mask_of(op.flip0) & delta, fb = Block::mask_of(op.flip1) & delta;
      const uint64_t g = gate_index_start + first * and_count + k;
      if (three) {
        auto* m = reinterpret_cast<uint64_t*>(sl.tables.data()) + k * gate_words;
        if (path == CpuPath::vaes) {
          detail::garble_and_three_halves_vaes(pi, in0, in1, delta, fa, fb, g, and_count,
                                               wk.coins.data() + k * n, out, m, n,
                                               wk.scratch.data());
        } else {
          detail::garble_and_three_halves(pi, path, in0, in1, delta, fa, fb, g, and_count,
                                          wk.coins.data() + k * n, out, m, n, wk.scratch.data());
        }
      } else {
        Block* tb = sl.tables.data() + k * 2 * n;
        garble_and(pi, in0, in1, delta, fa, fb, g, and_count, out, tb, tb + n, n);
      }
      wk.and_gates += n;
      ++k;
    }
    store_outputs(s.plan, delta, w, first, n, batch, output_zero_labels);
    ByteWriter bh;
    bh.u32(kBatchMagic);
    bh.u32(static_cast<uint32_t>(n));
    bh.u64(number);
    std::memcpy(sl.batch_header, bh.data().data(), sizeof sl.batch_header);
    sl.sum =
        batch_checksum(header, sl.batch_header, std::as_bytes(sl.tables).first(sl.table_bytes));
  };
  auto flush = [&](uint64_t number, std::size_t slot) {
    Slot& sl = slots[slot];
    const uint64_t first = number * batch;
    const std::span<const std::byte> tables = std::as_bytes(sl.tables).first(sl.table_bytes);
    sink.write(sl.batch_header);
    sink.write(tables);
    sink.write(std::as_bytes(std::span<const Block>(&sl.sum, 1)));
    stats.table_bytes += tables.size();
    stats.stream_bytes += sizeof sl.batch_header + tables.size() + sizeof(Block);
    stats.instances += std::min<uint64_t>(batch, s.instances - first);
  };
  run_batches(
      threads, batches, window, [](uint64_t, std::size_t) {}, work, flush,
      stats.worker_cpu_seconds);
  for (const Worker& wk : workers) stats.and_gates += wk.and_gates;
  stats.next_gate_index = gate_index_start + s.instances * and_count;
  return stats;
}

GarbleStats evaluate_batch(const Circuit& circuit, std::span<const Block> input_labels,
                           uint64_t gate_index_start, ByteSource& source,
                           std::span<Block> output_labels, const GcOptions& opt) {
  const Shape s =
      check_call(circuit, input_labels.size(), output_labels.size(), gate_index_start, opt);
  const CpuPath path = opt.path;
  const GcScheme scheme = opt.scheme;
  const bool three = scheme == GcScheme::three_halves;
  const EvalFn eval_and = eval_fn(path);
  const XorFn xor_rows = xor_fn(path);
  const std::size_t batch = s.batch;
  const uint64_t and_count = circuit.and_count();

  // The header must match what this side expects field by field: a stream for another
  // circuit, instance count, tweak range or scheme would otherwise evaluate to garbage
  // silently. The hash key is the garbler's choice and is taken as sent.
  std::vector<std::byte> header(kStreamHeaderBytes);
  source.read(header);
  Block hash_key;
  {
    ByteReader got(header);
    hash_key = Block(0, 0);
    const std::vector<std::byte> expected =
        stream_header(circuit, s, gate_index_start, scheme, Block());
    ByteReader want(expected);
    constexpr const char* kFields[] = {
        "magic",     "version",          "batch_instances", "circuit_digest", "and_count",
        "instances", "gate_index_start", "scheme",          "reserved"};
    for (int f = 0; f < 9; ++f) {
      const bool wide = f == 0 || (f >= 3 && f <= 6);
      const uint64_t a = wide ? got.u64(kFields[f]) : got.u32(kFields[f]);
      const uint64_t b = wide ? want.u64(kFields[f]) : want.u32(kFields[f]);
      if (a != b) {
        throw FormatError(std::string("garbled stream header field ") + kFields[f] + " is " +
                          std::to_string(a) + ", expected " + std::to_string(b));
      }
    }
    hash_key.lo = got.u64("hash key");
    hash_key.hi = got.u64("hash key");
  }
  const Aes128 pi(hash_key);
  const unsigned threads = thread_count(opt, s);
  std::vector<Worker> workers = make_workers(threads, s, and_count, scheme, false);
  const std::size_t window = window_for(threads);
  std::vector<Slot> slots = make_slots(window, s, scheme, circuit);
  GarbleStats stats;
  stats.stream_bytes = header.size();

  const uint64_t batches = (s.instances + batch - 1) / batch;
  auto prepare = [&](uint64_t number, std::size_t slot) {
    Slot& sl = slots[slot];
    const uint64_t first = number * batch;
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(batch, s.instances - first));
    source.read(sl.batch_header);
    ByteReader bh(sl.batch_header);
    const uint32_t magic = bh.u32("batch magic");
    const uint32_t got_n = bh.u32("batch instances");
    const uint64_t got_number = bh.u64("batch number");
    if (magic != kBatchMagic || got_n != n || got_number != number) {
      throw FormatError("garbled batch " + std::to_string(number) + " header: magic " +
                        std::to_string(magic) + ", instances " + std::to_string(got_n) +
                        " (expected " + std::to_string(n) + "), number " +
                        std::to_string(got_number));
    }
    sl.table_bytes = static_cast<std::size_t>(batch_table_bytes(circuit, scheme, n));
    source.read(std::as_writable_bytes(sl.tables).first(sl.table_bytes));
    source.read(std::as_writable_bytes(std::span<Block>(&sl.sum, 1)));
  };
  auto work = [&](uint64_t number, std::size_t slot, unsigned t) {
    Worker& wk = workers[t];
    Slot& sl = slots[slot];
    const uint64_t first = number * batch;
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(batch, s.instances - first));
    const std::span<const std::byte> tables = std::as_bytes(sl.tables).first(sl.table_bytes);
    sl.checksum_ok = sl.sum == batch_checksum(header, sl.batch_header, tables);
    if (!sl.checksum_ok) return;
    Block* w = wk.wires.data();
    load_inputs(input_labels, circuit.num_inputs(), first, n, batch, w);
    const std::size_t gate_words = detail::three_halves_gate_bytes(n) / 8;
    uint64_t k = 0;
    for (const detail::PlanOp& op : s.plan.ops) {
      Block* out = w + std::size_t{op.out} * batch;
      const Block* in0 = w + std::size_t{op.s0} * batch;
      const Block* in1 = w + std::size_t{op.s1} * batch;
      if (!op.is_and) {
        xor_rows(in0, in1, out, n);
        continue;
      }
      const uint64_t g = gate_index_start + first * and_count + k;
      if (three) {
        const auto* m = reinterpret_cast<const uint64_t*>(sl.tables.data()) + k * gate_words;
        if (path == CpuPath::vaes) {
          detail::eval_and_three_halves_vaes(pi, in0, in1, g, and_count, m, out, n,
                                             wk.scratch.data());
        } else {
          detail::eval_and_three_halves(pi, path, in0, in1, g, and_count, m, out, n,
                                        wk.scratch.data());
        }
      } else {
        const Block* tb = sl.tables.data() + k * 2 * n;
        eval_and(pi, in0, in1, tb, tb + n, g, and_count, out, n);
      }
      wk.and_gates += n;
      ++k;
    }
    store_outputs(s.plan, Block(), w, first, n, batch, output_labels);
  };
  auto flush = [&](uint64_t number, std::size_t slot) {
    Slot& sl = slots[slot];
    if (!sl.checksum_ok) {
      throw FormatError("garbled batch " + std::to_string(number) +
                        " checksum mismatch (stream corrupted)");
    }
    stats.table_bytes += sl.table_bytes;
    stats.stream_bytes += sizeof sl.batch_header + sl.table_bytes + sizeof(Block);
    stats.instances += std::min<uint64_t>(batch, s.instances - number * batch);
  };
  run_batches(threads, batches, window, prepare, work, flush, stats.worker_cpu_seconds);
  for (const Worker& wk : workers) stats.and_gates += wk.and_gates;
  stats.next_gate_index = gate_index_start + s.instances * and_count;
  return stats;
}

}  // namespace pinfer::gc
