#pragma once
// A two-step profile for simulator tests: `offline_s` of client compute offline, `online_s` of
// server compute at one thread online.
#include <cstdint>

#include "pinfer/sim/cost_profile.hpp"

namespace pinfer::sim::test {

inline ProtocolCosts synthetic_costs(double offline_s, double online_s, uint64_t client_bytes,
                                     uint64_t server_bytes) {
  ProtocolCosts c;
  c.offline.push_back(CostStep::compute("offline work", Party::client, Category::other, offline_s));
  c.online.push_back(CostStep::compute("online work", Party::server, Category::other, online_s));
  c.client_storage_bytes = client_bytes;
  c.server_storage_bytes = server_bytes;
  return c;
}

}  // namespace pinfer::sim::test
