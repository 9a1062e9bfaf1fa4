#include "pinfer/nn/float_engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "linear_kernels.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::nn {

namespace {

FloatTensor max_pool(const Layer& l, const FloatTensor& x) {
  FloatTensor out(l.shape);
  const auto& d = x.shape().dims();
  const auto& od = l.shape.dims();
  const PoolSpec& p = l.pool;
  for (std::size_t c = 0; c < d[1]; ++c) {
    for (std::size_t oh = 0; oh < od[2]; ++oh) {
      for (std::size_t ow = 0; ow < od[3]; ++ow) {
        float m = -std::numeric_limits<float>::infinity();  // padding never wins
        for (std::size_t i = 0; i < p.kernel_h; ++i) {
          for (std::size_t j = 0; j < p.kernel_w; ++j) {
            const long h = static_cast<long>(oh * p.stride_h + i) - static_cast<long>(p.pad_top);
            const long w = static_cast<long>(ow * p.stride_w + j) - static_cast<long>(p.pad_left);
            if (h < 0 || w < 0 || h >= static_cast<long>(d[2]) || w >= static_cast<long>(d[3])) {
              continue;
            }
            m = std::max(m, x.at(0, c, h, w));
          }
        }
        out.at(0, c, oh, ow) = m;
      }
    }
  }
  return out;
}

FloatTensor avg_pool(const Layer& l, const FloatTensor& x) {
  FloatTensor out(l.shape);
  const auto& d = x.shape().dims();
  const auto& od = l.shape.dims();
  const PoolSpec& p = l.pool;
  const float inv = 1.0f / static_cast<float>(p.kernel_h * p.kernel_w);
  for (std::size_t c = 0; c < d[1]; ++c) {
    for (std::size_t oh = 0; oh < od[2]; ++oh) {
      for (std::size_t ow = 0; ow < od[3]; ++ow) {
        float s = 0;
        for (std::size_t i = 0; i < p.kernel_h; ++i) {
          for (std::size_t j = 0; j < p.kernel_w; ++j) {
            s += x.at(0, c, oh * p.stride_h + i, ow * p.stride_w + j);
          }
        }
        out.at(0, c, oh, ow) = s * inv;
      }
    }
  }
  return out;
}

FloatTensor run_layer(const Layer& l, const std::vector<FloatTensor>& acts) {
  const FloatTensor& x = acts[l.inputs.empty() ? 0 : l.inputs[0]];
  switch (l.kind) {
    case LayerKind::input:
      return x;
    case LayerKind::conv: {
      FloatTensor out(l.shape);
      const std::size_t plane = l.conv.out_h * l.conv.out_w;
      if (!l.bias.empty()) {
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = l.bias[i / plane];
      }
      detail::conv2d_accumulate<float>(l.conv, x.data(), l.weight.data(), out.data());
      return out;
    }
    case LayerKind::batch_norm: {
      FloatTensor out(l.shape);
      const std::size_t c = l.gamma.size();
      const std::size_t plane = x.size() / c;
      for (std::size_t ch = 0; ch < c; ++ch) {
        const float s = l.gamma[ch] / std::sqrt(l.var[ch] + l.epsilon);
        for (std::size_t i = 0; i < plane; ++i) {
          out[ch * plane + i] = s * (x[ch * plane + i] - l.mean[ch]) + l.beta[ch];
        }
      }
      return out;
    }
    case LayerKind::relu: {
      FloatTensor out(l.shape);
      for (std::size_t i = 0; i < x.size(); ++i) out[i] = std::max(0.0f, x[i]);
      return out;
    }
    case LayerKind::max_pool:
      return max_pool(l, x);
    case LayerKind::avg_pool:
      return avg_pool(l, x);
    case LayerKind::global_avg_pool: {
      FloatTensor out(l.shape);
      const std::size_t plane = x.size() / l.shape[1];
      for (std::size_t c = 0; c < l.shape[1]; ++c) {
        double s = 0;
        for (std::size_t i = 0; i < plane; ++i) s += x[c * plane + i];
        out[c] = static_cast<float>(s / static_cast<double>(plane));
      }
      return out;
    }
    case LayerKind::add: {
      FloatTensor out(l.shape);
      const FloatTensor& y = acts[l.inputs[1]];
      for (std::size_t i = 0; i < x.size(); ++i) out[i] = x[i] + y[i];
      return out;
    }
    case LayerKind::flatten: {
      FloatTensor out = x;
      out.reshape_inplace(l.shape);
      return out;
    }
    case LayerKind::linear: {
      FloatTensor out(l.shape);
      if (!l.bias.empty()) std::copy(l.bias.begin(), l.bias.end(), out.values().begin());
      detail::fc_accumulate<float>(l.in_features, l.out_features, x.data(), l.weight.data(),
                                   out.data());
      return out;
    }
  }
  PINFER_ASSERT(false);
  return {};
}

}  // namespace

FloatTensor run_float(const Model& model, const FloatTensor& input) {
  if (!model.has_weights()) {
    throw InvalidArgument("model " + model.name() + " was built without weights");
  }
  if (input.size() != model.input_shape().numel()) {
    throw InvalidArgument("input has " + std::to_string(input.size()) + " values, model " +
                          model.name() + " expects " + model.input_shape().to_string());
  }
  const std::vector<std::size_t> readers = consumer_counts(model);
  std::vector<std::size_t> remaining = readers;
  std::vector<FloatTensor> acts(model.layers().size());
  acts[0] = input;
  acts[0].reshape_inplace(model.input_shape());
  for (std::size_t i = 1; i < model.layers().size(); ++i) {
    const Layer& l = model.layers()[i];
    acts[i] = run_layer(l, acts);
    // Free inputs nobody reads any more (the output keeps one extra reader).
    for (std::size_t in : l.inputs) {
      if (--remaining[in] == 0) acts[in] = FloatTensor();
    }
  }
  return acts[model.output()];
}

}  // namespace pinfer::nn
