#include "pinfer/gc/half_gates.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "garble_plan.hpp"
#include "gc_avx512.hpp"
#include "half_gates_kernels.hpp"
#include "pinfer/core/aes.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/core/serialization.hpp"
#include "stream_checksum.hpp"

namespace pinfer::gc {
namespace {

constexpr uint64_t kStreamMagic = 0x3130304347464E50ull;  // "PNFGC001"
constexpr uint32_t kStreamVersion = 1;
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
    case CpuPath::portable:
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
    case CpuPath::portable:
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
  for (CpuPath p = aes_active_path(); p != CpuPath::portable;
       p = static_cast<CpuPath>(static_cast<int>(p) - 1)) {
    if (cpu_supports(p) && self_test(p)) return p;
  }
  return CpuPath::portable;
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
                 uint64_t gate_index_start, CpuPath path) {
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

std::vector<std::byte> stream_header(const Circuit& circuit, const Shape& s, uint64_t start) {
  ByteWriter w;
  w.u64(kStreamMagic);
  w.u32(kStreamVersion);
  w.u32(s.batch);
  w.u64(circuit_digest(circuit));
  w.u64(circuit.and_count());
  w.u64(s.instances);
  w.u64(start);
  PINFER_ASSERT(w.size() == kStreamHeaderBytes);
  return w.take();
}

Block batch_checksum(std::span<const std::byte> stream_header, std::span<const std::byte> header,
                     std::span<const Block> tables) {
  detail::StreamChecksum sum;
  sum.update(stream_header);
  sum.update(header);
  sum.update(std::as_bytes(tables));
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

uint32_t batch_instances(const Circuit& circuit) {
  return batch_for(detail::make_plan(circuit), circuit.and_count());
}

uint64_t garbled_stream_bytes(const Circuit& circuit, uint64_t instances) {
  const uint64_t batch = batch_instances(circuit);
  const uint64_t batches = instances / batch + (instances % batch != 0 ? 1 : 0);
  const uint64_t tables = arg_mul(arg_mul(instances, circuit.and_count(), "stream bytes"),
                                  kAndTableBytes, "stream bytes");
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

GarbleStats garble_batch(const Circuit& circuit, std::span<const Block> input_zero_labels,
                         const Block& delta, uint64_t gate_index_start, GarbledSink& sink,
                         std::span<Block> output_zero_labels, CpuPath path) {
  const Shape s = check_call(circuit, input_zero_labels.size(), output_zero_labels.size(),
                             gate_index_start, path);
  if (!delta.lsb()) throw InvalidArgument("garbling: lsb(delta) must be 1 (point-and-permute)");
  const GarbleFn garble_and = garble_fn(path);
  const XorFn xor_rows = xor_fn(path);
  const Aes128& pi = detail::fixed_key_aes();
  const std::size_t batch = s.batch;
  const uint64_t and_count = circuit.and_count();

  SecretBuffer<Block> wires(std::size_t{s.plan.num_slots} * batch);
  std::vector<Block> tables(and_count * 2 * batch);  // public: sent to the evaluator
  const std::vector<std::byte> header = stream_header(circuit, s, gate_index_start);
  sink.write(header);

  GarbleStats stats;
  stats.stream_bytes = header.size();
  uint64_t batch_number = 0;
  for (uint64_t first = 0; first < s.instances; first += batch, ++batch_number) {
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(batch, s.instances - first));
    Block* w = wires.data();
    load_inputs(input_zero_labels, circuit.num_inputs(), first, n, batch, w);
    uint64_t k = 0;  // AND gates so far in this instance
    for (const detail::PlanOp& op : s.plan.ops) {
      Block* out = w + std::size_t{op.out} * batch;
      const Block* in0 = w + std::size_t{op.s0} * batch;
      const Block* in1 = w + std::size_t{op.s1} * batch;
      if (!op.is_and) {
        xor_rows(in0, in1, out, n);
        continue;
      }
      Block* t = tables.data() + k * 2 * n;
      garble_and(pi, in0, in1, delta, Block::mask_of(op.flip0) & delta,
                 Block::mask_of(op.flip1) & delta, gate_index_start + first * and_count + k,
                 and_count, out, t, t + n, n);
      stats.and_gates += n;
      ++k;
    }
    store_outputs(s.plan, delta, w, first, n, batch, output_zero_labels);

    ByteWriter bh;
    bh.u32(kBatchMagic);
    bh.u32(static_cast<uint32_t>(n));
    bh.u64(batch_number);
    const std::span<const Block> batch_tables(tables.data(), and_count * 2 * n);
    const Block sum = batch_checksum(header, bh.data(), batch_tables);
    sink.write(bh.data());
    sink.write(std::as_bytes(batch_tables));
    sink.write(std::as_bytes(std::span<const Block>(&sum, 1)));
    stats.table_bytes += batch_tables.size_bytes();
    stats.stream_bytes += bh.size() + batch_tables.size_bytes() + sizeof(Block);
    stats.instances += n;
  }
  stats.next_gate_index = gate_index_start + s.instances * and_count;
  return stats;
}

GarbleStats evaluate_batch(const Circuit& circuit, std::span<const Block> input_labels,
                           uint64_t gate_index_start, GarbledSource& source,
                           std::span<Block> output_labels, CpuPath path) {
  const Shape s =
      check_call(circuit, input_labels.size(), output_labels.size(), gate_index_start, path);
  const EvalFn eval_and = eval_fn(path);
  const XorFn xor_rows = xor_fn(path);
  const Aes128& pi = detail::fixed_key_aes();
  const std::size_t batch = s.batch;
  const uint64_t and_count = circuit.and_count();

  // The header must match what this side expects field by field: a stream for another
  // circuit, instance count or tweak range would otherwise evaluate to garbage silently.
  const std::vector<std::byte> expected = stream_header(circuit, s, gate_index_start);
  std::vector<std::byte> header(kStreamHeaderBytes);
  source.read(header);
  {
    ByteReader got(header), want(expected);
    constexpr const char* kFields[] = {"magic",           "version",   "batch_instances",
                                       "circuit_digest",  "and_count", "instances",
                                       "gate_index_start"};
    for (int f = 0; f < 7; ++f) {
      const bool wide = f != 1 && f != 2;
      const uint64_t a = wide ? got.u64(kFields[f]) : got.u32(kFields[f]);
      const uint64_t b = wide ? want.u64(kFields[f]) : want.u32(kFields[f]);
      if (a != b) {
        throw FormatError(std::string("garbled stream header field ") + kFields[f] + " is " +
                          std::to_string(a) + ", expected " + std::to_string(b));
      }
    }
  }

  SecretBuffer<Block> wires(std::size_t{s.plan.num_slots} * batch);
  std::vector<Block> tables(and_count * 2 * batch);
  GarbleStats stats;
  stats.stream_bytes = header.size();
  uint64_t batch_number = 0;
  for (uint64_t first = 0; first < s.instances; first += batch, ++batch_number) {
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(batch, s.instances - first));
    std::byte bh_bytes[16];
    source.read(bh_bytes);
    ByteReader bh(bh_bytes);
    const uint32_t magic = bh.u32("batch magic");
    const uint32_t got_n = bh.u32("batch instances");
    const uint64_t got_number = bh.u64("batch number");
    if (magic != kBatchMagic || got_n != n || got_number != batch_number) {
      throw FormatError("garbled batch " + std::to_string(batch_number) + " header: magic " +
                        std::to_string(magic) + ", instances " + std::to_string(got_n) +
                        " (expected " + std::to_string(n) + "), number " +
                        std::to_string(got_number));
    }
    const std::span<Block> batch_tables(tables.data(), and_count * 2 * n);
    source.read(std::as_writable_bytes(batch_tables));
    Block sum;
    source.read(std::as_writable_bytes(std::span<Block>(&sum, 1)));
    if (!(sum == batch_checksum(header, bh_bytes, batch_tables))) {
      throw FormatError("garbled batch " + std::to_string(batch_number) +
                        " checksum mismatch (stream corrupted)");
    }

    Block* w = wires.data();
    load_inputs(input_labels, circuit.num_inputs(), first, n, batch, w);
    uint64_t k = 0;
    for (const detail::PlanOp& op : s.plan.ops) {
      Block* out = w + std::size_t{op.out} * batch;
      const Block* in0 = w + std::size_t{op.s0} * batch;
      const Block* in1 = w + std::size_t{op.s1} * batch;
      if (!op.is_and) {
        xor_rows(in0, in1, out, n);
        continue;
      }
      const Block* t = tables.data() + k * 2 * n;
      eval_and(pi, in0, in1, t, t + n, gate_index_start + first * and_count + k, and_count, out, n);
      stats.and_gates += n;
      ++k;
    }
    store_outputs(s.plan, Block(), w, first, n, batch, output_labels);
    stats.table_bytes += batch_tables.size_bytes();
    stats.stream_bytes += sizeof bh_bytes + batch_tables.size_bytes() + sizeof(Block);
    stats.instances += n;
  }
  stats.next_gate_index = gate_index_start + s.instances * and_count;
  return stats;
}

}  // namespace pinfer::gc
