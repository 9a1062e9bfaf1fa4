// Garbled-circuit steps of the Client-Garbler protocol (see gc_phases.hpp).
//
// Labels of an input bit a of the server: the client (COT sender, Delta = its garbling offset)
// gets k0, the server gets m = k0 ^ c Delta for its random choice c. The client garbles the wire
// `a` with zero-label k0 ^ D0, where D0 is the zero-label of a flip wire d = a ^ c derived from
// the client's seed. Online the server sends d, the client the label D0 ^ d Delta, and
// m ^ (D0 ^ d Delta) = (k0 ^ D0) ^ (c ^ d) Delta is the label of a. The client never needs k0
// again, so its state is two blocks per precompute. d is a one-time pad of a with c.
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
namespace {

// Global index of the first garbler-side input wire (c_0) of an instance: the public-label
// index, unique across the precompute.
uint64_t folded_wire_index(const StagePlan& s, std::size_t instance) {
  return s.input_wire_start + uint64_t{instance} * s.circuit->circuit.num_inputs() +
         s.a_bits_per_instance();
}

}  // namespace

GarblerKeys cg_offline_client(Channel& ch, const ModelPlan& plan,
                              std::span<const ClientStageInputs> inputs, Prg& prg, PhaseCost& cost,
                              const GcRun& run, const ChunkProgress& progress) {
  uint64_t done = 0;
  PINFER_ASSERT(inputs.size() == plan.stages.size());
  const Delta delta = run.delta ? *run.delta : Delta::random();
  GarblerKeys keys{delta, prg.next_block()};
  ot::CotSender cot = [&] {
    ScopedTimer t(cost, Component::ot);  // the base OTs
    return ot::CotSender(ch, delta, prg);
  }();
  cot.set_threads(run.threads);
  for (std::size_t si = 0; si < plan.stages.size(); ++si) {
    const StagePlan& s = plan.stages[si];
    const gc::Circuit& circuit = s.circuit->circuit;
    const unsigned l = s.l();
    const uint32_t n_in = circuit.num_inputs();
    const uint64_t a_bits = s.a_bits_per_instance();
    const uint64_t folded = n_in - a_bits;
    const gc::LabelDeriver d_labels(keys.label_seed, s.stage);
    const RingTensor& c = *inputs[si].c_share;
    const RingTensor& r = *inputs[si].out_mask;
    const gc::GcOptions gc_opt = gc_options(s, run);
    for (const ChunkRange& chunk : s.chunks()) {
      SecretBuffer<Block> k0(chunk.count * a_bits);
      {
        ScopedTimer t(cost, Component::ot);
        cot.extend(k0.span());
      }
      add_helper_cpu(cost, nullptr, Component::ot, cot.take_helper_cpu_seconds());
      MemoryByteSink sink;
      std::vector<uint8_t> decode;
      double helper_cpu = 0;
      {
        ScopedTimer t(cost, Component::garble);
        SecretBuffer<Block> in(chunk.count * n_in);
        helper_cpu +=
            parallel_ranges(run.threads, chunk.count, [&](std::size_t i0, std::size_t i1) {
              SecretBuffer<Block> d0((i1 - i0) * a_bits);
              d_labels.zero_labels((chunk.first + i0) * a_bits, d0.span());
              SecretBuffer<uint8_t> bits(folded);
              for (std::size_t i = i0; i < i1; ++i) {
                Block* row = in.data() + i * n_in;
                const Block* d = d0.data() + (i - i0) * a_bits;
                for (uint64_t b = 0; b < a_bits; ++b) row[b] = k0[i * a_bits + b] ^ d[b];
                for (unsigned j = 0; j < s.elements; ++j) {
                  word_to_bits(c[s.pre_index(chunk.first + i, j)],
                               std::span(bits.data() + j * l, l));
                }
                for (unsigned k = 0; k < s.outputs(); ++k) {
                  word_to_bits(r[(chunk.first + i) * s.outputs() + k],
                               std::span(bits.data() + (uint64_t{s.elements} + k) * l, l));
                }
                gc::folded_zero_labels(folded_wire_index(s, chunk.first + i), bits.span(), delta,
                                       {row + a_bits, folded});
              }
            });
        SecretBuffer<Block> out(chunk.count * circuit.num_outputs());
        const gc::GarbleStats st = gc::garble_batch(circuit, in.span(), delta, s.gate_start(chunk),
                                                    sink, out.span(), gc_opt);
        PINFER_ASSERT(st.and_gates == circuit.and_count() * chunk.count);
        helper_cpu += st.worker_cpu_seconds;
        decode.resize(out.size());
        gc::decode_bits(out.span(), decode);
      }
      add_helper_cpu(cost, nullptr, Component::garble, helper_cpu);
      ch.send(frames::kGarbledChunk, sink.bytes());
      ch.send(frames::kDecodeBits, pack_bits(decode));
      done += chunk.count;
      if (progress) progress(done);
    }
  }
  ch.flush();
  cost.ot_frames += static_cast<uint32_t>(cot.frames());
  return keys;
}

void cg_offline_server(Channel& ch, const ModelPlan& plan, Prg& prg, ByteSink& tables_out,
                       ByteSink& labels_out, ByteSink& choices_out, ByteSink& decode_out,
                       PhaseCost& cost, const GcRun& run) {
  TimedSink tables_file(tables_out, cost), labels_file(labels_out, cost),
      choices_file(choices_out, cost), decode_file(decode_out, cost);
  ot::CotReceiver cot = [&] {
    ScopedTimer t(cost, Component::ot);  // the base OTs
    return ot::CotReceiver(ch, prg);
  }();
  cot.set_threads(run.threads);
  for (const StagePlan& s : plan.stages) {
    const uint64_t a_bits = s.a_bits_per_instance();
    for (const ChunkRange& chunk : s.chunks()) {
      SecretBuffer<uint8_t> choice(chunk.count * a_bits);
      SecretBuffer<Block> m(choice.size());
      {
        ScopedTimer t(cost, Component::ot);
        cot.extend_random(choice.span(), m.span());
      }
      add_helper_cpu(cost, nullptr, Component::ot, cot.take_helper_cpu_seconds());
      labels_file.write(block_bytes(std::span<const Block>(m.span())));
      choices_file.write(pack_bits(choice.span()));
      receive_garbled_chunk(ch, s, chunk, tables_file);
      std::vector<std::byte> decode(packed_size_bytes(chunk.count * s.outputs() * s.l(), 1));
      ch.recv_exact(frames::kDecodeBits, decode);
      decode_file.write(decode);
    }
  }
}

RingTensor cg_online_server(Channel& ch, const StagePlan& s, const RingTensor& a_share,
                            const Shape& out_shape, ByteSource& tables_in, ByteSource& labels_in,
                            ByteSource& choices_in, ByteSource& decode_in, PhaseCost& cost,
                            LayerCost& layer, const GcRun& run) {
  const gc::Circuit& circuit = s.circuit->circuit;
  const gc::GcOptions gc_opt = gc_options(s, run);
  const unsigned l = s.l();
  const uint32_t n_in = circuit.num_inputs();
  const uint64_t a_bits = s.a_bits_per_instance();
  const uint64_t folded = n_in - a_bits;
  const std::vector<ChunkRange> chunks = s.chunks();
  RingTensor out(out_shape);
  const unsigned words = s.outputs();
  PINFER_ASSERT(out.size() == s.instances * words);
  // The flips of every chunk go out from a second thread while this one evaluates, so the
  // client derives the labels of chunk k + 1 while chunk k is evaluated.
  const auto send_flips = [&](PhaseCost& c, LayerCost& lc) {
    // Times into this thread's own cost: `cost` belongs to the evaluating thread.
    TimedSource choices_file(choices_in, c, &lc, Component::gc_input_flips);
    for (const ChunkRange& chunk : chunks) {
      const std::size_t n_a = chunk.count * a_bits;
      std::vector<std::byte> flips;
      {
        ScopedTimer t(c, Component::gc_input_flips, &lc);
        SecretBuffer<uint8_t> bits(n_a), choice(n_a);
        gather_share_bits(s, chunk, a_share, bits.span());
        std::vector<std::byte> packed(packed_size_bytes(n_a, 1));
        choices_file.read(packed);
        unpack_bits(packed, choice.span());
        for (std::size_t b = 0; b < n_a; ++b) bits[b] ^= choice[b];
        flips = pack_bits(bits.span());
      }
      ch.send(frames::kChoiceFlips, flips);
      ch.flush();
    }
  };
  TimedSource tables_file(tables_in, cost, &layer, Component::gc_evaluate);
  TimedSource labels_file(labels_in, cost, &layer, Component::gc_evaluate);
  TimedSource decode_file(decode_in, cost, &layer, Component::gc_evaluate);
  const auto evaluate = [&] {
    std::vector<std::size_t> flip_label_bytes;
    for (const ChunkRange& chunk : chunks) {
      flip_label_bytes.push_back(chunk.count * a_bits * sizeof(Block));
    }
    ChunkPrefetch flip_labels_in_flight(ch, frames::kFlipLabels, std::move(flip_label_bytes));
    for (const ChunkRange& chunk : chunks) {
      const std::size_t n_a = chunk.count * a_bits;
      SecretBuffer<Block> in(chunk.count * n_in);
      SecretBuffer<Block> flip_labels(n_a);
      {
        std::vector<std::byte> frame = flip_labels_in_flight.next(cost, layer);
        std::memcpy(flip_labels.data(), frame.data(), frame.size());
        secure_wipe(frame.data(), frame.size());
      }
      ScopedTimer t(cost, Component::gc_evaluate, &layer);
      SecretBuffer<Block> m(n_a);
      labels_file.read(block_bytes(m.span()));
      double helper_cpu =
          parallel_ranges(run.threads, chunk.count, [&](std::size_t i0, std::size_t i1) {
            for (std::size_t i = i0; i < i1; ++i) {
              Block* row = in.data() + i * n_in;
              for (uint64_t b = 0; b < a_bits; ++b) {
                row[b] = m[i * a_bits + b] ^ flip_labels[i * a_bits + b];
              }
              gc::public_labels(folded_wire_index(s, chunk.first + i), {row + a_bits, folded});
            }
          });
      SecretBuffer<Block> labels(chunk.count * circuit.num_outputs());
      const gc::GarbleStats st = gc::evaluate_batch(circuit, in.span(), s.gate_start(chunk),
                                                    tables_file, labels.span(), gc_opt);
      PINFER_ASSERT(st.and_gates == circuit.and_count() * chunk.count);
      helper_cpu += st.worker_cpu_seconds;
      add_helper_cpu(cost, &layer, Component::gc_evaluate, helper_cpu);
      std::vector<std::byte> decode_packed(packed_size_bytes(labels.size(), 1));
      decode_file.read(decode_packed);
      std::vector<uint8_t> decode(labels.size()), bits(labels.size());
      unpack_bits(decode_packed, decode);
      gc::decode_outputs(labels.span(), decode, bits);
      for (std::size_t i = 0; i < chunk.count * words; ++i) {
        out[chunk.first * words + i] = word_from_bits(std::span(bits.data() + i * l, l));
      }
    }
    add_receiver_cpu(cost, flip_labels_in_flight);
  };
  run_pipelined(ch, cost, layer, send_flips, evaluate);
  return out;
}

void cg_online_client(Channel& ch, const StagePlan& s, const GarblerKeys& keys, PhaseCost& cost,
                      LayerCost& layer, const GcRun& run) {
  const uint64_t a_bits = s.a_bits_per_instance();
  const gc::LabelDeriver d_labels(keys.label_seed, s.stage);
  for (const ChunkRange& chunk : s.chunks()) {
    const std::size_t n_a = chunk.count * a_bits;
    std::vector<std::byte> packed(packed_size_bytes(n_a, 1));
    {
      ScopedTimer t(cost, Component::wait_peer, &layer);
      ch.recv_exact(frames::kChoiceFlips, packed);
    }
    SecretBuffer<Block> active(n_a);
    {
      ScopedTimer t(cost, Component::gc_flip_labels, &layer);
      std::vector<uint8_t> d(n_a);
      unpack_bits(packed, d);
      SecretBuffer<Block> zero(n_a);
      const double helper_cpu =
          parallel_ranges(run.threads, n_a, [&](std::size_t b, std::size_t e) {
            d_labels.zero_labels(chunk.first * a_bits + b, zero.span().subspan(b, e - b));
            gc::active_labels(zero.span().subspan(b, e - b), std::span(d).subspan(b, e - b),
                              keys.delta, active.span().subspan(b, e - b));
          });
      add_helper_cpu(cost, &layer, Component::gc_flip_labels, helper_cpu);
    }
    ch.send(frames::kFlipLabels, block_bytes(std::span<const Block>(active.span())));
    ch.flush();
  }
}

}  // namespace pinfer::protocol::detail
