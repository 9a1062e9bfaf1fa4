#pragma once
// Shared pieces of the system tests: the real `pinfer` executable (serve, client register,
// precompute, infer) on the shipped digits model, the expected outputs from the fixed-point
// engine, and audits of the stores on disk (journal, ready entries, full verification).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "child_process.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/store/precompute_store.hpp"

namespace pinfer::system_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string cli_path() {
  return PINFER_CLI_PATH;
}
inline std::string digits_model() {
  return std::string(PINFER_SOURCE_DIR) + "/models/digits.onnx";
}

// Transport flags of every serve / client command, in one place (plain TCP on loopback; TLS is
// the default otherwise and is tested by the transport layer).
inline std::vector<std::string> transport_args() {
  return {"--insecure"};
}

inline uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? fallback : std::strtoull(v, nullptr, 10);
}

inline fs::path fresh_dir(const std::string& tag) {
  const fs::path d = fs::temp_directory_path() /
                     ("pinfer-" + tag + "-" + store::new_precompute_id().substr(0, 12));
  fs::create_directories(d);
  return d;
}

// argv of `pinfer <words...> <transport flags>`.
inline std::vector<std::string> pinfer_argv(std::vector<std::string> words) {
  words.insert(words.begin(), cli_path());
  for (auto& a : transport_args()) words.push_back(a);
  return words;
}

// `pinfer serve` on an ephemeral loopback port; the constructor waits for its "serving" line.
class ServerProcess {
 public:
  ServerProcess(const fs::path& work, const std::string& protocol_name,
                std::vector<std::string> extra = {}, rlim_t max_file_bytes = RLIM_INFINITY) {
    std::vector<std::string> words = {"serve",
                                      "--model",
                                      digits_model(),
                                      "--protocol",
                                      protocol_name,
                                      "--store",
                                      (work / "server").string(),
                                      "--capacity",
                                      "4GB",
                                      "--port",
                                      "0"};
    // The tests check the logits bit-exact (serve's default reveals only the label).
    if (std::find(extra.begin(), extra.end(), "--reveal") == extra.end()) {
      words.insert(words.end(), {"--reveal", "logits"});
    }
    words.insert(words.end(), extra.begin(), extra.end());
    ++starts_;
    child_ = std::make_unique<ChildProcess>(
        pinfer_argv(words),
        SpawnOptions{work / ("serve" + std::to_string(starts_) + ".out"),
                     work / ("serve" + std::to_string(starts_) + ".err"), max_file_bytes});
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      const std::string out = child_->stdout_text();
      const auto at = out.find(" on 127.0.0.1:");
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
        port_ = static_cast<uint16_t>(std::stoul(out.substr(at + 14)));
        break;
      }
      if (!child_->running() || std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("pinfer serve did not start: " + child_->stderr_text());
      }
      std::this_thread::sleep_for(1ms);
    }
  }
  [[nodiscard]] std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] ChildProcess& process() { return *child_; }
  // SIGTERM: stops accepting, waits for the sessions to end. Returns the exit status.
  int stop() {
    child_->signal(SIGTERM);
    const auto st = child_->wait_for(60s);
    return st ? *st : -1;
  }
  void kill() {
    child_->signal(SIGKILL);
    (void)child_->wait_for(60s);
  }

 private:
  static inline int starts_ = 0;
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
};

// `pinfer <command> --server EP --store STORE <extra> <transport>`, output in work/<tag>.*.
inline std::unique_ptr<ChildProcess> start_client(const fs::path& work, const std::string& tag,
                                                  const std::string& command,
                                                  const std::string& endpoint,
                                                  const fs::path& store,
                                                  std::vector<std::string> extra = {},
                                                  rlim_t max_file_bytes = RLIM_INFINITY) {
  std::vector<std::string> words = {command, "--server", endpoint, "--store", store.string()};
  if (command == "client")
    words = {"client", "register", "--server", endpoint, "--store", store.string()};
  words.insert(words.end(), extra.begin(), extra.end());
  return std::make_unique<ChildProcess>(
      pinfer_argv(words),
      SpawnOptions{work / (tag + ".out"), work / (tag + ".err"), max_file_bytes});
}

struct ClientResult {
  int status = -1;
  std::string out;
  std::string err;
};

// `pinfer <words...>` as given (no transport flags: `pinfer cluster ...`, a `serve` expected to
// exit), output in work/<tag>.*; waits at most 120 s.
inline ClientResult run_pinfer(const fs::path& work, const std::string& tag,
                               std::vector<std::string> words) {
  words.insert(words.begin(), cli_path());
  ChildProcess c(words, SpawnOptions{work / (tag + ".out"), work / (tag + ".err")});
  const auto st = c.wait_for(120s);
  return {st ? *st : -1, c.stdout_text(), c.stderr_text()};
}

inline ClientResult run_client(const fs::path& work, const std::string& tag,
                               const std::string& command, const std::string& endpoint,
                               const fs::path& store, std::vector<std::string> extra = {},
                               rlim_t max_file_bytes = RLIM_INFINITY) {
  auto c = start_client(work, tag, command, endpoint, store, std::move(extra), max_file_bytes);
  const auto st = c->wait_for(180s);
  return {st ? *st : -1, c->stdout_text(), c->stderr_text()};
}

// Writes one input as a float32 .npy (version 1.0, C order).
inline void write_npy(const fs::path& path, const FloatTensor& x) {
  std::string shape = "(";
  for (std::size_t d : x.shape().dims()) shape += std::to_string(d) + ", ";
  shape += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.put(static_cast<char>(len & 0xff));
  out.put(static_cast<char>(len >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(x.span().data()),
            static_cast<std::streamsize>(x.size() * sizeof(float)));
}

// The shipped model's held-out images with their fixed-point logits (the oracle).
class HeldOutSet {
 public:
  explicit HeldOutSet(const fs::path& work) : work_(work) {
    const std::string models = std::string(PINFER_SOURCE_DIR) + "/models/";
    model_ = std::make_unique<nn::LoadedModel>(nn::load_model(models + "digits.onnx"));
    images_ = nn::split_batch(nn::read_npy_float(models + "digits_test_images.npy"));
  }
  [[nodiscard]] std::size_t size() const { return images_.size(); }
  // Path of image i as a .npy file (written on first use).
  fs::path input(std::size_t i) {
    const fs::path p = work_ / ("input" + std::to_string(i) + ".npy");
    if (!fs::exists(p)) write_npy(p, images_.at(i));
    return p;
  }
  [[nodiscard]] std::vector<uint64_t> expected_logits(std::size_t i) const {
    const RingTensor y =
        nn::run_fixed_point(model_->lowered, nn::encode_input(model_->lowered, images_.at(i)));
    return {y.values().begin(), y.values().end()};
  }
  [[nodiscard]] const FloatTensor& image(std::size_t i) const { return images_.at(i); }
  [[nodiscard]] const nn::LoweredModel& lowered() const { return model_->lowered; }

 private:
  fs::path work_;
  std::unique_ptr<nn::LoadedModel> model_;
  std::vector<FloatTensor> images_;
};

// "<client>/<id>" of every ready entry.
inline std::set<std::string> ready_entries(const fs::path& store) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& c : fs::directory_iterator(store / "ready", ec)) {
    for (const auto& e : fs::directory_iterator(c.path(), ec)) {
      out.insert(c.path().filename().string() + "/" + e.path().filename().string());
    }
  }
  return out;
}

inline std::size_t entries_in(const fs::path& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n;
}

// Operations per "<client>/<id>" from a store's JOURNAL.
struct Journal {
  std::map<std::string, int> published, taken, removed, discarded;
};
inline Journal read_journal(const fs::path& store) {
  Journal j;
  std::ifstream in(store / "JOURNAL");
  std::string op, client, id;
  while (in >> op >> client >> id) {
    const std::string key = client + "/" + id;
    if (op == "publish") ++j.published[key];
    if (op == "take") ++j.taken[key];
    if (op == "remove") ++j.removed[key];
    if (op == "discard") ++j.discarded[key];
  }
  return j;
}

// Findings of one audit of a (closed) store.
struct StoreAudit {
  std::size_t damaged = 0;  // entries discarded at open or by the full scan: corruption
  std::size_t entries = 0;
  std::size_t cleaned = 0;          // leftovers of killed writers / consumers removed at open
  std::vector<std::string> reused;  // ids taken (or taken + removed) more than once
  std::vector<std::string> unpublished_takes;
};

// Opens the store (recovery runs), verifies every entry fully, and checks the journal.
// Requires: no process has the store open.
inline StoreAudit audit_store(const fs::path& store) {
  StoreAudit a;
  {
    store::PrecomputeStore s(store, {.capacity_bytes = uint64_t{1} << 40});
    const store::StoreScan scan = s.scan();
    a.damaged = s.recovery().removed_damaged;  // includes the scan's discards
    a.entries = scan.entries_ok;
    a.cleaned = s.recovery().removed_incomplete + s.recovery().removed_consumed;
  }
  const Journal j = read_journal(store);
  for (const auto& [key, n] : j.taken) {
    const int uses = n + (j.removed.count(key) ? j.removed.at(key) : 0);
    if (uses > 1) a.reused.push_back(key);
    if (!j.published.count(key)) a.unpublished_takes.push_back(key);
  }
  return a;
}

}  // namespace pinfer::system_test
