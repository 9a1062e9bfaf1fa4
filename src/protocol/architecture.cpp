#include "pinfer/protocol/architecture.hpp"

#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/core/sha256.hpp"

namespace pinfer::protocol {
namespace {

constexpr uint32_t kMagic = 0x52414950;  // "PIAR"
constexpr uint32_t kVersion = 2;         // 2: conv groups, pool windows, clip stages

void put_shape(ByteWriter& w, const Shape& s) {
  w.u32(static_cast<uint32_t>(s.rank()));
  for (std::size_t d : s.dims()) w.u64(d);
}

Shape get_shape(ByteReader& r, std::string_view field) {
  const uint32_t rank = r.u32(field);
  if (rank == 0 || rank > 4) {
    throw FormatError(std::string(field) + " rank " + std::to_string(rank) + " is not in 1..4");
  }
  std::vector<std::size_t> dims(rank);
  for (auto& d : dims) {
    d = r.u64(field);
    if (d == 0 || d > kMaxDim) {
      throw FormatError(std::string(field) + " dimension " + std::to_string(d) + " is not in 1.." +
                        std::to_string(kMaxDim));
    }
  }
  Shape s(std::move(dims));
  if (s.numel() > kMaxActivationElements) {
    throw FormatError(std::string(field) + " has " + std::to_string(s.numel()) +
                      " elements, more than " + std::to_string(kMaxActivationElements));
  }
  return s;
}

std::size_t get_dim(ByteReader& r, std::string_view field, std::size_t min = 0) {
  const uint64_t v = r.u64(field);
  if (v < min || v > kMaxDim) {
    throw FormatError(std::string(field) + " value " + std::to_string(v) + " is not in " +
                      std::to_string(min) + ".." + std::to_string(kMaxDim));
  }
  return static_cast<std::size_t>(v);
}

std::size_t get_index(ByteReader& r, std::string_view field, std::size_t bound) {
  const uint64_t v = r.u64(field);
  if (v >= bound) {
    throw FormatError(std::string(field) + " index " + std::to_string(v) + " is out of range 0.." +
                      std::to_string(bound == 0 ? 0 : bound - 1));
  }
  return static_cast<std::size_t>(v);
}

std::size_t get_count(ByteReader& r, std::string_view field, std::size_t max) {
  return static_cast<std::size_t>(r.length(field, max));
}

void check(bool ok, const std::string& what) {
  if (!ok) throw FormatError("architecture is inconsistent: " + what);
}

}  // namespace

std::vector<std::byte> encode_architecture(const nn::LoweredModel& m) {
  ByteWriter w;
  w.u32(kMagic);
  w.u32(kVersion);
  w.string(m.name);
  w.u32(m.l);
  w.u32(m.f);
  put_shape(w, m.input_shape);
  w.u64(m.activation_shapes.size());
  for (const Shape& s : m.activation_shapes) put_shape(w, s);
  w.u64(m.linear_ops.size());
  for (const nn::LinearOp& op : m.linear_ops) {
    w.u8(op.kind == nn::LinearOp::Kind::conv ? 0 : 1);
    const nn::ConvGeometry& g = op.conv;
    for (std::size_t v : {g.in_channels, g.in_h, g.in_w, g.out_channels, g.kernel_h, g.kernel_w,
                          g.stride_h, g.stride_w, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right,
                          g.out_h, g.out_w, g.groups}) {
      w.u64(v);
    }
    w.u64(op.in_features);
    w.u64(op.out_features);
    w.u64(op.input);
    w.string(op.name);
  }
  w.u64(m.stages.size());
  for (const nn::Stage& s : m.stages) {
    w.u64(s.linear_ops.size());
    for (std::size_t i : s.linear_ops) w.u64(i);
    w.u64(s.identity_inputs.size());
    for (std::size_t i : s.identity_inputs) w.u64(i);
    put_shape(w, s.pre_shape);
    const nn::NonLinear& nl = s.nonlinear;
    w.u8(static_cast<uint8_t>(nl.kind));
    const nn::PoolSpec& p = nl.pool;
    for (std::size_t v : {p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left,
                          p.pad_bottom, p.pad_right}) {
      w.u64(v);
    }
    w.u8(p.ceil_mode ? 1 : 0);
    w.u64(static_cast<uint64_t>(nl.clip_lo));
    w.u64(static_cast<uint64_t>(nl.clip_hi));
    w.u64(s.output);
  }
  return w.take();
}

nn::LoweredModel decode_architecture(std::span<const std::byte> bytes) {
  if (bytes.size() > kMaxArchitectureBytes) throw FormatError("architecture larger than 1 MiB");
  ByteReader r(bytes);
  r.expect_u32(kMagic, "architecture magic");
  r.expect_u32(kVersion, "architecture version");
  nn::LoweredModel m;
  m.name = r.string("model name", 256);
  m.l = r.u32("ring bits l");
  m.f = r.u32("fractional bits f");
  if (m.l < 2 || m.l > 64 || m.f == 0 || m.f >= m.l) {
    throw FormatError("ring parameters l=" + std::to_string(m.l) + " f=" + std::to_string(m.f) +
                      " are invalid");
  }
  m.input_shape = get_shape(r, "input shape");
  const std::size_t n_act = get_count(r, "activation count", kMaxStages + 1);
  std::size_t total_elements = 0;
  for (std::size_t i = 0; i < n_act; ++i) {
    m.activation_shapes.push_back(get_shape(r, "activation shape"));
    total_elements += m.activation_shapes.back().numel();  // <= 1025 * 2^26: no overflow
    if (total_elements > kMaxTotalActivationElements) {
      throw FormatError("activations total more than " +
                        std::to_string(kMaxTotalActivationElements) + " elements");
    }
  }
  check(!m.activation_shapes.empty() && m.activation_shapes[0] == m.input_shape,
        "activation 0 must be the input");
  const std::size_t n_ops = get_count(r, "linear op count", kMaxLinearOps);
  for (std::size_t i = 0; i < n_ops; ++i) {
    nn::LinearOp op;
    const uint8_t kind = r.u8("linear op kind");
    if (kind > 1) throw FormatError("linear op kind " + std::to_string(kind) + " is unknown");
    op.kind = kind == 0 ? nn::LinearOp::Kind::conv : nn::LinearOp::Kind::fc;
    nn::ConvGeometry& g = op.conv;
    for (std::size_t* v : {&g.in_channels, &g.in_h, &g.in_w, &g.out_channels, &g.kernel_h,
                           &g.kernel_w, &g.stride_h, &g.stride_w, &g.pad_top, &g.pad_left,
                           &g.pad_bottom, &g.pad_right, &g.out_h, &g.out_w, &g.groups}) {
      *v = get_dim(r, "conv geometry");
    }
    op.in_features = static_cast<std::size_t>(r.length("fc in_features", kMaxActivationElements));
    op.out_features = get_dim(r, "fc out_features");
    op.input = get_index(r, "linear op input", n_act);
    op.name = r.string("linear op name", 256);
    if (op.kind == nn::LinearOp::Kind::conv) {
      nn::ConvGeometry expect = g;
      check(g.stride_h > 0 && g.stride_w > 0, "conv stride 0");
      check(g.groups > 0 && g.in_channels % g.groups == 0 && g.out_channels % g.groups == 0,
            "conv groups");
      expect.infer_output_size();
      check(expect.out_h == g.out_h && expect.out_w == g.out_w, "conv output size");
      const Shape& in = m.activation_shapes[op.input];
      check(in.numel() == g.in_channels * g.in_h * g.in_w, "conv input size");
    } else {
      check(m.activation_shapes[op.input].numel() == op.in_features, "fc input size");
      check(op.out_features > 0, "fc out_features");
    }
    m.linear_ops.push_back(std::move(op));
  }
  const std::size_t n_stages = get_count(r, "stage count", kMaxStages);
  check(n_stages > 0 && n_act == n_stages + 1, "one activation per stage output");
  for (std::size_t i = 0; i < n_stages; ++i) {
    nn::Stage s;
    const std::size_t k = get_count(r, "stage op count", kMaxLinearOps);
    for (std::size_t j = 0; j < k; ++j) s.linear_ops.push_back(get_index(r, "stage op", n_ops));
    const std::size_t ids = get_count(r, "stage identity count", n_act);
    for (std::size_t j = 0; j < ids; ++j) {
      s.identity_inputs.push_back(get_index(r, "stage identity input", i + 1));
    }
    s.pre_shape = get_shape(r, "stage pre-activation shape");
    const uint8_t kind = r.u8("non-linear kind");
    if (kind > 5) throw FormatError("non-linear kind " + std::to_string(kind) + " is unknown");
    s.nonlinear.kind = static_cast<nn::NonLinear::Kind>(kind);
    nn::PoolSpec& p = s.nonlinear.pool;
    for (std::size_t* v : {&p.kernel_h, &p.kernel_w, &p.stride_h, &p.stride_w, &p.pad_top,
                           &p.pad_left, &p.pad_bottom, &p.pad_right}) {
      *v = get_dim(r, "pool geometry");
    }
    const uint8_t ceil_mode = r.u8("pool ceil_mode");
    if (ceil_mode > 1) throw FormatError("pool ceil_mode " + std::to_string(ceil_mode));
    p.ceil_mode = ceil_mode == 1;
    s.nonlinear.clip_lo = static_cast<int64_t>(r.u64("clip lower bound"));
    s.nonlinear.clip_hi = static_cast<int64_t>(r.u64("clip upper bound"));
    s.output = get_index(r, "stage output", n_act);
    check(s.output == i + 1,
          "stage " + std::to_string(i) + " must produce activation " + std::to_string(i + 1));
    // A topk stage's k is the size of its output activation (bound by the fingerprint).
    if (s.nonlinear.kind == nn::NonLinear::Kind::topk) {
      s.nonlinear.top_k = m.activation_shapes[s.output].numel();
    }
    check(!s.linear_ops.empty() || !s.identity_inputs.empty(), "empty stage");
    for (std::size_t op : s.linear_ops) {
      check(m.linear_ops[op].input <= i, "stage reads a later activation");
      check(m.linear_ops[op].output_shape().numel() == s.pre_shape.numel(), "stage op shape");
    }
    for (std::size_t id : s.identity_inputs) {
      check(m.activation_shapes[id].numel() == s.pre_shape.numel(), "identity shape");
    }
    const bool last = i + 1 == n_stages;
    check(last == (s.nonlinear.kind == nn::NonLinear::Kind::none), "only the last stage is linear");
    if (s.nonlinear.kind == nn::NonLinear::Kind::relu_maxpool) {
      check(s.pre_shape.rank() == 4, "max pool of a non-spatial stage");
      check(p.kernel_h * p.kernel_w <= 256, "max pool window over 256 elements");
      try {
        (void)p.out_h(s.pre_shape[2]);
        (void)p.out_w(s.pre_shape[3]);
      } catch (const InvalidArgument& e) {
        check(false, std::string("max pool geometry: ") + e.what());
      }
    }
    if (s.nonlinear.kind == nn::NonLinear::Kind::clip) {
      check(s.nonlinear.clip_lo <= s.nonlinear.clip_hi, "clip bounds reversed");
    }
    if (s.nonlinear.kind == nn::NonLinear::Kind::argmax) {
      check(i + 2 == n_stages, "an argmax stage must precede the output stage");
      check(s.pre_shape.numel() <= 65536, "argmax over more than 65536 classes");
    }
    if (s.nonlinear.kind == nn::NonLinear::Kind::topk) {
      check(i + 2 == n_stages, "a topk stage must precede the output stage");
      check(s.pre_shape.numel() <= 65536, "top-k over more than 65536 classes");
      check(s.nonlinear.top_k <= s.pre_shape.numel(), "top-k of more labels than classes");
    }
    check(nn::stage_output_shape(s).numel() == m.activation_shapes[s.output].numel(),
          "stage output shape");
    m.stages.push_back(std::move(s));
  }
  r.expect_end("architecture");
  return m;
}

std::string architecture_fingerprint(const nn::LoweredModel& model) {
  return sha256_hex(encode_architecture(model));
}

}  // namespace pinfer::protocol
