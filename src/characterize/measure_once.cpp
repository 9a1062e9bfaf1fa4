#include "pinfer/characterize/measure_once.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"

namespace pinfer::characterize {

FloatTensor sample_input(const nn::LoweredModel& model, Prg& prg) {
  FloatTensor x(model.input_shape);
  for (auto& v : x.values()) v = static_cast<float>(prg.uniform_below(1000)) / 1000.0f;
  return x;
}

namespace {

// Longer than the guest's free page reporting delay (2 s in Linux, mm/page_reporting.c).
constexpr std::chrono::milliseconds kSettle{3000};

// The report whose phase (offline or online) took the median wall time.
protocol::CostReport median_by(std::vector<protocol::CostReport> reports,
                               protocol::PhaseCost protocol::CostReport::*phase) {
  const auto mid = reports.begin() + static_cast<std::ptrdiff_t>(reports.size() / 2);
  std::nth_element(reports.begin(), mid, reports.end(), [&](const auto& a, const auto& b) {
    return (a.*phase).seconds < (b.*phase).seconds;
  });
  return std::move(*mid);
}

}  // namespace

MeasuredRun measure_once(Channel& channel, store::PrecomputeStore& store,
                         protocol::ClientOptions options, const nn::LoweredModel& model,
                         const FloatTensor& input, unsigned warmups, unsigned runs) {
  if (!options.protocol) throw InvalidArgument("measure_once needs the protocol to measure");
  if (runs == 0) throw InvalidArgument("measure_once needs at least one run to measure");
  const protocol::ProtocolKind kind = *options.protocol;
  const RingTensor expect = nn::run_fixed_point(model, nn::encode_input(model, input));
  std::vector<protocol::CostReport> offline, online;
  {
    protocol::InferenceClient client(channel, store, std::move(options));
    for (unsigned run = 0; run < warmups + runs; ++run) {
      // A measured phase starts, as phases under arrivals do, after the machine has been idle:
      // memory freed seconds ago is then fresh again to the writer (on this VM the guest hands
      // free memory back to the host after 2 s, and the next write into it traps to the
      // hypervisor). Back to back, the client's store writes of a ResNet-32 Server-Garbler phase
      // cost 0.23 s of CPU against 1.1 s in an arrival run (docs/perf/closed_loop.md).
      if (run >= warmups && warmups > 0) std::this_thread::sleep_for(kSettle);
      protocol::CostReport pre = client.precompute();
      protocol::InferenceResult result = client.infer(input, /*allow_on_demand=*/false);
      if (result.logits_ring != expect.values()) {
        throw ProtocolError(std::string(to_string(kind)) +
                            ": private logits differ from the fixed-point engine");
      }
      if (run < warmups) continue;
      protocol::CostReport inf = std::move(result.cost);
      inf.offline = pre.offline;
      inf.client_storage_bytes = pre.client_storage_bytes;
      inf.server_storage_bytes = pre.server_storage_bytes;
      offline.push_back(std::move(pre));
      online.push_back(std::move(inf));
    }
    client.close();
  }
  MeasuredRun m;
  m.offline = median_by(std::move(offline), &protocol::CostReport::offline);
  m.online = median_by(std::move(online), &protocol::CostReport::online);
  m.online.offline = m.offline.offline;
  m.costs = to_protocol_costs(m.offline, m.online, kind);
  return m;
}

}  // namespace pinfer::characterize
