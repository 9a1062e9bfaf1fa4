#pragma once
// Loopback helpers for the TLS tests: certificates made on the fly and a connected TLS pair.
#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "pinfer/transport/tcp_channel.hpp"
#include "pinfer/transport/tcp_listener.hpp"
#include "pinfer/transport/tls_certificate.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::transport::test {

inline std::shared_ptr<const TlsServerContext> server_context(const PemCertificate& cert) {
  return TlsServerContext::from_pem(cert.cert_pem, cert.key_pem.span());
}

struct TlsPair {
  std::unique_ptr<TcpChannel> client;
  std::unique_ptr<TcpChannel> server;
  std::string server_error;  // the server's handshake error, if any
};

// Connects a TLS client to a TLS listener on 127.0.0.1; the server's handshake runs on a
// thread. `host` is what the client believes it connects to (checked in CA mode). Client
// errors propagate (after the server thread is joined).
inline TlsPair connect_tls_pair(std::shared_ptr<const TlsServerContext> server_tls,
                                std::shared_ptr<const TlsClientContext> client_tls,
                                const std::string& host = "127.0.0.1",
                                const TcpOptions& client_options = {},
                                const TcpOptions& server_options = {}) {
  TcpListener listener("127.0.0.1", 0, server_options, std::move(server_tls));
  TlsPair p;
  std::thread server([&] {
    try {
      p.server = listener.accept(10'000);
      p.server->handshake();
    } catch (const std::exception& e) {
      p.server_error = e.what();
    }
  });
  try {
    p.client =
        TcpChannel::connect(Endpoint{host, listener.port()}, client_options, std::move(client_tls));
  } catch (...) {
    server.join();
    throw;
  }
  server.join();
  return p;
}

}  // namespace pinfer::transport::test
