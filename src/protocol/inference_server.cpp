#include "pinfer/protocol/inference_server.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "frames.hpp"
#include "gc_phases.hpp"
#include "he_key_schedule.hpp"
#include "linear_he.hpp"
#include "model_plan.hpp"
#include "pinfer/core/byte_stream.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/core/sha256.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/architecture.hpp"
#include "pinfer/protocol/redirect.hpp"
#include "session_messages.hpp"
#include "store_sink.hpp"

namespace pinfer::protocol {

using namespace detail;

namespace {

std::vector<Shape> op_shapes(const nn::LoweredModel& m) {
  std::vector<Shape> shapes;
  for (const auto& op : m.linear_ops) shapes.push_back(op.output_shape());
  return shapes;
}

}  // namespace

unsigned resolve_threads(unsigned threads) noexcept {
  if (threads != 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

InferenceServer::InferenceServer(nn::LoweredModel model, ProtocolKind kind,
                                 store::PrecomputeStore& store, ClientRegistry& clients,
                                 ServerOptions options)
    : model_(std::move(model)),
      kind_(kind),
      gc_scheme_(options.gc_scheme),
      threads_(resolve_threads(options.threads)),
      store_(store),
      clients_(clients),
      ledger_(std::move(options.ledger)) {
  if (gc_scheme_ != gc::GcScheme::half_gates && gc_scheme_ != gc::GcScheme::three_halves) {
    throw InvalidArgument("garbling scheme code " +
                          std::to_string(static_cast<uint32_t>(gc_scheme_)) + " is unknown");
  }
  nn::validate(model_);
  if (options.he_key_budget == 0 || options.he_key_budget > kMaxHeKeyBudget) {
    throw InvalidArgument("HE key budget " + std::to_string(options.he_key_budget) +
                          " is outside 1..2^22 (the flooding bound, docs/HE.md)");
  }
  he_keys_ = std::make_unique<HeKeySchedule>(plan_he_keys(model_, options.he_key_budget));
  plan_ = std::make_unique<ModelPlan>(make_plan(model_, gc_scheme_));
  he_ = std::make_unique<HeServerModel>(model_, options.weight_cache_bytes);
}

std::size_t InferenceServer::he_keys() const noexcept {
  return he_keys_->keys();
}

std::size_t InferenceServer::cached_weight_bytes() const noexcept {
  return he_->cached_weight_bytes();
}

InferenceServer::~InferenceServer() = default;

Greeting::Greeting(std::unique_ptr<Hello> hello) : hello_(std::move(hello)) {}
Greeting::Greeting(Greeting&&) noexcept = default;
Greeting& Greeting::operator=(Greeting&&) noexcept = default;
Greeting::~Greeting() = default;
bool Greeting::registration() const noexcept {
  return hello_ != nullptr && hello_->mode == HelloMode::register_client;
}

Greeting InferenceServer::read_greeting(Channel& ch) {
  ch.set_phase("handshake");
  auto hello = std::make_unique<Hello>();
  std::vector<std::byte> raw = ch.recv(frames::kHello, max_hello_bytes());
  try {
    *hello = decode_hello(raw);
  } catch (const FormatError& e) {
    secure_wipe(raw.data(), raw.size());
    ch.send_error(e);
    throw;
  }
  secure_wipe(raw.data(), raw.size());
  return Greeting(std::move(hello));
}

void InferenceServer::serve_connection(Channel& ch) {
  serve_connection(ch, read_greeting(ch));
}

bool InferenceServer::route(Channel& ch, Greeting& greeting) {
  PINFER_ASSERT(greeting.hello_ != nullptr);
  const Hello& hello = *greeting.hello_;
  if (hello.mode == HelloMode::register_client || greeting.routed_) return false;
  // Before anything else: an unauthenticated peer learns nothing and touches nothing.
  try {
    clients_.authenticate(hello.client_id, hello.token.span());
  } catch (const ProtocolError& e) {
    // A fleet's client registered with another node is known by its token hash in the fleet.
    const bool known_to_fleet =
        ledger_ && valid_client_id(hello.client_id) &&
        ledger_->authenticate(hello.client_id, pinfer::sha256_hex(hello.token.span()));
    if (!known_to_fleet) {
      ch.send_error(e);  // ErrorReason::unauthenticated
      throw;
    }
  }
  // In a fleet, a client is served by its home node (re-homed if that node died).
  if (ledger_) {
    std::optional<std::string> home;
    try {
      home = ledger_->redirect_for(hello.client_id);
    } catch (const Error& e) {
      // E.g. the fleet's database is down: the client hears why instead of a closed connection.
      ch.send_error(std::string("server cannot route this client in its fleet: ") + e.what(),
                    e.reason());
      throw;
    }
    if (home) {
      ch.send(frames::kRedirect, encode_redirect(*home));
      ch.flush();
      return true;
    }
  }
  greeting.routed_ = true;
  return false;
}

void InferenceServer::serve_connection(Channel& ch, Greeting greeting) {
  PINFER_ASSERT(greeting.hello_ != nullptr);
  ch.set_phase("handshake");
  Hello& hello = *greeting.hello_;
  if (hello.mode == HelloMode::register_client) {
    ClientCredentials issued;
    try {
      issued = clients_.register_client(hello.registration_secret.span());
      if (ledger_)
        ledger_->client_registered(issued.client_id, pinfer::sha256_hex(issued.token.span()));
    } catch (const Error& e) {
      ch.send_error(e);
      throw;
    }
    ch.send(frames::kRegistered, encode_registration(issued).span());
    ch.flush();
    return;
  }
  if (route(ch, greeting)) return;
  // From here on, hello.client_id is authenticated: every store access below is keyed by it.
  if (hello.protocol && *hello.protocol != kind_) {
    const std::string msg = "protocol mismatch: client wants " +
                            std::string(to_string(*hello.protocol)) + ", server runs " +
                            std::string(to_string(kind_));
    ch.send_error(msg, ErrorReason::protocol);
    throw ProtocolError(msg);
  }
  ch.send(frames::kHelloReply,
          encode(HelloReply{kind_, encode_architecture(model_), he_keys_->budget, gc_scheme_}));
  ch.flush();
  // Server halves whose client half is gone (the client crashed between taking a precompute
  // and naming it) can never be used: discard them. Only the authenticated client's own
  // entries are listed, so a client can never make the server drop another client's.
  const std::vector<std::string> held =
      decode_holdings(ch.recv(frames::kHoldings, max_holdings_bytes()));
  for (const std::string& id : store_.list(hello.client_id)) {
    if (std::find(held.begin(), held.end(), id) == held.end()) store_.remove(hello.client_id, id);
  }
  for (;;) {
    const Request req = decode_request(ch.recv(frames::kRequest, 256));
    if (req.kind == RequestKind::bye) return;
    if (req.kind == RequestKind::offline) {
      serve_offline(ch, hello.client_id, req.precompute_id);
    } else {
      serve_online(ch, hello.client_id, req.precompute_id);
    }
  }
}

namespace {
// "cannot write garbled file P: No space left on device" -> "No space left on device"; a message
// without that shape may name a path, so it is not passed on.
std::string_view last_clause(std::string_view message) {
  const auto at = message.rfind(": ");
  return at == std::string_view::npos ? std::string_view("write failed") : message.substr(at + 2);
}
}  // namespace

void InferenceServer::serve_offline(Channel& ch, const std::string& client, const std::string& id) {
  const StorageEstimate estimate = estimate_storage(*plan_, kind_);
  PhaseCost cost;
  std::optional<ScopedTimer> busy(std::in_place, cost, Component::cpu_total);
  std::optional<store::PrecomputeWriter> writer;
  try {
    // Creating the entry (its directory, the journal line) is store I/O of the phase too.
    ScopedTimer io(cost, Component::store_write);
    writer.emplace(store_.begin(client, id, estimate.server_bytes));
  } catch (const Error& e) {
    // Refused cleanly: the client is told why and the session goes on.
    // A store refusal (full, quota) reaches the client as a StoreError.
    ch.send_error(std::string("server cannot store the precompute: ") + e.what(),
                  ErrorReason::store);
    return;
  }
  ch.send(frames::kRequestAccepted, {});
  ch.flush();
  ch.set_phase("offline/he");
  ServerState state;
  state.protocol = kind_;
  state.gc_scheme = gc_scheme_;
  state.fingerprint = architecture_fingerprint(model_);
  state.s_ops = he_offline_server(ch, model_, *he_keys_, *he_, cost);
  ch.set_phase("offline/gc");
  Prg prg;
  uint64_t bytes = 0;
  try {
    if (kind_ == ProtocolKind::server_garbler) {
      StoreSink decode(writer->path("decode.bits"));
      state.keys = sg_offline_server(ch, *plan_, prg, decode, cost, gc_run(threads_));
      ScopedTimer io(cost, Component::store_write);
      decode.finish();
    } else {
      StoreSink tables(writer->path("tables.gc")), labels(writer->path("labels.bin")),
          choices(writer->path("choices.bits")), decode(writer->path("decode.bits"));
      cg_offline_server(ch, *plan_, prg, tables, labels, choices, decode, cost, gc_run(threads_));
      ScopedTimer io(cost, Component::store_write);
      for (StoreSink* s : {&tables, &labels, &choices, &decode}) s->finish();
    }
    {
      ScopedTimer io(cost, Component::store_write);
      write_state_file(writer->path("state.bin").string(), state, model_.ring());
      bytes = writer->bytes_written();
      writer->publish();
    }
  } catch (const IoError& e) {
    // The store could not take the precompute (disk full, write failed). The phase ran to its
    // end, so the client is waiting for our answer: tell it why, without our file paths (the
    // server's log gets the full error), then end the session; the entry is discarded.
    ch.send_error("server cannot store the precompute: a write to its store failed (" +
                      std::string(last_clause(e.what())) + ")",
                  ErrorReason::store);
    ch.flush();
    throw;
  }
  if (ledger_) {
    try {
      ledger_->stored(client, id);
    } catch (const Error& e) {
      // Unrecorded, the fleet would never let it be taken: drop it and say the store refused.
      store_.remove(client, id);
      ch.send_error(std::string("server cannot record the precompute: ") + e.what(),
                    ErrorReason::store);
      ch.flush();
      return;
    }
  }
  busy.reset();  // the CPU total ends before the report is built and sent
  nlohmann::json j = to_json(cost);
  j["server_storage_bytes"] = bytes;
  const std::string text = j.dump();
  ch.set_phase("offline/done");
  ch.send(frames::kPublished, std::as_bytes(std::span<const char>(text.data(), text.size())));
  ch.flush();
}

void InferenceServer::serve_online(Channel& ch, const std::string& client, const std::string& id) {
  PhaseCost cost;
  std::optional<ScopedTimer> busy(std::in_place, cost, Component::cpu_total);
  std::optional<store::ConsumedPrecompute> taken;
  std::optional<ScopedTimer> take_io(std::in_place, cost, Component::store_read);
  try {
    // The fleet's single use first: a fenced or raced server never touches its local entry.
    if (ledger_) ledger_->take(client, id);
  } catch (const StoreError& e) {
    ch.send_error(std::string("server cannot use precompute: ") + e.what(), ErrorReason::store);
    return;
  } catch (const Error& e) {
    // Not a refusal of this precompute (e.g. the fleet's database is down): with its own
    // reason, so the client does not go on to drop its other precomputes one by one.
    ch.send_error(std::string("server cannot check the precompute with its fleet: ") + e.what(),
                  e.reason());
    return;
  }
  try {
    taken.emplace(store_.take(client, id));
  } catch (const Error& e) {
    ch.send_error(std::string("server cannot use precompute: ") + e.what(), ErrorReason::store);
    return;
  }
  const Ring ring = model_.ring();
  ServerState state;
  try {
    state = read_server_state(taken->path("state.bin").string(), kind_, gc_scheme_,
                              architecture_fingerprint(model_), ring, op_shapes(model_));
  } catch (const FormatError& e) {
    // E.g. made before a restart with another --gc-scheme: it was taken, so it is gone now;
    // the client is told why and goes on with its next precompute.
    ch.send_error(std::string("server cannot use precompute: ") + e.what());
    if (ledger_) ledger_->consumed(client, id);
    return;
  }
  take_io.reset();
  ch.send(frames::kRequestAccepted, {});
  ch.flush();
  ch.set_phase("online/input");
  std::vector<RingTensor> shares(model_.activation_shapes.size());
  shares[0] = decode_ring_values(
      ch.recv(frames::kMaskedInput, packed_size_bytes(model_.input_shape.numel(), model_.l)),
      model_.input_shape, ring);

  std::optional<FileByteSource> tables, labels, choices;
  FileByteSource decode(taken->path("decode.bits"));
  if (kind_ == ProtocolKind::client_garbler) {
    tables.emplace(taken->path("tables.gc"));
    labels.emplace(taken->path("labels.bin"));
    choices.emplace(taken->path("choices.bits"));
  }
  for (std::size_t si = 0; si < model_.stages.size(); ++si) {
    const nn::Stage& stage = model_.stages[si];
    LayerCost layer{"stage" + std::to_string(si), "nonlinear", {}, 0, 0};
    ch.set_phase("online/stage" + std::to_string(si));
    RingTensor a;
    {
      ScopedTimer t(cost, Component::linear_shared, &layer);
      a = nn::stage_preactivation(model_, stage, shares);
      for (std::size_t op : stage.linear_ops) add_inplace(ring, a, state.s_ops[op]);
    }
    if (si + 1 == model_.stages.size()) {
      ch.send(frames::kOutputShare, encode_ring_values(a, ring));
      ch.flush();
    } else {
      const StagePlan& sp = plan_->stages[si];
      const Shape& out_shape = model_.activation_shapes[stage.output];
      shares[stage.output] =
          kind_ == ProtocolKind::server_garbler
              ? sg_online_server(ch, sp, a, out_shape, state.keys, decode, cost, layer,
                                 gc_run(threads_))
              : cg_online_server(ch, sp, a, out_shape, *tables, *labels, *choices, decode, cost,
                                 layer, gc_run(threads_));
    }
    cost.layers.push_back(std::move(layer));
  }
  decode.finish();
  if (tables) {
    tables->finish();
    labels->finish();
    choices->finish();
  }
  busy.reset();
  const std::string text = to_json(cost).dump();
  ch.set_phase("online/done");
  ch.send(frames::kPhaseCost, std::as_bytes(std::span<const char>(text.data(), text.size())));
  ch.flush();
  if (ledger_) ledger_->consumed(client, id);
}

}  // namespace pinfer::protocol
