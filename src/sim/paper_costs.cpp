#include "pinfer/sim/paper_costs.hpp"

#include <numeric>
#include <optional>
#include <string>

#include "json_fields.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/protocol_kind.hpp"

namespace pinfer::sim {

using detail::Json;

namespace {

constexpr double kMaxValue = 1e15;

struct Fits {
  LineFit server_garble, server_evaluate, client_garble, client_evaluate;
};

// Reads the published fields of one `<dataset>.<network>.<protocol>` object.
class Measurements {
 public:
  Measurements(const Json& j, std::string path) : j_(j), path_(std::move(path)) {
    detail::require_object(j_, path_);
  }
  double scalar(std::string_view key) const {
    return detail::number(detail::field(j_, key, path_), detail::join(path_, key), 0, kMaxValue);
  }
  std::vector<double> list(std::string_view key) const {
    return detail::number_array(detail::field(j_, key, path_), detail::join(path_, key), 0,
                                kMaxValue, 4096);
  }
  double sum(std::string_view key) const {
    const auto v = list(key);
    return std::accumulate(v.begin(), v.end(), 0.0);
  }
  double at(std::string_view key, std::size_t i) const {
    const auto v = list(key);
    if (i >= v.size()) {
      detail::fail(detail::join(path_, key), "has " + std::to_string(v.size()) +
                                                 " entries, entry " + std::to_string(i) +
                                                 " is needed");
    }
    return v[i];
  }
  double last(std::string_view key) const {
    const auto v = list(key);
    if (v.empty()) detail::fail(detail::join(path_, key), "must not be empty");
    return v.back();
  }
  uint64_t integer(std::string_view key) const {
    return detail::unsigned_integer(detail::field(j_, key, path_), detail::join(path_, key), 0,
                                    uint64_t{1} << 40);
  }
  const std::string& path() const { return path_; }
  bool has(std::string_view key) const { return detail::optional_field(j_, key) != nullptr; }

 private:
  const Json& j_;
  std::string path_;
};

CostStep compute(std::string label, Party p, Category c, double s) {
  return CostStep::compute(std::move(label), p, c, s);
}

CostStep transfer(std::string label, Party sender, Category c, double bytes,
                  std::vector<double> per_layer = {}) {
  CostStep s = CostStep::transfer(std::move(label), sender, bytes);
  s.category = c;
  s.per_layer_bytes = std::move(per_layer);
  return s;
}

CostStep scaled(CostStep s, ThreadPool pool) {
  s.scaling = Scaling::linear;
  s.threads = pool;
  return s;
}

// Offline steps common to both protocols, up to client HE decrypt (README, "Order of steps").
void common_offline(const Measurements& m, const std::vector<double>& he_by_threads,
                    std::vector<CostStep>& out) {
  out.push_back(compute("client HE key generation", Party::client, Category::he,
                        m.scalar("off_client_compute_keygen")));
  out.push_back(
      transfer("upload HE key", Party::client, Category::he, m.scalar("off_client_write_key")));
  CostStep enc = compute("client HE encrypt (all linear layers)", Party::client, Category::he,
                         m.sum("off_client_compute_he_encrypt"));
  enc.per_layer_seconds = m.list("off_client_compute_he_encrypt");
  out.push_back(std::move(enc));
  out.push_back(transfer("upload HE ciphertexts", Party::client, Category::he,
                         m.sum("off_client_write_linear"), m.list("off_client_write_linear")));
  CostStep eval = compute("server HE evaluation (all linear layers)", Party::server, Category::he,
                          he_by_threads.front());
  eval.scaling = Scaling::table;
  eval.threads = ThreadPool::server_he;
  eval.seconds_by_threads = he_by_threads;
  eval.per_layer_seconds = m.list("off_server_compute_he_eval");
  out.push_back(std::move(eval));
  out.push_back(transfer("download HE results", Party::server, Category::he,
                         m.sum("off_server_write_linear"), m.list("off_server_write_linear")));
  CostStep dec = compute("client HE decrypt (all linear layers)", Party::client, Category::he,
                         m.sum("off_client_compute_he_decrypt"));
  dec.per_layer_seconds = m.list("off_client_compute_he_decrypt");
  out.push_back(std::move(dec));
}

ProtocolCosts server_garbler(const Measurements& m, const std::vector<double>& he, const Fits& f,
                             const PaperConversionOptions& o) {
  const uint64_t relus = m.integer("NUM_RELU");
  const double n = static_cast<double>(relus);
  ProtocolCosts p;
  common_offline(m, he, p.offline);
  p.offline.push_back(scaled(
      compute("server garbles all ReLUs", Party::server, Category::gc, f.server_garble.at(n)),
      ThreadPool::server_gc));
  p.offline.push_back(
      compute("server encode", Party::server, Category::gc, m.scalar("off_server_compute_encode")));
  p.offline.push_back(transfer("download garbled circuits", Party::server, Category::gc,
                               m.scalar("off_server_write_garbled_c")));
  p.offline.push_back(transfer("upload base OT", Party::client, Category::ot,
                               m.scalar("off_client_write_base_ot")));
  p.offline.push_back(transfer("upload OT-extension setup", Party::client, Category::ot,
                               m.scalar("off_client_write_ext_ot_setup")));
  p.offline.push_back(transfer("download OT-extension messages", Party::server, Category::ot,
                               m.scalar("off_server_write_ext_ot_send")));

  p.online.push_back(transfer("upload masked input shares", Party::client, Category::ss,
                              m.sum("on_client_write_linear"), m.list("on_client_write_linear")));
  CostStep enc =
      compute("server encode", Party::server, Category::gc, m.sum("on_server_compute_encode"));
  enc.per_layer_seconds = m.list("on_server_compute_encode");
  p.online.push_back(std::move(enc));
  p.online.push_back(transfer("download server labels", Party::server, Category::gc,
                              m.sum("on_server_write_relu"), m.list("on_server_write_relu")));
  CostStep lin = compute("server linear layers (secret shares)", Party::server, Category::ss,
                         m.sum("on_server_compute_linear"));
  lin.per_layer_seconds = m.list("on_server_compute_linear");
  p.online.push_back(std::move(lin));
  p.online.push_back(scaled(
      compute("client evaluates all ReLUs", Party::client, Category::gc, f.client_evaluate.at(n)),
      ThreadPool::client));
  p.online.push_back(transfer("download prediction", Party::server, Category::ss,
                              m.scalar("on_server_write_pred")));
  p.client_storage_bytes =
      m.integer("CLIENT_LINEAR_STORAGE") * 8 + o.evaluator_bytes_per_relu * relus;
  p.server_storage_bytes =
      m.integer("SERVER_LINEAR_STORAGE") * 8 + o.garbler_bytes_per_relu * relus;
  return p;
}

// `first_input_fallback`: the Server-Garbler measurements of the same network, used when the
// Client-Garbler entry lacks on_client_write_linear (ResNet-32 in the shared JSON; the artifact's
// own utils file has [27689, 9257], the same first entry as Server-Garbler: both protocols
// upload the same masked input first).
ProtocolCosts client_garbler(const Measurements& m, const Measurements* first_input_fallback,
                             const std::vector<double>& he, const Fits& f,
                             const PaperConversionOptions& o) {
  const uint64_t relus = m.integer("NUM_RELU");
  const double n = static_cast<double>(relus);
  ProtocolCosts p;
  common_offline(m, he, p.offline);
  p.offline.push_back(scaled(
      compute("client garbles all ReLUs", Party::client, Category::gc, f.client_garble.at(n)),
      ThreadPool::client));
  p.offline.push_back(
      compute("client encode", Party::client, Category::gc, m.scalar("off_client_compute_encode")));
  p.offline.push_back(transfer("upload garbled circuits", Party::client, Category::gc,
                               m.scalar("off_client_write_garbled_c")));
  p.offline.push_back(transfer("download base OT", Party::server, Category::ot,
                               m.scalar("off_server_write_base_ot")));

  const bool own = m.has("on_client_write_linear") || first_input_fallback == nullptr;
  p.online.push_back(transfer(
      own ? "upload first masked input"
          : "upload first masked input (size from server_garbler.on_client_write_linear[0])",
      Party::client, Category::ss,
      own ? m.at("on_client_write_linear", 0)
          : first_input_fallback->at("on_client_write_linear", 0)));
  const auto ot_send = m.list("on_client_write_ext_ot_send");
  for (std::size_t i = 0; i < ot_send.size(); ++i) {
    const std::string layer = "layer " + std::to_string(i) + ": ";
    CostStep lin = compute(layer + "server linear (secret shares)", Party::server, Category::ss,
                           m.at("on_server_compute_linear", i));
    lin.layer = static_cast<uint32_t>(i);
    CostStep enc = compute(layer + "client encode", Party::client, Category::gc,
                           m.at("on_client_compute_encode", i));
    enc.layer = static_cast<uint32_t>(i);
    CostStep setup = transfer(layer + "download OT-extension setup", Party::server, Category::ot,
                              m.at("on_server_write_ext_ot_setup", i));
    setup.layer = static_cast<uint32_t>(i);
    CostStep send =
        transfer(layer + "upload OT-extension messages", Party::client, Category::ot, ot_send[i]);
    send.layer = static_cast<uint32_t>(i);
    p.online.push_back(std::move(lin));
    p.online.push_back(std::move(enc));
    p.online.push_back(std::move(setup));
    p.online.push_back(std::move(send));
  }
  p.online.push_back(scaled(
      compute("server evaluates all ReLUs", Party::server, Category::gc, f.server_evaluate.at(n)),
      ThreadPool::server_gc));
  p.online.push_back(compute("server last linear layer", Party::server, Category::ss,
                             m.last("on_server_compute_linear")));
  p.online.push_back(transfer("download prediction", Party::server, Category::ss,
                              m.scalar("on_server_write_pred")));
  p.client_storage_bytes =
      m.integer("CLIENT_LINEAR_STORAGE") * 8 + o.garbler_bytes_per_relu * relus;
  p.server_storage_bytes =
      m.integer("SERVER_LINEAR_STORAGE") * 8 + o.evaluator_bytes_per_relu * relus;
  return p;
}

}  // namespace

LineFit least_squares_line(const std::vector<double>& x, const std::vector<double>& y) {
  PINFER_ASSERT(x.size() == y.size() && x.size() >= 2);
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  PINFER_ASSERT(sxx > 0);
  LineFit f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  return f;
}

std::vector<CostProfile> convert_paper_measurements(const nlohmann::json& published,
                                                    const PaperConversionOptions& options) {
  detail::require_object(published, "");
  const Json& gc = detail::field(published, "gc_relu_benchmarks_seconds", "");
  const std::string gp = "gc_relu_benchmarks_seconds";
  const auto x = detail::number_array(detail::field(gc, "num_relus", gp),
                                      detail::join(gp, "num_relus"), 0, 1e12, 64);
  const auto series = [&](std::string_view key) {
    auto y = detail::number_array(detail::field(gc, key, gp), detail::join(gp, key), 0, 1e6, 64);
    if (y.size() != x.size() || x.size() < 2) {
      detail::fail(detail::join(gp, key), "needs one entry per num_relus entry (at least 2)");
    }
    return y;
  };
  if (x.size() >= 2 && x.front() == x.back())
    detail::fail(detail::join(gp, "num_relus"), "needs distinct counts");
  Fits fits;
  fits.server_garble = least_squares_line(x, series("server_garble"));
  fits.server_evaluate = least_squares_line(x, series("server_evaluate"));
  fits.client_garble = least_squares_line(x, series("client_garble"));
  fits.client_evaluate = least_squares_line(x, series("client_evaluate"));

  const Json& he_all = detail::field(published, "he_eval_seconds_by_threads", "");
  std::vector<CostProfile> out;
  for (const char* dataset : {"cifar10", "tinyimagenet"}) {
    const Json* ds = detail::optional_field(published, dataset);
    if (ds == nullptr) continue;
    detail::require_object(*ds, dataset);
    for (auto it = ds->begin(); it != ds->end(); ++it) {
      const std::string network = it.key();
      const std::string npath = detail::join(dataset, network);
      const std::string hpath =
          detail::join(detail::join("he_eval_seconds_by_threads", dataset), network);
      const Json& he_ds = detail::field(he_all, dataset, "he_eval_seconds_by_threads");
      const auto he = detail::number_array(
          detail::field(he_ds, network, detail::join("he_eval_seconds_by_threads", dataset)), hpath,
          0, 1e9, 4096);
      if (he.empty()) detail::fail(hpath, "must not be empty");
      CostProfile prof;
      prof.name = "paper:" + std::string(dataset) + "/" + network;
      prof.dataset = dataset;
      prof.network = network;
      prof.source.kind = "published";
      prof.source.method =
          "Delphi measurements (client and server on one AMD EPYC 7502, loopback); client GC "
          "from an Intel Atom Z8350";
      prof.source.description =
          "Garimella, Ghodsi, Jha, Garg, Reagen: Characterizing and Optimizing End-to-End "
          "Systems for Private Inference, ASPLOS 2023; artifact kvgarimella/cryptonite "
          "simulator/experiments/utils. Converted by `pinfer simulate convert-paper`: GC time = "
          "least-squares line through the 1/10/100-ReLU benchmarks at relu_count; storage = "
          "linear_storage * 8 B + " +
          std::to_string(options.evaluator_bytes_per_relu) + " B/ReLU (evaluator), " +
          std::to_string(options.garbler_bytes_per_relu) + " B/ReLU (garbler).";
      const Json& protos = it.value();
      detail::require_object(protos, npath);
      std::optional<Measurements> sg_m;
      if (const Json* sg = detail::optional_field(protos, "server_garbler")) {
        sg_m.emplace(*sg, detail::join(npath, "server_garbler"));
        prof.relu_count = sg_m->integer("NUM_RELU");
        prof.protocols.emplace(to_string(ProtocolKind::server_garbler),
                               server_garbler(*sg_m, he, fits, options));
      }
      if (const Json* cg = detail::optional_field(protos, "client_garbler")) {
        const Measurements m(*cg, detail::join(npath, "client_garbler"));
        prof.relu_count = m.integer("NUM_RELU");
        prof.protocols.emplace(to_string(ProtocolKind::client_garbler),
                               client_garbler(m, sg_m ? &*sg_m : nullptr, he, fits, options));
      }
      if (prof.protocols.empty())
        detail::fail(npath, "has neither server_garbler nor client_garbler");
      out.push_back(std::move(prof));
    }
  }
  if (out.empty()) detail::fail("", "no cifar10 or tinyimagenet measurements found");
  return out;
}

}  // namespace pinfer::sim
