#pragma once
// Store reads and writes timed as steps of their own (Component::store_write / store_read).
//
// A store access often happens inside a busy component (the garbled tables are read by the
// evaluator while Component::gc_evaluate is timed): the wrapper adds the wall time of each access
// to the store component and takes the thread CPU time the access used back out of the
// enclosing component, so the two never count the same time twice.
#include <chrono>
#include <optional>
#include <span>

#include "pinfer/core/byte_stream.hpp"
#include "pinfer/core/cpu_time.hpp"
#include "pinfer/protocol/cost_report.hpp"

namespace pinfer::protocol::detail {

class StoreIoTimer {
 public:
  // `layer`, when given, gets the same accounting per layer.
  StoreIoTimer(PhaseCost& cost, Component io, LayerCost* layer, std::optional<Component> enclosing)
      : cost_(cost), layer_(layer), io_(io), enclosing_(enclosing) {}

  template <typename F>
  void run(F&& access) {
    const auto wall0 = std::chrono::steady_clock::now();
    const double cpu0 = thread_cpu_seconds();
    access();
    const double cpu = thread_cpu_seconds() - cpu0;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    cost_.add(io_, wall);
    cost_.add(Component::store_cpu, cpu);
    if (enclosing_) cost_.add(*enclosing_, -cpu);
    if (layer_ != nullptr) {
      layer_->seconds[std::string(to_string(io_))] += wall;
      if (enclosing_) layer_->seconds[std::string(to_string(*enclosing_))] -= cpu;
    }
  }

 private:
  PhaseCost& cost_;
  LayerCost* layer_;
  Component io_;
  std::optional<Component> enclosing_;
};

// Writes go to `inner`, timed as Component::store_write.
class TimedSink final : public ByteSink {
 public:
  TimedSink(ByteSink& inner, PhaseCost& cost, LayerCost* layer = nullptr,
            std::optional<Component> enclosing = std::nullopt)
      : inner_(inner), timer_(cost, Component::store_write, layer, enclosing) {}
  void write(std::span<const std::byte> bytes) override {
    timer_.run([&] { inner_.write(bytes); });
  }
  void finish() override {
    timer_.run([&] { inner_.finish(); });
  }

 private:
  ByteSink& inner_;
  StoreIoTimer timer_;
};

// Reads come from `inner`, timed as Component::store_read.
class TimedSource final : public ByteSource {
 public:
  TimedSource(ByteSource& inner, PhaseCost& cost, LayerCost* layer = nullptr,
              std::optional<Component> enclosing = std::nullopt)
      : inner_(inner), timer_(cost, Component::store_read, layer, enclosing) {}
  void read(std::span<std::byte> out) override {
    timer_.run([&] { inner_.read(out); });
  }
  void finish() override {
    timer_.run([&] { inner_.finish(); });
  }

 private:
  ByteSource& inner_;
  StoreIoTimer timer_;
};

}  // namespace pinfer::protocol::detail
