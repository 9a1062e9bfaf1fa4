// Regression: the shipped paper profiles reproduce the published model's per-phase totals.
#include <gtest/gtest.h>

#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/pi_model.hpp"
#include "pinfer/sim/profile_catalog.hpp"
#include "pinfer/sim/system_config.hpp"

namespace pinfer::sim {
namespace {

CostProfile shipped(const char* name) {
  return load_profile_spec(name, {std::string(PINFER_SOURCE_DIR) + "/profiles"});
}

// Expected values computed by hand from the artifact's delphi_measurements.json
// (profiles/README.md), cifar10.resnet18.server_garbler, at the paper baseline (500/500 Mbit/s
// = 62.5e6 B/s both ways, client 4 threads, server GC 32 threads, server HE 1 thread):
//   GC fits (least squares through 1/10/100 ReLUs):
//     server_garble  = 1.0374270270270269e-4 * n - 8.853333333332797e-6
//     client_evaluate = 3.4595006006006e-4 * n - 8.178222222222052e-5
//     at n = NUM_RELU = 557056: garble 57.790486143423415 s, evaluate 192.71347487459454 s.
//   Offline: keygen 0.34 + key 33180308/62.5e6 (0.530884928) + encrypt sum 2.7635495
//     + ciphertexts 321453053/62.5e6 (5.143248848) + HE eval table[0] 292.4065098
//     + results 47195514/62.5e6 (0.755128224) + decrypt sum 0.1668283 + garble 57.7904861/32
//     (1.8059526919819817) + encode 4.225 + garbled circuits 9510061120/62.5e6 (152.16097792)
//     + base OT 4096/62.5e6 + OT setup 374341632/62.5e6 (5.989466112)
//     + OT messages 748683264/62.5e6 (11.978932224) = 478.266544083982 s.
//   Online: masked input 4986594/62.5e6 (0.079785504) + encode sum 1.9914513
//     + labels 659554430/62.5e6 (10.55287088) + linear sum 0.4276910156
//     + evaluate 192.71347487459454/4 (48.178368718648635) + prediction 131/62.5e6
//     = 61.23016951424864 s.
//   Storage: client 1111050*8 + 18248*557056 = 10174046288 B; server 557066*8 + 3590*557056
//     = 2004287568 B.
TEST(PaperProfile, Cifar10ResNet18ServerGarblerMatchesPublishedPhaseTotals) {
  const CostProfile p = shipped("paper:cifar10/resnet18");
  EXPECT_EQ(p.relu_count, 557056u);
  const ProtocolCosts& sg = p.protocol("server-garbler");
  EXPECT_EQ(sg.client_storage_bytes, 10174046288u);
  EXPECT_EQ(sg.server_storage_bytes, 2004287568u);
  ASSERT_EQ(sg.offline.size(), 13u);  // README, "Order of steps", Server-Garbler offline
  ASSERT_EQ(sg.online.size(), 6u);
  const ModelPlan plan = plan_model(sg, SystemConfig{});
  EXPECT_NEAR(plan.offline.seconds, 478.266544083982, 1e-9);
  EXPECT_NEAR(plan.online.seconds, 61.23016951424864, 1e-9);
  // 16 GB holds one 10.17 GB precompute (the published store condition).
  EXPECT_TRUE(plan.precompute_fits);
}

// cifar10.resnet18.client_garbler with the paper's Client-Garbler settings: wireless slot
// allocation 835 up / 165 down Mbit/s (104.375e6 / 20.625e6 B/s) and layer-parallel HE on 17
// threads (table[16] = 36.511213 s):
//   Offline: 0.34 + 33180308/104.375e6 (0.3178951664670659) + 2.7635495
//     + 321453053/104.375e6 (3.0797897293413175) + 36.511213 + 47195514/20.625e6
//     (2.2882673454545452) + 0.1668283 + client garble fit 382.56332744693685/4
//     (95.64083186173421) + encode 4.225 + 9510061120/104.375e6 (91.11435803592815)
//     + base OT 4096/20.625e6 = 236.44793153286466 s.
//   Online: 27689/104.375e6 + per ReLU layer i < 17 (linear_i + encode_i + setup_i/20.625e6
//     + send_i/104.375e6: sums 0.4272872, 1.9914513, 374341632 B, 748683264 B)
//     + server evaluate fit 30.395325075208753/32 + last linear 0.0003145137 + 131/20.625e6
//     = 28.692089174523094 s.
TEST(PaperProfile, Cifar10ResNet18ClientGarblerWithLpheAndWirelessSplit) {
  const CostProfile p = shipped("paper:cifar10/resnet18");
  const ProtocolCosts& cg = p.protocol("client-garbler");
  SystemConfig c;
  c.protocol = "client-garbler";
  c.uplink_mbps = 835;
  c.downlink_mbps = 165;
  c.server_he_threads = 17;
  const ModelPlan plan = plan_model(cg, c);
  EXPECT_NEAR(plan.offline.seconds, 236.44793153286466, 1e-9);
  EXPECT_NEAR(plan.online.seconds, 28.692089174523094, 1e-9);
  EXPECT_EQ(cg.client_storage_bytes, 2008719440u);
  EXPECT_EQ(cg.server_storage_bytes, 10169614416u);
}

TEST(PaperProfile, AllOnlineRequestPaysOfflinePlusOnline) {
  // 8 GB cannot hold one 10.17 GB precompute: each request runs offline then online.
  const CostProfile p = shipped("paper:cifar10/resnet18");
  SystemConfig c;
  c.client_storage_bytes = 8'000'000'000ULL;
  const ModelPlan plan = plan_model(p.protocol("server-garbler"), c);
  ASSERT_FALSE(plan.precompute_fits);
  const RunResult r = simulate_run(plan, 0.0001, 1);
  ASSERT_GT(r.served, 0u);
  EXPECT_NEAR(r.mean_offline_wait_s, 478.266544083982, 1e-9);
  EXPECT_NEAR(r.mean_online_s, 61.23016951424864, 1e-9);
}

TEST(PaperProfile, EveryShippedProfileLoadsWithBothProtocols) {
  for (const char* name :
       {"paper:cifar10/resnet18", "paper:cifar10/resnet32", "paper:cifar10/vgg16",
        "paper:tinyimagenet/resnet18", "paper:tinyimagenet/resnet32", "paper:tinyimagenet/vgg16"}) {
    const CostProfile p = shipped(name);
    EXPECT_EQ(p.name, name);
    EXPECT_EQ(p.protocols.size(), 2u) << name;
    for (const auto& [proto, costs] : p.protocols) {
      const ModelPlan plan = plan_model(costs, SystemConfig{});
      EXPECT_GT(plan.offline.seconds, 0.0) << name << " " << proto;
      EXPECT_GT(plan.online.seconds, 0.0) << name << " " << proto;
    }
  }
}

}  // namespace
}  // namespace pinfer::sim
