#include "he_key_schedule.hpp"

#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/protocol/he_geometry.hpp"

namespace pinfer::protocol::detail {

bool HeKeySchedule::starts_key(std::size_t op, std::size_t group) const {
  const uint32_t key = key_of[op][group];
  if (group > 0) return key_of[op][group - 1] != key;
  for (std::size_t o = op; o-- > 0;) {
    if (!key_of[o].empty()) return key_of[o].back() != key;
  }
  return true;  // the first layer
}

uint64_t revealed_coefficients(const nn::LinearOp& op) {
  return he::linear_output_size(he_geometry(op));
}

HeKeySchedule plan_he_keys(const nn::LoweredModel& model, uint64_t budget) {
  if (budget == 0) throw InvalidArgument("HE key budget must be at least one coefficient");
  HeKeySchedule s;
  s.budget = budget;
  uint64_t used = 0;
  for (const nn::LinearOp& op : model.linear_ops) {
    const std::size_t groups = op.kind == nn::LinearOp::Kind::conv ? op.conv.groups : 1;
    const uint64_t r = revealed_coefficients(op);
    if (r > budget) {
      throw Unsupported("linear layer " + op.name + " reveals " + std::to_string(r) +
                        " coefficients under one HE key, more than the budget of " +
                        std::to_string(budget) + " (docs/HE.md)");
    }
    s.key_of.emplace_back(groups);
    for (std::size_t g = 0; g < groups; ++g) {
      if (s.revealed.empty() || used + r > budget) {
        s.revealed.push_back(0);  // a fresh key
        used = 0;
      }
      used += r;
      s.revealed.back() += r;
      s.key_of.back()[g] = static_cast<uint32_t>(s.revealed.size() - 1);
    }
  }
  return s;
}

}  // namespace pinfer::protocol::detail
