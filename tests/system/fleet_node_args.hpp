#pragma once
// The flags that make a test's `pinfer serve` a node of a fleet (tests/system/cluster_*_test.cpp):
// the database, the node id, a 100 ms heartbeat, and --advertise when given (without it the node
// advertises --host and the port it listens on).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pinfer::system_test {

inline std::vector<std::string> fleet_node_args(const std::string& url, const std::string& id,
                                                std::optional<std::string> advertise,
                                                uint64_t dead_after_ms = 60000) {
  std::vector<std::string> a = {
      "--cluster",      url,   "--node-id",       id,
      "--heartbeat-ms", "100", "--dead-after-ms", std::to_string(dead_after_ms)};
  if (advertise) a.insert(a.end(), {"--advertise", *advertise});
  return a;
}

}  // namespace pinfer::system_test
