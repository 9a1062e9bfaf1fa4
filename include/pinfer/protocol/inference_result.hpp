#pragma once
// What one private inference gives the client: its output (the prediction, and the logits or
// the revealed labels, as the server's model states) and what the inference cost. Returned by
// InferenceClient::infer; the cost alone (CostReport) is what an offline phase returns.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pinfer/protocol/cost_report.hpp"

namespace pinfer::protocol {

struct InferenceResult {
  // The predicted class: the argmax of the logits, or the first revealed label.
  int prediction = -1;
  // What the server's model reveals (stated by the architecture it sends, nn::reveals):
  // "logits" (logits and logits_ring hold them), "label" or "topk:K" (logits is empty;
  // logits_ring is the client's only output, [label * 2^f] per revealed label, and labels the
  // labels, best first).
  std::string reveals = "logits";
  std::vector<double> logits;
  std::vector<int> labels;
  std::vector<uint64_t> logits_ring;  // the outputs as ring elements (scale 2f), for exact checks
  CostReport cost;

  // The cost report's JSON with the output fields beside it (`pinfer infer --report`, the
  // Python binding's `cost`): "reveals", "labels", "logits", "logits_ring", "prediction".
  [[nodiscard]] nlohmann::json to_json() const;
};

}  // namespace pinfer::protocol
