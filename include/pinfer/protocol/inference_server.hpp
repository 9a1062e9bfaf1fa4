#pragma once
// The server side of private inference: holds the model (weights never leave it), its HE
// encoding, and a precompute store keyed by client id. One InferenceServer serves many
// connections concurrently (docs/PROTOCOLS.md).
#include <memory>

#include "pinfer/core/channel.hpp"
#include "pinfer/nn/lowered_model.hpp"
#include "pinfer/protocol/precompute_store.hpp"
#include "pinfer/protocol/protocol_kind.hpp"

namespace pinfer::protocol {

namespace detail {
class HeServerModel;
struct ModelPlan;
}  // namespace detail

class InferenceServer {
 public:
  // Encodes the model's weights for HE once. Throws InvalidArgument on an invalid model.
  InferenceServer(nn::LoweredModel model, ProtocolKind kind, PrecomputeStore& store);
  ~InferenceServer();
  InferenceServer(const InferenceServer&) = delete;
  InferenceServer& operator=(const InferenceServer&) = delete;

  // Serves one connection: handshake, then offline / online requests until the client says
  // goodbye. Errors of this connection propagate after the peer was told (send_error); the
  // caller logs them and closes the connection. The store stays consistent in every case.
  // Thread safety: may be called concurrently for different connections.
  void serve_connection(Channel& channel);

  [[nodiscard]] ProtocolKind protocol() const noexcept { return kind_; }
  [[nodiscard]] const nn::LoweredModel& model() const noexcept { return model_; }
  [[nodiscard]] PrecomputeStore& store() noexcept { return store_; }

 private:
  void serve_offline(Channel& ch, const std::string& client, const std::string& id);
  void serve_online(Channel& ch, const std::string& client, const std::string& id);

  nn::LoweredModel model_;
  ProtocolKind kind_;
  PrecomputeStore& store_;
  std::unique_ptr<detail::ModelPlan> plan_;
  std::unique_ptr<detail::HeServerModel> he_;
};

}  // namespace pinfer::protocol
