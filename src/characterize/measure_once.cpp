#include "pinfer/characterize/measure_once.hpp"

#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"

namespace pinfer::characterize {

FloatTensor sample_input(const nn::LoweredModel& model, Prg& prg) {
  FloatTensor x(model.input_shape);
  for (auto& v : x.values()) v = static_cast<float>(prg.uniform_below(1000)) / 1000.0f;
  return x;
}

MeasuredRun measure_once(Channel& channel, protocol::PrecomputeStore& store,
                         protocol::ClientOptions options, const nn::LoweredModel& model,
                         const FloatTensor& input) {
  if (!options.protocol) throw InvalidArgument("measure_once needs the protocol to measure");
  const protocol::ProtocolKind kind = *options.protocol;
  MeasuredRun m;
  {
    protocol::InferenceClient client(channel, store, std::move(options));
    m.offline = client.precompute();
    m.online = client.infer(input, /*allow_on_demand=*/false);
    client.close();
  }
  const RingTensor expect = nn::run_fixed_point(model, nn::encode_input(model, input));
  if (m.online.logits_ring != expect.values()) {
    throw ProtocolError(std::string(to_string(kind)) +
                        ": private logits differ from the fixed-point engine");
  }
  m.online.offline = m.offline.offline;
  m.online.client_storage_bytes = m.offline.client_storage_bytes;
  m.online.server_storage_bytes = m.offline.server_storage_bytes;
  m.costs = to_protocol_costs(m.offline, m.online, kind);
  return m;
}

}  // namespace pinfer::characterize
