#pragma once
// A client's session with a server that may be a node of a fleet (docs/DEPLOYMENT.md): connect,
// authenticate and, when the node answers with a redirect to the client's home node
// (protocol/redirect.hpp), connect there and start again, once. The new address goes through the
// same `connect` (so the same transport rules: plaintext only to loopback, the same TLS checks);
// a second redirect propagates as protocol::RedirectError. The CLI and the Python module both
// open their sessions here.
#include <functional>
#include <memory>
#include <string>

#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/store/precompute_store.hpp"
#include "pinfer/transport/tcp_channel.hpp"

namespace pinfer::service {

struct ClientSessionParts {
  std::unique_ptr<transport::TcpChannel> channel;
  std::unique_ptr<protocol::InferenceClient> client;  // uses *channel; destroyed first
  std::string endpoint;  // where the session runs: the server, or the home node it named
};

using ConnectFn = std::function<std::unique_ptr<transport::TcpChannel>(const std::string&)>;
// Options for each InferenceClient made (credentials are consumed, so one per attempt).
using ClientOptionsFn = std::function<protocol::ClientOptions()>;
// Told the home node's address before the redirect is followed.
using RedirectFn = std::function<void(const std::string& home)>;

[[nodiscard]] ClientSessionParts open_client_session(const std::string& endpoint,
                                                     const ConnectFn& connect,
                                                     store::PrecomputeStore& store,
                                                     const ClientOptionsFn& options,
                                                     const RedirectFn& on_redirect = {});

}  // namespace pinfer::service
