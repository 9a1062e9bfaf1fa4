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
        const PoolSpec::Window win = p.window(oh, ow, d[2], d[3]);
        float m = -std::numeric_limits<float>::infinity();  // padding never wins
        for (std::size_t h = win.h0; h < win.h1; ++h) {
          for (std::size_t w = win.w0; w < win.w1; ++w) m = std::max(m, x.at(0, c, h, w));
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
  for (std::size_t c = 0; c < d[1]; ++c) {
    for (std::size_t oh = 0; oh < od[2]; ++oh) {
      for (std::size_t ow = 0; ow < od[3]; ++ow) {
        const PoolSpec::Window win = p.window(oh, ow, d[2], d[3]);
        float s = 0;
        for (std::size_t h = win.h0; h < win.h1; ++h) {
          for (std::size_t w = win.w0; w < win.w1; ++w) s += x.at(0, c, h, w);
        }
        out.at(0, c, oh, ow) = s / static_cast<float>(win.divisor);
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
      // Each group on its own: input, weight and output slices are contiguous (NCHW / OIHW).
      const ConvGeometry g = l.conv.group_geometry();
      const std::size_t x_step = g.in_channels * g.in_h * g.in_w;
      const std::size_t w_step = g.out_channels * g.in_channels * g.kernel_h * g.kernel_w;
      for (std::size_t k = 0; k < l.conv.groups; ++k) {
        detail::conv2d_accumulate<float>(g, x.data() + k * x_step, l.weight.data() + k * w_step,
                                         out.data() + k * g.out_channels * plane);
      }
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
    case LayerKind::clip: {
      FloatTensor out(l.shape);
      for (std::size_t i = 0; i < x.size(); ++i) out[i] = std::clamp(x[i], l.clip_min, l.clip_max);
      return out;
    }
    case LayerKind::concat: {
      FloatTensor out(l.shape);
      std::size_t at = 0;  // NCHW with N = 1: channel blocks are contiguous
      for (std::size_t in : l.inputs) {
        std::copy(acts[in].values().begin(), acts[in].values().end(), out.values().begin() + at);
        at += acts[in].size();
      }
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
