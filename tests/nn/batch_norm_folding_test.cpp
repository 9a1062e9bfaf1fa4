#include "pinfer/nn/batch_norm_folding.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "pinfer/nn/float_engine.hpp"
#include "pinfer/nn/onnx_importer.hpp"

namespace pinfer::nn {
namespace {

std::vector<float> random_vector(std::mt19937& rng, std::size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

FloatTensor random_tensor(std::mt19937& rng, Shape s, float bound) {
  FloatTensor t(std::move(s));
  t.values() = random_vector(rng, t.size(), -bound, bound);
  return t;
}

std::size_t count_kind(const Model& m, LayerKind k) {
  std::size_t n = 0;
  for (const Layer& l : m.layers()) n += l.kind == k;
  return n;
}

float max_abs_diff(const FloatTensor& a, const FloatTensor& b) {
  float d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

// conv(+bias) -> BN -> ReLU -> conv(no bias) -> BN -> add(shortcut) -> ReLU -> flatten
// -> linear -> BN1d -> ReLU -> linear, with non-trivial statistics.
Model model_with_batch_norms(unsigned seed) {
  std::mt19937 rng(seed);
  Model m("bn", Shape{1, 3, 6, 6});
  auto bn = [&](const std::string& name, std::size_t in) {
    const std::size_t c = m.layer(in).shape[1];
    return m.add_batch_norm(name, in, random_vector(rng, c, 0.5f, 2.0f),
                            random_vector(rng, c, -1, 1), random_vector(rng, c, -1, 1),
                            random_vector(rng, c, 0.1f, 3.0f), 1e-3f);
  };
  std::size_t x = m.add_conv("c1", 0, ConvSpec{4, 3, 3, 1, 1, 1, 1, 1, 1},
                             random_tensor(rng, {4, 3, 3, 3}, 0.5f), random_vector(rng, 4, -1, 1));
  const std::size_t a = m.add_relu("r1", bn("bn1", x));
  x = m.add_conv("c2", a, ConvSpec{4, 3, 3, 1, 1, 1, 1, 1, 1},
                 random_tensor(rng, {4, 4, 3, 3}, 0.5f));
  x = m.add_relu("r2", m.add_add("add", bn("bn2", x), a));
  x = m.add_flatten("flat", x);
  x = m.add_linear("fc1", x, random_tensor(rng, {8, 144}, 0.2f), random_vector(rng, 8, -1, 1));
  x = m.add_relu("r3", bn("bn3", x));
  m.add_linear("fc2", x, random_tensor(rng, {5, 8}, 0.5f));
  return m;
}

TEST(BatchNormFolding, MatchesUnfoldedModelWithin1e4) {
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    const Model m = model_with_batch_norms(seed);
    const Model folded = fold_batch_norm(m);
    EXPECT_EQ(count_kind(m, LayerKind::batch_norm), 3u);
    EXPECT_EQ(count_kind(folded, LayerKind::batch_norm), 0u);
    std::mt19937 rng(seed + 100);
    for (int k = 0; k < 4; ++k) {
      const FloatTensor x = random_tensor(rng, {1, 3, 6, 6}, 1.0f);
      EXPECT_LE(max_abs_diff(run_float(m, x), run_float(folded, x)), 1e-4f);
    }
  }
}

TEST(BatchNormFolding, ShippedModelFoldsWithin1e4) {
  const Model m = load_onnx_file(std::string(PINFER_SOURCE_DIR) + "/models/digits.onnx");
  const Model folded = fold_batch_norm(m);
  EXPECT_EQ(count_kind(folded, LayerKind::batch_norm), 0u);
  std::mt19937 rng(5);
  for (int k = 0; k < 8; ++k) {
    FloatTensor x(Shape{1, 1, 8, 8});
    x.values() = random_vector(rng, 64, 0, 1);
    EXPECT_LE(max_abs_diff(run_float(m, x), run_float(folded, x)), 1e-4f);
  }
}

TEST(BatchNormFolding, SharedConvOutputIsNotFolded) {
  // The conv output feeds both the BN and the add: folding would change the add's operand.
  std::mt19937 rng(9);
  Model m("shared", Shape{1, 2, 4, 4});
  const std::size_t c = m.add_conv("c", 0, ConvSpec{2, 1, 1}, random_tensor(rng, {2, 2, 1, 1}, 1));
  const std::size_t b = m.add_batch_norm("bn", c, {2, 2}, {0, 0}, {0, 0}, {1, 1}, 0);
  m.add_add("add", b, c);
  const Model folded = fold_batch_norm(m);
  EXPECT_EQ(count_kind(folded, LayerKind::batch_norm), 1u);
  const FloatTensor x = random_tensor(rng, {1, 2, 4, 4}, 1);
  EXPECT_LE(max_abs_diff(run_float(m, x), run_float(folded, x)), 1e-6f);
}

}  // namespace
}  // namespace pinfer::nn
