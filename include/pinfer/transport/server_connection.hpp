#pragma once
// The client's way to a server: "host:port" plus how the server's identity is checked (a CA
// file, a pinned certificate fingerprint, or plain TCP on loopback). Shared by the `pinfer`
// client commands and the Python module's pinfer.Client.
#include <memory>
#include <string>

#include "pinfer/transport/tcp_channel.hpp"
#include "pinfer/transport/tcp_options.hpp"

namespace pinfer::transport {

// Exactly one of the three is chosen.
struct ServerTrust {
  std::string ca_file;  // trust certificates chaining to this CA (PEM); host name checked
  std::string pin;      // trust exactly the certificate with this SHA-256 (64 hex digits)
  // Plaintext TCP without TLS, only to a loopback host (checked: ErrorReason::plaintext_refused
  // otherwise). For experiments on one machine.
  bool insecure_plaintext_loopback = false;
};

// Connects to `endpoint` ("host:port" or "[v6]:port") over TLS 1.3 checked as `trust` says, or
// plaintext when trust.insecure_plaintext_loopback. Throws InvalidArgument for a malformed
// endpoint or pin, for no or contradictory trust, for plaintext to a non-loopback host; IoError
// if the server cannot be reached or fails the check.
[[nodiscard]] std::unique_ptr<TcpChannel> connect_to_server(const std::string& endpoint,
                                                            const TcpOptions& options,
                                                            const ServerTrust& trust);

}  // namespace pinfer::transport
