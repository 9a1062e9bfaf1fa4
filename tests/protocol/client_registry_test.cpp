// Client identity: registration, authentication, the registry and credentials files, and the
// guarantee that a client can only use or delete its own precomputes (end to end over the
// library API, both roles in one process over the in-memory channel).
#include "pinfer/protocol/client_registry.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "expect_message.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "protocol/frames.hpp"
#include "protocol/session_messages.hpp"
#include "test_models.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using namespace pinfer::store;
using pinfer::test_support::message_of;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("pinfer-registry-test-" + new_precompute_id());
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

TEST(ClientRegistry, RegisteredClientAuthenticatesAndPersistsOnlyATokenHash) {
  TempDir dir;
  const fs::path file = dir.path / "CLIENTS";
  ClientCredentials c;
  {
    ClientRegistry registry(file);
    c = registry.register_client({});
    EXPECT_TRUE(valid_client_id(c.client_id));
    EXPECT_EQ(c.token.size(), kClientTokenBytes);
    EXPECT_NO_THROW(registry.authenticate(c.client_id, c.token.span()));
    const ClientCredentials other = registry.register_client({});
    EXPECT_NE(other.client_id, c.client_id);
    EXPECT_EQ(registry.size(), 2u);
  }
  ClientRegistry reopened(file);
  EXPECT_EQ(reopened.size(), 2u);
  EXPECT_NO_THROW(reopened.authenticate(c.client_id, c.token.span()));
  // The file holds SHA-256(token), never the token, and only its owner may read it.
  std::string token_hex;
  for (std::byte b : c.token) {
    static constexpr char kDigits[] = "0123456789abcdef";
    token_hex += kDigits[std::to_integer<unsigned>(b) >> 4];
    token_hex += kDigits[std::to_integer<unsigned>(b) & 15];
  }
  EXPECT_EQ(read_text(file).find(token_hex), std::string::npos);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST(ClientRegistry, WrongTokenAndUnknownIdAreProtocolErrorsNamingTheId) {
  TempDir dir;
  ClientRegistry registry(dir.path / "CLIENTS");
  ClientCredentials c = registry.register_client({});
  SecretBuffer<std::byte> wrong = c.token.clone();
  wrong[kClientTokenBytes - 1] ^= std::byte{0x80};
  std::string msg =
      message_of<ProtocolError>([&] { registry.authenticate(c.client_id, wrong.span()); });
  EXPECT_NE(msg.find("wrong token"), std::string::npos) << msg;
  EXPECT_NE(msg.find(c.client_id), std::string::npos) << msg;
  msg = message_of<ProtocolError>(
      [&] { registry.authenticate(c.client_id, c.token.span().first(16)); });
  EXPECT_NE(msg.find("wrong token"), std::string::npos) << msg;
  try {
    registry.authenticate("cnobody", c.token.span());
    ADD_FAILURE() << "unknown id accepted";
  } catch (const ProtocolError& e) {
    msg = e.what();
    EXPECT_EQ(e.reason(), ErrorReason::unauthenticated);
  }
  EXPECT_NE(msg.find("unknown client id 'cnobody'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("register with it first"), std::string::npos) << msg;
}

TEST(ClientRegistry, DamagedRegistryFileIsAFormatErrorNamingTheFile) {
  TempDir dir;
  const fs::path file = dir.path / "CLIENTS";
  {
    ClientRegistry registry(file);
    (void)registry.register_client({});
    (void)registry.register_client({});
  }
  const std::string good = read_text(file);
  // A flipped hash digit, a truncated file, a missing trailer, a wrong header.
  std::string flipped = good;
  const std::size_t pos = flipped.find("client ") + 7 + 34;  // inside the first hash
  flipped[pos] = flipped[pos] == 'a' ? 'b' : 'a';
  const std::string cases[] = {flipped, good.substr(0, good.size() / 2),
                               good.substr(0, good.rfind("end ")), "pinfer-other 1\n" + good};
  for (const std::string& bad : cases) {
    write_text(file, bad);
    const std::string msg = message_of<FormatError>([&] { ClientRegistry r(file); });
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  }
  write_text(file, flipped);
  EXPECT_NE(message_of<FormatError>([&] { ClientRegistry r(file); }).find("checksum mismatch"),
            std::string::npos);
}

TEST(ClientRegistry, ClosedRegistrationAndRegistrationSecret) {
  TempDir dir;
  ClientRegistry closed(dir.path / "CLOSED", RegistrationPolicy::closed);
  EXPECT_NE(message_of<ProtocolError>([&] { (void)closed.register_client({}); }).find("closed"),
            std::string::npos);
  ClientRegistry guarded(dir.path / "GUARDED");
  guarded.require_secret(bytes_of("open sesame"));
  EXPECT_THROW((void)guarded.register_client({}), ProtocolError);
  EXPECT_THROW((void)guarded.register_client(bytes_of("open sesamE")), ProtocolError);
  EXPECT_NO_THROW((void)guarded.register_client(bytes_of("open sesame")));
  EXPECT_EQ(guarded.size(), 1u);
  EXPECT_THROW(guarded.require_secret({}), InvalidArgument);
}

TEST(ClientCredentials, RoundTripAndClearErrors) {
  TempDir dir;
  ClientRegistry registry(dir.path / "CLIENTS");
  const ClientCredentials c = registry.register_client({});
  const fs::path file = dir.path / "CREDENTIALS";
  save_credentials(file, c);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const ClientCredentials back = load_credentials(file);
  EXPECT_EQ(back.client_id, c.client_id);
  EXPECT_TRUE(std::equal(back.token.begin(), back.token.end(), c.token.begin(), c.token.end()));
  std::string text = read_text(file);
  write_text(file, text.substr(0, text.size() - 5) + "\n");
  const std::string msg = message_of<FormatError>([&] { (void)load_credentials(file); });
  EXPECT_NE(msg.find("token"), std::string::npos) << msg;
  EXPECT_EQ(msg.find(text.substr(text.rfind(' ') + 1, 20)), std::string::npos) << "token leaked";
  try {
    (void)load_credentials(dir.path / "NONE");
    ADD_FAILURE() << "missing credentials loaded";
  } catch (const IoError& e) {
    // The CLI turns the reason into its `pinfer client register` hint.
    EXPECT_EQ(e.reason(), ErrorReason::unauthenticated);
    EXPECT_NE(std::string(e.what()).find("register with it first"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- end to end

struct Server {
  TempDir dir;
  nn::LoweredModel model = test_models::small_test_model(41);
  PrecomputeStore store{dir.path / "server", {.capacity_bytes = uint64_t{1} << 32}};
  ClientRegistry registry{dir.path / "server" / "CLIENTS"};
  InferenceServer server{model, ProtocolKind::client_garbler, store, registry};

  // Runs `client_fn(channel)` against one served connection; returns the server's error text.
  template <typename F>
  std::string connection(F client_fn) {
    auto [a, b] = make_memory_channel_pair();
    std::string server_error;
    std::thread t([&, &sch = *b] {
      try {
        server.serve_connection(sch);
      } catch (const std::exception& e) {
        server_error = e.what();
      }
    });
    try {
      client_fn(*a);
    } catch (...) {
      a->close();
      t.join();
      throw;
    }
    t.join();
    return server_error;
  }
};

TEST(ClientIdentity, RegistrationOverTheChannelIssuesWorkingCredentials) {
  Server s;
  ClientCredentials c;
  (void)s.connection([&](Channel& ch) { c = register_with_server(ch); });
  EXPECT_NO_THROW(s.registry.authenticate(c.client_id, c.token.span()));
  s.registry.require_secret(bytes_of("shared"));
  std::string client_msg;
  const std::string server_msg = s.connection([&](Channel& ch) {
    client_msg = message_of<ProtocolError>([&] { (void)register_with_server(ch); });
  });
  EXPECT_NE(client_msg.find("registration secret"), std::string::npos) << client_msg;
  EXPECT_NE(server_msg.find("registration secret"), std::string::npos) << server_msg;
  (void)s.connection([&](Channel& ch) { (void)register_with_server(ch, bytes_of("shared")); });
  EXPECT_EQ(s.registry.size(), 2u);
}

TEST(ClientIdentity, ClientCannotTakeOrDeleteAnotherClientsPrecomputes) {
  Server s;
  TempDir client_dirs;
  PrecomputeStore store_a(client_dirs.path / "a", {.capacity_bytes = uint64_t{1} << 32});
  PrecomputeStore store_b(client_dirs.path / "b", {.capacity_bytes = uint64_t{1} << 32});
  const ClientCredentials a = s.registry.register_client({});
  const ClientCredentials b = s.registry.register_client({});

  std::vector<std::string> a_ids;
  (void)s.connection([&](Channel& ch) {
    InferenceClient client(ch, store_a, {a.clone(), {}});
    a_ids.push_back(client.precompute().precompute_id);
    a_ids.push_back(client.precompute().precompute_id);
    client.close();
  });
  ASSERT_EQ(s.store.count(a.client_id), 2u);

  // B, authenticated as itself, holds nothing: the server's reconciliation at its handshake
  // (drop server halves the client no longer holds) must touch only B's entries.
  (void)s.connection([&](Channel& ch) {
    InferenceClient client(ch, store_b, {b.clone(), {}});
    client.close();
  });
  EXPECT_EQ(s.store.count(a.client_id), 2u);

  // B claims A's id with its own token, or with a forged one: refused before anything is read
  // or reconciled.
  for (bool own_token : {true, false}) {
    ClientCredentials forged{a.client_id, own_token ? b.token.clone() : a.token.clone()};
    if (!own_token) forged.token[0] ^= std::byte{1};
    std::string client_msg;
    const std::string server_msg = s.connection([&](Channel& ch) {
      client_msg = message_of<ProtocolError>([&] {
        InferenceClient client(ch, store_b, {std::move(forged), {}});
      });
    });
    EXPECT_NE(client_msg.find("wrong token"), std::string::npos) << client_msg;
    EXPECT_NE(server_msg.find("wrong token"), std::string::npos) << server_msg;
    EXPECT_EQ(s.store.count(a.client_id), 2u);
  }

  // B names A's precompute id in an online request (speaking the session messages
  // directly): the server looks it up under B's authenticated id, so it refuses to use it;
  // A's entries stay.
  (void)s.connection([&](Channel& ch) {
    detail::Hello hello;
    hello.client_id = b.client_id;
    hello.token = b.token.clone();
    ch.send(frames::kHello, detail::encode(hello).span());
    (void)ch.recv(frames::kHelloReply, 1 << 20);
    ch.send(frames::kHoldings, detail::encode_holdings({}));
    ch.send(frames::kRequest,
            detail::encode(detail::Request{detail::RequestKind::online, a_ids[0]}));
    const std::string msg =
        message_of<StoreError>([&] { (void)ch.recv(frames::kRequestAccepted, 0); });
    EXPECT_NE(msg.find("cannot use precompute"), std::string::npos) << msg;
    ch.send(frames::kRequest, detail::encode(detail::Request{detail::RequestKind::bye, ""}));
    ch.flush();
  });
  EXPECT_EQ(s.store.list(a.client_id), a_ids);

  // A still uses its own, bit-exact.
  (void)s.connection([&](Channel& ch) {
    InferenceClient client(ch, store_a, {a.clone(), {}});
    const FloatTensor x = test_models::random_input(s.model.input_shape, 10);
    const InferenceResult rep = client.infer(x, false);
    EXPECT_EQ(rep.cost.precompute_id, a_ids[0]);
    EXPECT_EQ(rep.logits_ring, nn::run_fixed_point(s.model, nn::encode_input(s.model, x)).values());
    client.close();
  });
  EXPECT_EQ(s.store.count(a.client_id), 1u);
}

}  // namespace
