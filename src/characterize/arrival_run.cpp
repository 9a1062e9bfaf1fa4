#include "pinfer/characterize/arrival_run.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "pinfer/characterize/measure_once.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/sim/arrivals.hpp"

namespace pinfer::characterize {
namespace {

using Clock = std::chrono::steady_clock;

// Inputs the clients send, with their fixed-point results computed before the run so checking
// a result costs nothing while the run is timed. The inputs are not secret: test data.
struct InputPool {
  std::vector<FloatTensor> inputs;
  std::vector<std::vector<uint64_t>> expected;
};

InputPool make_inputs(const nn::LoweredModel& model, std::size_t count) {
  InputPool pool;
  Prg prg;
  for (std::size_t i = 0; i < count; ++i) {
    FloatTensor x = sample_input(model, prg);
    const RingTensor y = nn::run_fixed_point(model, nn::encode_input(model, x));
    pool.expected.emplace_back(y.values().begin(), y.values().end());
    pool.inputs.push_back(std::move(x));
  }
  return pool;
}

// State shared by all threads of a run.
struct Run {
  Clock::time_point t0;
  Clock::time_point deadline;
  std::mutex mu;
  std::condition_variable cv;  // a precompute made or consumed, a client done, or an abort
  bool abort = false;
  bool timed_out = false;  // the deadline passed: what is not served by then is unserved
  std::size_t clients_done = 0;
  std::exception_ptr error;
  ArrivalRunResult result;

  [[nodiscard]] double now_s() const {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  }
  [[nodiscard]] Clock::time_point at(double s) const {
    return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }
  void fail(std::exception_ptr e) {
    std::lock_guard lock(mu);
    if (timed_out) return;
    if (!error) error = std::move(e);
    abort = true;
    cv.notify_all();
  }
};

// One client: an online thread and a precompute thread, each with its own connection.
class ClientLoad {
 public:
  ClientLoad(uint32_t index, ArrivalClient& client, const ArrivalSettings& settings,
             const InputPool& inputs, Run& run)
      : index_(index), client_(client), settings_(settings), inputs_(inputs), run_(run) {}

  void start() {
    online_ = std::thread([this] { guarded([this] { online_loop(); }); });
    precompute_ = std::thread([this] { guarded([this] { precompute_loop(); }); });
  }
  void join() {
    if (online_.joinable()) online_.join();
    if (precompute_.joinable()) precompute_.join();
  }
  // Wakes threads blocked on the network after an abort.
  void close_channels() noexcept {
    std::lock_guard lock(channels_mu_);
    for (Channel* c : channels_) c->close();
  }

 private:
  template <typename F>
  void guarded(F&& body) {
    try {
      body();
    } catch (...) {
      run_.fail(std::current_exception());
    }
  }

  std::unique_ptr<Channel> connect() {
    std::unique_ptr<Channel> ch = client_.connect();
    std::lock_guard lock(channels_mu_);
    channels_.push_back(ch.get());
    return ch;
  }

  protocol::ClientOptions options() const {
    protocol::ClientOptions o{client_.credentials.clone(), settings_.protocol, {}};
    o.threads = settings_.threads;
    return o;
  }

  void online_loop() {
    std::unique_ptr<Channel> ch = connect();
    protocol::InferenceClient client(*ch, *client_.store, options());
    const std::vector<double> arrivals = sim::poisson_arrival_times(
        settings_.rate_per_client, settings_.seed, index_, settings_.duration_s);
    {
      std::lock_guard lock(run_.mu);
      run_.result.arrivals += arrivals.size();
    }
    std::size_t served = 0;
    for (const double a : arrivals) {
      std::this_thread::sleep_until(run_.at(a));
      MeasuredRequest rec;
      rec.client = index_;
      rec.arrival_s = a;
      rec.start_s = run_.now_s();
      {
        // Wait for the precompute thread to store one (it always can: the store is empty).
        std::unique_lock lock(run_.mu);
        const bool ready = run_.cv.wait_until(
            lock, run_.deadline, [&] { return run_.abort || client.stored_precomputes() > 0; });
        if (run_.abort) return;
        if (!ready) break;  // past the deadline: the rest count as unserved
      }
      rec.offline_wait_s = run_.now_s() - rec.start_s;
      const std::size_t pick = (index_ + served) % inputs_.inputs.size();
      const protocol::InferenceResult result = client.infer(inputs_.inputs[pick], false);
      const protocol::CostReport& report = result.cost;
      rec.end_s = run_.now_s();
      rec.bit_exact = result.logits_ring == inputs_.expected[pick];
      rec.online_phase_s = report.online.seconds;
      rec.online_upload_bytes = report.online.upload_bytes;
      rec.online_download_bytes = report.online.download_bytes;
      rec.online_components = report.online.components;
      ++served;
      std::lock_guard lock(run_.mu);
      run_.result.requests.push_back(rec);
      ++consumed_;
      run_.cv.notify_all();
    }
    client.close();
    std::lock_guard lock(run_.mu);
    ++run_.clients_done;
    run_.cv.notify_all();
  }

  // True to go on: the run is still live and some client is still serving requests.
  bool live(std::size_t clients) const { return !run_.abort && run_.clients_done < clients; }

  void precompute_loop() {
    std::unique_ptr<Channel> ch = connect();
    protocol::InferenceClient client(*ch, *client_.store, options());
    const double poll =
        settings_.policy == sim::PrecomputePolicy::poll ? settings_.poll_interval_s : 0.0;
    double last = 0.0;  // the poll clock, as the simulator keeps it: the last tick or phase end
    const std::size_t clients = clients_in_run_;
    for (;;) {
      {
        std::unique_lock lock(run_.mu);
        run_.cv.wait_until(lock, run_.at(last + poll), [&] { return !live(clients); });
        if (!live(clients)) break;
      }
      bool stored = false;
      const double tick = last + poll;  // this check's tick
      const double began = run_.now_s();
      std::map<std::string, double> components;
      try {
        components = client.precompute().offline.components;
        stored = true;
      } catch (const StoreError&) {
        // No room: this client's store is full, or the server refused to store it (its quota
        // for this client is full; the refusal arrives as a StoreError). Anything else is a
        // real failure.
      }
      std::unique_lock lock(run_.mu);
      last = run_.now_s();
      if (stored) {
        ++run_.result.precomputes_made;
        run_.result.offline_phase_s.push_back(last - began);
        run_.result.offline_phase_components.push_back(std::move(components));
        run_.cv.notify_all();
        continue;
      }
      ++run_.result.precompute_refusals;
      if (poll > 0.0) {
        // Policy poll checks again on the ticks of its grid. The store frees room when the
        // online phase takes a precompute, not when the phase ends, so waiting for the end of
        // an inference would start the next offline phase late (by a tick whenever one falls
        // inside the online phase). Only a take frees room, so a tick before one costs nothing
        // (the simulator's checks take no time; a real attempt creates and abandons a store
        // entry, and for Client-Garbler asks the server).
        const std::size_t held = client.stored_precomputes();
        last = tick;
        for (;;) {
          run_.cv.wait_until(lock, run_.at(last + poll), [&] { return !live(clients); });
          if (!live(clients) || client.stored_precomputes() < held) break;
          last += poll;  // a tick without room
        }
        if (!live(clients)) break;
        // The loop's wait for last + poll returns at once: the check runs on this tick.
        continue;
      }
      // Policy eager: nothing but a consumption frees room, so sleep until one.
      const uint64_t seen = consumed_;
      run_.cv.wait(lock, [&] { return consumed_ != seen || !live(clients); });
      if (!live(clients)) break;
      last = run_.now_s();
    }
    client.close();
  }

 public:
  std::size_t clients_in_run_ = 1;

 private:
  uint32_t index_;
  ArrivalClient& client_;
  const ArrivalSettings& settings_;
  const InputPool& inputs_;
  Run& run_;
  uint64_t consumed_ = 0;  // guarded by run_.mu
  std::mutex channels_mu_;
  std::vector<Channel*> channels_;
  std::thread online_, precompute_;
};

void validate(const ArrivalSettings& s, std::size_t clients) {
  if (clients == 0) throw InvalidArgument("an arrival run needs at least one client");
  if (!(s.rate_per_client > 0) || !std::isfinite(s.rate_per_client)) {
    throw InvalidArgument("rate " + std::to_string(s.rate_per_client) + " requests/s must be > 0");
  }
  if (!(s.duration_s > 0) || s.duration_s > 86400) {
    throw InvalidArgument("duration " + std::to_string(s.duration_s) + " s is outside (0, 86400]");
  }
  if (s.rate_per_client * s.duration_s > 1e5) {
    throw InvalidArgument("rate x duration expects more than 100000 requests per client");
  }
  if (s.policy == sim::PrecomputePolicy::poll && !(s.poll_interval_s > 0)) {
    throw InvalidArgument("poll interval must be > 0 s");
  }
}

}  // namespace

ArrivalRunResult run_arrivals(const nn::LoweredModel& model, std::vector<ArrivalClient>& clients,
                              const ArrivalSettings& settings) {
  validate(settings, clients.size());
  const InputPool inputs = make_inputs(model, 4);
  Run run;
  std::vector<std::unique_ptr<ClientLoad>> loads;
  for (uint32_t i = 0; i < clients.size(); ++i) {
    loads.push_back(std::make_unique<ClientLoad>(i, clients[i], settings, inputs, run));
    loads.back()->clients_in_run_ = clients.size();
  }
  run.t0 = Clock::now();
  const double deadline_s =
      settings.deadline_s > 0 ? settings.deadline_s : 10 * settings.duration_s;
  run.deadline = run.at(deadline_s);
  for (auto& l : loads) l->start();
  // Watchdog: on an error, or past the deadline, close every connection so no thread stays
  // blocked on the network.
  {
    std::unique_lock lock(run.mu);
    run.cv.wait_until(lock, run.deadline,
                      [&] { return run.abort || run.clients_done == clients.size(); });
    if (run.clients_done < clients.size() && !run.abort) {
      run.abort = run.timed_out = true;
      run.cv.notify_all();
    }
  }
  if (run.abort) {
    for (auto& l : loads) l->close_channels();
  }
  for (auto& l : loads) l->join();
  // After a timeout the errors are those of closing the connections under the threads.
  if (run.error && !run.timed_out) std::rethrow_exception(run.error);
  run.result.unserved = run.result.arrivals - run.result.requests.size();
  run.result.wall_s = run.now_s();
  return std::move(run.result);
}

}  // namespace pinfer::characterize
