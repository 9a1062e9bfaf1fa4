#pragma once
// The client side of private inference: learns the model's public architecture from the
// server, runs offline phases into its precompute store, and runs inferences that consume one
// precompute each (or run the offline phase on demand when none is left).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "pinfer/core/channel.hpp"
#include "pinfer/core/tensor.hpp"
#include "pinfer/gc/gc_options.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/admission.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/cost_report.hpp"
#include "pinfer/protocol/inference_result.hpp"
#include "pinfer/protocol/protocol_kind.hpp"
#include "pinfer/store/precompute_store.hpp"

namespace pinfer::protocol {

namespace detail {
struct ModelPlan;
struct HeKeySchedule;
}  // namespace detail

// Progress of a long step: (step name, units done, units in total), called on the thread that
// runs the phase.
using ProgressFn = std::function<void(std::string_view step, uint64_t done, uint64_t total)>;

struct ClientOptions {
  // Issued by the server at registration (register_with_server, or `pinfer client register`);
  // the server authenticates it first and keys its store by the id.
  ClientCredentials credentials;
  std::optional<ProtocolKind> protocol = {};  // refuse a server running another protocol
  ProgressFn progress = {};                   // optional
  // Threads of this side's garbled-circuit and OT work in a phase (0: all cores). The garbling
  // scheme is the server's (stated in the handshake).
  unsigned threads = 0;
  // How long to wait in the server's admission queue, and who hears of the place.
  AdmissionOptions admission = {};
};

// Asks the server on `channel` for a fresh client id and token (the connection's only request).
// `registration_secret` is needed when the server requires one (else empty). Throws
// ProtocolError if the server refuses (registration closed, wrong secret), IoError on the
// transport; ServerBusyError when the server's queue is full; waits in the queue as `admission`
// says. Send it over an authenticated, encrypted channel: the token is a bearer secret.
[[nodiscard]] ClientCredentials register_with_server(
    Channel& channel, std::span<const std::byte> registration_secret = {},
    const AdmissionOptions& admission = {});

class InferenceClient {
 public:
  // Authenticates and runs the handshake on `channel` (kept by reference for the client's
  // lifetime), first waiting in the server's admission queue if it has to (options.admission).
  // Throws ServerBusyError when the server's queue is full (retry_while_busy retries it),
  // ProtocolError on a protocol mismatch, refused credentials, a queue timeout at the server
  // (ErrorReason::queue_timeout) or another server error, FormatError on a malformed
  // architecture, IoError on the transport (ErrorReason::queue_timeout after
  // options.admission.max_queue_wait_ms in the queue).
  InferenceClient(Channel& channel, store::PrecomputeStore& store, ClientOptions options);
  ~InferenceClient();
  InferenceClient(const InferenceClient&) = delete;
  InferenceClient& operator=(const InferenceClient&) = delete;

  [[nodiscard]] const nn::LoweredModel& architecture() const noexcept { return arch_; }
  // What the client saw of the server's admission queue before the handshake's answer.
  [[nodiscard]] const AdmissionRecord& admission() const noexcept { return admission_; }
  [[nodiscard]] ProtocolKind protocol() const noexcept { return kind_; }
  // The server's garbling scheme (from the handshake).
  [[nodiscard]] gc::GcScheme gc_scheme() const noexcept { return gc_scheme_; }
  // HE keys each offline phase generates (the server's key budget, stated in the handshake).
  [[nodiscard]] std::size_t he_keys() const noexcept;
  // Precomputes of this server's model and protocol in the client's store.
  [[nodiscard]] std::size_t stored_precomputes() const;

  // Runs one offline phase and stores the precompute on both sides. Throws StoreError if either
  // store is full (nothing is stored then).
  CostReport precompute();
  // Runs one inference on `input` (shape of the architecture's input, values as the model
  // expects) and returns the output with its cost. Uses the oldest stored precompute; with none
  // left, runs the offline phase first when allow_on_demand (cost.offline_on_demand is then
  // true), else throws StoreError.
  InferenceResult infer(const FloatTensor& input, bool allow_on_demand = true);
  // Tells the server the session is over (best effort).
  void close() noexcept;

 private:
  std::string store_key() const;
  // Deletes a used precompute's files on a thread of their own: the result does not wait for
  // the removal of gigabytes of tables (0.45 s for ResNet-32's 1.1 GB, Server-Garbler). The
  // precompute left ready/ when it was taken, so it can never be used again, even if the
  // process dies before the removal ends (the store's recovery removes consumed/ entries).
  void retire(store::ConsumedPrecompute used);

  Channel& ch_;
  store::PrecomputeStore& store_;
  ClientOptions options_;
  ProtocolKind kind_ = ProtocolKind::server_garbler;
  gc::GcScheme gc_scheme_ = gc::GcScheme::half_gates;
  unsigned threads_ = 1;
  nn::LoweredModel arch_;
  std::string fingerprint_;
  std::unique_ptr<detail::ModelPlan> plan_;
  std::unique_ptr<detail::HeKeySchedule> he_keys_;
  AdmissionRecord admission_;
  bool closed_ = false;
  std::thread removal_;  // the last retire(); joined by the next one and by the destructor
};

}  // namespace pinfer::protocol
