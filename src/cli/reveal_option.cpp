#include "reveal_option.hpp"

#include <charconv>
#include <optional>

#include "pinfer/core/error.hpp"

namespace pinfer::cli {
namespace {

// 0 for logits, 1 for label, K for topk:K; nullopt if malformed.
std::optional<std::size_t> parse_reveal(const std::string& v) {
  if (v == "logits") return 0;
  if (v == "label") return 1;
  constexpr std::string_view prefix = "topk:";
  if (!v.starts_with(prefix)) return std::nullopt;
  std::size_t k = 0;
  const char* first = v.data() + prefix.size();
  const char* last = v.data() + v.size();
  const auto [end, ec] = std::from_chars(first, last, k);
  if (ec != std::errc() || end != last || first == last || k == 0 || k > 65536) {
    return std::nullopt;
  }
  return k;
}

}  // namespace

void add_reveal_option(CLI::App& cmd, std::string& reveal) {
  cmd.add_option("--reveal", reveal,
                 "What clients learn: label (a garbled argmax of the logits; default), topk:K "
                 "(the K best labels, best first) or logits")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            return parse_reveal(v) ? "" : "expected label, topk:K (K >= 1) or logits, got " + v;
          },
          "label|topk:K|logits"));
}

nn::LoweredModel apply_reveal(const nn::LoweredModel& model, const std::string& reveal) {
  const std::optional<std::size_t> k = parse_reveal(reveal);
  if (!k) throw InvalidArgument("--reveal " + reveal + ": expected label, topk:K or logits");
  if (*k == 0) return model;
  return nn::reveal_top_k(model, *k);
}

std::string describe_reveal(const nn::LoweredModel& served) {
  const std::size_t k = nn::revealed_labels(served);
  if (k == 0) return "every class score";
  if (k == 1) return "only the label";
  return "only the " + std::to_string(k) + " best labels";
}

}  // namespace pinfer::cli
