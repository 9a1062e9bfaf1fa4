// `pinfer demo`: the README's main job. A server and a client, both in this process but talking
// over loopback TCP, run private inference of the shipped digits model under both protocols;
// the private predictions are printed beside the plaintext ones, with the cost table.
#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "calibration_option.hpp"
#include "command_registry.hpp"
#include "data_dir.hpp"
#include "pi_common.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/float_engine.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/inference_client.hpp"

namespace fs = std::filesystem;

namespace pinfer::cli {
namespace {

struct Options {
  // Empty: the shipped digits model and its test set (data_dir.hpp).
  std::string model;
  std::string images;
  std::string labels;
  std::size_t count = 3;
  std::string calibration;
  bool insecure = false;
  std::string gc_scheme;
  unsigned threads = 0;
  LinkOptions link;
};

std::size_t argmax(std::span<const float> v) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

std::size_t argmax(const RingTensor& logits, const Ring& ring) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < logits.size(); ++i) {
    if (ring.to_signed(logits[i]) > ring.to_signed(logits[best])) best = i;
  }
  return best;
}

void run_protocol(protocol::ProtocolKind kind, const nn::LoadedModel& loaded,
                  const std::vector<FloatTensor>& inputs, const std::vector<int64_t>& labels,
                  const Options& opt, const fs::path& work) {
  fmt::print("\n=== {} ===\n", protocol::to_string(kind));
  auto server_store =
      open_store(work / (std::string(protocol::to_string(kind)) + "-server"), "10GB");
  auto client_store =
      open_store(work / (std::string(protocol::to_string(kind)) + "-client"), "10GB");
  const LoopbackServer server(loaded.lowered, kind, *server_store, opt.link, "demo server",
                              opt.insecure, service::ServiceOptions{}.max_sessions,
                              server_options(opt.gc_scheme, opt.threads));
  {
    protocol::ClientCredentials credentials = server.register_client(opt.link);
    auto ch = server.connect(opt.link);
    fmt::print("transport: {}\n",
               ch->tls_cipher().empty()
                   ? std::string("plain TCP (--insecure, loopback only)")
                   : "TLS 1.3, " + ch->tls_cipher() + ", server certificate pinned");
    protocol::ClientOptions co{std::move(credentials), kind};
    co.threads = opt.threads;
    protocol::InferenceClient client(*ch, *client_store, std::move(co));
    fmt::print("garbling: {}, {} threads per side\n", gc::to_string(client.gc_scheme()),
               protocol::resolve_threads(opt.threads));
    const Ring ring = loaded.lowered.ring();
    protocol::InferenceResult last;
    protocol::CostReport offline;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      offline = client.precompute();
      last = client.infer(inputs[i], false);
      const FloatTensor float_logits = nn::run_float(loaded.model, inputs[i]);
      const RingTensor fixed =
          nn::run_fixed_point(loaded.lowered, nn::encode_input(loaded.lowered, inputs[i]));
      const bool exact = last.logits_ring == fixed.values();
      fmt::print(
          "image {}: label {}  private prediction {}  plaintext float {}  fixed-point {}  "
          "logits bit-exact: {}\n",
          i, labels[i], last.prediction, argmax(float_logits.span()), argmax(fixed, ring),
          exact ? "yes" : "NO");
      if (!exact) throw Error("private logits differ from the fixed-point reference");
    }
    client.close();
    fmt::print("\ncost of the last inference (its offline phase ran just before it):\n");
    protocol::CostReport shown = last.cost;
    shown.offline = offline.offline;
    shown.server_storage_bytes = offline.server_storage_bytes;
    fmt::print("{}", shown.to_table());
  }
}

void setup(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Private inference of the shipped digits model under both protocols (loopback)");
  cmd->add_option("--model", opt->model, "Model (default: the shipped digits model)");
  cmd->add_option("--images", opt->images, "Test images (.npy, N x C x H x W float32)");
  cmd->add_option("--labels", opt->labels, "Test labels (.npy, int64)");
  add_calibration_option(*cmd, opt->calibration);
  cmd->add_option("--count", opt->count, "Images to classify per protocol")
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("--insecure", opt->insecure,
                "Plain TCP instead of TLS 1.3 (pinned ephemeral certificate) between the two");
  add_gc_scheme_option(*cmd, opt->gc_scheme);
  add_threads_option(*cmd, opt->threads);
  add_link_options(*cmd, opt->link);
  cmd->callback([opt] {
    if (opt->model.empty()) opt->model = data_file("models/digits.onnx").string();
    if (opt->images.empty()) opt->images = data_file("models/digits_test_images.npy").string();
    if (opt->labels.empty()) opt->labels = data_file("models/digits_test_labels.npy").string();
    const nn::LoadedModel loaded = load_model_to_serve(opt->model, opt->calibration);
    fmt::print("model {}: l = {}, f = {} ({})\n", loaded.lowered.name, loaded.lowered.l,
               loaded.lowered.f, loaded.calibration_source);
    std::vector<FloatTensor> inputs = nn::split_batch(nn::read_npy_float(opt->images));
    const std::vector<int64_t> labels = nn::read_npy_int(opt->labels);
    const std::size_t n = std::min({opt->count, inputs.size(), labels.size()});
    inputs.resize(n);
    const fs::path work =
        fs::temp_directory_path() / ("pinfer-demo-" + store::new_precompute_id().substr(0, 12));
    try {
      for (auto kind :
           {protocol::ProtocolKind::server_garbler, protocol::ProtocolKind::client_garbler}) {
        run_protocol(kind, loaded, inputs, labels, *opt, work);
      }
    } catch (...) {
      fs::remove_all(work);
      throw;
    }
    fs::remove_all(work);
  });
}

const CommandRegistration kRegistration("", "demo", &setup);

}  // namespace
}  // namespace pinfer::cli
