#include "pinfer/service/client_session.hpp"

#include "pinfer/protocol/redirect.hpp"

namespace pinfer::service {

ClientSessionParts open_client_session(const std::string& endpoint, const ConnectFn& connect,
                                       store::PrecomputeStore& store,
                                       const ClientOptionsFn& options,
                                       const RedirectFn& on_redirect) {
  ClientSessionParts s;
  s.endpoint = endpoint;
  s.channel = connect(endpoint);
  try {
    s.client = std::make_unique<protocol::InferenceClient>(*s.channel, store, options());
  } catch (const protocol::RedirectError& e) {
    if (on_redirect) on_redirect(e.address());
    s.channel.reset();
    s.endpoint = e.address();
    s.channel = connect(s.endpoint);
    s.client = std::make_unique<protocol::InferenceClient>(*s.channel, store, options());
  }
  return s;
}

}  // namespace pinfer::service
