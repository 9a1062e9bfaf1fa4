#include "pinfer/service/background_service.hpp"

#include <utility>

#include "pinfer/transport/endpoint.hpp"

namespace pinfer::service {

BackgroundService::BackgroundService(nn::LoweredModel model, protocol::ProtocolKind kind,
                                     store::PrecomputeStore& store, ServiceOptions options,
                                     protocol::RegistrationPolicy registration,
                                     InferenceService::Logger log,
                                     protocol::ServerOptions server_options)
    : host_(options.host),
      tls_(options.tls),
      registry_(store.root() / "CLIENTS", registration),
      server_(std::move(model), kind, store, registry_, server_options),
      service_(server_, std::move(options), std::move(log)),
      thread_([this] { service_.run(); }) {}

BackgroundService::~BackgroundService() {
  stop();
}

std::string BackgroundService::endpoint() const {
  return transport::to_string(transport::Endpoint{host_, port()});
}

void BackgroundService::stop() noexcept {
  service_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pinfer::service
