// In-process channel pair: two frame queues guarded by one mutex. For tests and for running
// both protocol roles in one process; frames are copied, never shared.
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>

#include "pinfer/core/channel.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer {
namespace {

struct QueuedFrame {
  uint32_t type;
  std::vector<std::byte> payload;
};

struct Pipe {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<QueuedFrame> frames;
  bool closed = false;
};

class MemoryChannel final : public Channel {
 public:
  MemoryChannel(std::shared_ptr<Pipe> out, std::shared_ptr<Pipe> in, MemoryChannelOptions opt)
      : Channel(opt.max_frame_bytes), out_(std::move(out)), in_(std::move(in)), opt_(opt) {}
  ~MemoryChannel() override { close(); }

  void close() noexcept override {
    for (Pipe* p : {out_.get(), in_.get()}) {
      std::lock_guard lock(p->mu);
      p->closed = true;
      p->cv.notify_all();
    }
  }

 protected:
  void write_frame(uint32_t type, std::span<const std::byte> payload) override {
    std::lock_guard lock(out_->mu);
    if (out_->closed) throw IoError("memory channel: peer has closed the connection");
    out_->frames.push_back({type, std::vector<std::byte>(payload.begin(), payload.end())});
    out_->cv.notify_all();
  }

  FrameHeader read_header() override {
    std::unique_lock lock(in_->mu);
    const bool ready = in_->cv.wait_for(lock, std::chrono::milliseconds(opt_.recv_timeout_ms),
                                        [&] { return !in_->frames.empty() || in_->closed; });
    if (!ready) {
      throw IoError("memory channel: receive timed out after " +
                    std::to_string(opt_.recv_timeout_ms) + " ms");
    }
    if (in_->frames.empty()) throw IoError("memory channel: peer closed the connection");
    current_ = std::move(in_->frames.front());
    in_->frames.pop_front();
    return {current_.type, current_.payload.size()};
  }

  void read_payload(std::span<std::byte> out) override {
    PINFER_ASSERT(out.size() == current_.payload.size());
    if (!out.empty()) std::memcpy(out.data(), current_.payload.data(), out.size());
    current_.payload.clear();
  }

 private:
  std::shared_ptr<Pipe> out_;
  std::shared_ptr<Pipe> in_;
  MemoryChannelOptions opt_;
  QueuedFrame current_;
};

}  // namespace

std::pair<std::unique_ptr<Channel>, std::unique_ptr<Channel>> make_memory_channel_pair(
    MemoryChannelOptions options) {
  auto ab = std::make_shared<Pipe>();
  auto ba = std::make_shared<Pipe>();
  return {std::make_unique<MemoryChannel>(ab, ba, options),
          std::make_unique<MemoryChannel>(ba, ab, options)};
}

}  // namespace pinfer
