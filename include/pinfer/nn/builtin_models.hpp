#pragma once
// The networks of the paper's evaluation, with real shapes and random weights from a seed:
// ResNet-18 (CIFAR-style: 3x3 stem, no stem max pool), ResNet-32 (3 stages x 5 basic blocks,
// 1x1 projection shortcuts) and VGG-16 (13 conv + BN + ReLU, 5 max pools, one FC), each for
// cifar10 (3x32x32, 10 classes), cifar100 (100 classes) and tinyimagenet (3x64x64, 200 classes).
// Names are "<network>:<dataset>", e.g. "resnet18:tinyimagenet".
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pinfer/nn/model.hpp"

namespace pinfer::nn {

// All nine built-in names, networks in the order resnet18, resnet32, vgg16.
[[nodiscard]] std::vector<std::string> builtin_model_names();
[[nodiscard]] bool is_builtin_model_name(std::string_view name);

struct BuiltinOptions {
  uint64_t seed = 1;         // weights: He-uniform conv / FC, mild random BatchNorm statistics
  bool with_weights = true;  // false: shapes only (counts), no parameter memory
};

// Throws InvalidArgument for an unknown name (the message lists the known ones).
[[nodiscard]] Model build_builtin_model(std::string_view name, const BuiltinOptions& options = {});

}  // namespace pinfer::nn
