#include "pinfer/protocol/inference_result.hpp"

namespace pinfer::protocol {

nlohmann::json InferenceResult::to_json() const {
  nlohmann::json j = cost.to_json();
  j["reveals"] = reveals;
  j["labels"] = labels;
  j["logits"] = logits;
  j["logits_ring"] = logits_ring;
  j["prediction"] = prediction;
  return j;
}

}  // namespace pinfer::protocol
