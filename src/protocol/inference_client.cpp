#include "pinfer/protocol/inference_client.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "admission_impl.hpp"
#include "frames.hpp"
#include "gc_phases.hpp"
#include "he_key_schedule.hpp"
#include "linear_he.hpp"
#include "model_plan.hpp"
#include "pinfer/core/byte_stream.hpp"
#include "pinfer/core/cpu_time.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/architecture.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "session_messages.hpp"

namespace pinfer::protocol {

using namespace detail;

namespace {

// The server's cost JSON has one entry per layer of a few hundred bytes, so its cap follows the
// negotiated model (64 KiB + 4 KiB per linear op and stage), not one global 16 MiB.
std::size_t max_cost_json_bytes(const nn::LoweredModel& arch) {
  return (std::size_t{64} << 10) +
         (std::size_t{4} << 10) * (arch.linear_ops.size() + arch.stages.size());
}

using Clock = std::chrono::steady_clock;

// Traffic since `before`, as the client sees it (sent = upload).
void add_traffic(PhaseCost& cost, const TrafficReport& before, const TrafficReport& after) {
  cost.upload_bytes += after.total.bytes_sent - before.total.bytes_sent;
  cost.download_bytes += after.total.bytes_received - before.total.bytes_received;
}

// Bytes per step (channel phase) under `prefix` since `before`.
void add_transfers(PhaseCost& cost, const TrafficReport& before, const TrafficReport& after,
                   std::string_view prefix) {
  for (const auto& [phase, t] : after.by_phase) {
    if (!phase.starts_with(prefix)) continue;
    TrafficCounters b;
    if (auto it = before.by_phase.find(phase); it != before.by_phase.end()) b = it->second;
    const TrafficCounters d{t.bytes_sent - b.bytes_sent, t.bytes_received - b.bytes_received};
    if (d.bytes_sent != 0 || d.bytes_received != 0) cost.transfers[phase] = d;
  }
}

// Labels this side's components and merges the server's (sent as JSON).
void merge_server_cost(PhaseCost& cost, const nlohmann::json& server) {
  cost.label_side(Side::client);
  PhaseCost theirs = phase_from_json(server);
  theirs.label_side(Side::server);
  cost.merge_seconds(theirs);
}

nlohmann::json parse_json(const std::vector<std::byte>& bytes) {
  try {
    return nlohmann::json::parse(reinterpret_cast<const char*>(bytes.data()),
                                 reinterpret_cast<const char*>(bytes.data()) + bytes.size());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(std::string("server cost report is not JSON: ") + e.what());
  }
}

}  // namespace

ClientCredentials register_with_server(Channel& ch, std::span<const std::byte> secret,
                                       const AdmissionOptions& admission) {
  ch.set_phase("handshake");
  Hello hello;
  hello.mode = HelloMode::register_client;
  hello.registration_secret = SecretBuffer<std::byte>(secret.size());
  std::copy(secret.begin(), secret.end(), hello.registration_secret.begin());
  ch.send(frames::kHello, encode(hello).span());
  ch.flush();
  std::vector<std::byte> raw = recv_after_admission(
      ch, frames::kRegistered, 16 + kMaxClientIdChars + kClientTokenBytes, admission);
  try {
    ClientCredentials c = decode_registration(raw);
    secure_wipe(raw.data(), raw.size());
    return c;
  } catch (...) {
    secure_wipe(raw.data(), raw.size());
    throw;
  }
}

InferenceClient::InferenceClient(Channel& channel, store::PrecomputeStore& store,
                                 ClientOptions options)
    : ch_(channel), store_(store), options_(std::move(options)) {
  if (!valid_client_id(options_.credentials.client_id) ||
      options_.credentials.token.size() != kClientTokenBytes) {
    throw InvalidArgument(
        "client credentials are missing or malformed; register with the server first "
        "(`pinfer client register`)");
  }
  ch_.set_phase("handshake");
  {
    Hello hello;
    hello.client_id = options_.credentials.client_id;
    hello.token = options_.credentials.token.clone();
    hello.protocol = options_.protocol;
    ch_.send(frames::kHello, encode(hello).span());
  }
  ch_.flush();
  const HelloReply reply = decode_hello_reply(recv_after_admission(
      ch_, frames::kHelloReply, kMaxArchitectureBytes + 64, options_.admission, &admission_));
  kind_ = reply.protocol;
  gc_scheme_ = reply.gc_scheme;
  threads_ = resolve_threads(options_.threads);
  if (options_.protocol && *options_.protocol != kind_) {
    throw ProtocolError("protocol mismatch: server runs " + std::string(to_string(kind_)));
  }
  arch_ = decode_architecture(reply.architecture);
  fingerprint_ = architecture_fingerprint(arch_);
  plan_ = std::make_unique<ModelPlan>(make_plan(arch_, gc_scheme_));
  he_keys_ = std::make_unique<HeKeySchedule>(plan_he_keys(arch_, reply.he_key_budget));
  ch_.send(frames::kHoldings, encode_holdings(store_.list(store_key())));
  ch_.flush();
}

InferenceClient::~InferenceClient() {
  close();
  if (removal_.joinable()) removal_.join();
}

void InferenceClient::retire(store::ConsumedPrecompute used) {
  if (removal_.joinable()) removal_.join();
  removal_ = std::thread([u = std::move(used)] {});  // u's destructor removes the files
}

std::size_t InferenceClient::he_keys() const noexcept {
  return he_keys_->keys();
}

void InferenceClient::close() noexcept {
  if (closed_) return;
  closed_ = true;
  try {
    ch_.send(frames::kRequest, encode(Request{RequestKind::bye, ""}));
    ch_.flush();
  } catch (...) {
    // The connection may already be gone; nothing to tell.
  }
}

std::string InferenceClient::store_key() const {
  // One namespace per (model, protocol, garbling scheme): a precompute is only ever used with
  // what made it (precomputes of a server restarted with another scheme are not listed, so the
  // server discards its halves of them at the handshake).
  // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string here.
  std::string key = "m";
  key.append(fingerprint_, 0, 24);
  key += kind_ == ProtocolKind::server_garbler ? "-sg" : "-cg";
  key += gc_scheme_ == gc::GcScheme::three_halves ? "-3h" : "-hg";
  return key;
}

std::size_t InferenceClient::stored_precomputes() const {
  return store_.count(store_key());
}

CostReport InferenceClient::precompute() {
  const auto start = Clock::now();
  const TrafficReport before = ch_.traffic();
  CostReport report;
  report.protocol = std::string(to_string(kind_));
  report.gc_scheme = std::string(gc::to_string(gc_scheme_));
  report.threads = threads_;
  report.model = arch_.name;
  report.relus = nn::count(arch_).relus;
  report.precompute_id = store::new_precompute_id();
  const StorageEstimate estimate = estimate_storage(*plan_, kind_);
  PhaseCost& cost = report.offline;
  std::optional<ScopedTimer> busy(std::in_place, cost, Component::cpu_total);
  // Creating the entry (its directory, the journal line) is store I/O of the phase too.
  store::PrecomputeWriter writer = [&] {
    ScopedTimer io(cost, Component::store_write);
    return store_.begin(store_key(), report.precompute_id, estimate.client_bytes);
  }();

  ch_.set_phase("offline/request");
  ch_.send(frames::kRequest, encode(Request{RequestKind::offline, report.precompute_id}));
  ch_.flush();
  (void)ch_.recv(frames::kRequestAccepted, 0);

  const Ring ring = arch_.ring();
  ClientState state;
  state.protocol = kind_;
  state.gc_scheme = gc_scheme_;
  state.fingerprint = fingerprint_;
  state.mask_seed = os_random_block();
  std::vector<RingTensor> masks(arch_.activation_shapes.size());
  for (std::size_t k = 0; k + 1 < masks.size(); ++k) {
    masks[k] = activation_mask(state.mask_seed, k, arch_.activation_shapes[k], ring);
  }
  ch_.set_phase("offline/he");
  std::function<void(uint64_t, uint64_t)> he_progress;
  if (options_.progress) {
    he_progress = [&](uint64_t done, uint64_t total) {
      options_.progress("offline: homomorphic linear layers", done, total);
    };
  }
  const std::vector<RingTensor> c_ops =
      he_offline_client(ch_, arch_, *he_keys_, masks, cost, he_progress);
  report.he_keys = he_keys_->keys();

  // The client's share of each stage's pre-activation: sum of c_op plus identity masks * 2^f.
  std::vector<RingTensor> c_stage;
  const uint64_t scale = uint64_t{1} << arch_.f;
  for (const nn::Stage& st : arch_.stages) {
    RingTensor c(Shape{st.pre_shape});
    for (std::size_t op : st.linear_ops) {
      RingTensor part = c_ops[op];
      part.reshape_inplace(st.pre_shape);
      add_inplace(ring, c, part);
    }
    for (std::size_t id : st.identity_inputs) {
      for (std::size_t i = 0; i < c.size(); ++i)
        c[i] = ring.add(c[i], ring.mul(masks[id][i], scale));
    }
    c_stage.push_back(std::move(c));
  }
  std::vector<ClientStageInputs> gc_inputs;
  for (const StagePlan& sp : plan_->stages) {
    gc_inputs.push_back({&c_stage[sp.stage], &masks[arch_.stages[sp.stage].output]});
  }
  ch_.set_phase("offline/gc");
  Prg prg;
  ChunkProgress progress;
  if (options_.progress) {
    progress = [&](uint64_t done) {
      options_.progress("offline: garbled circuits", done, plan_->relus);
    };
  }
  if (kind_ == ProtocolKind::server_garbler) {
    FileByteSink tables(writer.path("tables.gc")), labels(writer.path("labels.bin"));
    sg_offline_client(ch_, *plan_, gc_inputs, prg, tables, labels, cost, gc_run(threads_),
                      progress);
    ScopedTimer io(cost, Component::store_write);
    tables.finish();
    labels.finish();
  } else {
    state.keys = cg_offline_client(ch_, *plan_, gc_inputs, prg, cost, gc_run(threads_), progress);
  }
  for (const StagePlan& sp : plan_->stages) cost.gc_chunks += sp.chunks().size();
  state.c_final = std::move(c_stage.back());
  {
    ScopedTimer io(cost, Component::store_write);
    write_state_file(writer.path("state.bin").string(), state, ring);
  }
  report.client_storage_bytes = writer.bytes_written();

  // The server publishes first, so a precompute the client holds is always usable.
  ch_.set_phase("offline/done");
  const nlohmann::json server =
      parse_json(ch_.recv(frames::kPublished, max_cost_json_bytes(arch_)));
  {
    ScopedTimer io(cost, Component::store_write);
    writer.publish();
  }
  busy.reset();  // before the sides are labelled and merged
  merge_server_cost(cost, server);
  // is_number_unsigned first: get<uint64_t>() of a float such as 1e107 is undefined behaviour.
  const auto stored = server.find("server_storage_bytes");
  if (stored == server.end() || !stored->is_number_unsigned()) {
    throw FormatError("server cost report lacks server_storage_bytes (an unsigned integer)");
  }
  report.server_storage_bytes = stored->get<uint64_t>();
  cost.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const TrafficReport after = ch_.traffic();
  add_traffic(cost, before, after);
  add_transfers(cost, before, after, "offline/");
  return report;
}

InferenceResult InferenceClient::infer(const FloatTensor& input, bool allow_on_demand) {
  const RingTensor x = nn::encode_input(arch_, input);  // shape errors before any state changes
  InferenceResult result;
  CostReport& report = result.cost;
  std::optional<store::ConsumedPrecompute> taken;
  // Take precomputes until the server accepts one: it refuses an id whose server half is gone
  // (discarded as damaged, or removed by a concurrent session's reconciliation); the client
  // half is consumed either way, so nothing is ever retried with the same id.
  // Taking the precompute (a rename made durable) is store I/O of the online phase: timed here
  // and added to the phase's store reads below, beside reading its state.
  double take_wall_s = 0, take_cpu_s = 0;
  for (;;) {
    {
      const auto wall0 = Clock::now();
      const double cpu0 = thread_cpu_seconds();
      if (auto next = store_.take_oldest(store_key())) taken.emplace(std::move(*next));
      take_cpu_s += thread_cpu_seconds() - cpu0;
      take_wall_s += std::chrono::duration<double>(Clock::now() - wall0).count();
    }
    if (!taken) {
      if (!allow_on_demand) throw StoreError("no precompute stored for this server and model");
      report = precompute();
      report.offline_on_demand = true;
      taken.emplace(store_.take(store_key(), report.precompute_id));
    }
    ch_.set_phase("online/request");
    ch_.send(frames::kRequest, encode(Request{RequestKind::online, taken->id()}));
    ch_.flush();
    try {
      (void)ch_.recv(frames::kRequestAccepted, 0);
      break;
    } catch (const StoreError&) {
      // The server's store refused this id (its half is damaged or gone).
      if (report.offline_on_demand) throw;  // a fresh precompute refused: a real failure
      taken.reset();
    }
  }
  report.protocol = std::string(to_string(kind_));
  report.gc_scheme = std::string(gc::to_string(gc_scheme_));
  report.threads = threads_;
  report.model = arch_.name;
  report.relus = nn::count(arch_).relus;
  report.precompute_id = taken->id();
  report.client_storage_bytes = taken->bytes();

  const auto start = Clock::now();
  const TrafficReport before = ch_.traffic();
  PhaseCost& cost = report.online;
  cost.add(Component::store_read, take_wall_s);
  cost.add(Component::store_cpu, take_cpu_s);
  cost.add(Component::cpu_total, take_cpu_s);
  std::optional<ScopedTimer> busy(std::in_place, cost, Component::cpu_total);
  const Ring ring = arch_.ring();
  std::optional<ScopedTimer> state_io(std::in_place, cost, Component::store_read);
  const ClientState state = read_client_state(taken->path("state.bin").string(), kind_, gc_scheme_,
                                              fingerprint_, ring, arch_.stages.back().pre_shape);
  state_io.reset();

  ch_.set_phase("online/input");
  {
    const RingTensor r0 = activation_mask(state.mask_seed, 0, arch_.input_shape, ring);
    RingTensor masked = sub(ring, x, r0);
    ch_.send(frames::kMaskedInput, encode_ring_values(masked, ring));
    ch_.flush();
  }
  std::optional<FileByteSource> tables, labels;
  if (kind_ == ProtocolKind::server_garbler) {
    tables.emplace(taken->path("tables.gc"));
    labels.emplace(taken->path("labels.bin"));
  }
  for (std::size_t si = 0; si + 1 < arch_.stages.size(); ++si) {
    LayerCost layer{"stage" + std::to_string(si), "nonlinear", {}, 0, 0};
    ch_.set_phase("online/stage" + std::to_string(si));
    const TrafficReport t0 = ch_.traffic();
    const StagePlan& sp = plan_->stages[si];
    layer.chunks = static_cast<uint32_t>(sp.chunks().size());
    if (kind_ == ProtocolKind::server_garbler) {
      sg_online_client(ch_, sp, *tables, *labels, cost, layer, gc_run(threads_));
    } else {
      cg_online_client(ch_, sp, state.keys, cost, layer, gc_run(threads_));
    }
    if (options_.progress) options_.progress("online: layers", si + 1, arch_.stages.size() - 1);
    const TrafficReport t1 = ch_.traffic();
    layer.upload_bytes = t1.total.bytes_sent - t0.total.bytes_sent;
    layer.download_bytes = t1.total.bytes_received - t0.total.bytes_received;
    cost.layers.push_back(std::move(layer));
  }
  if (tables) {
    tables->finish();
    labels->finish();
  }
  ch_.set_phase("online/output");
  const Shape& logits_shape = arch_.stages.back().pre_shape;
  RingTensor logits = decode_ring_values(
      ch_.recv(frames::kOutputShare, packed_size_bytes(logits_shape.numel(), arch_.l)),
      logits_shape, ring);
  add_inplace(ring, logits, state.c_final);
  cost.layers.push_back({"stage" + std::to_string(arch_.stages.size() - 1), "linear", {}, 0, 0});
  const nlohmann::json server =
      parse_json(ch_.recv(frames::kPhaseCost, max_cost_json_bytes(arch_)));
  busy.reset();
  merge_server_cost(cost, server);
  cost.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const TrafficReport after = ch_.traffic();
  add_traffic(cost, before, after);
  add_transfers(cost, before, after, "online/");
  tables.reset();
  labels.reset();
  retire(std::move(*taken));
  taken.reset();

  result.logits_ring.assign(logits.values().begin(), logits.values().end());
  if (const std::size_t k = nn::revealed_labels(arch_); k != 0) {
    // The server's model ends in the argmax or top-k circuit: the outputs are the k best labels
    // (best first), each times 2^f, and nothing else.
    result.reveals = nn::reveals(arch_);
    const std::size_t classes = arch_.stages[arch_.stages.size() - 2].pre_shape.numel();
    PINFER_ASSERT(logits.size() == k);
    for (std::size_t i = 0; i < k; ++i) {
      const uint64_t label = logits[i] >> arch_.f;
      if (label >= classes || (logits[i] & ((uint64_t{1} << arch_.f) - 1)) != 0) {
        throw ProtocolError("revealed label " + std::to_string(label) + " is not one of " +
                            std::to_string(classes) + " classes");
      }
      result.labels.push_back(static_cast<int>(label));
    }
    result.prediction = result.labels[0];
    return result;
  }
  result.logits = nn::decode_logits(arch_, logits);
  result.prediction = 0;
  for (std::size_t i = 1; i < result.logits.size(); ++i) {
    if (result.logits[i] > result.logits[result.prediction])
      result.prediction = static_cast<int>(i);
  }
  return result;
}

}  // namespace pinfer::protocol
