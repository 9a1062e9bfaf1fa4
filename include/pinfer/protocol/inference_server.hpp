#pragma once
// The server side of private inference: holds the model (weights never leave it), its HE
// encoding, a registry of clients and a precompute store keyed by the *authenticated* client
// id, so a client can only use or delete its own precomputes. One InferenceServer serves many
// connections concurrently (docs/PROTOCOLS.md).
#include <cstdint>
#include <memory>
#include <utility>

#include "pinfer/core/channel.hpp"
#include "pinfer/gc/gc_options.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/precompute_ledger.hpp"
#include "pinfer/protocol/protocol_kind.hpp"
#include "pinfer/store/precompute_store.hpp"

namespace pinfer::protocol {

namespace detail {
struct Hello;
class HeServerModel;
struct ModelPlan;
struct HeKeySchedule;
}  // namespace detail

// The 2^-40 flooding bound holds for at most 2^22 revealed coefficients per HE key (docs/HE.md).
inline constexpr uint64_t kMaxHeKeyBudget = uint64_t{1} << 22;

// Three-halves stores and sends 23 % fewer garbled-table bytes than half-gates, and storage
// decides how many precomputes fit (docs/GC.md, "Which scheme").
inline constexpr gc::GcScheme kDefaultGcScheme = gc::GcScheme::three_halves;

// Threads a party's phases use when asked for 0: every core (std::thread::hardware_concurrency,
// at least 1).
[[nodiscard]] unsigned resolve_threads(unsigned threads) noexcept;

// 1 GiB: ResNet-18 TinyImageNet would keep 5.08 GB of encoded weights to save 1.45 s of server
// CPU per offline phase (6.64 s without any, 5.19 s with all: docs/HE.md, "Weight cache").
inline constexpr std::size_t kDefaultWeightCacheBytes = std::size_t{1} << 30;

struct ServerOptions {
  // Revealed coefficients allowed under one HE key; the client starts a fresh key before a
  // layer would exceed it (docs/HE.md, "Key schedule"). Stated in the handshake. Smaller values
  // only rotate keys more often (tests use tiny ones).
  uint64_t he_key_budget = kMaxHeKeyBudget;
  // The garbling scheme of every precompute this server makes, stated in the handshake; stored
  // precomputes of another scheme are refused (FormatError), never evaluated with this one.
  gc::GcScheme gc_scheme = kDefaultGcScheme;
  // Threads of the garbled-circuit and OT work of one phase (0: all cores). The bytes sent and
  // stored do not depend on it.
  unsigned threads = 0;
  // Bytes of HE-encoded (NTT-form) weights kept in memory for the whole model, layer by layer
  // in order (at most 256 MiB per layer); the rest are encoded again for every query, which
  // costs offline time, not correctness (docs/HE.md, "Weight cache").
  std::size_t weight_cache_bytes = kDefaultWeightCacheBytes;
  // Told of every precompute stored, taken and consumed (a fleet's index); none when null.
  std::shared_ptr<PrecomputeLedger> ledger = nullptr;
};

// The first frame of a connection (a session's hello or a registration), read and decoded
// (magic, session version, lengths) but not yet acted on. The service reads it before a
// connection waits for a session slot: a client of another version learns so at once, and a
// waiting client sends nothing more, so its disconnect shows as the end of its stream. Holds the
// client's token or registration secret (wiped on destruction). Move-only.
class Greeting {
 public:
  Greeting(Greeting&&) noexcept;
  Greeting& operator=(Greeting&&) noexcept;
  ~Greeting();
  // A registration (a short exchange), not an inference session.
  [[nodiscard]] bool registration() const noexcept;

 private:
  friend class InferenceServer;
  explicit Greeting(std::unique_ptr<detail::Hello> hello);
  std::unique_ptr<detail::Hello> hello_;
  bool routed_ = false;  // authenticated, and this server is where it is served (route())
};

class InferenceServer {
 public:
  // Encodes the model's weights for HE once. Throws InvalidArgument on an invalid model or a
  // key budget outside 1..kMaxHeKeyBudget, Unsupported if one layer alone exceeds the budget.
  // `store` and `clients` are kept by reference for the server's lifetime.
  InferenceServer(nn::LoweredModel model, ProtocolKind kind, store::PrecomputeStore& store,
                  ClientRegistry& clients, ServerOptions options = {});
  ~InferenceServer();
  InferenceServer(const InferenceServer&) = delete;
  InferenceServer& operator=(const InferenceServer&) = delete;

  // Serves one connection: a registration (issues a fresh id + token, then ends), or a
  // session: authentication (id + token, before anything else), handshake, then offline /
  // online requests until the client says goodbye. Errors of this connection propagate after the
  // peer was told (send_error); the caller logs them and closes the connection. The store stays
  // consistent in every case. Thread safety: may be called concurrently for different connections.
  void serve_connection(Channel& channel);
  // The first step of serve_connection on its own: reads and decodes the connection's first
  // frame. Throws FormatError (ErrorReason::version_mismatch for another session version)
  // after telling the peer, ProtocolError or IoError as Channel::recv.
  [[nodiscard]] static Greeting read_greeting(Channel& channel);
  // The rest of serve_connection, for a greeting read from this channel by read_greeting.
  void serve_connection(Channel& channel, Greeting greeting);
  // The first steps of a session greeting that need no session slot: authenticates the client
  // and, in a fleet, answers with a redirect when another node is its home. Returns true when
  // the connection is done (redirected); false when it is to be served here (serve_connection
  // then skips these steps). Registrations are left to serve_connection (false). Throws as
  // serve_connection, after telling the peer. The service calls it before a connection waits
  // for a slot, so a client bound elsewhere never queues here.
  bool route(Channel& channel, Greeting& greeting);

  [[nodiscard]] ProtocolKind protocol() const noexcept { return kind_; }
  [[nodiscard]] gc::GcScheme gc_scheme() const noexcept { return gc_scheme_; }
  [[nodiscard]] unsigned threads() const noexcept { return threads_; }
  [[nodiscard]] const nn::LoweredModel& model() const noexcept { return model_; }
  [[nodiscard]] store::PrecomputeStore& store() noexcept { return store_; }
  [[nodiscard]] ClientRegistry& clients() noexcept { return clients_; }
  // HE keys one precompute uses (1 unless the model reveals more than the budget).
  [[nodiscard]] std::size_t he_keys() const noexcept;
  // Bytes of HE-encoded weights kept in memory (<= ServerOptions::weight_cache_bytes).
  [[nodiscard]] std::size_t cached_weight_bytes() const noexcept;
  // Replaces ServerOptions::ledger. Only before the first connection is served (not thread
  // safe with sessions): a fleet node joins once its listener is bound, so it can advertise the
  // port it was given (`pinfer serve --port 0 --cluster`).
  void set_ledger(std::shared_ptr<PrecomputeLedger> ledger) noexcept {
    ledger_ = std::move(ledger);
  }

 private:
  void serve_offline(Channel& ch, const std::string& client, const std::string& id);
  void serve_online(Channel& ch, const std::string& client, const std::string& id);

  nn::LoweredModel model_;
  ProtocolKind kind_;
  gc::GcScheme gc_scheme_;
  unsigned threads_;
  store::PrecomputeStore& store_;
  ClientRegistry& clients_;
  std::unique_ptr<detail::ModelPlan> plan_;
  std::unique_ptr<detail::HeServerModel> he_;
  std::unique_ptr<detail::HeKeySchedule> he_keys_;
  std::shared_ptr<PrecomputeLedger> ledger_;
};

}  // namespace pinfer::protocol
