#include "pinfer/nn/builtin_models.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/quantizer.hpp"

namespace pinfer::nn {
namespace {

struct Expected {
  const char* name;
  std::size_t relus;
};

// The ReLU counts of the networks whose Delphi measurements the paper reports (Garimella et al.,
// ASPLOS 2023; relu_count in profiles/paper/*/*.json): ResNet-18 557,056 / 2,228,224, ResNet-32
// 303,104 / 1,212,416, VGG-16 284,672 / 1,114,112 (CIFAR / TinyImageNet). VGG-16's are the 13
// convolutions' 276,480 / 1,105,920 plus two hidden fully connected layers of 4,096.
constexpr Expected kExpected[] = {
    {"resnet18:cifar10", 557056}, {"resnet18:cifar100", 557056}, {"resnet18:tinyimagenet", 2228224},
    {"resnet32:cifar10", 303104}, {"resnet32:cifar100", 303104}, {"resnet32:tinyimagenet", 1212416},
    {"vgg16:cifar10", 284672},    {"vgg16:cifar100", 284672},    {"vgg16:tinyimagenet", 1114112},
};

TEST(BuiltinModels, ReluCountsMatchTheMeasuredNetworks) {
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.name);
    const Model m = build_builtin_model(e.name, {.with_weights = false});
    EXPECT_FALSE(m.has_weights());
    EXPECT_EQ(count(m).relus, e.relus);
  }
}

// The same counts as the shipped paper profiles (so any difference would be named here).
TEST(BuiltinModels, ReluCountsEqualThePaperProfiles) {
  for (const char* data : {"cifar10", "tinyimagenet"}) {
    for (const char* net : {"resnet18", "resnet32", "vgg16"}) {
      const std::string path =
          std::string(PINFER_SOURCE_DIR) + "/profiles/paper/" + data + "/" + net + ".json";
      std::ifstream in(path);
      ASSERT_TRUE(in) << path;
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      const std::size_t at = text.find("\"relu_count\":");
      ASSERT_NE(at, std::string::npos) << path;
      const std::size_t published = std::stoull(text.substr(at + 13));
      const Model m = build_builtin_model(std::string(net) + ":" + data, {.with_weights = false});
      EXPECT_EQ(count(m).relus, published) << net << ":" << data;
    }
  }
}

TEST(BuiltinModels, ShapesAndParameterCounts) {
  const Model r18 = build_builtin_model("resnet18:cifar10", {.with_weights = false});
  EXPECT_EQ(r18.input_shape(), (Shape{1, 3, 32, 32}));
  EXPECT_EQ(r18.layer(r18.output()).shape, (Shape{1, 10}));
  // The usual CIFAR ResNet-18 count, 11,173,962, has 2 parameters per BN channel (4,800 channels);
  // the IR also counts the running mean and variance.
  EXPECT_EQ(count(r18).params, 11173962u + 2 * 4800);
  const Model tiny = build_builtin_model("resnet18:tinyimagenet", {.with_weights = false});
  EXPECT_EQ(tiny.input_shape(), (Shape{1, 3, 64, 64}));
  EXPECT_EQ(tiny.layer(tiny.output()).shape, (Shape{1, 200}));
  const Model vgg = build_builtin_model("vgg16:cifar100", {.with_weights = false});
  EXPECT_EQ(vgg.layer(vgg.output()).shape, (Shape{1, 100}));
  EXPECT_EQ(count(vgg).comparisons, (16384u + 8192 + 4096 + 2048 + 512) * 3);
}

TEST(BuiltinModels, LoweredStructureKeepsTheCounts) {
  for (const char* name : {"resnet18:cifar10", "resnet32:cifar10", "vgg16:cifar10"}) {
    SCOPED_TRACE(name);
    const Model m = build_builtin_model(name, {.seed = 7});
    const LoweredPlan plan = plan_lowering(m);
    const LoweredModel q = quantize(plan, 40, 10);
    validate(q);
    const ModelCounts ir = count(m);
    const LoweredCounts lc = count(q);
    EXPECT_EQ(lc.relus, ir.relus);
    EXPECT_EQ(lc.comparisons, ir.comparisons);
    // The folded average pool adds (H*W - 1) * C * classes MACs to the final FC.
    EXPECT_GE(lc.macs, ir.macs);
    EXPECT_EQ(q.stages.back().nonlinear.kind, NonLinear::Kind::none);
  }
}

TEST(BuiltinModels, SameSeedSameWeights) {
  const Model a = build_builtin_model("resnet32:cifar10", {.seed = 3});
  const Model b = build_builtin_model("resnet32:cifar10", {.seed = 3});
  const Model c = build_builtin_model("resnet32:cifar10", {.seed = 4});
  EXPECT_EQ(a.layer(1).weight, b.layer(1).weight);
  EXPECT_NE(a.layer(1).weight, c.layer(1).weight);
}

TEST(BuiltinModels, UnknownNameIsInvalidArgument) {
  EXPECT_THROW((void)build_builtin_model("resnet50:cifar10"), InvalidArgument);
  EXPECT_THROW((void)build_builtin_model("resnet18:mnist"), InvalidArgument);
  EXPECT_THROW((void)build_builtin_model("resnet18"), InvalidArgument);
  EXPECT_TRUE(is_builtin_model_name("resnet18:tinyimagenet"));
  EXPECT_EQ(builtin_model_names().size(), 9u);
}

}  // namespace
}  // namespace pinfer::nn
