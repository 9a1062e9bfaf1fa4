// Private inference of the shipped digits model: bit-exact with the fixed-point engine on a
// sample of its held-out set under both protocols (the whole set runs in `pinfer demo --count`).
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "test_models.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using namespace pinfer::store;

namespace {

class ShippedModelPrivateInference : public ::testing::TestWithParam<ProtocolKind> {};

TEST_P(ShippedModelPrivateInference, SampledHeldOutSetIsBitExact) {
  const std::string models = std::string(PINFER_SOURCE_DIR) + "/models/";
  const nn::LoadedModel loaded = nn::load_model(models + "digits.onnx");
  const std::vector<FloatTensor> images =
      nn::split_batch(nn::read_npy_float(models + "digits_test_images.npy"));
  const std::vector<int64_t> labels = nn::read_npy_int(models + "digits_test_labels.npy");
  ASSERT_EQ(images.size(), labels.size());
  const fs::path dir = fs::temp_directory_path() / ("pinfer-shipped-" + new_precompute_id());
  PrecomputeStore client_store(dir / "c", {.capacity_bytes = 1ull << 34});
  PrecomputeStore server_store(dir / "s", {.capacity_bytes = 1ull << 34});
  ClientRegistry registry(dir / "s" / "CLIENTS");
  InferenceServer server(loaded.lowered, GetParam(), server_store, registry);
  auto [a, b] = make_memory_channel_pair();
  std::thread t([&, &sch = *b] { server.serve_connection(sch); });
  std::size_t correct = 0, tested = 0;
  {
    InferenceClient client(*a, client_store, {registry.register_client({}), GetParam()});
    constexpr std::size_t kStride = 23;  // 16 of the 360 held-out images
    for (std::size_t i = 0; i < images.size(); i += kStride, ++tested) {
      (void)client.precompute();
      const InferenceResult rep = client.infer(images[i], false);
      const RingTensor expect =
          nn::run_fixed_point(loaded.lowered, nn::encode_input(loaded.lowered, images[i]));
      ASSERT_EQ(rep.logits_ring, expect.values()) << "image " << i;
      correct += rep.prediction == labels[i];
    }
    client.close();
  }
  t.join();
  fs::remove_all(dir);
  EXPECT_GE(correct * 100, tested * 90) << correct << " of " << tested << " correct";
}

INSTANTIATE_TEST_SUITE_P(Protocols, ShippedModelPrivateInference,
                         ::testing::Values(ProtocolKind::server_garbler,
                                           ProtocolKind::client_garbler),
                         test_models::ProtocolName());

}  // namespace
