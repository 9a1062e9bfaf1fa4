#pragma once
// Handshake and request messages of a pinfer session, and the per-precompute state files.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gc_phases.hpp"
#include "pinfer/core/block.hpp"
#include "pinfer/core/ring.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/core/tensor.hpp"
#include "pinfer/gc/gc_options.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/protocol_kind.hpp"

namespace pinfer::protocol::detail {

// The first frame of every connection. A session presents the client's id and token (checked
// before anything else); a registration asks for fresh ones (with the server's registration
// secret when it requires one). Holds secrets: its encoding is wiped after sending.
enum class HelloMode : uint8_t { session = 1, register_client = 2 };
struct Hello {
  HelloMode mode = HelloMode::session;
  std::string client_id;                        // session
  SecretBuffer<std::byte> token;                // session: kClientTokenBytes
  std::optional<ProtocolKind> protocol;         // session: what the client insists on, if anything
  SecretBuffer<std::byte> registration_secret;  // registration: possibly empty
};
[[nodiscard]] SecretBuffer<std::byte> encode(const Hello& h);
[[nodiscard]] Hello decode_hello(std::span<const std::byte> bytes);
[[nodiscard]] inline std::size_t max_hello_bytes() {
  return 64 + kMaxClientIdChars + kClientTokenBytes + kMaxRegistrationSecretBytes;
}

// The server's answer to a registration: the new id and token (secret).
[[nodiscard]] SecretBuffer<std::byte> encode_registration(const ClientCredentials& c);
[[nodiscard]] ClientCredentials decode_registration(std::span<const std::byte> bytes);

struct HelloReply {
  ProtocolKind protocol{};
  std::vector<std::byte> architecture;
  // Revealed HE coefficients per key (docs/HE.md, "Key schedule"): 1..2^22.
  uint64_t he_key_budget = uint64_t{1} << 22;
  // The server's garbling scheme; the client garbles (Client-Garbler) or evaluates
  // (Server-Garbler) with it.
  gc::GcScheme gc_scheme = gc::GcScheme::half_gates;
};
[[nodiscard]] std::vector<std::byte> encode(const HelloReply& r);
[[nodiscard]] HelloReply decode_hello_reply(std::span<const std::byte> bytes);

// The precompute ids a client holds for this server and model (handshake, client -> server):
// the server discards its halves of any others, whose client halves are gone.
inline constexpr std::size_t kMaxHoldings = 1 << 16;
[[nodiscard]] std::vector<std::byte> encode_holdings(const std::vector<std::string>& ids);
[[nodiscard]] std::vector<std::string> decode_holdings(std::span<const std::byte> bytes);
[[nodiscard]] inline std::size_t max_holdings_bytes() {
  return 8 + kMaxHoldings * (4 + 64);
}

enum class RequestKind : uint8_t { offline = 1, online = 2, bye = 3 };
struct Request {
  RequestKind kind = RequestKind::bye;
  std::string precompute_id;  // empty for bye
};
[[nodiscard]] std::vector<std::byte> encode(const Request& r);
[[nodiscard]] Request decode_request(std::span<const std::byte> bytes);

// What the client keeps per precompute besides files. Secret.
// Secret: both states are wiped when destroyed, so a consumed precompute's keys and shares do
// not linger in freed memory (issue 8; best effort, see docs/RELIABILITY.md).
struct ClientState {
  ProtocolKind protocol{};
  gc::GcScheme gc_scheme{};
  std::string fingerprint;
  Block mask_seed;     // masks r of every activation: Prg::from_seed(mask_seed, activation)
  GarblerKeys keys;    // Client-Garbler only (zero otherwise)
  RingTensor c_final;  // the client's share of the logits

  ClientState() = default;
  ClientState(ClientState&&) = default;
  ClientState& operator=(ClientState&&) = default;
  ~ClientState();
};
// What the server keeps per precompute besides files. Secret.
struct ServerState {
  ProtocolKind protocol{};
  gc::GcScheme gc_scheme{};
  std::string fingerprint;
  GarblerKeys keys;               // Server-Garbler only (zero otherwise)
  std::vector<RingTensor> s_ops;  // the HE masks s of every linear op

  ServerState() = default;
  ServerState(ServerState&&) = default;
  ServerState& operator=(ServerState&&) = default;
  ~ServerState();
};

void write_state_file(const std::string& path, const ClientState& s, const Ring& ring);
void write_state_file(const std::string& path, const ServerState& s, const Ring& ring);
// Throw FormatError if the file does not match (protocol, garbling scheme, fingerprint,
// shapes): a precompute garbled with another scheme is never evaluated with this one.
[[nodiscard]] ClientState read_client_state(const std::string& path, ProtocolKind protocol,
                                            gc::GcScheme scheme, const std::string& fingerprint,
                                            const Ring& ring, const Shape& logits_shape);
[[nodiscard]] ServerState read_server_state(const std::string& path, ProtocolKind protocol,
                                            gc::GcScheme scheme, const std::string& fingerprint,
                                            const Ring& ring, const std::vector<Shape>& op_shapes);

// Ring tensors on the wire: l bits per element.
[[nodiscard]] std::vector<std::byte> encode_ring_values(const RingTensor& t, const Ring& ring);
[[nodiscard]] RingTensor decode_ring_values(std::span<const std::byte> bytes, const Shape& shape,
                                            const Ring& ring);

// The mask of activation k.
[[nodiscard]] RingTensor activation_mask(const Block& mask_seed, std::size_t activation,
                                         const Shape& shape, const Ring& ring);

}  // namespace pinfer::protocol::detail
