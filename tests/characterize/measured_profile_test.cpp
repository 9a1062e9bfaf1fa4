// Measured cost reports to simulator steps: busy time never counts waiting, every side's steps
// add up to its CPU time plus store I/O, a missing component is an error, and a real run of both
// protocols converts into a profile the simulator accepts.
#include "pinfer/characterize/measured_profile.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "expect_message.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/pi_model.hpp"
#include "pinfer/store/precompute_store.hpp"
#include "protocol/session_util.hpp"
#include "protocol/test_models.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;

namespace {

template <typename E>
void expect_message(auto&& fn, const std::string& needle) {
  const std::string message = test_support::message_of<E>(fn);
  EXPECT_NE(message.find(needle), std::string::npos) << message;
}

TEST(ScopedTimer, BusyComponentExcludesTimeBlocked) {
  PhaseCost cost;
  {
    ScopedTimer t(cost, Component::garble);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // blocked, not busy
  }
  {
    ScopedTimer t(cost, Component::wait_peer);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  cost.label_side(Side::client);
  EXPECT_LT(cost.seconds_of(Side::client, Component::garble), 0.03);
  EXPECT_GE(cost.seconds_of(Side::client, Component::wait_peer), 0.06);
}

TEST(ScopedTimer, BusyComponentCountsWork) {
  PhaseCost cost;
  volatile uint64_t sink = 0;
  {
    // Spins until this thread has used 20 ms of CPU, however loaded the machine is.
    ScopedTimer t(cost, Component::ot);
    const double cpu0 = thread_cpu_seconds();
    while (thread_cpu_seconds() - cpu0 < 0.02) sink = sink + 1;
  }
  cost.label_side(Side::server);
  EXPECT_GE(cost.seconds_of(Side::server, Component::ot), 0.02);
}

TEST(CostComponent, NamesRoundTripAndUnknownNamesAreRefused) {
  for (Component c : kAllComponents) EXPECT_EQ(parse_component(to_string(c)), c);
  EXPECT_FALSE(parse_component("gc_transfer").has_value());
  nlohmann::json j = to_json(PhaseCost{});
  j["components"]["server/gc_transfer"] = 1.0;
  expect_message<FormatError>([&] { (void)phase_from_json(j); }, "gc_transfer");
  j = to_json(PhaseCost{});
  j["components"]["peer/garble"] = 1.0;
  expect_message<FormatError>([&] { (void)phase_from_json(j); }, "names no side");
}

// A Server-Garbler report pair with round numbers, both sides labelled as the client merges them.
std::pair<CostReport, CostReport> synthetic_reports() {
  CostReport pre, run;
  PhaseCost& off = pre.offline;
  const auto set = [](PhaseCost& p, Side side, Component c, double s) {
    p.components[component_key(side, c)] = s;
  };
  set(off, Side::client, Component::he_keygen, 0.1);
  set(off, Side::client, Component::he_encrypt, 0.2);
  set(off, Side::client, Component::he_decrypt, 0.3);
  set(off, Side::client, Component::ot, 0.4);
  set(off, Side::client, Component::store_write, 0.5);
  set(off, Side::client, Component::store_cpu, 0.2);  // CPU inside the 0.5 s of writes
  set(off, Side::client, Component::cpu_total, 1.5);  // 0.3 s in no component
  set(off, Side::server, Component::he_evaluate, 2.0);
  set(off, Side::server, Component::ot, 0.25);
  set(off, Side::server, Component::garble, 1.0);
  set(off, Side::server, Component::cpu_total, 3.25);
  off.layers.resize(2);
  off.layers[0].seconds["server/he_evaluate"] = 1.5;
  off.layers[1].seconds["server/he_evaluate"] = 0.5;
  off.transfers["offline/he"] = {1000, 3000};
  off.transfers["offline/gc"] = {500, 5500};
  PhaseCost& on = run.online;
  set(on, Side::server, Component::linear_shared, 0.3);
  set(on, Side::server, Component::gc_input_labels, 0.2);
  set(on, Side::server, Component::output, 0.1);
  set(on, Side::server, Component::cpu_total, 0.6);
  set(on, Side::client, Component::gc_evaluate, 0.7);
  set(on, Side::client, Component::store_read, 0.05);
  set(on, Side::client, Component::cpu_total, 0.9);
  on.layers.resize(2);
  on.layers[0].name = "stage0";
  on.layers[1].name = "stage1";
  on.layers[0].seconds = {{"server/linear_shared", 0.2},
                          {"server/gc_input_labels", 0.2},
                          {"server/output", 0.1},
                          {"client/gc_evaluate", 0.7},
                          {"client/store_read", 0.04}};
  on.layers[1].seconds = {{"server/linear_shared", 0.1}};
  on.layers[0].chunks = 4;
  on.transfers["online/input"] = {100, 0};
  on.transfers["online/stage0"] = {200, 700};
  pre.client_storage_bytes = 123;
  pre.server_storage_bytes = 45;
  return {pre, run};
}

double party_seconds(const std::vector<sim::CostStep>& steps, sim::Party party) {
  double s = 0;
  for (const auto& step : steps) {
    if (step.kind == sim::StepKind::compute && step.party == party) s += step.seconds;
  }
  return s;
}

TEST(MeasuredProfile, StepsAddUpToEachSidesCpuAndStoreTime) {
  const auto [pre, run] = synthetic_reports();
  const characterize::MeasuredCosts m =
      characterize::to_protocol_costs(pre, run, ProtocolKind::server_garbler);
  // Offline client: CPU 1.5 s, of which 1.0 s in components and 0.2 s inside the 0.5 s of store
  // writes: 1.0 + 0.3 transport + 0.5 writes.
  EXPECT_NEAR(party_seconds(m.costs.offline, sim::Party::client), 1.8, 1e-9);
  EXPECT_NEAR(party_seconds(m.costs.offline, sim::Party::server), 3.25, 1e-9);
  EXPECT_NEAR(m.client_offline.component_cpu_s, 1.2, 1e-9);
  EXPECT_NEAR(m.client_offline.cpu_total_s, 1.5, 1e-9);
  // Online: client 0.9 s CPU + 0.05 s reads; server 0.6 s CPU.
  EXPECT_NEAR(party_seconds(m.costs.online, sim::Party::client), 0.95, 1e-9);
  EXPECT_NEAR(party_seconds(m.costs.online, sim::Party::server), 0.6, 1e-9);
  EXPECT_EQ(m.costs.client_storage_bytes, 123u);
  EXPECT_EQ(m.costs.server_storage_bytes, 45u);
  // Bytes are kept exactly, per direction.
  double up = 0, down = 0;
  for (const auto& s : m.costs.offline) {
    if (s.kind == sim::StepKind::transfer)
      (s.direction == sim::Direction::up ? up : down) += s.bytes;
  }
  EXPECT_EQ(up, 1500);
  EXPECT_EQ(down, 8500);
}

const sim::CostStep& step(const std::vector<sim::CostStep>& steps, const std::string& label) {
  const auto it =
      std::find_if(steps.begin(), steps.end(), [&](const auto& s) { return s.label == label; });
  if (it == steps.end()) throw std::runtime_error("no step " + label);
  return *it;
}

// A pipeline of n chunks: the first chunk passes each member in turn, the other n - 1 overlap;
// chains where one party finishes a chunk before its next.
TEST(MeasuredProfile, StepsFollowHowTheProtocolOrdersWork) {
  const auto [pre, run] = synthetic_reports();
  const auto m = characterize::to_protocol_costs(pre, run, ProtocolKind::server_garbler);
  const auto& off = m.costs.offline;
  ASSERT_FALSE(off.empty());
  EXPECT_EQ(off[0].label, "client HE keygen");  // (no request bytes in this report)
  EXPECT_FALSE(off[0].overlaps_previous);
  // HE: two linear layers, so half of each member goes first, one after the other.
  const auto& eval_head = step(off, "server HE evaluation (first chunk)");
  EXPECT_FALSE(eval_head.overlaps_previous);
  EXPECT_NEAR(eval_head.seconds, 1.0, 1e-12);
  EXPECT_EQ(eval_head.per_layer_seconds, (std::vector<double>{0.75, 0.25}));
  const auto& eval = step(off, "server HE evaluation");
  EXPECT_TRUE(eval.overlaps_previous);
  EXPECT_NEAR(eval.seconds, 1.0, 1e-12);
  // Offline GC: a strict chain per chunk. Both parties' OT overlaps the OT messages on the link
  // (IKNP streams sub-chunks); garbling, the tables on the link and the store writes then
  // follow one another (the transport CPU overlaps the transfer it carries).
  EXPECT_FALSE(step(off, "client OT").overlaps_previous);
  EXPECT_TRUE(step(off, "server OT").overlaps_previous);
  EXPECT_TRUE(step(off, "OT extension messages (up)").overlaps_previous);
  EXPECT_NEAR(step(off, "client OT").seconds, 0.4, 1e-12);
  EXPECT_NEAR(step(off, "server OT").seconds, 0.25, 1e-12);
  for (const char* label : {"server garbling", "garbled tables (down)", "client store writes"}) {
    EXPECT_FALSE(step(off, label).overlaps_previous) << label;
    EXPECT_FALSE(step(off, label).follows_previous) << label;
  }
  EXPECT_NEAR(step(off, "server garbling").seconds, 1.0, 1e-12);
  EXPECT_EQ(step(off, "OT extension messages (up)").bytes, 500);
  EXPECT_EQ(step(off, "garbled tables (down)").bytes, 5500);
  // Online stage 0 ran in 4 chunks: a pipeline whose lanes are the server's label preparation,
  // the labels on the link, the client's chain (evaluation, reads, output bits) and the
  // server's decoding; the first chunk passes them in turn, then the rest overlap.
  const auto& on = m.costs.online;
  const auto& labels_head = step(on, "stage 0: server input labels (first chunk)");
  EXPECT_FALSE(labels_head.overlaps_previous);
  EXPECT_NEAR(labels_head.seconds, 0.2 / 4, 1e-12);
  const auto& link = step(on, "stage 0 input labels (down)");
  EXPECT_TRUE(link.overlaps_previous);
  EXPECT_FALSE(link.follows_previous);
  EXPECT_EQ(link.bytes, 700 * 3 / 4);
  const auto& client_eval = step(on, "stage 0: client GC evaluation");
  EXPECT_TRUE(client_eval.overlaps_previous);
  EXPECT_NEAR(client_eval.seconds, 0.7 * 3 / 4, 1e-12);
  EXPECT_TRUE(step(on, "stage 0: client store reads").follows_previous);
  EXPECT_TRUE(step(on, "stage 0 output bits (up)").follows_previous);
  const auto& labels_rest = step(on, "stage 0: server input labels");
  EXPECT_FALSE(labels_rest.overlaps_previous);  // the rest's group starts with it
  EXPECT_NEAR(labels_rest.seconds, 0.2 * 3 / 4, 1e-12);
  EXPECT_TRUE(step(on, "stage 0: server output decoding").overlaps_previous);
  const auto& last = step(on, "stage 1: server linear layers on shares");
  EXPECT_FALSE(last.overlaps_previous);
  EXPECT_NEAR(last.seconds, 0.1, 1e-12);
  // The simulator reads the pipeline: stage 0 alone takes its linear layers (0.2 s), every
  // lane's first chunk one after the other, then the rest at the pace of the longest lane (the
  // client's chain, 0.7 + 0.04 s at unlimited link rate).
  // The transport CPU (TLS, framing, copies) of the first chunk runs beside its labels on the
  // link, each side on its own CPU: at unlimited rate the group lasts its longer member.
  double first_chunk = 0, transport_head = 0;
  for (const auto& s : on) {
    if (!s.label.ends_with("(first chunk)") || s.kind != sim::StepKind::compute) continue;
    if (s.label.starts_with("stage 0")) first_chunk += s.seconds;
    if (s.layer == 0u && s.label.find("transport") != std::string::npos) {
      EXPECT_TRUE(s.overlaps_previous) << s.label;
      transport_head = std::max(transport_head, s.seconds);
    }
  }
  EXPECT_GT(transport_head, 0.0);
  EXPECT_TRUE(step(on, "stage 0 input labels (down) (first chunk)").overlaps_previous == false);
  // (the named members' quarter)
  EXPECT_NEAR(first_chunk, (0.2 + 0.74 + 0.1) / 4, 1e-12);
  sim::ProtocolCosts only_stage0;
  for (const auto& s : on) {
    if (s.layer == 0u &&
        (s.label.starts_with("stage 0") || s.label.find("transport") != std::string::npos)) {
      only_stage0.online.push_back(s);
    }
  }
  only_stage0.online.front().overlaps_previous = false;
  sim::SystemConfig config;
  config.uplink_mbps = config.downlink_mbps = 1e9;
  const sim::ModelPlan plan = sim::plan_model(only_stage0, config);
  EXPECT_NEAR(plan.online.seconds, 0.2 + first_chunk + transport_head + 0.74 * 3 / 4, 1e-6);
}

// Stage transfers are matched by exact name: stage 1 must not take in stage 10's bytes (ResNet-32
// has 31 stages; a prefix match once counted 46% more online bytes than the channel carried).
TEST(MeasuredProfile, EachStageCarriesOnlyItsOwnBytes) {
  auto reports = synthetic_reports();
  PhaseCost& on = reports.second.online;
  on.layers.resize(12);
  for (std::size_t i = 1; i < on.layers.size(); ++i) {
    on.layers[i].name = "stage" + std::to_string(i);
    on.layers[i].seconds = {{"server/linear_shared", 0.01}};
    on.transfers["online/stage" + std::to_string(i)] = {100 * i, 1000 * i};
  }
  const auto m =
      characterize::to_protocol_costs(reports.first, reports.second, ProtocolKind::server_garbler);
  std::vector<double> up(on.layers.size()), down(on.layers.size());
  for (const auto& s : m.costs.online) {
    if (s.kind != sim::StepKind::transfer || !s.layer) continue;
    (s.direction == sim::Direction::up ? up : down)[*s.layer] += s.bytes;
  }
  EXPECT_NEAR(up[0], 200, 1e-9);
  EXPECT_NEAR(down[0], 700, 1e-9);
  for (std::size_t i = 1; i + 1 < on.layers.size(); ++i) {  // the last stage is linear only
    EXPECT_NEAR(up[i], 100.0 * static_cast<double>(i), 1e-9) << "stage " << i;
    EXPECT_NEAR(down[i], 1000.0 * static_cast<double>(i), 1e-9) << "stage " << i;
  }
}

// The OT of each garbled-circuit chunk streams in frames the parties pipeline (the receiver
// computes a frame while the last one is on the link and the sender takes in the one before):
// one frame per chunk runs the receiver's OT, the link and the sender's OT one after the other;
// four per chunk pass a quarter of each in turn and then overlap.
TEST(MeasuredProfile, OtStreamsInFramesAsDeepAsAChunkHas) {
  sim::SystemConfig config;
  config.uplink_mbps = config.downlink_mbps = 1e9;  // the link takes no time
  const auto offline_s = [&](uint32_t ot_frames) {
    auto [pre, run] = synthetic_reports();
    pre.offline.gc_chunks = 2;
    pre.offline.ot_frames = ot_frames;
    const auto m = characterize::to_protocol_costs(pre, run, ProtocolKind::server_garbler);
    sim::ProtocolCosts costs = m.costs;
    return sim::plan_model(costs, config).offline.seconds;
  };
  // Client OT 0.4 s, server OT 0.25 s, and the client's transport CPU for the OT bytes
  // (0.3 s uncovered x 500 of 10,000 offline bytes) riding on the link.
  const double unrecorded = offline_s(0);  // no frame count: full overlap, 0.4 s
  EXPECT_NEAR(offline_s(2) - unrecorded, 0.25 + 0.015, 1e-6);
  // Depth 4: (0.4 + 0.015 + 0.25) / 4 in turn, then the rest at the pace of the client's OT.
  EXPECT_NEAR(offline_s(8) - unrecorded, (0.4 + 0.015 + 0.25) / 4 + 0.4 * 3 / 4 - 0.4, 1e-6);
  auto [pre, run] = synthetic_reports();
  pre.offline.gc_chunks = 2;
  pre.offline.ot_frames = 8;
  const auto m = characterize::to_protocol_costs(pre, run, ProtocolKind::server_garbler);
  const auto& head = step(m.costs.offline, "client OT (first chunk)");
  EXPECT_FALSE(head.overlaps_previous);
  EXPECT_NEAR(head.seconds, 0.1, 1e-12);
  EXPECT_NEAR(step(m.costs.offline, "server OT (first chunk)").seconds, 0.0625, 1e-12);
  EXPECT_TRUE(step(m.costs.offline, "server OT").follows_previous == false);
}

TEST(MeasuredProfile, MissingComponentIsAnErrorNamingIt) {
  // (No structured bindings: lambdas may not capture them before C++20's P1091 in clang 14.)
  std::pair<CostReport, CostReport> reports = synthetic_reports();
  reports.first.offline.components.erase("server/he_evaluate");
  expect_message<FormatError>(
      [&] {
        (void)characterize::to_protocol_costs(reports.first, reports.second,
                                              ProtocolKind::server_garbler);
      },
      "server/he_evaluate");
  // A Server-Garbler report read as Client-Garbler lacks the garbler's online components.
  const std::pair<CostReport, CostReport> sg = synthetic_reports();
  expect_message<FormatError>(
      [&] {
        (void)characterize::to_protocol_costs(sg.first, sg.second, ProtocolKind::client_garbler);
      },
      "lacks component");
}

class MeasuredRun : public ::testing::TestWithParam<ProtocolKind> {};

// A real run of the protocol converts into a profile the simulator accepts, each side's busy
// components cover most of its CPU time, and the steps carry the bytes the channel counted.
TEST_P(MeasuredRun, RealReportsConvertIntoAValidProfile) {
  const nn::LoweredModel model = test_models::small_test_model(3);
  test_session::Stores stores("pinfer-char-test");
  InferenceServer server(model, GetParam(), stores.server, stores.registry);
  CostReport pre, run;
  test_session::with_session(
      server, stores.client,
      {.credentials = stores.registry.register_client({}), .protocol = GetParam()},
      [&](InferenceClient& client) {
        pre = client.precompute();
        run = client.infer(test_models::random_input(model.input_shape, 1), false).cost;
      });
  const auto m = characterize::to_protocol_costs(pre, run, GetParam());
  sim::CostProfile profile;
  profile.name = "measured:test";
  profile.network = "test";
  profile.source = {"measured", "full run", "unit test"};
  profile.relu_count = run.relus;
  profile.protocols[std::string(to_string(GetParam()))] = m.costs;
  EXPECT_NO_THROW(sim::validate(profile));
  for (const auto* c : {&m.client_offline, &m.server_offline, &m.client_online, &m.server_online}) {
    EXPECT_GT(c->cpu_total_s, 0.0);
    EXPECT_LE(c->component_cpu_s, c->cpu_total_s * 1.05 + 1e-3);
  }
  double bytes = 0;
  for (const auto* phase : {&m.costs.offline, &m.costs.online}) {
    for (const auto& s : *phase) bytes += s.kind == sim::StepKind::transfer ? s.bytes : 0.0;
  }
  const double counted = static_cast<double>(pre.offline.upload_bytes + pre.offline.download_bytes +
                                             run.online.upload_bytes + run.online.download_bytes);
  EXPECT_EQ(bytes, counted);
}

INSTANTIATE_TEST_SUITE_P(BothProtocols, MeasuredRun,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler));

}  // namespace
