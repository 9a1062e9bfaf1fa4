#include "pinfer/sim/system_config.hpp"

#include <cmath>
#include <sstream>

#include "pinfer/core/error.hpp"

namespace pinfer::sim {
namespace {

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void check_positive(double v, std::string_view field, double max) {
  if (!(v > 0.0) || !(v <= max)) {
    throw InvalidArgument(std::string(field) + " = " + num(v) + " must be in (0, " + num(max) +
                          "]");
  }
}

void check_threads(uint32_t v, std::string_view field) {
  if (v < 1 || v > 4096) {
    throw InvalidArgument(std::string(field) + " = " + std::to_string(v) + " must be in [1, 4096]");
  }
}

}  // namespace

void apply_wireless_split(SystemConfig& config, double total_mbps, double uplink_share) {
  check_positive(total_mbps, "wireless_total_mbps", 1e9);
  if (!(uplink_share > 0.0 && uplink_share < 1.0)) {
    throw InvalidArgument("uplink_share = " + num(uplink_share) + " must be in (0, 1)");
  }
  config.uplink_mbps = total_mbps * uplink_share;
  config.downlink_mbps = total_mbps * (1.0 - uplink_share);
}

void validate(const SystemConfig& config) {
  (void)canonical_protocol_name(config.protocol);
  check_positive(config.uplink_mbps, "uplink_mbps", 1e9);
  check_positive(config.downlink_mbps, "downlink_mbps", 1e9);
  check_threads(config.client_threads, "client_threads");
  check_threads(config.server_gc_threads, "server_gc_threads");
  check_threads(config.server_he_threads, "server_he_threads");
  if (config.client_cores != 0) check_threads(config.client_cores, "client_cores");
  if (config.server_cores != 0) check_threads(config.server_cores, "server_cores");
  check_positive(config.he_speedup, "he_speedup", 1e6);
  check_positive(config.gc_speedup, "gc_speedup", 1e6);
  check_positive(config.bandwidth_speedup, "bandwidth_speedup", 1e6);
  check_positive(config.client_device_factor, "client_device_factor", 1e6);
  if (!(config.poll_interval_s >= 0.0 && config.poll_interval_s <= 86400.0)) {
    throw InvalidArgument("poll_interval_s = " + num(config.poll_interval_s) +
                          " must be in [0, 86400]");
  }
  check_positive(config.sim_hours, "sim_hours", 24.0 * 365 * 100);
  if (config.clients < 1 || config.clients > kMaxClients) {
    throw InvalidArgument("clients = " + std::to_string(config.clients) + " must be in [1, " +
                          std::to_string(kMaxClients) + "]");
  }
  if (config.server_quota_per_client_bytes > config.server_storage_bytes) {
    throw InvalidArgument(
        "server_quota_per_client = " + std::to_string(config.server_quota_per_client_bytes) +
        " B exceeds server_storage = " + std::to_string(config.server_storage_bytes) + " B");
  }
  for (const auto& [v, field] : {std::pair{config.server_uplink_mbps, "server_uplink_mbps"},
                                 std::pair{config.server_downlink_mbps, "server_downlink_mbps"}}) {
    if (!(v >= 0.0 && v <= 1e9)) {
      throw InvalidArgument(std::string(field) + " = " + num(v) +
                            " must be in [0, 1e+09] (0: unlimited)");
    }
  }
  if (config.shared_cores != 0) {
    check_threads(config.shared_cores, "shared_cores");
    if (config.client_cores != 0 || config.server_cores != 0) {
      throw InvalidArgument("client_cores / server_cores must be 0 with shared_cores = " +
                            std::to_string(config.shared_cores) +
                            ": every party's compute draws on the one shared pool");
    }
  }
}

SimMode parse_mode(std::string_view text, std::string_view field) {
  if (text == "independent") return SimMode::independent;
  if (text == "contended") return SimMode::contended;
  throw InvalidArgument(std::string(field) + ": unknown mode \"" + std::string(text) +
                        "\", expected independent or contended");
}

PrecomputePolicy parse_policy(std::string_view text, std::string_view field) {
  if (text == "poll") return PrecomputePolicy::poll;
  if (text == "eager") return PrecomputePolicy::eager;
  throw InvalidArgument(std::string(field) + ": unknown policy \"" + std::string(text) +
                        "\", expected poll or eager");
}

HeModel parse_he_model(std::string_view text, std::string_view field) {
  if (text == "table") return HeModel::table;
  if (text == "lpt") return HeModel::lpt;
  throw InvalidArgument(std::string(field) + ": unknown HE model \"" + std::string(text) +
                        "\", expected table or lpt");
}

std::string_view to_string(SimMode m) noexcept {
  return m == SimMode::independent ? "independent" : "contended";
}
std::string_view to_string(PrecomputePolicy p) noexcept {
  return p == PrecomputePolicy::poll ? "poll" : "eager";
}
std::string_view to_string(HeModel h) noexcept {
  return h == HeModel::table ? "table" : "lpt";
}

}  // namespace pinfer::sim
