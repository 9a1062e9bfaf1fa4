#include "pinfer/nn/builtin_models.hpp"

#include <cmath>
#include <optional>

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"

namespace pinfer::nn {

namespace {

struct Dataset {
  std::string_view name;
  std::size_t channels, size, classes;
};
constexpr Dataset kDatasets[] = {
    {"cifar10", 3, 32, 10}, {"cifar100", 3, 32, 100}, {"tinyimagenet", 3, 64, 200}};
constexpr std::string_view kNetworks[] = {"resnet18", "resnet32", "vgg16"};

// Appends layers with (optionally) random parameters. Public weights, so a seeded Prg is fine.
class NetBuilder {
 public:
  NetBuilder(std::string name, const Dataset& d, const BuiltinOptions& o)
      : model_(std::move(name), Shape{1, d.channels, d.size, d.size}) {
    if (o.with_weights) prg_.emplace(Prg::from_seed(Block(o.seed, 0x6275696c74696eULL)));
  }

  std::size_t conv(const std::string& name, std::size_t in, std::size_t out_ch, std::size_t k,
                   std::size_t stride) {
    const std::size_t in_ch = model_.layer(in).shape[1];
    const std::size_t pad = k / 2;
    FloatTensor w;
    if (prg_) {
      w = FloatTensor(Shape{out_ch, in_ch, k, k});
      fill_uniform(w.values(), std::sqrt(6.0 / static_cast<double>(in_ch * k * k)));
    }
    return model_.add_conv(name, in, ConvSpec{out_ch, k, k, stride, stride, pad, pad, pad, pad},
                           std::move(w));
  }

  // gamma_scale < 1 for the last BN of a residual branch keeps random activations bounded.
  std::size_t bn(const std::string& name, std::size_t in, double gamma_scale = 1.0) {
    const std::size_t c = model_.layer(in).shape[1];
    std::vector<float> g(c, 1.0f), b(c, 0.0f), m(c, 0.0f), v(c, 1.0f);
    if (prg_) {
      for (std::size_t i = 0; i < c; ++i) {
        g[i] = static_cast<float>(gamma_scale * (0.8 + 0.4 * unit()));
        b[i] = static_cast<float>(0.2 * unit() - 0.1);
        m[i] = static_cast<float>(0.2 * unit() - 0.1);
        v[i] = static_cast<float>(0.8 + 0.4 * unit());
      }
    }
    return model_.add_batch_norm(name, in, std::move(g), std::move(b), std::move(m), std::move(v),
                                 1e-5f);
  }

  std::size_t conv_bn_relu(const std::string& name, std::size_t in, std::size_t out_ch,
                           std::size_t k, std::size_t stride) {
    const std::size_t c = conv(name + ".conv", in, out_ch, k, stride);
    return model_.add_relu(name + ".relu", bn(name + ".bn", c));
  }

  // ResNet basic block (He et al. 2016, Fig. 2 left) with a 1x1 projection when the shape changes.
  std::size_t basic_block(const std::string& name, std::size_t in, std::size_t planes,
                          std::size_t stride) {
    const std::size_t a = model_.add_relu(
        name + ".relu1", bn(name + ".bn1", conv(name + ".conv1", in, planes, 3, stride)));
    const std::size_t b = bn(name + ".bn2", conv(name + ".conv2", a, planes, 3, 1), 0.5);
    std::size_t shortcut = in;
    if (stride != 1 || model_.layer(in).shape[1] != planes) {
      shortcut =
          bn(name + ".shortcut.bn", conv(name + ".shortcut.conv", in, planes, 1, stride), 0.5);
    }
    return model_.add_relu(name + ".relu2", model_.add_add(name + ".add", b, shortcut));
  }

  std::size_t linear(const std::string& name, std::size_t in, std::size_t out) {
    const std::size_t in_features = model_.layer(in).shape[1];
    if (!prg_) {
      Layer l;
      l.kind = LayerKind::linear;
      l.name = name;
      l.inputs = {in};
      l.out_features = out;
      return model_.add_layer(std::move(l));
    }
    FloatTensor w(Shape{out, in_features});
    fill_uniform(w.values(), std::sqrt(6.0 / static_cast<double>(in_features)));
    std::vector<float> b(out);
    for (float& x : b) x = static_cast<float>(0.2 * unit() - 0.1);
    return model_.add_linear(name, in, std::move(w), std::move(b));
  }

  Model& model() { return model_; }

 private:
  double unit() { return static_cast<double>(prg_->next_u64() >> 11) * 0x1.0p-53; }
  void fill_uniform(std::vector<float>& v, double bound) {
    for (float& x : v) x = static_cast<float>(bound * (2 * unit() - 1));
  }

  Model model_;
  std::optional<Prg> prg_;
};

Model resnet(const std::string& name, const Dataset& d, const BuiltinOptions& o, bool deep18) {
  NetBuilder b(name, d, o);
  Model& m = b.model();
  std::size_t x = b.conv_bn_relu("stem", 0, deep18 ? 64 : 16, 3, 1);
  // ResNet-18: [2, 2, 2, 2] blocks of 64..512 (He et al. 2016, Table 1, CIFAR-style stem).
  // ResNet-32: 3 stages of n = 5 blocks of 16, 32, 64 (He et al. 2016, Sec. 4.2, 6n + 2 = 32).
  const std::vector<std::size_t> planes =
      deep18 ? std::vector<std::size_t>{64, 128, 256, 512} : std::vector<std::size_t>{16, 32, 64};
  const std::size_t blocks = deep18 ? 2 : 5;
  for (std::size_t s = 0; s < planes.size(); ++s) {
    for (std::size_t i = 0; i < blocks; ++i) {
      const std::string block = "layer" + std::to_string(s + 1) + "." + std::to_string(i);
      x = b.basic_block(block, x, planes[s], (s > 0 && i == 0) ? 2 : 1);
    }
  }
  x = m.add_flatten("flatten", m.add_global_avg_pool("avgpool", x));
  b.linear("fc", x, d.classes);
  return std::move(m);
}

Model vgg16(const std::string& name, const Dataset& d, const BuiltinOptions& o) {
  // Simonyan & Zisserman 2015, configuration D, with BN, and the classifier of the network whose
  // Delphi measurements the paper reports (profiles/paper/*/vgg16.json, relu_count 284,672 on
  // CIFAR, 1,114,112 on TinyImageNet): two hidden fully connected layers of 4,096 with ReLU
  // (2 x 4,096 = 8,192 ReLUs over the 13 convolutions' 276,480), then the output layer.
  NetBuilder b(name, d, o);
  Model& m = b.model();
  const int cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
  std::size_t x = 0, conv_i = 0, pool_i = 0;
  for (int c : cfg) {
    if (c == 0) {
      x = m.add_max_pool("pool" + std::to_string(++pool_i), x, PoolSpec{2, 2, 2, 2});
    } else {
      x = b.conv_bn_relu("features" + std::to_string(++conv_i), x, static_cast<std::size_t>(c), 3,
                         1);
    }
  }
  x = m.add_flatten("flatten", x);
  x = m.add_relu("classifier.1", b.linear("classifier.0", x, 4096));
  x = m.add_relu("classifier.4", b.linear("classifier.3", x, 4096));
  b.linear("classifier.6", x, d.classes);
  return std::move(m);
}

}  // namespace

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  for (std::string_view n : kNetworks) {
    for (const Dataset& d : kDatasets) names.push_back(std::string(n) + ":" + std::string(d.name));
  }
  return names;
}

bool is_builtin_model_name(std::string_view name) {
  for (const std::string& n : builtin_model_names()) {
    if (n == name) return true;
  }
  return false;
}

Model build_builtin_model(std::string_view name, const BuiltinOptions& options) {
  const std::size_t colon = name.find(':');
  const std::string_view net = name.substr(0, colon);
  const std::string_view data = colon == std::string_view::npos ? "" : name.substr(colon + 1);
  for (const Dataset& d : kDatasets) {
    if (d.name != data) continue;
    if (net == "resnet18") return resnet(std::string(name), d, options, true);
    if (net == "resnet32") return resnet(std::string(name), d, options, false);
    if (net == "vgg16") return vgg16(std::string(name), d, options);
  }
  std::string known;
  for (const std::string& n : builtin_model_names()) known += (known.empty() ? "" : ", ") + n;
  throw InvalidArgument("unknown built-in model '" + std::string(name) + "' (known: " + known +
                        ")");
}

}  // namespace pinfer::nn
