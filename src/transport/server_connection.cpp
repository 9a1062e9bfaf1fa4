#include "pinfer/transport/server_connection.hpp"

#include "pinfer/core/error.hpp"
#include "pinfer/transport/endpoint.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::transport {

std::unique_ptr<TcpChannel> connect_to_server(const std::string& endpoint,
                                              const TcpOptions& options, const ServerTrust& trust) {
  const Endpoint ep = parse_endpoint(endpoint);
  const int chosen = static_cast<int>(!trust.ca_file.empty()) +
                     static_cast<int>(!trust.pin.empty()) +
                     static_cast<int>(trust.insecure_plaintext_loopback);
  if (chosen > 1) {
    throw InvalidArgument(
        "choose one way to check the server: a CA file, a pinned fingerprint or plaintext "
        "loopback");
  }
  if (trust.insecure_plaintext_loopback) return TcpChannel::connect_plaintext_loopback(ep, options);
  if (chosen == 0) {
    throw InvalidArgument(
        "the server's identity must be checked: give the SHA-256 fingerprint of its "
        "certificate (the one the server prints) or a CA file its certificate chains to "
        "(plaintext only to a loopback server, asked for by name)");
  }
  const std::shared_ptr<const TlsClientContext> tls =
      trust.pin.empty() ? TlsClientContext::trusting_ca_file(trust.ca_file)
                        : TlsClientContext::pinned(parse_fingerprint(trust.pin));
  return TcpChannel::connect(ep, options, tls);
}

}  // namespace pinfer::transport
