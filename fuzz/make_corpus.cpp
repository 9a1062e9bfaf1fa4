// Writes the seed corpora of the fuzz targets: valid messages and files produced by pinfer's own
// encoders (and, for protocol roles, frame scripts recorded from real two-party runs), one
// directory per target. Usage: pinfer_fuzz_make_corpus OUT_DIR  (scripts/fuzz.sh --corpus)
#include <png.h>

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "fuzz_util.hpp"
#include "he_fixture.hpp"
#include "pinfer/core/capped_read.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/gc/half_gates.hpp"
#include "pinfer/gc/nonlinear_circuits.hpp"
#include "pinfer/ot/base_ot.hpp"
#include "pinfer/ot/cot.hpp"
#include "pinfer/ot/random_ot.hpp"
#include "pinfer/protocol/architecture.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/cost_report.hpp"
#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/store/precompute_store.hpp"
#include "protocol/session_messages.hpp"
#include "protocol/test_models.hpp"

using namespace pinfer;
namespace fs = std::filesystem;

namespace {

fs::path g_out;

std::vector<std::byte> with_mode(uint8_t mode, std::span<const std::byte> body) {
  std::vector<std::byte> v{std::byte{mode}};
  v.insert(v.end(), body.begin(), body.end());
  return v;
}

std::vector<std::byte> text_bytes(std::string_view s) {
  const auto b = std::as_bytes(std::span<const char>(s.data(), s.size()));
  return {b.begin(), b.end()};
}

std::vector<std::byte> file_bytes(const fs::path& p) {
  const SecretBuffer<std::byte> raw = read_file_capped(p, std::size_t{64} << 20);
  return {raw.begin(), raw.end()};
}

void seed(const std::string& target, const std::string& name, std::span<const std::byte> bytes) {
  const fs::path dir = g_out / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw IoError("cannot write seed " + (dir / name).string());
}

// Runs `victim` on the first channel and `peer` on the second (two threads) and returns the
// frames the victim received.
std::vector<std::byte> record(const std::function<void(Channel&)>& victim,
                              const std::function<void(Channel&)>& peer) {
  fuzz::RecordingPair pair = fuzz::make_recording_pair();
  std::thread t([&] { peer(*pair.second); });
  victim(*pair.first);
  t.join();
  return fuzz::encode_script(pair.received_by_first());
}

void channel_seeds() {
  std::vector<fuzz::ScriptFrame> frames;
  for (std::size_t n : {0, 5, 48, 4096}) frames.push_back({7, n, std::vector<std::byte>(n)});
  seed("channel", "frames", with_mode(0, fuzz::encode_script(frames)));
  seed("channel", "exact",
       with_mode(1, fuzz::encode_script({{7, 48, std::vector<std::byte>(48)}})));
  frames.clear();
  ByteWriter w;
  w.u64(5000);
  frames.push_back({7, 8, w.take()});
  frames.push_back({7, 4096, std::vector<std::byte>(4096, std::byte{1})});
  frames.push_back({7, 904, std::vector<std::byte>(904, std::byte{2})});
  seed("channel", "stream", with_mode(2, fuzz::encode_script(frames)));
  const std::vector<std::byte> error = encode_error_payload(ErrorReason::store, "peer failed");
  seed("channel", "error_frame",
       with_mode(0, fuzz::encode_script({{kErrorFrameType, error.size(), error}})));
}

void he_seeds() {
  const fuzz::HeFixture& f = fuzz::he_fixture();
  seed("he_public_key", "pk", f.keys.public_key().serialize());
  Prg prg = Prg::from_seed(Block{9, 9});
  for (std::size_t i = 0; i < f.layers.size(); ++i) {
    const he::LinearGeometry& g = f.layers[i];
    std::vector<uint64_t> r(he::linear_input_size(g));
    for (auto& v : r) v = prg.next_u64() & ((uint64_t{1} << 37) - 1);
    const std::vector<std::byte> query = he::encrypt_linear_input(f.ctx, f.keys, g, r, prg);
    seed("he_query", "layer" + std::to_string(i), with_mode(static_cast<uint8_t>(i), query));
    std::vector<uint64_t> w(he::linear_weight_size(g), 3);
    const he::LinearServer server(f.ctx, g, w);
    std::vector<uint64_t> s(he::linear_output_size(g));
    const std::vector<std::byte> response = server.evaluate(query, f.keys.public_key(), prg, s);
    seed("he_response", "layer" + std::to_string(i), with_mode(static_cast<uint8_t>(i), response));
  }
}

void gc_seeds() {
  const gc::NonlinearCircuit relu = gc::relu_step_circuit(16, 4);
  const gc::Circuit& c = relu.circuit;
  for (std::size_t instances : {1, 3}) {
    std::vector<Block> in(instances * c.num_inputs(), Block{3, 5});
    std::vector<Block> out(instances * c.num_outputs());
    MemoryByteSink sink;
    (void)gc::garble_batch(c, in, Delta::from_block(Block{0x1235, 0x77}), 0, sink, out);
    const uint8_t count_bits = static_cast<uint8_t>((instances - 1) << 1);
    seed("gc_stream", "memory" + std::to_string(instances), with_mode(count_bits, sink.bytes()));
    // The same bytes as a channel stream: total, then 4 KiB chunks.
    std::vector<fuzz::ScriptFrame> frames;
    ByteWriter w;
    w.u64(sink.bytes().size());
    frames.push_back({0x120, 8, w.take()});
    for (std::size_t pos = 0; pos < sink.bytes().size(); pos += 4096) {
      const std::size_t n = std::min<std::size_t>(4096, sink.bytes().size() - pos);
      frames.push_back({0x120, n, {sink.bytes().begin() + pos, sink.bytes().begin() + pos + n}});
    }
    seed("gc_stream", "channel" + std::to_string(instances),
         with_mode(count_bits | 1, fuzz::encode_script(frames)));
  }
}

void ot_seeds() {
  constexpr std::size_t kBase = 128, kExt = 300;
  const Delta delta = Delta::from_block(Block{0x1235, 0x77});
  auto base_send = [&](Channel& ch) {
    Prg prg;
    std::vector<Block> m0(kBase), m1(kBase);
    ot::base_ot_send(ch, prg, m0, m1);
  };
  auto base_receive = [&](Channel& ch) {
    Prg prg;
    std::vector<uint8_t> choices(kBase, 1);
    std::vector<Block> out(kBase);
    ot::base_ot_receive(ch, prg, choices, out);
  };
  seed("ot", "base_sender", with_mode(0, record(base_send, base_receive)));
  seed("ot", "base_receiver", with_mode(1, record(base_receive, base_send)));
  auto cot_sender = [&](Channel& ch) {
    Prg prg;
    ot::CotSender s(ch, delta, prg);
    std::vector<Block> k0(kExt);
    s.extend(k0);
    s.extend(k0);
  };
  auto cot_receiver = [&](Channel& ch) {
    Prg prg;
    ot::CotReceiver r(ch, prg);
    std::vector<uint8_t> choices(kExt, 0);
    std::vector<Block> out(kExt);
    r.extend(choices, out);
    r.extend(choices, out);
  };
  seed("ot", "cot_sender", with_mode(2, record(cot_sender, cot_receiver)));
  auto chosen_receiver = [&](Channel& ch) {
    Prg prg;
    ot::CotReceiver r(ch, prg);
    std::vector<uint8_t> choices(kExt, 0);
    std::vector<Block> out(kExt);
    ot::ot_receive(r, choices, out);
  };
  auto chosen_sender = [&](Channel& ch) {
    Prg prg;
    ot::CotSender s(ch, delta, prg);
    std::vector<Block> m0(kExt), m1(kExt);
    ot::ot_send(s, m0, m1);
  };
  seed("ot", "cot_receiver", with_mode(3, record(chosen_receiver, chosen_sender)));
}

void session_seeds() {
  using namespace protocol;
  using namespace store;
  using namespace protocol::detail;
  const Ring ring(32);
  const std::string fingerprint(64, 'a');
  Hello hello;
  hello.client_id = "client-1";
  hello.token = SecretBuffer<std::byte>(kClientTokenBytes);
  hello.protocol = ProtocolKind::client_garbler;
  seed("session", "hello", with_mode(0, encode(hello)));
  Hello reg;
  reg.mode = HelloMode::register_client;
  seed("session", "hello_register", with_mode(0, encode(reg)));
  ClientCredentials cred{"client-1", SecretBuffer<std::byte>(kClientTokenBytes)};
  seed("session", "registration", with_mode(1, encode_registration(cred)));
  const nn::LoweredModel model = test_models::small_test_model(1);
  seed("session", "hello_reply",
       with_mode(2, encode(HelloReply{ProtocolKind::server_garbler, encode_architecture(model)})));
  seed("session", "holdings", with_mode(3, encode_holdings({"a1", "b2", new_precompute_id()})));
  seed("session", "request", with_mode(4, encode(Request{RequestKind::online, "abc"})));
  RingTensor logits(Shape{1, 5});
  for (std::size_t i = 0; i < 5; ++i) logits.values()[i] = i * 977;
  seed("session", "ring_values", with_mode(5, encode_ring_values(logits, ring)));
  const fs::path tmp = fuzz::scratch_dir() / "state";
  ClientState cs;
  cs.protocol = ProtocolKind::client_garbler;
  cs.gc_scheme = gc::GcScheme::three_halves;
  cs.fingerprint = fingerprint;
  cs.mask_seed = Block{1, 2};
  cs.c_final = logits;
  write_state_file(tmp.string(), cs, ring);
  seed("session", "client_state", with_mode(6, file_bytes(tmp)));
  ServerState ss;
  ss.protocol = ProtocolKind::server_garbler;
  ss.gc_scheme = gc::GcScheme::three_halves;
  ss.fingerprint = fingerprint;
  ss.s_ops.emplace_back(Shape{1, 4, 6, 6});
  ss.s_ops.emplace_back(Shape{1, 4, 3, 3});
  write_state_file(tmp.string(), ss, ring);
  seed("session", "server_state", with_mode(7, file_bytes(tmp)));
  seed("architecture", "small_test_model", encode_architecture(model));
  seed("architecture", "pooled", encode_architecture(test_models::small_test_model(2, 37, 12, 2)));
}

void report_seeds() {
  protocol::PhaseCost p;
  p.seconds = 1.5;
  p.upload_bytes = 1000;
  p.download_bytes = 2000;
  p.add(protocol::Component::he_evaluate, 0.25);
  p.add(protocol::Component::garble, 0.5);
  protocol::LayerCost l;
  l.name = "conv1";
  l.kind = "linear";
  l.seconds["he_evaluate"] = 0.25;
  p.layers.push_back(l);
  p.transfers["offline/he"] = {10, 20};
  seed("report", "phase", text_bytes(protocol::to_json(p).dump()));
}

void sim_seeds(const fs::path& source) {
  const sim::CostProfile profile =
      sim::load_cost_profile((source / "profiles/paper/cifar10/resnet18.json").string());
  seed("sim_json", "profile_resnet18", with_mode(0, text_bytes(sim::to_json(profile).dump())));
  for (const char* s : {"scenarios/contended_vs_independent_cifar10_resnet18.json",
                        "scenarios/wireless_split_cifar10_resnet18.json"}) {
    seed("sim_json", fs::path(s).stem().string(), with_mode(1, file_bytes(source / s)));
  }
}

onnx::NodeProto* node(onnx::GraphProto* g, const std::string& op, std::vector<std::string> inputs,
                      const std::string& output) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(output);
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(output);
  return n;
}

void initializer(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= d;
  }
  for (int64_t i = 0; i < n; ++i) t->add_float_data(0.1f * static_cast<float>(i % 7 - 3));
}

void ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t x : v) a->add_ints(x);
}

// Input 1x1x4x4 -> Conv 3x3 (2 filters) -> BatchNorm -> Relu -> MaxPool 2 -> Flatten -> Gemm.
void onnx_seeds() {
  onnx::ModelProto m;
  m.set_ir_version(7);
  auto* o = m.add_opset_import();
  o->set_domain("");
  o->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  for (int64_t d : {1, 1, 4, 4}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  initializer(g, "w", {2, 1, 3, 3});
  initializer(g, "b", {2});
  for (const char* p : {"scale", "bias", "mean", "var"}) initializer(g, p, {2});
  g->mutable_initializer(g->initializer_size() - 1)->set_float_data(0, 1.0f);
  g->mutable_initializer(g->initializer_size() - 1)->set_float_data(1, 1.0f);
  initializer(g, "fw", {3, 8});
  initializer(g, "fb", {3});
  auto* c = node(g, "Conv", {"x", "w", "b"}, "c");
  ints(c, "pads", {1, 1, 1, 1});
  ints(c, "kernel_shape", {3, 3});
  node(g, "BatchNormalization", {"c", "scale", "bias", "mean", "var"}, "n");
  node(g, "Relu", {"n"}, "r");
  auto* mp = node(g, "MaxPool", {"r"}, "p");
  ints(mp, "kernel_shape", {2, 2});
  ints(mp, "strides", {2, 2});
  node(g, "Flatten", {"p"}, "f");
  auto* gemm = node(g, "Gemm", {"f", "fw", "fb"}, "y");
  auto* a = gemm->add_attribute();
  a->set_name("transB");
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(1);
  g->add_output()->set_name("y");
  std::string s;
  if (!m.SerializeToString(&s)) throw FormatError("cannot serialize the ONNX seed");
  seed("onnx", "conv_bn_relu_pool_gemm", text_bytes(s));
}

std::vector<std::byte> npy(const std::string& descr, const std::string& shape,
                           std::span<const std::byte> data) {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  std::vector<std::byte> v = text_bytes(out);
  v.insert(v.end(), data.begin(), data.end());
  return v;
}

void input_file_seeds() {
  std::vector<float> x(3 * 8 * 8);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 13) / 13.0f;
  const auto xb = std::as_bytes(std::span(x));
  seed("input_files", "npy_float", with_mode(0, npy("<f4", "(1, 3, 8, 8)", xb)));
  seed("input_files", "npy_input", with_mode(4, npy("<f4", "(3, 8, 8)", xb)));
  const std::vector<int64_t> labels{1, 2, 3, 9};
  seed("input_files", "npy_int",
       with_mode(1, npy("<i8", "(4,)", std::as_bytes(std::span(labels)))));
  std::string pgm = "P5\n4 3\n255\n";
  for (int i = 0; i < 12; ++i) pgm += static_cast<char>(i * 20);
  seed("input_files", "pgm", with_mode(2, text_bytes(pgm)));
  std::vector<uint8_t> rgb(8 * 8 * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7);
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = 8;
  image.height = 8;
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, rgb.data(), 0, nullptr)) {
    throw FormatError("png size");
  }
  std::vector<std::byte> png(size);
  if (!png_image_write_to_memory(&image, png.data(), &size, 0, rgb.data(), 0, nullptr)) {
    throw FormatError("png write");
  }
  png.resize(size);
  seed("input_files", "png_rgb", with_mode(3 | 0x80, png));
  seed("input_files", "png_input", with_mode(5, png));
}

void store_seeds() {
  const fs::path root = fuzz::scratch_dir() / "corpus-store";
  fs::remove_all(root);
  store::PrecomputeStore store(root, {uint64_t{1} << 20, 0});
  store::PrecomputeWriter w = store.begin("c1", "e1", 4096);
  std::ofstream(w.path("a.bin"), std::ios::binary) << "hello";
  w.publish();
  std::vector<std::byte> manifest = file_bytes(root / "ready" / "c1" / "e1" / "MANIFEST");
  seed("store", "manifest_whole", with_mode(0, manifest));
  // Body only (the target appends the end line).
  const std::string text(reinterpret_cast<const char*>(manifest.data()), manifest.size());
  seed("store", "manifest_body", with_mode(1, text_bytes(text.substr(0, text.rfind("end ")))));
}

void credentials_seeds() {
  const fs::path creds = fuzz::scratch_dir() / "credentials";
  protocol::ClientCredentials c{"client-1", SecretBuffer<std::byte>(protocol::kClientTokenBytes)};
  protocol::save_credentials(creds, c);
  seed("credentials", "credentials", with_mode(0, file_bytes(creds)));
  const fs::path reg = fuzz::scratch_dir() / "registry";
  fs::remove(reg);
  {
    protocol::ClientRegistry registry(reg);
    (void)registry.register_client({});
    (void)registry.register_client({});
  }
  const std::vector<std::byte> whole = file_bytes(reg);
  seed("credentials", "registry_whole", with_mode(1, whole));
  const std::string text(reinterpret_cast<const char*>(whole.data()), whole.size());
  seed("credentials", "registry_body",
       with_mode(3, text_bytes(text.substr(0, text.rfind("end ")))));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " OUT_DIR SOURCE_DIR\n";
    return 2;
  }
  try {
    g_out = argv[1];
    channel_seeds();
    he_seeds();
    gc_seeds();
    ot_seeds();
    session_seeds();
    report_seeds();
    sim_seeds(argv[2]);
    onnx_seeds();
    input_file_seeds();
    store_seeds();
    credentials_seeds();
  } catch (const std::exception& e) {
    std::cerr << "pinfer_fuzz_make_corpus: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
