#include "reveal_option.hpp"

namespace pinfer::cli {

void add_reveal_option(CLI::App& cmd, std::string& reveal) {
  cmd.add_option("--reveal", reveal,
                 "What clients learn: label (a garbled argmax of the logits; default), topk:K "
                 "(the K best labels, best first) or logits")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            return nn::parse_reveal(v) ? "" : "expected label, topk:K (K >= 1) or logits, got " + v;
          },
          "label|topk:K|logits"));
}

std::string describe_reveal(const nn::LoweredModel& served) {
  const std::size_t k = nn::revealed_labels(served);
  if (k == 0) return "every class score";
  if (k == 1) return "only the label";
  return "only the " + std::to_string(k) + " best labels";
}

}  // namespace pinfer::cli
