// The garbling scheme and the thread count of a session (issue 14): the server states its scheme
// in the handshake and the client follows it; stored precomputes record the scheme and are never
// used with another; private inference is bit-exact for both schemes, both protocols and any
// thread count, and the bytes exchanged and stored do not depend on the threads.
#include <gtest/gtest.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "pinfer/core/error.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/architecture.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "protocol/gc_phases.hpp"
#include "protocol/model_plan.hpp"
#include "protocol/session_messages.hpp"
#include "session_util.hpp"
#include "test_models.hpp"

using namespace pinfer;
using namespace pinfer::protocol;

namespace {

using test_session::Stores;
using test_session::with_session;

struct RunResult {
  std::vector<uint64_t> logits_ring;
  uint64_t client_storage = 0;
  uint64_t server_storage = 0;
  uint64_t offline_up = 0, offline_down = 0;
  // Bytes each way per step, but for the steps that carry the server's cost report (JSON whose
  // length varies with the timings): offline/done and online/output.
  std::map<std::string, std::pair<uint64_t, uint64_t>> steps;
};

void add_steps(const PhaseCost& phase, RunResult& r) {
  for (const auto& [step, t] : phase.transfers) {
    if (!step.ends_with("/done") && step != "online/output") {
      r.steps[step] = {t.bytes_sent, t.bytes_received};
    }
  }
}

RunResult run_once(const nn::LoweredModel& model, ProtocolKind kind, gc::GcScheme scheme,
                   unsigned threads, const FloatTensor& x) {
  Stores stores;
  InferenceServer server(model, kind, stores.server, stores.registry,
                         {.gc_scheme = scheme, .threads = threads});
  EXPECT_EQ(server.gc_scheme(), scheme);
  EXPECT_EQ(server.threads(), threads);
  RunResult r;
  with_session(server, stores.client,
               {.credentials = stores.registry.register_client({}), .threads = threads},
               [&](InferenceClient& client) {
                 EXPECT_EQ(client.gc_scheme(), scheme);  // announced in the handshake
                 const CostReport pre = client.precompute();
                 const InferenceResult rep = client.infer(x, /*allow_on_demand=*/false);
                 EXPECT_EQ(rep.cost.gc_scheme, gc::to_string(scheme));
                 EXPECT_EQ(rep.cost.threads, threads);
                 r.logits_ring = rep.logits_ring;
                 r.client_storage = pre.client_storage_bytes;
                 r.server_storage = pre.server_storage_bytes;
                 r.offline_up = pre.offline.upload_bytes;
                 r.offline_down = pre.offline.download_bytes;
                 add_steps(pre.offline, r);
                 add_steps(rep.cost.online, r);
               });
  return r;
}

class GcSchemeThreads : public ::testing::TestWithParam<ProtocolKind> {};

TEST_P(GcSchemeThreads, BothSchemesAndThreadCountsAreBitExact) {
  // Pool stride 1 gives overlapping max-pool windows; l = 32, f = 8.
  const nn::LoweredModel model = test_models::small_test_model(21);
  const FloatTensor x = test_models::random_input(model.input_shape, 4);
  const RingTensor expect = nn::run_fixed_point(model, nn::encode_input(model, x));
  std::map<gc::GcScheme, RunResult> one_thread;
  for (gc::GcScheme scheme : {gc::GcScheme::half_gates, gc::GcScheme::three_halves}) {
    const RunResult t1 = run_once(model, GetParam(), scheme, 1, x);
    const RunResult t3 = run_once(model, GetParam(), scheme, 3, x);
    const std::string what = std::string(gc::to_string(scheme));
    EXPECT_EQ(t1.logits_ring, expect.values()) << what;
    EXPECT_EQ(t3.logits_ring, expect.values()) << what;
    // What the protocol fixes does not depend on the threads: every size sent and stored.
    EXPECT_EQ(t1.client_storage, t3.client_storage) << what;
    EXPECT_EQ(t1.server_storage, t3.server_storage) << what;
    EXPECT_FALSE(t1.steps.empty());
    EXPECT_EQ(t1.steps, t3.steps) << what;
    one_thread[scheme] = t1;
  }
  // Three-halves stores (and the garbler sends) fewer table bytes.
  const RunResult& hg = one_thread[gc::GcScheme::half_gates];
  const RunResult& th = one_thread[gc::GcScheme::three_halves];
  if (GetParam() == ProtocolKind::server_garbler) {
    EXPECT_LT(th.client_storage, hg.client_storage);
    EXPECT_LT(th.offline_down, hg.offline_down);
  } else {
    EXPECT_LT(th.server_storage, hg.server_storage);
    EXPECT_LT(th.offline_up, hg.offline_up);
  }
}

// A server restarted with another scheme never evaluates a precompute garbled with the old one:
// the client's store keys precomputes by scheme, so the old ones are not offered (and the
// server discards its halves of them at the handshake).
TEST_P(GcSchemeThreads, PrecomputeOfAnotherSchemeIsNeverUsed) {
  const nn::LoweredModel model = test_models::small_test_model(22);
  Stores stores;
  const ClientCredentials ann = stores.registry.register_client({});
  {
    InferenceServer hg(model, GetParam(), stores.server, stores.registry,
                       {.gc_scheme = gc::GcScheme::half_gates, .threads = 1});
    with_session(hg, stores.client, {.credentials = ann.clone(), .threads = 1},
                 [&](InferenceClient& client) {
                   (void)client.precompute();
                   EXPECT_EQ(client.stored_precomputes(), 1u);
                 });
  }
  EXPECT_EQ(stores.server.list(ann.client_id).size(), 1u);
  InferenceServer th(model, GetParam(), stores.server, stores.registry,
                     {.gc_scheme = gc::GcScheme::three_halves, .threads = 1});
  with_session(th, stores.client, {.credentials = ann.clone(), .threads = 1},
               [&](InferenceClient& client) {
                 EXPECT_EQ(client.gc_scheme(), gc::GcScheme::three_halves);
                 EXPECT_EQ(client.stored_precomputes(), 0u);
                 const FloatTensor x = test_models::random_input(model.input_shape, 2);
                 EXPECT_THROW((void)client.infer(x, false), StoreError);
               });
  EXPECT_TRUE(stores.server.list(ann.client_id).empty());
}

INSTANTIATE_TEST_SUITE_P(Protocols, GcSchemeThreads,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler),
                         test_models::ProtocolName());

// The garbled-circuit phases driven directly, every random choice fixed (both parties' PRGs
// from seeds, a fixed hash key and coin seed for every garbling call): then every stored file
// is a function of the seeds, and must be the same byte for byte for T = 1 and T = 3 (label
// preparation, OT extension, garbling and evaluation all split across threads).
struct PhaseFiles {
  std::vector<std::vector<std::byte>> files;  // what each side stored offline
  std::vector<RingTensor> outputs;            // the server's share of each stage's output
  std::vector<RingTensor> reference;          // ReLU etc. of a + c minus r', plaintext
};

// Runs `server` and `client` on the two ends of an in-memory channel; rethrows the first error.
template <typename S, typename C>
void run_parties(S server, C client) {
  test_session::run_two_parties(server, client);
}

PhaseFiles run_phases(const nn::LoweredModel& model, ProtocolKind kind, gc::GcScheme scheme,
                      unsigned threads) {
  const detail::ModelPlan plan = detail::make_plan(model, scheme);
  const Ring ring = model.ring();
  const Block seed(0x5eed, 14);
  // The client's shares c and masks r', the server's shares a: fixed per stage.
  std::vector<RingTensor> c, r, a;
  std::vector<detail::ClientStageInputs> inputs;
  for (const detail::StagePlan& sp : plan.stages) {
    const nn::Stage& st = model.stages[sp.stage];
    Prg prg = Prg::from_seed(seed, 100 + sp.stage);
    c.emplace_back(st.pre_shape);
    r.emplace_back(model.activation_shapes[st.output]);
    a.emplace_back(st.pre_shape);
    prg.fill_ring(ring, c.back().span());
    prg.fill_ring(ring, r.back().span());
    prg.fill_ring(ring, a.back().span());
  }
  for (std::size_t i = 0; i < plan.stages.size(); ++i) inputs.push_back({&c[i], &r[i]});
  detail::GcRun run{threads, Delta::from_block(Block(15, 16)), Block(11, 12), Block(13, 14)};
  PhaseFiles out;
  PhaseCost cost;
  if (kind == ProtocolKind::server_garbler) {
    MemoryByteSink decode, tables, labels;
    detail::GarblerKeys keys;
    run_parties(
        [&](Channel& ch) {
          Prg prg = Prg::from_seed(seed, 1);
          PhaseCost sc;
          keys = detail::sg_offline_server(ch, plan, prg, decode, sc, run);
        },
        [&](Channel& ch) {
          Prg prg = Prg::from_seed(seed, 2);
          detail::sg_offline_client(ch, plan, inputs, prg, tables, labels, cost, run);
        });
    out.files = {decode.bytes(), tables.bytes(), labels.bytes()};
    MemoryByteSource decode_in(decode.bytes()), tables_in(tables.bytes()),
        labels_in(labels.bytes());
    for (std::size_t i = 0; i < plan.stages.size(); ++i) {
      const detail::StagePlan& sp = plan.stages[i];
      run_parties(
          [&](Channel& ch) {
            PhaseCost sc;
            LayerCost layer;
            out.outputs.push_back(detail::sg_online_server(ch, sp, a[i], r[i].shape(), keys,
                                                           decode_in, sc, layer, run));
          },
          [&](Channel& ch) {
            LayerCost layer;
            detail::sg_online_client(ch, sp, tables_in, labels_in, cost, layer, run);
          });
    }
  } else {
    MemoryByteSink tables, labels, choices, decode;
    detail::GarblerKeys keys;
    run_parties(
        [&](Channel& ch) {
          Prg prg = Prg::from_seed(seed, 1);
          PhaseCost sc;
          detail::cg_offline_server(ch, plan, prg, tables, labels, choices, decode, sc, run);
        },
        [&](Channel& ch) {
          Prg prg = Prg::from_seed(seed, 2);
          keys = detail::cg_offline_client(ch, plan, inputs, prg, cost, run);
        });
    out.files = {tables.bytes(), labels.bytes(), choices.bytes(), decode.bytes()};
    MemoryByteSource tables_in(tables.bytes()), labels_in(labels.bytes()),
        choices_in(choices.bytes()), decode_in(decode.bytes());
    for (std::size_t i = 0; i < plan.stages.size(); ++i) {
      const detail::StagePlan& sp = plan.stages[i];
      run_parties(
          [&](Channel& ch) {
            PhaseCost sc;
            LayerCost layer;
            out.outputs.push_back(detail::cg_online_server(ch, sp, a[i], r[i].shape(), tables_in,
                                                           labels_in, choices_in, decode_in, sc,
                                                           layer, run));
          },
          [&](Channel& ch) {
            LayerCost layer;
            detail::cg_online_client(ch, sp, keys, cost, layer, run);
          });
    }
  }
  // Plaintext reference of every stage's circuit: the stage output plus r' must be the
  // circuit's function of a + c (evaluated gate by gate, Circuit::evaluate_plain).
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    const detail::StagePlan& sp = plan.stages[i];
    const gc::Circuit& circuit = sp.circuit->circuit;
    const unsigned l = sp.l();
    RingTensor ref(r[i].shape());
    std::vector<uint8_t> in(circuit.num_inputs());
    for (std::size_t inst = 0; inst < sp.instances; ++inst) {
      std::fill(in.begin(), in.end(), 0);
      for (unsigned j = 0; j < sp.elements; ++j) {
        const std::size_t e = sp.pre_index(inst, j);
        for (unsigned b = 0; b < l; ++b) {
          in[sp.circuit->a_offset(j) + b] = (a[i][e] >> b) & 1;
          in[sp.circuit->c_offset(j) + b] = (c[i][e] >> b) & 1;
        }
      }
      for (unsigned k = 0; k < sp.outputs(); ++k) {
        for (unsigned b = 0; b < l; ++b) {
          in[sp.circuit->r_offset(k) + b] = (r[i][inst * sp.outputs() + k] >> b) & 1;
        }
      }
      std::vector<uint8_t> bits(circuit.num_outputs());
      circuit.evaluate_plain(in, bits);
      for (unsigned k = 0; k < sp.outputs(); ++k) {
        uint64_t w = 0;
        for (unsigned b = 0; b < l; ++b) w |= uint64_t{bits[k * l + b]} << b;
        ref[inst * sp.outputs() + k] = w;
      }
    }
    out.reference.push_back(std::move(ref));
  }
  return out;
}

TEST(GcPhaseThreads, ThreeThreadsStoreAndComputeTheSameBytesAsOne) {
  const nn::LoweredModel model = test_models::small_test_model(26);
  for (auto kind : {ProtocolKind::server_garbler, ProtocolKind::client_garbler}) {
    for (gc::GcScheme scheme : {gc::GcScheme::half_gates, gc::GcScheme::three_halves}) {
      const std::string what =
          std::string(to_string(kind)) + " " + std::string(gc::to_string(scheme));
      const PhaseFiles one = run_phases(model, kind, scheme, 1);
      const PhaseFiles three = run_phases(model, kind, scheme, 3);
      ASSERT_EQ(one.files.size(), three.files.size());
      for (std::size_t f = 0; f < one.files.size(); ++f) {
        EXPECT_FALSE(one.files[f].empty()) << what << " file " << f;
        EXPECT_TRUE(one.files[f] == three.files[f]) << what << " file " << f;
      }
      ASSERT_EQ(one.outputs.size(), three.outputs.size());
      for (std::size_t i = 0; i < one.outputs.size(); ++i) {
        EXPECT_EQ(one.outputs[i].values(), one.reference[i].values()) << what << " stage " << i;
        EXPECT_EQ(three.outputs[i].values(), one.reference[i].values()) << what << " stage " << i;
      }
    }
  }
}

TEST(GcSchemeRingWidths, OddRingWidthsAreBitExactWithBothSchemes) {
  for (unsigned l : {25u, 37u}) {
    const nn::LoweredModel model = test_models::small_test_model(25, l, 8);
    const FloatTensor x = test_models::random_input(model.input_shape, 3);
    const RingTensor expect = nn::run_fixed_point(model, nn::encode_input(model, x));
    for (auto kind : {ProtocolKind::server_garbler, ProtocolKind::client_garbler}) {
      for (gc::GcScheme scheme : {gc::GcScheme::half_gates, gc::GcScheme::three_halves}) {
        for (unsigned threads : {1u, 3u}) {
          EXPECT_EQ(run_once(model, kind, scheme, threads, x).logits_ring, expect.values())
              << "l = " << l << " " << to_string(kind) << " " << gc::to_string(scheme)
              << " T = " << threads;
        }
      }
    }
  }
}

// Storage per precompute of both schemes from the plan (exact for tables, labels and bit files;
// the state files are bounded by kStateReserveBytes each), for docs/perf/gc.md:
//   pinfer_protocol_tests --gtest_filter='GcSchemeStorage.*' --gtest_also_run_disabled_tests
TEST(GcSchemeStorage, DISABLED_PrintResNet18TinyImageNetEstimate) {
  const nn::LoadedModel loaded = nn::load_model("resnet18:tinyimagenet");
  for (gc::GcScheme scheme : {gc::GcScheme::half_gates, gc::GcScheme::three_halves}) {
    const detail::ModelPlan plan = detail::make_plan(loaded.lowered, scheme);
    for (auto kind : {ProtocolKind::server_garbler, ProtocolKind::client_garbler}) {
      const detail::StorageEstimate e = detail::estimate_storage(plan, kind);
      std::printf("%s %s l=%u f=%u relus=%llu: client %llu B, server %llu B\n",
                  std::string(gc::to_string(scheme)).c_str(), std::string(to_string(kind)).c_str(),
                  loaded.lowered.l, loaded.lowered.f, static_cast<unsigned long long>(plan.relus),
                  static_cast<unsigned long long>(e.client_bytes),
                  static_cast<unsigned long long>(e.server_bytes));
    }
  }
}

TEST(GcSchemeState, StateFileOfAnotherSchemeIsAFormatError) {
  const nn::LoweredModel model = test_models::small_test_model(23);
  Stores stores;
  const std::string path = (stores.dir / "state.bin").string();
  std::filesystem::create_directories(stores.dir);
  const Ring ring = model.ring();
  const std::string fp = architecture_fingerprint(model);
  detail::ServerState s;
  s.protocol = ProtocolKind::client_garbler;
  s.gc_scheme = gc::GcScheme::half_gates;
  s.fingerprint = fp;
  std::vector<Shape> shapes;
  for (const auto& op : model.linear_ops) {
    shapes.push_back(op.output_shape());
    s.s_ops.emplace_back(op.output_shape());
  }
  detail::write_state_file(path, s, ring);
  EXPECT_EQ(detail::read_server_state(path, ProtocolKind::client_garbler, gc::GcScheme::half_gates,
                                      fp, ring, shapes)
                .gc_scheme,
            gc::GcScheme::half_gates);
  try {
    (void)detail::read_server_state(path, ProtocolKind::client_garbler, gc::GcScheme::three_halves,
                                    fp, ring, shapes);
    ADD_FAILURE() << "no exception";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("garbled with half-gates, this session uses three-halves"),
              std::string::npos)
        << e.what();
  }
  detail::ClientState c;
  c.protocol = ProtocolKind::server_garbler;
  c.gc_scheme = gc::GcScheme::three_halves;
  c.fingerprint = fp;
  c.c_final = RingTensor(model.stages.back().pre_shape);
  detail::write_state_file(path, c, ring);
  EXPECT_THROW(
      (void)detail::read_client_state(path, ProtocolKind::server_garbler, gc::GcScheme::half_gates,
                                      fp, ring, model.stages.back().pre_shape),
      FormatError);
}

TEST(GcSchemeHandshake, HelloReplyCarriesTheSchemeAndRefusesUnknownCodes) {
  const nn::LoweredModel model = test_models::small_test_model(24);
  detail::HelloReply reply{ProtocolKind::server_garbler, encode_architecture(model), 1000,
                           gc::GcScheme::three_halves};
  std::vector<std::byte> bytes = detail::encode(reply);
  EXPECT_EQ(detail::decode_hello_reply(bytes).gc_scheme, gc::GcScheme::three_halves);
  reply.gc_scheme = gc::GcScheme::half_gates;
  bytes = detail::encode(reply);
  EXPECT_EQ(detail::decode_hello_reply(bytes).gc_scheme, gc::GcScheme::half_gates);
  bytes.back() = std::byte{7};  // the scheme is the last byte
  try {
    (void)detail::decode_hello_reply(bytes);
    ADD_FAILURE() << "no exception";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("garbling scheme code 7"), std::string::npos) << e.what();
  }
  bytes.pop_back();  // a reply of the previous session version, without the scheme
  EXPECT_THROW((void)detail::decode_hello_reply(bytes), FormatError);
}

// A client of the previous session version (2, before the scheme was announced) is refused with
// an error that names both versions, not a parse error.
TEST(GcSchemeHandshake, PreviousSessionVersionIsRefusedClearly) {
  detail::Hello hello;
  hello.client_id = "client-1";
  hello.token = SecretBuffer<std::byte>(kClientTokenBytes);
  SecretBuffer<std::byte> bytes = detail::encode(hello);
  EXPECT_NO_THROW((void)detail::decode_hello(bytes.span()));
  ByteReader r(bytes.span());
  (void)r.u32("magic");
  const uint32_t current = r.u32("version");
  ASSERT_GE(current, 3u);
  // The version is the second little-endian u32.
  bytes[4] = std::byte{2};
  bytes[5] = bytes[6] = bytes[7] = std::byte{0};
  try {
    (void)detail::decode_hello(bytes.span());
    ADD_FAILURE() << "no exception";
  } catch (const FormatError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("session version 2 is not supported"), std::string::npos) << m;
    EXPECT_NE(m.find("speaks version " + std::to_string(current)), std::string::npos) << m;
  }
}

}  // namespace
