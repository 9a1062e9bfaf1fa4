#include "model_plan.hpp"

#include <algorithm>

#include "pinfer/core/serialization.hpp"
#include "pinfer/gc/half_gates.hpp"

namespace pinfer::protocol::detail {
namespace {

// Garbled bytes per chunk stay near this, so a chunk is one frame and fits in memory.
constexpr uint64_t kChunkTableBytes = 16 << 20;

}  // namespace

std::vector<ChunkRange> StagePlan::chunks() const {
  std::vector<ChunkRange> out;
  for (std::size_t first = 0; first < instances; first += chunk_instances) {
    out.push_back({first, std::min(chunk_instances, instances - first)});
  }
  return out;
}

ModelPlan make_plan(const nn::LoweredModel& model, gc::GcScheme scheme) {
  ModelPlan plan;
  plan.model = &model;
  plan.scheme = scheme;
  std::shared_ptr<const gc::NonlinearCircuit> relu;
  uint64_t gate = 0, wire = 0;
  for (std::size_t s = 0; s + 1 < model.stages.size(); ++s) {
    const nn::Stage& st = model.stages[s];
    StagePlan sp;
    sp.stage = s;
    const nn::NonLinear& nl = st.nonlinear;
    if (nl.kind == nn::NonLinear::Kind::relu) {
      if (!relu) {
        relu =
            std::make_shared<const gc::NonlinearCircuit>(gc::relu_step_circuit(model.l, model.f));
      }
      sp.circuit = relu;
      sp.instances = st.pre_shape.numel();
      sp.elements = 1;
    } else if (nl.kind == nn::NonLinear::Kind::argmax) {
      // One instance over every logit: the label (--reveal label).
      const std::size_t n = st.pre_shape.numel();
      sp.circuit = std::make_shared<const gc::NonlinearCircuit>(
          gc::argmax_circuit(model.l, static_cast<unsigned>(n)));
      sp.elements = static_cast<unsigned>(n);
      sp.instances = 1;
      sp.gather.resize(n);
      for (std::size_t i = 0; i < n; ++i) sp.gather[i] = static_cast<uint32_t>(i);
    } else if (nl.kind == nn::NonLinear::Kind::topk) {
      // One instance over every logit with k output words: the k best labels (--reveal topk:K).
      const std::size_t n = st.pre_shape.numel();
      sp.circuit = std::make_shared<const gc::NonlinearCircuit>(
          gc::top_k_circuit(model.l, static_cast<unsigned>(n), static_cast<unsigned>(nl.top_k)));
      sp.elements = static_cast<unsigned>(n);
      sp.instances = 1;
      sp.gather.resize(n);
      for (std::size_t i = 0; i < n; ++i) sp.gather[i] = static_cast<uint32_t>(i);
    } else if (nl.kind == nn::NonLinear::Kind::clip) {
      sp.circuit = std::make_shared<const gc::NonlinearCircuit>(
          gc::clip_step_circuit(model.l, model.f, nl.clip_lo, nl.clip_hi));
      sp.instances = st.pre_shape.numel();
      sp.elements = 1;
    } else {
      // Window positions outside the input repeat an input element (nn::max_pool_gather), so
      // every instance has k_h k_w elements and padding never wins.
      const std::size_t n = nl.pool.kernel_h * nl.pool.kernel_w;
      sp.circuit = std::make_shared<const gc::NonlinearCircuit>(
          gc::maxpool_relu_window_circuit(model.l, model.f, static_cast<unsigned>(n)));
      sp.elements = static_cast<unsigned>(n);
      sp.gather = nn::max_pool_gather(st.pre_shape, nl.pool);
      sp.instances = sp.gather.size() / n;
    }
    const uint64_t ands = sp.circuit->circuit.and_count();
    const uint32_t batch = gc::batch_instances(sp.circuit->circuit);
    std::size_t chunk = std::max<uint64_t>(1, kChunkTableBytes / (ands * gc::kAndTableBytes + 1));
    chunk = std::max<std::size_t>(batch, chunk / batch * batch);
    sp.chunk_instances = chunk;
    sp.scheme = scheme;
    sp.gate_index_start = gate;
    sp.input_wire_start = wire;
    gate += ands * sp.instances;
    wire += uint64_t{sp.circuit->circuit.num_inputs()} * sp.instances;
    plan.relus += sp.instances;
    plan.stages.push_back(std::move(sp));
  }
  plan.total_and_gates = gate;
  plan.total_input_wires = wire;
  return plan;
}

gc::GcOptions gc_options(const StagePlan& stage, const GcRun& run) {
  gc::GcOptions o;
  o.scheme = stage.scheme;
  o.threads = std::max(1u, run.threads);
  o.hash_key = run.hash_key;
  o.coin_seed = run.coin_seed;
  return o;
}

StorageEstimate estimate_storage(const ModelPlan& plan, ProtocolKind kind) {
  uint64_t gc_bytes = 0, a_bits = 0, client_bits = 0, out_bits = 0;
  for (const StagePlan& s : plan.stages) {
    for (const ChunkRange& ch : s.chunks())
      gc_bytes += gc::garbled_stream_bytes(s.circuit->circuit, ch.count, s.scheme);
    a_bits += s.a_bits_per_instance() * s.instances;
    client_bits += (uint64_t{s.elements} + s.outputs()) * s.l() * s.instances;
    out_bits += uint64_t{s.l()} * s.outputs() * s.instances;
  }
  // HE masks s of every linear op (server) and the client's share of the logits, l bits each.
  uint64_t he_masks = 0;
  for (const nn::LinearOp& op : plan.model->linear_ops) {
    he_masks += 8 + packed_size_bytes(op.output_shape().numel(), plan.model->l);
  }
  StorageEstimate e;
  if (kind == ProtocolKind::server_garbler) {
    // Client: garbled tables + the labels of its inputs (c, r') from OT. Server: decode bits.
    e.client_bytes = gc_bytes + client_bits * 16 + kStateReserveBytes;
    e.server_bytes = packed_size_bytes(out_bits, 1) + he_masks + kStateReserveBytes;
  } else {
    // Client: seeds and the logits share only. Server: garbled tables, its COT labels and
    // random choices for the inputs a, decode bits.
    e.client_bytes = kStateReserveBytes;
    e.server_bytes = gc_bytes + a_bits * 16 + packed_size_bytes(a_bits, 1) +
                     packed_size_bytes(out_bits, 1) + he_masks + kStateReserveBytes;
  }
  return e;
}

}  // namespace pinfer::protocol::detail
