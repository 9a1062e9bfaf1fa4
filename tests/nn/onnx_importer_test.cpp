#include "pinfer/nn/onnx_importer.hpp"
#include "nn/onnx_graph.hpp"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "pinfer/core/error.hpp"
#include "pinfer/nn/float_engine.hpp"

namespace pinfer::nn {
namespace {

const std::string kDigits = std::string(PINFER_SOURCE_DIR) + "/models/digits.onnx";

std::vector<std::byte> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  std::memcpy(b.data(), c.data(), c.size());
  return b;
}

// A minimal valid graph: input 1x1x4x4 -> Conv(2 filters 3x3, pad 1) -> Relu -> Flatten -> Gemm.
struct Builder {
  onnx::ModelProto m;
  onnx::GraphProto* g = m.mutable_graph();

  Builder(std::vector<int64_t> input_dims = {1, 1, 4, 4}, int64_t opset = 13) {
    m.set_ir_version(7);
    auto* o = m.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    auto* in = g->add_input();
    in->set_name("x");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    for (int64_t d : input_dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void initializer(const std::string& name, std::vector<int64_t> dims, float fill = 0.1f) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    for (int64_t i = 0; i < n; ++i) t->add_float_data(fill * static_cast<float>(i % 7 - 3));
  }
  onnx::NodeProto* node(const std::string& op, const std::string& name,
                        std::vector<std::string> inputs, const std::string& output) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output);
    return n;
  }
  static void ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    test_onnx::set_ints(n, name, std::move(v));
  }
  static void integer(onnx::NodeProto* n, const std::string& name, int64_t v) {
    test_onnx::set_int(n, name, v);
  }
  // The standard valid tail: conv -> relu -> flatten -> gemm (output "y").
  void standard() {
    initializer("w", {2, 1, 3, 3});
    initializer("b", {2});
    initializer("fw", {3, 32});
    initializer("fb", {3});
    auto* c = node("Conv", "conv", {"x", "w", "b"}, "c");
    ints(c, "pads", {1, 1, 1, 1});
    ints(c, "kernel_shape", {3, 3});
    node("Relu", "relu", {"c"}, "r");
    node("Flatten", "flatten", {"r"}, "f");
    auto* gemm = node("Gemm", "fc", {"f", "fw", "fb"}, "y");
    integer(gemm, "transB", 1);
    output("y");
  }
  void output(const std::string& name) { g->add_output()->set_name(name); }
  Model load() const {
    std::string s;
    EXPECT_TRUE(m.SerializeToString(&s));
    std::vector<std::byte> b(s.size());
    std::memcpy(b.data(), s.data(), s.size());
    return load_onnx_bytes(b, "test");
  }
};

// Expects `f` to throw E with a message containing every string in `parts`.
template <typename E, typename F>
void expect_error(F&& f, std::vector<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const auto& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

TEST(OnnxImporter, LoadsTheShippedModel) {
  const Model m = load_onnx_file(kDigits);
  EXPECT_EQ(m.input_shape(), (Shape{1, 1, 8, 8}));
  EXPECT_EQ(m.layer(m.output()).shape, (Shape{1, 10}));
  std::size_t bn = 0, add = 0, avg = 0;
  for (const Layer& l : m.layers()) {
    bn += l.kind == LayerKind::batch_norm;
    add += l.kind == LayerKind::add;
    avg += l.kind == LayerKind::avg_pool;
  }
  EXPECT_EQ(bn, 3u);
  EXPECT_EQ(add, 1u);
  EXPECT_EQ(avg, 1u);
}

TEST(OnnxImporter, BuildsAValidHandMadeGraph) {
  Builder b;
  b.standard();
  const Model m = b.load();
  EXPECT_EQ(m.layers().size(), 5u);  // input, conv, relu, flatten, linear
  EXPECT_EQ(m.layer(m.output()).shape, (Shape{1, 3}));
  EXPECT_EQ(m.layer(1).conv.out_h, 4u);
  // Gemm with transB: weight row o is fw[o].
  EXPECT_FLOAT_EQ(m.layer(4).weight[1], 0.1f * static_cast<float>(1 % 7 - 3));
}

TEST(OnnxImporter, UnknownOperatorIsUnsupportedNamingNodeAndOp) {
  Builder b;
  b.node("Softsign", "odd_node", {"x"}, "y");
  b.output("y");
  expect_error<Unsupported>([&] { (void)b.load(); }, {"odd_node", "Softsign", "not supported"});
}

TEST(OnnxImporter, TruncatedOrCorruptFileIsFormatError) {
  const std::vector<std::byte> bytes = file_bytes(kDigits);
  ASSERT_GT(bytes.size(), 1000u);
  for (std::size_t keep : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{1000},
                           bytes.size() / 2, bytes.size() - 100, bytes.size() - 1}) {
    SCOPED_TRACE(keep);
    const std::span<const std::byte> part(bytes.data(), keep);
    EXPECT_THROW((void)load_onnx_bytes(part, "truncated"), FormatError);
  }
  std::vector<std::byte> junk(4096, std::byte{0xff});
  EXPECT_THROW((void)load_onnx_bytes(junk, "junk"), FormatError);
  EXPECT_THROW((void)load_onnx_file("/nonexistent/model.onnx"), IoError);
}

TEST(OnnxImporter, MutatedFilesFailWithTypedErrorsOnly) {
  // Random byte flips of the shipped model: each load either succeeds or throws a pinfer::Error
  // (never crashes, never another exception type). Run under ASan in the sanitizer build.
  const std::vector<std::byte> bytes = file_bytes(kDigits);
  std::mt19937_64 rng(2024);
  std::size_t failures = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::byte> m = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) m[rng() % m.size()] = static_cast<std::byte>(rng());
    try {
      (void)load_onnx_bytes(m, "mutated");
    } catch (const pinfer::Error&) {
      ++failures;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << ": untyped exception " << e.what();
    }
  }
  EXPECT_GT(failures, 0u);
}

TEST(OnnxImporter, WrongRankIsUnsupported) {
  {
    Builder b;
    b.initializer("w", {2, 1, 3});  // a 1-D convolution weight
    b.node("Conv", "conv1d", {"x", "w"}, "y");
    b.output("y");
    expect_error<Unsupported>([&] { (void)b.load(); }, {"conv1d", "Conv", "rank 3"});
  }
  {
    Builder b({1, 4, 4});  // a 3-D network input
    b.standard();
    expect_error<Unsupported>([&] { (void)b.load(); }, {"rank 3"});
  }
  {
    Builder b;
    b.initializer("fw", {3, 16});
    b.node("Gemm", "fc_on_image", {"x", "fw"}, "y");
    b.output("y");
    expect_error<Unsupported>([&] { (void)b.load(); }, {"fc_on_image", "Gemm", "rank 4"});
  }
}

TEST(OnnxImporter, UnsupportedAttributesAreNamed) {
  Builder b;
  b.initializer("w", {2, 1, 3, 3});
  auto* c = b.node("Conv", "dilated", {"x", "w"}, "y");
  Builder::ints(c, "dilations", {2, 2});
  b.output("y");
  expect_error<Unsupported>([&] { (void)b.load(); }, {"dilated", "Conv", "dilations"});

  Builder p;
  p.standard();
  auto* pool = p.node("MaxPool", "stored_pool", {"r"}, "p");
  Builder::ints(pool, "kernel_shape", {2, 2});
  Builder::integer(pool, "storage_order", 1);
  expect_error<Unsupported>([&] { (void)p.load(); }, {"stored_pool", "storage_order"});

  Builder o({1, 1, 4, 4}, 9);
  o.standard();
  expect_error<Unsupported>([&] { (void)o.load(); }, {"opset 9"});
}

TEST(OnnxImporter, InconsistentGraphsAreFormatErrors) {
  {
    Builder b({1, 1024, 1024, 1024});  // 2^30 input elements > max_tensor_elements
    b.standard();
    expect_error<FormatError>([&] { (void)b.load(); }, {"max_tensor_elements"});
  }
  {
    Builder b;
    b.node("Relu", "dangling", {"missing"}, "y");
    b.output("y");
    expect_error<FormatError>([&] { (void)b.load(); }, {"dangling", "missing"});
  }
  {
    Builder b;
    b.standard();
    auto* t = b.g->mutable_initializer(0);
    t->clear_float_data();
    t->set_raw_data(std::string(10, '\0'));  // dims need 72 bytes
    expect_error<FormatError>([&] { (void)b.load(); }, {"raw_data"});
  }
  {
    Builder b;
    b.initializer("w", {2, 3, 3, 3});  // 3 input channels, the input has 1
    b.node("Conv", "mismatch", {"x", "w"}, "y");
    b.output("y");
    expect_error<FormatError>([&] { (void)b.load(); }, {"mismatch", "weight shape"});
  }
}

TEST(OnnxImporter, IdentityOfAConstantAliasesIt) {
  // torch.onnx.export emits Identity nodes for deduplicated initializers.
  Builder b;
  b.standard();
  auto* g = b.g;
  // Re-route the conv weight through an Identity node placed first.
  auto* id = g->add_node();
  id->set_op_type("Identity");
  id->set_name("dedup");
  id->add_input("w");
  id->add_output("w_alias");
  for (int i = g->node_size() - 1; i > 0; --i) g->mutable_node()->SwapElements(i, i - 1);
  g->mutable_node(1)->set_input(1, "w_alias");
  const Model m = b.load();
  EXPECT_EQ(m.layer(1).kind, LayerKind::conv);
  EXPECT_EQ(m.layer(1).weight.shape(), (Shape{2, 1, 3, 3}));
}

TEST(OnnxImporter, MatMulPlusConstantBecomesLinearWithBias) {
  Builder b;
  b.initializer("fw", {16, 3}, 0.5f);  // MatMul weight is [in, out]
  b.initializer("fb", {3}, 1.0f);
  b.node("Flatten", "flatten", {"x"}, "f");
  b.node("MatMul", "mm", {"f", "fw"}, "m");
  b.node("Add", "bias", {"m", "fb"}, "y");
  b.output("y");
  const Model m = b.load();
  const Layer& l = m.layer(m.output());
  ASSERT_EQ(l.kind, LayerKind::linear);
  EXPECT_EQ(l.bias.size(), 3u);
  FloatTensor x(Shape{1, 1, 4, 4});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  const FloatTensor y = run_float(m, x);
  for (std::size_t o = 0; o < 3; ++o) {
    double want = 1.0f * static_cast<float>(o % 7) - 3.0f;
    for (std::size_t i = 0; i < 16; ++i) {
      want += x[i] * (0.5 * static_cast<double>(static_cast<int>((i * 3 + o) % 7) - 3));
    }
    EXPECT_NEAR(y[o], want, 1e-4);
  }
}

}  // namespace
}  // namespace pinfer::nn
