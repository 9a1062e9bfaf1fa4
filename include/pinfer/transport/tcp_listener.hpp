#pragma once
// Listening TCP socket that hands out TcpChannels (the server side of a connection).
// Thread safety: accept() from one thread at a time; close() from any thread.
#include <cstdint>
#include <memory>
#include <string_view>

#include "pinfer/transport/endpoint.hpp"
#include "pinfer/transport/tcp_channel.hpp"
#include "pinfer/transport/tcp_options.hpp"
#include "pinfer/transport/tls_context.hpp"

namespace pinfer::transport {

class TcpListener {
 public:
  // Binds `address` (a name or numeric address; default loopback) and listens. Port 0 picks an
  // ephemeral port, see port(). `options` apply to every accepted channel; with `tls`, accepted
  // channels are TLS server channels whose handshake runs later, on the thread that serves
  // them (TcpChannel::handshake). Throws InvalidArgument for bad options or an unresolvable
  // address, IoError if binding fails.
  explicit TcpListener(std::string_view address = "127.0.0.1", uint16_t port = 0,
                       const TcpOptions& options = {},
                       std::shared_ptr<const TlsServerContext> tls = nullptr);
  explicit TcpListener(const Endpoint& endpoint, const TcpOptions& options = {},
                       std::shared_ptr<const TlsServerContext> tls = nullptr)
      : TcpListener(endpoint.host, endpoint.port, options, std::move(tls)) {}
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // The bound port (the chosen one when constructed with port 0).
  [[nodiscard]] uint16_t port() const noexcept { return port_; }

  // Waits at most timeout_ms for a client. Throws IoError on timeout or failure.
  [[nodiscard]] std::unique_ptr<TcpChannel> accept(uint64_t timeout_ms);

  // Stops listening; a pending accept() throws IoError.
  void close() noexcept;

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  TcpOptions options_;
  std::shared_ptr<const TlsServerContext> tls_;
};

}  // namespace pinfer::transport
