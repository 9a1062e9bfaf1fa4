// Garbled-circuit steps of the Server-Garbler protocol (see gc_phases.hpp).
#include <algorithm>
#include <cstring>

#include "chunk_prefetch.hpp"
#include "frames.hpp"
#include "gc_phases.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/gc/half_gates.hpp"
#include "pinfer/gc/labels.hpp"
#include "pinfer/ot/cot.hpp"
#include "timed_store_io.hpp"

namespace pinfer::protocol::detail {
GarblerKeys sg_offline_server(Channel& ch, const ModelPlan& plan, Prg& prg, ByteSink& decode_out,
                              PhaseCost& cost, const GcRun& run) {
  const Delta delta = run.delta ? *run.delta : Delta::random();
  GarblerKeys keys{delta, prg.next_block()};
  TimedSink decode_file(decode_out, cost, nullptr, Component::garble);
  ot::CotSender cot = [&] {
    ScopedTimer t(cost, Component::ot);  // the base OTs
    return ot::CotSender(ch, delta, prg);
  }();
  cot.set_threads(run.threads);
  for (const StagePlan& s : plan.stages) {
    const gc::Circuit& circuit = s.circuit->circuit;
    const uint32_t inputs = circuit.num_inputs();
    const uint64_t a_bits = s.a_bits_per_instance();
    const uint64_t client_bits = inputs - a_bits;  // c and r'
    const gc::LabelDeriver a_labels(keys.label_seed, s.stage);
    const gc::GcOptions gc_opt = gc_options(s, run);
    for (const ChunkRange& chunk : s.chunks()) {
      SecretBuffer<Block> k0(chunk.count * client_bits);
      {
        ScopedTimer t(cost, Component::ot);
        cot.extend(k0.span());
      }
      add_helper_cpu(cost, nullptr, Component::ot, cot.take_helper_cpu_seconds());
      MemoryByteSink sink;
      double helper_cpu = 0;
      {
        ScopedTimer t(cost, Component::garble);
        SecretBuffer<Block> in(chunk.count * inputs);
        helper_cpu += parallel_ranges(run.threads, chunk.count, [&](std::size_t b, std::size_t e) {
          for (std::size_t i = b; i < e; ++i) {
            Block* row = in.data() + i * inputs;
            a_labels.zero_labels((chunk.first + i) * a_bits, {row, a_bits});
            std::memcpy(row + a_bits, k0.data() + i * client_bits, client_bits * sizeof(Block));
          }
        });
        SecretBuffer<Block> out(chunk.count * circuit.num_outputs());
        const gc::GarbleStats st = gc::garble_batch(circuit, in.span(), delta, s.gate_start(chunk),
                                                    sink, out.span(), gc_opt);
        PINFER_ASSERT(st.and_gates == circuit.and_count() * chunk.count);
        helper_cpu += st.worker_cpu_seconds;
        std::vector<uint8_t> decode(out.size());
        gc::decode_bits(out.span(), decode);
        decode_file.write(pack_bits(decode));
      }
      add_helper_cpu(cost, nullptr, Component::garble, helper_cpu);
      ch.send(frames::kGarbledChunk, sink.bytes());
    }
  }
  ch.flush();
  return keys;
}

void sg_offline_client(Channel& ch, const ModelPlan& plan,
                       std::span<const ClientStageInputs> inputs, Prg& prg, ByteSink& tables_out,
                       ByteSink& labels_out, PhaseCost& cost, const GcRun& run,
                       const ChunkProgress& progress) {
  uint64_t done = 0;
  PINFER_ASSERT(inputs.size() == plan.stages.size());
  TimedSink tables_file(tables_out, cost), labels_file(labels_out, cost);
  ot::CotReceiver cot = [&] {
    ScopedTimer t(cost, Component::ot);  // the base OTs
    return ot::CotReceiver(ch, prg);
  }();
  cot.set_threads(run.threads);
  for (std::size_t si = 0; si < plan.stages.size(); ++si) {
    const StagePlan& s = plan.stages[si];
    const unsigned l = s.l();
    const uint64_t client_bits = (uint64_t{s.elements} + s.outputs()) * l;
    const RingTensor& c = *inputs[si].c_share;
    const RingTensor& r = *inputs[si].out_mask;
    for (const ChunkRange& chunk : s.chunks()) {
      SecretBuffer<uint8_t> choice(chunk.count * client_bits);
      for (std::size_t i = 0; i < chunk.count; ++i) {
        uint8_t* row = choice.data() + i * client_bits;
        for (unsigned j = 0; j < s.elements; ++j) {
          word_to_bits(c[s.pre_index(chunk.first + i, j)], std::span(row + j * l, l));
        }
        for (unsigned k = 0; k < s.outputs(); ++k) {
          word_to_bits(r[(chunk.first + i) * s.outputs() + k],
                       std::span(row + (uint64_t{s.elements} + k) * l, l));
        }
      }
      SecretBuffer<Block> labels(choice.size());
      {
        ScopedTimer t(cost, Component::ot);
        cot.extend(choice.span(), labels.span());
      }
      add_helper_cpu(cost, nullptr, Component::ot, cot.take_helper_cpu_seconds());
      labels_file.write(block_bytes(std::span<const Block>(labels.span())));
      receive_garbled_chunk(ch, s, chunk, tables_file);
      done += chunk.count;
      if (progress) progress(done);
    }
  }
  cost.ot_frames += static_cast<uint32_t>(cot.frames());
}

RingTensor sg_online_server(Channel& ch, const StagePlan& s, const RingTensor& a_share,
                            const Shape& out_shape, const GarblerKeys& keys, ByteSource& decode_in,
                            PhaseCost& cost, LayerCost& layer, const GcRun& run) {
  const unsigned l = s.l();
  const uint64_t a_bits = s.a_bits_per_instance();
  const gc::LabelDeriver a_labels(keys.label_seed, s.stage);
  const std::vector<ChunkRange> chunks = s.chunks();
  RingTensor out(out_shape);
  const unsigned words = s.outputs();
  PINFER_ASSERT(out.size() == s.instances * words);
  // The labels of every chunk go out from a second thread while this one decodes the outputs,
  // so the client can evaluate chunk k while the next labels are on their way.
  const auto send_labels = [&](PhaseCost& c, LayerCost& lc) {
    for (const ChunkRange& chunk : chunks) {
      std::vector<std::byte> frame(chunk.count * a_bits * sizeof(Block));
      double helper_cpu = 0;
      {
        ScopedTimer t(c, Component::gc_input_labels, &lc);
        SecretBuffer<uint8_t> bits(chunk.count * a_bits);
        gather_share_bits(s, chunk, a_share, bits.span());
        SecretBuffer<Block> zero(bits.size());
        std::span<Block> active(reinterpret_cast<Block*>(frame.data()), bits.size());
        helper_cpu = parallel_ranges(run.threads, bits.size(), [&](std::size_t b, std::size_t e) {
          a_labels.zero_labels(chunk.first * a_bits + b, zero.span().subspan(b, e - b));
          gc::active_labels(zero.span().subspan(b, e - b), bits.span().subspan(b, e - b),
                            keys.delta, active.subspan(b, e - b));
        });
      }
      add_helper_cpu(c, &lc, Component::gc_input_labels, helper_cpu);
      ch.send(frames::kInputLabels, frame);
      secure_wipe(frame.data(), frame.size());
      ch.flush();
    }
  };
  TimedSource decode_file(decode_in, cost, &layer, Component::output);
  const auto decode_outputs = [&] {
    for (const ChunkRange& chunk : chunks) {
      const std::size_t out_bits = chunk.count * words * l;
      std::vector<std::byte> colours(packed_size_bytes(out_bits, 1));
      {
        ScopedTimer t(cost, Component::wait_peer, &layer);
        ch.recv_exact(frames::kOutputBits, colours);
      }
      ScopedTimer t(cost, Component::output, &layer);
      std::vector<std::byte> decode_packed(packed_size_bytes(out_bits, 1));
      decode_file.read(decode_packed);
      std::vector<uint8_t> colour(out_bits), decode(out_bits);
      unpack_bits(colours, colour);
      unpack_bits(decode_packed, decode);
      for (std::size_t b = 0; b < out_bits; ++b) colour[b] ^= decode[b];
      for (std::size_t i = 0; i < chunk.count * words; ++i) {
        out[chunk.first * words + i] = word_from_bits(std::span(colour.data() + i * l, l));
      }
    }
  };
  run_pipelined(ch, cost, layer, send_labels, decode_outputs);
  return out;
}

void sg_online_client(Channel& ch, const StagePlan& s, ByteSource& tables_in, ByteSource& labels_in,
                      PhaseCost& cost, LayerCost& layer, const GcRun& run) {
  const gc::GcOptions gc_opt = gc_options(s, run);
  const gc::Circuit& circuit = s.circuit->circuit;
  const uint32_t inputs = circuit.num_inputs();
  const uint64_t a_bits = s.a_bits_per_instance();
  const uint64_t client_bits = inputs - a_bits;
  TimedSource tables_file(tables_in, cost, &layer, Component::gc_evaluate);
  TimedSource labels_file(labels_in, cost, &layer, Component::gc_evaluate);
  const std::vector<ChunkRange> chunks = s.chunks();
  std::vector<std::size_t> label_bytes;
  for (const ChunkRange& chunk : chunks)
    label_bytes.push_back(chunk.count * a_bits * sizeof(Block));
  ChunkPrefetch labels_in_flight(ch, frames::kInputLabels, std::move(label_bytes));
  for (const ChunkRange& chunk : chunks) {
    SecretBuffer<Block> in(chunk.count * inputs);
    {
      std::vector<std::byte> frame = labels_in_flight.next(cost, layer);
      ScopedTimer t(cost, Component::gc_evaluate, &layer);
      for (std::size_t i = 0; i < chunk.count; ++i) {
        std::memcpy(in.data() + i * inputs, frame.data() + i * a_bits * sizeof(Block),
                    a_bits * sizeof(Block));
      }
      secure_wipe(frame.data(), frame.size());
    }
    std::vector<uint8_t> colour;
    {
      ScopedTimer t(cost, Component::gc_evaluate, &layer);
      SecretBuffer<Block> mine(chunk.count * client_bits);
      labels_file.read(block_bytes(mine.span()));
      for (std::size_t i = 0; i < chunk.count; ++i) {
        std::memcpy(in.data() + i * inputs + a_bits, mine.data() + i * client_bits,
                    client_bits * sizeof(Block));
      }
      SecretBuffer<Block> out(chunk.count * circuit.num_outputs());
      const gc::GarbleStats st = gc::evaluate_batch(circuit, in.span(), s.gate_start(chunk),
                                                    tables_file, out.span(), gc_opt);
      PINFER_ASSERT(st.and_gates == circuit.and_count() * chunk.count);
      add_helper_cpu(cost, &layer, Component::gc_evaluate, st.worker_cpu_seconds);
      colour.resize(out.size());
      for (std::size_t b = 0; b < out.size(); ++b) colour[b] = out[b].lsb() ? 1 : 0;
    }
    ch.send(frames::kOutputBits, pack_bits(colour));
    ch.flush();
  }
  add_receiver_cpu(cost, labels_in_flight);
}

}  // namespace pinfer::protocol::detail
