#include "session_messages.hpp"

#include <algorithm>
#include <iterator>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/private_files.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/protocol/architecture.hpp"

namespace pinfer::protocol::detail {
namespace {

constexpr uint32_t kHelloMagic = 0x464e4950;  // "PINF"
// 2: hello carries a mode, the client id and its token (client identity, issue 8).
// 3: the hello reply states the server's garbling scheme (half-gates or three-halves).
// 4: error frames carry an ErrorReason byte before the message (core/channel.hpp).
// 5: bounded admission: QueuePlace frames may precede the first answer, a full queue answers
//    with a Busy frame (retry-after), a queue timeout with its own error reason (admission.hpp).
// The one place the session version lives: bump it here for any change of the session frames.
constexpr uint32_t kSessionVersion = 5;
constexpr uint32_t kClientStateMagic = 0x53434950;  // "PICS"
constexpr uint32_t kServerStateMagic = 0x53534950;  // "PISS"
// 2: the garbling scheme follows the protocol code.
constexpr uint32_t kStateVersion = 2;
constexpr std::size_t kMaxStateBytes = std::size_t{1} << 30;

ProtocolKind protocol_from(uint8_t v) {
  if (v != 1 && v != 2) throw FormatError("protocol code " + std::to_string(v) + " is unknown");
  return static_cast<ProtocolKind>(v);
}

gc::GcScheme scheme_from(uint8_t v) {
  if (v != static_cast<uint8_t>(gc::GcScheme::half_gates) &&
      v != static_cast<uint8_t>(gc::GcScheme::three_halves)) {
    throw FormatError("garbling scheme code " + std::to_string(v) + " is unknown");
  }
  return static_cast<gc::GcScheme>(v);
}

void put_ring(ByteWriter& w, const RingTensor& t, const Ring& ring) {
  w.u64(t.size());
  w.packed_bits(t.values(), ring.bits());
}

RingTensor get_ring(ByteReader& r, const Shape& shape, const Ring& ring, std::string_view field) {
  const uint64_t n = r.length(field, shape.numel());
  if (n != shape.numel()) {
    throw FormatError(std::string(field) + " has " + std::to_string(n) + " values, expected " +
                      std::to_string(shape.numel()));
  }
  RingTensor t(shape);
  r.packed_bits(t.span(), ring.bits(), field);
  return t;
}

void write_file(const std::string& path, const std::vector<std::byte>& bytes) {
  // The state holds the garbling offset, label seeds and masks: mode 0600, written atomically.
  write_file_atomically(path, bytes, kPrivateFileMode);
}

SecretBuffer<std::byte> read_file(const std::string& path) {
  return read_file_capped(path, kMaxStateBytes);
}

void put_keys(ByteWriter& w, const GarblerKeys& k) {
  w.block(k.delta);
  w.block(k.label_seed);
}
GarblerKeys get_keys(ByteReader& r) {
  GarblerKeys k;
  k.delta = r.block("delta");
  k.label_seed = r.block("label seed");
  return k;
}

void check_header(ByteReader& r, uint32_t magic, ProtocolKind protocol, gc::GcScheme scheme,
                  const std::string& fingerprint) {
  r.expect_u32(magic, "state magic");
  r.expect_u32(kStateVersion, "state version");
  if (protocol_from(r.u8("state protocol")) != protocol) {
    throw FormatError("precompute was made for another protocol");
  }
  if (const gc::GcScheme got = scheme_from(r.u8("state garbling scheme")); got != scheme) {
    throw FormatError("precompute was garbled with " + std::string(gc::to_string(got)) +
                      ", this session uses " + std::string(gc::to_string(scheme)));
  }
  if (r.string("state fingerprint", 64) != fingerprint) {
    throw FormatError("precompute was made for another model");
  }
}

}  // namespace

namespace {

// Copies a ByteWriter's bytes into a wiping buffer and wipes the writer's copy.
SecretBuffer<std::byte> take_secret(ByteWriter& w) {
  std::vector<std::byte> bytes = w.take();
  SecretBuffer<std::byte> out(bytes.size());
  std::copy(bytes.begin(), bytes.end(), out.begin());
  secure_wipe(bytes.data(), bytes.size());
  return out;
}

SecretBuffer<std::byte> get_secret(ByteReader& r, std::size_t n, std::string_view field) {
  const auto view = r.bytes(n, field);
  SecretBuffer<std::byte> out(n);
  std::copy(view.begin(), view.end(), out.begin());
  return out;
}

}  // namespace

SecretBuffer<std::byte> encode(const Hello& h) {
  ByteWriter w;
  w.u32(kHelloMagic);
  w.u32(kSessionVersion);
  w.u8(static_cast<uint8_t>(h.mode));
  if (h.mode == HelloMode::session) {
    PINFER_ASSERT(h.token.size() == kClientTokenBytes);
    w.string(h.client_id);
    w.bytes(h.token.span());
    w.u8(h.protocol ? static_cast<uint8_t>(*h.protocol) : 0);
  } else {
    w.u64(h.registration_secret.size());
    w.bytes(h.registration_secret.span());
  }
  return take_secret(w);
}

Hello decode_hello(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  r.expect_u32(kHelloMagic, "hello magic");
  // A client of another version learns why instead of a confusing parse error.
  const uint32_t version = r.u32("session version");
  if (version != kSessionVersion) {
    throw FormatError("session version " + std::to_string(version) +
                          " is not supported (this "
                          "server speaks version " +
                          std::to_string(kSessionVersion) +
                          ": client identity, TLS, garbling scheme, typed error reasons, admission "
                          "queue); use "
                          "a client of the same pinfer version",
                      ErrorReason::version_mismatch);
  }
  Hello h;
  const uint8_t mode = r.u8("hello mode");
  if (mode == static_cast<uint8_t>(HelloMode::session)) {
    h.client_id = r.string("client id", kMaxClientIdChars);
    if (!valid_client_id(h.client_id)) {
      throw FormatError("client id must be [A-Za-z0-9_-], 1.." + std::to_string(kMaxClientIdChars) +
                        " characters");
    }
    h.token = get_secret(r, kClientTokenBytes, "client token");
    const uint8_t p = r.u8("protocol");
    if (p != 0) h.protocol = protocol_from(p);
  } else if (mode == static_cast<uint8_t>(HelloMode::register_client)) {
    h.mode = HelloMode::register_client;
    const uint64_t n = r.length("registration secret bytes", kMaxRegistrationSecretBytes);
    h.registration_secret = get_secret(r, n, "registration secret");
  } else {
    throw FormatError("hello mode " + std::to_string(mode) + " is unknown");
  }
  r.expect_end("hello");
  return h;
}

SecretBuffer<std::byte> encode_registration(const ClientCredentials& c) {
  ByteWriter w;
  w.string(c.client_id);
  w.bytes(c.token.span());
  return take_secret(w);
}

ClientCredentials decode_registration(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  ClientCredentials c;
  c.client_id = r.string("client id", kMaxClientIdChars);
  if (!valid_client_id(c.client_id)) throw FormatError("server issued a malformed client id");
  c.token = get_secret(r, kClientTokenBytes, "client token");
  r.expect_end("registration");
  return c;
}

std::vector<std::byte> encode(const HelloReply& reply) {
  ByteWriter w;
  w.u8(static_cast<uint8_t>(reply.protocol));
  w.u64(reply.architecture.size());
  w.bytes(reply.architecture);
  w.u64(reply.he_key_budget);
  w.u8(static_cast<uint8_t>(reply.gc_scheme));
  return w.take();
}

HelloReply decode_hello_reply(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  HelloReply reply;
  reply.protocol = protocol_from(r.u8("protocol"));
  const uint64_t n = r.length("architecture bytes", kMaxArchitectureBytes);
  const auto arch = r.bytes(n, "architecture");
  reply.architecture.assign(arch.begin(), arch.end());
  reply.he_key_budget = r.u64("HE key budget");
  if (reply.he_key_budget == 0 || reply.he_key_budget > (uint64_t{1} << 22)) {
    throw FormatError("HE key budget " + std::to_string(reply.he_key_budget) +
                      " is outside 1..2^22");
  }
  reply.gc_scheme = scheme_from(r.u8("garbling scheme"));
  r.expect_end("hello reply");
  return reply;
}

std::vector<std::byte> encode_holdings(const std::vector<std::string>& ids) {
  ByteWriter w;
  const std::size_t n = std::min(ids.size(), kMaxHoldings);
  w.u64(n);
  for (std::size_t i = 0; i < n; ++i) w.string(ids[i]);
  return w.take();
}

std::vector<std::string> decode_holdings(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  const uint64_t n = r.length("holdings count", kMaxHoldings);
  std::vector<std::string> ids;
  // Each id takes at least its 4-byte length: reserve no more than the bytes can hold.
  ids.reserve(std::min<uint64_t>(n, r.remaining() / 4));
  for (uint64_t i = 0; i < n; ++i) ids.push_back(r.string("precompute id", 64));
  r.expect_end("holdings");
  return ids;
}

std::vector<std::byte> encode(const Request& q) {
  ByteWriter w;
  w.u8(static_cast<uint8_t>(q.kind));
  w.string(q.precompute_id);
  return w.take();
}

Request decode_request(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  Request q;
  const uint8_t kind = r.u8("request kind");
  if (kind < 1 || kind > 3)
    throw FormatError("request kind " + std::to_string(kind) + " is unknown");
  q.kind = static_cast<RequestKind>(kind);
  q.precompute_id = r.string("precompute id", 64);
  r.expect_end("request");
  return q;
}

namespace {
void wipe(RingTensor& t) noexcept {
  secure_wipe(t.span().data(), t.span().size_bytes());
}
}  // namespace

ClientState::~ClientState() {
  secure_wipe(&mask_seed, sizeof mask_seed);
  secure_wipe(&keys, sizeof keys);
  wipe(c_final);
}

ServerState::~ServerState() {
  secure_wipe(&keys, sizeof keys);
  for (RingTensor& t : s_ops) wipe(t);
}

void write_state_file(const std::string& path, const ClientState& s, const Ring& ring) {
  ByteWriter w;
  w.u32(kClientStateMagic);
  w.u32(kStateVersion);
  w.u8(static_cast<uint8_t>(s.protocol));
  w.u8(static_cast<uint8_t>(s.gc_scheme));
  w.string(s.fingerprint);
  w.block(s.mask_seed);
  put_keys(w, s.keys);
  put_ring(w, s.c_final, ring);
  std::vector<std::byte> bytes = w.take();
  write_file(path, bytes);
  secure_wipe(bytes.data(), bytes.size());
}

void write_state_file(const std::string& path, const ServerState& s, const Ring& ring) {
  ByteWriter w;
  w.u32(kServerStateMagic);
  w.u32(kStateVersion);
  w.u8(static_cast<uint8_t>(s.protocol));
  w.u8(static_cast<uint8_t>(s.gc_scheme));
  w.string(s.fingerprint);
  put_keys(w, s.keys);
  w.u64(s.s_ops.size());
  for (const RingTensor& t : s.s_ops) put_ring(w, t, ring);
  std::vector<std::byte> bytes = w.take();
  write_file(path, bytes);
  secure_wipe(bytes.data(), bytes.size());
}

ClientState read_client_state(const std::string& path, ProtocolKind protocol, gc::GcScheme scheme,
                              const std::string& fingerprint, const Ring& ring,
                              const Shape& logits_shape) {
  const SecretBuffer<std::byte> bytes = read_file(path);
  ByteReader r(bytes.span());
  check_header(r, kClientStateMagic, protocol, scheme, fingerprint);
  ClientState s;
  s.protocol = protocol;
  s.gc_scheme = scheme;
  s.fingerprint = fingerprint;
  s.mask_seed = r.block("mask seed");
  s.keys = get_keys(r);
  s.c_final = get_ring(r, logits_shape, ring, "client logits share");
  r.expect_end("client state");
  return s;
}

ServerState read_server_state(const std::string& path, ProtocolKind protocol, gc::GcScheme scheme,
                              const std::string& fingerprint, const Ring& ring,
                              const std::vector<Shape>& op_shapes) {
  const SecretBuffer<std::byte> bytes = read_file(path);
  ByteReader r(bytes.span());
  check_header(r, kServerStateMagic, protocol, scheme, fingerprint);
  ServerState s;
  s.protocol = protocol;
  s.gc_scheme = scheme;
  s.fingerprint = fingerprint;
  s.keys = get_keys(r);
  const uint64_t n = r.length("linear op count", op_shapes.size());
  if (n != op_shapes.size()) throw FormatError("server state has the wrong number of ops");
  for (const Shape& shape : op_shapes) s.s_ops.push_back(get_ring(r, shape, ring, "HE mask s"));
  r.expect_end("server state");
  return s;
}

std::vector<std::byte> encode_ring_values(const RingTensor& t, const Ring& ring) {
  ByteWriter w;
  w.packed_bits(t.values(), ring.bits());
  return w.take();
}

RingTensor decode_ring_values(std::span<const std::byte> bytes, const Shape& shape,
                              const Ring& ring) {
  RingTensor t(shape);
  ByteReader r(bytes);
  r.packed_bits(t.span(), ring.bits(), "ring values");
  r.expect_end("ring values");
  return t;
}

RingTensor activation_mask(const Block& mask_seed, std::size_t activation, const Shape& shape,
                           const Ring& ring) {
  RingTensor r(shape);
  Prg prg = Prg::from_seed(mask_seed, activation);
  prg.fill_ring(ring, r.span());
  return r;
}

}  // namespace pinfer::protocol::detail
