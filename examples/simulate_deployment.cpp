// Simulating a deployment before buying it: from a cost profile (what one offline and one online
// phase cost, step by step, measured or published), the simulator replays a day of Poisson
// requests against a client and server with given storage, links and threads, and reports the
// latency a user sees and the highest request rate the system keeps up with. Here both protocols
// of the shipped ResNet-32 / CIFAR-10 profile, on a phone-like 16 GB client store.
//
//   simulate_deployment [profiles-folder]   (default: profiles)
#include <pinfer/pinfer.hpp>

#include <cstdio>
#include <string>

using namespace pinfer;

int main(int argc, char** argv) try {
  const std::string profiles = argc > 1 ? argv[1] : "profiles";
  // "paper:<dataset>/<network>" names a shipped profile; a path names any other one (e.g. one
  // `pinfer characterize` measured on your own machines).
  const sim::CostProfile profile = sim::load_profile_spec("paper:cifar10/resnet32", {profiles});
  std::printf("%s: %llu ReLUs\n", profile.name.c_str(),
              static_cast<unsigned long long>(profile.relu_count));

  for (const char* protocol : {"server-garbler", "client-garbler"}) {
    sim::SystemConfig config;  // the published baseline: 500 Mbit/s both ways, 4 client threads
    config.protocol = protocol;
    config.client_storage_bytes = 16'000'000'000;
    config.sim_hours = 2;  // a short horizon keeps the example quick
    const sim::ModelPlan plan = sim::plan_model(profile.protocol(protocol), config);

    sim::SweepOptions sweep;
    sweep.rates = {1.0 / 600, 1.0 / 120, 1.0 / 30};  // one request per 10 min, 2 min, 30 s
    sweep.runs = 4;
    const sim::SweepResult result = sim::run_sweep(plan, sweep);
    std::printf("\n%s: %.2f GB stored per precompute on the client\n", protocol,
                static_cast<double>(plan.client_bytes_per_precompute) / 1e9);
    for (const sim::RateSummary& r : result.rates) {
      std::printf("  every %5.0f s: mean latency %8.2f s, p95 %8.2f s%s\n", 1 / r.rate,
                  r.mean_latency_s, r.p95_latency_s, r.stable ? "" : "  (backlog grows)");
    }
    if (result.highest_stable_rate) {
      std::printf("  keeps up with one request every %.0f s\n", 1 / *result.highest_stable_rate);
    } else {
      std::printf("  keeps up with none of these rates\n");
    }
  }
  return 0;
} catch (const pinfer::Error& e) {
  std::fprintf(stderr, "simulate_deployment: %s\n", e.what());
  return 1;
}
