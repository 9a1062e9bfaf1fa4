// `pinfer bench he`: NTT latency and the offline HE of a network's linear layers as the protocol
// runs them (the lowered model's layers and weights: client encrypt, server evaluate, client
// decrypt, and the server's one-off weight encoding), per layer and in total, plus LPHE on 1 and
// 2 threads.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "bench_table.hpp"
#include "command_registry.hpp"
#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/cpu_time.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/he/linear.hpp"
#include "pinfer/he/lphe.hpp"
#include "pinfer/he/ntt.hpp"
#include "pinfer/he/weight_cache_budget.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/he_geometry.hpp"
#include "pinfer/protocol/inference_server.hpp"

namespace pinfer::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Options {
  bool json = false;
  std::string model = "resnet18:tinyimagenet";
  unsigned plain_bits = 0;  // 0: the model's own l
  int repeats = 3;
  bool lphe = true;
  std::string weight_cache;  // empty: the server's default (protocol::kDefaultWeightCacheBytes)
};

struct NamedLayer {
  std::string name;
  he::LinearGeometry geometry;
  std::vector<uint64_t> weight;  // ring elements
};

// The linear layers the protocol evaluates for `model` (built-in or ONNX), with its weights as
// ring elements: after BatchNorm folding, and with the last layer as lowered (ResNet-18's
// global average pool folded into the FC, 32,768 -> 200).
std::vector<NamedLayer> protocol_layers(const nn::LoweredModel& model) {
  std::vector<NamedLayer> out;
  for (const nn::LinearOp& op : model.linear_ops) {
    // A grouped convolution is one HE layer per group (its slice of the weights).
    const std::size_t groups = op.kind == nn::LinearOp::Kind::conv ? op.conv.groups : 1;
    const std::size_t step = op.weight.size() / groups;
    for (std::size_t k = 0; k < groups; ++k) {
      const auto first = op.weight.values().begin() + static_cast<std::ptrdiff_t>(k * step);
      out.push_back({groups == 1 ? op.name : op.name + "[group " + std::to_string(k) + "]",
                     protocol::he_geometry(op),
                     std::vector<uint64_t>(first, first + static_cast<std::ptrdiff_t>(step))});
    }
  }
  return out;
}

// Median microseconds of forward + inverse NTT of one limb of size n.
double ntt_us(std::size_t n, he::NttPath path, int repeats) {
  const he::NttTables t(n, he::Parameters::ntt_primes(n, 50, 1).at(0));
  std::vector<uint64_t> a(n);
  Prg prg;
  for (auto& v : a) v = prg.next_u64() % t.modulus();
  std::vector<double> samples;
  constexpr int kInner = 200;
  for (int r = 0; r < std::max(repeats, 5); ++r) {
    const double t0 = thread_cpu_seconds();
    for (int i = 0; i < kInner; ++i) {
      t.forward_with(path, a);
      t.inverse_with(path, a);
    }
    samples.push_back((thread_cpu_seconds() - t0) * 1e6 / kInner);
  }
  return median(samples);
}

// out[0] + s[0] must equal the plaintext ring value of output 0 (channel 0, row 0, column 0).
void check_first_output(const he::LinearGeometry& g, const std::vector<uint64_t>& w,
                        const std::vector<uint64_t>& r, const std::vector<uint64_t>& out,
                        const std::vector<uint64_t>& s, const Ring& ring) {
  uint64_t acc = 0;
  if (const auto* fc = std::get_if<he::FcGeometry>(&g)) {
    for (std::size_t i = 0; i < fc->in_features; ++i) acc += w[i] * r[i];
  } else {
    const auto& c = std::get<he::ConvGeometry>(g);
    for (std::size_t ci = 0; ci < c.in_channels; ++ci) {
      for (std::size_t i = 0; i < c.kernel_h; ++i) {
        for (std::size_t j = 0; j < c.kernel_w; ++j) {
          if (i < c.pad_top || j < c.pad_left) continue;
          acc += w[(ci * c.kernel_h + i) * c.kernel_w + j] *
                 r[(ci * c.in_h + i - c.pad_top) * c.in_w + j - c.pad_left];
        }
      }
    }
  }
  if (ring.reduce(acc) != ring.add(out[0], s[0])) {
    throw Error("bench he: decrypted output differs from the plaintext reference");
  }
}

void run_model(const Options& opt, BenchTable& table) {
  const nn::LoadedModel loaded = nn::load_model(opt.model);
  const auto layers = protocol_layers(loaded.lowered);
  const unsigned plain_bits = opt.plain_bits != 0 ? opt.plain_bits : loaded.lowered.l;
  // One context per party, as in a deployment: each plans (and memoises) the layers itself, so
  // the client's figures include its planning.
  const he::Context ctx = he::Context::create(plain_bits);
  const he::Context server_ctx = he::Context::create(plain_bits);
  const Ring ring = ctx.ring();
  Prg prg;
  const double t_keys = thread_cpu_seconds();
  const he::ClientKeys keys(ctx, prg);
  const auto pk_bytes = keys.public_key().serialize();
  const double keygen_s = thread_cpu_seconds() - t_keys;
  const double t_pk = thread_cpu_seconds();
  const he::PublicKey pk = he::PublicKey::deserialize(server_ctx, pk_bytes);
  const double pk_load_s = thread_cpu_seconds() - t_pk;

  double client_s = keygen_s, server_s = pk_load_s, setup_s = 0;
  uint64_t up = pk_bytes.size(), down = 0;
  nlohmann::json per_layer = nlohmann::json::array();
  std::vector<he::LinearServer> servers;
  // The model-wide budget of encoded weights, spent layer by layer as the protocol's server
  // spends it (protocol::ServerOptions::weight_cache_bytes).
  he::WeightCacheBudget weight_budget(opt.weight_cache.empty()
                                          ? protocol::kDefaultWeightCacheBytes
                                          : parse_byte_size(opt.weight_cache, "--weight-cache"));
  std::vector<std::vector<std::byte>> queries;
  std::vector<std::vector<uint64_t>> masks;
  std::vector<std::vector<uint64_t>> inputs, weights;
  for (const auto& layer : layers) {
    const std::vector<uint64_t>& w = layer.weight;
    PINFER_ASSERT(w.size() == he::linear_weight_size(layer.geometry));
    std::vector<uint64_t> r(he::linear_input_size(layer.geometry));
    prg.fill_ring(ring, r);
    const double t_setup = thread_cpu_seconds();
    servers.push_back(weight_budget.build(server_ctx, layer.geometry, w));  // encoded once
    setup_s += thread_cpu_seconds() - t_setup;
    const he::LinearServer& server = servers.back();

    const double t0 = thread_cpu_seconds();
    auto query = he::encrypt_linear_input(ctx, keys, layer.geometry, r, prg);
    const double enc_s = thread_cpu_seconds() - t0;
    std::vector<uint64_t> s(he::linear_output_size(layer.geometry));
    const double t1 = thread_cpu_seconds();
    const auto response = server.evaluate(query, pk, prg, s);
    const double eval_s = thread_cpu_seconds() - t1;
    const double t2 = thread_cpu_seconds();
    const auto out = he::decrypt_linear_output(ctx, keys, layer.geometry, response);
    const double dec_s = thread_cpu_seconds() - t2;
    // Check one output against a direct dot product (the benchmark must measure correct work).
    check_first_output(layer.geometry, w, r, out, s, ring);
    client_s += enc_s + dec_s;
    server_s += eval_s;
    up += query.size();
    down += response.size();
    const he::LinearPlan& p = server.plan();
    per_layer.push_back(
        {{"name", layer.name},
         {"client_seconds", enc_s + dec_s},
         {"client_encrypt_seconds", enc_s},
         {"client_decrypt_seconds", dec_s},
         {"server_seconds", eval_s},
         {"upload_bytes", query.size()},
         {"download_bytes", response.size()},
         {"input_cts", p.input_cts},
         {"output_cts", p.output_cts},
         {"limbs", p.limbs},
         {"c0_bits", p.c0_bits},
         {"c1_bits", p.c1_bits},
         {"flood_log2", p.flood_log2},
         {"query_drop_bits", p.query_drop_bits},
         {"split_row", p.split_row},
         {"tiling", {{"cw", p.cw}, {"mg", p.mg}, {"ob_h", p.ob_h}, {"ob_w", p.ob_w}}}});
    queries.push_back(std::move(query));
    masks.push_back(std::move(s));
  }
  table.add_text("model", loaded.lowered.name);
  table.add_value("plain_bits", plain_bits, "bits");
  table.add_value("linear_layers", static_cast<double>(layers.size()), "");
  table.add_value("client_seconds", client_s, "s");
  table.add_value("server_seconds", server_s, "s");
  table.add_value("total_seconds", client_s + server_s, "s");
  // Encoding the weights happens once per served model, not per precompute; shown beside the
  // per-precompute figures so nothing the server computes is left out.
  table.add_value("server_weight_setup_seconds", setup_s, "s");
  table.add_value("server_cached_weight_bytes", static_cast<double>(weight_budget.spent_bytes()),
                  "B");
  table.add_value("total_with_weight_setup_seconds", client_s + server_s + setup_s, "s");
  table.add_value("upload_bytes", static_cast<double>(up), "B");
  table.add_value("download_bytes", static_cast<double>(down), "B");
  table.add_value("public_key_bytes", static_cast<double>(pk_bytes.size()), "B");
  table.add_json("layers", per_layer);
  if (opt.lphe) {
    std::vector<he::LayerTask> tasks;
    for (std::size_t k = 0; k < layers.size(); ++k)
      tasks.push_back({&servers[k], queries[k], masks[k]});
    for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
      const auto t0 = Clock::now();
      const auto responses = he::evaluate_layers(tasks, pk, threads);
      const double s = seconds_since(t0);  // wall time: the pool's speed-up
      uint64_t bytes = 0;
      for (const auto& r : responses) bytes += r.size();
      PINFER_ASSERT(bytes == down);
      table.add_value("lphe_server_seconds_" + std::to_string(threads) + "_threads", s, "s");
    }
  }
}

void setup(CLI::App& bench) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand("he", "HE engine: NTT latency and offline HE of a network");
  cmd->add_flag("--json", opt->json, "Print one JSON object");
  cmd->add_option("--model", opt->model, "Network whose linear layers are evaluated");
  cmd->add_option("--bits", opt->plain_bits,
                  "Ring bits l (plaintext modulus 2^l; default: the model's own l)")
      ->check(CLI::Range(16, 44));
  cmd->add_option("--repeats", opt->repeats, "NTT runs; the median is reported")
      ->check(CLI::Range(1, 100));
  cmd->add_flag("!--no-lphe", opt->lphe, "Skip the LPHE (1 and 2 threads) runs");
  cmd->add_option("--weight-cache", opt->weight_cache,
                  "Encoded weights kept, model-wide, as `serve --weight-cache` (default 1GiB); "
                  "the rest are encoded inside each evaluation");
  cmd->callback([opt] {
    BenchTable table("HE engine, thread CPU seconds on one thread (LPHE: wall), N = 8192");
    table.add_text("ntt_path", he::to_string(he::ntt_active_path()));
    table.add_value("ntt_4096_us", ntt_us(4096, he::ntt_active_path(), opt->repeats), "us");
    table.add_value("ntt_8192_us", ntt_us(8192, he::ntt_active_path(), opt->repeats), "us");
    if (he::ntt_active_path() != he::NttPath::portable) {
      table.add_value("ntt_4096_us_portable", ntt_us(4096, he::NttPath::portable, opt->repeats),
                      "us");
      table.add_value("ntt_8192_us_portable", ntt_us(8192, he::NttPath::portable, opt->repeats),
                      "us");
    }
    run_model(*opt, table);
    table.print(opt->json);
  });
}

const CommandRegistration kRegistration("bench", "he", &setup);

}  // namespace
}  // namespace pinfer::cli
