#include "fuzz_util.hpp"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>

namespace pinfer::fuzz {

std::vector<ScriptFrame> parse_script(std::span<const uint8_t> data) {
  std::vector<ScriptFrame> frames;
  std::size_t pos = 0;
  while (data.size() - pos >= 8) {
    ScriptFrame f;
    uint32_t announced = 0;
    std::memcpy(&f.type, data.data() + pos, 4);
    std::memcpy(&announced, data.data() + pos + 4, 4);
    pos += 8;
    f.announced = announced;
    const std::size_t present = std::min<std::size_t>(announced, data.size() - pos);
    const auto* p = reinterpret_cast<const std::byte*>(data.data() + pos);
    f.payload.assign(p, p + present);
    pos += present;
    frames.push_back(std::move(f));
  }
  return frames;
}

std::vector<std::byte> encode_script(const std::vector<ScriptFrame>& frames) {
  std::vector<std::byte> out;
  for (const ScriptFrame& f : frames) {
    const uint32_t type = f.type;
    const auto len = static_cast<uint32_t>(f.payload.size());
    const auto* t = reinterpret_cast<const std::byte*>(&type);
    const auto* l = reinterpret_cast<const std::byte*>(&len);
    out.insert(out.end(), t, t + 4);
    out.insert(out.end(), l, l + 4);
    out.insert(out.end(), f.payload.begin(), f.payload.end());
  }
  return out;
}

ScriptChannel::ScriptChannel(std::vector<ScriptFrame> frames, std::size_t max_frame_bytes)
    : Channel(max_frame_bytes), frames_(std::move(frames)) {}

FrameHeader ScriptChannel::read_header() {
  if (next_ >= frames_.size()) throw IoError("fuzz script: peer closed the connection");
  const ScriptFrame& f = frames_[next_];
  return {f.type, f.announced};
}

void ScriptChannel::read_payload(std::span<std::byte> out) {
  const ScriptFrame& f = frames_[next_++];
  PINFER_ASSERT(out.size() == f.announced);
  if (f.payload.size() < out.size()) throw IoError("fuzz script: peer stalled inside a frame");
  if (!out.empty()) std::memcpy(out.data(), f.payload.data(), out.size());
}

struct RecordingPair::Shared {
  struct Pipe {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<ScriptFrame> frames;
    std::vector<ScriptFrame> log;  // everything ever delivered through this pipe
    bool closed = false;
  };
  Pipe to_first;
  Pipe to_second;
};

namespace {

using Pipe = RecordingPair::Shared::Pipe;

class RecordingChannel final : public Channel {
 public:
  RecordingChannel(std::shared_ptr<RecordingPair::Shared> shared, Pipe* out, Pipe* in,
                   std::size_t max_frame_bytes)
      : Channel(max_frame_bytes), shared_(std::move(shared)), out_(out), in_(in) {}
  ~RecordingChannel() override { close(); }
  void close() noexcept override {
    for (Pipe* p : {out_, in_}) {
      std::lock_guard lock(p->mu);
      p->closed = true;
      p->cv.notify_all();
    }
  }

 protected:
  void write_frame(uint32_t type, std::span<const std::byte> payload) override {
    std::lock_guard lock(out_->mu);
    if (out_->closed) throw IoError("recording channel: peer closed");
    ScriptFrame f{type, payload.size(), {payload.begin(), payload.end()}};
    out_->log.push_back(f);
    out_->frames.push_back(std::move(f));
    out_->cv.notify_all();
  }
  FrameHeader read_header() override {
    std::unique_lock lock(in_->mu);
    in_->cv.wait(lock, [&] { return !in_->frames.empty() || in_->closed; });
    if (in_->frames.empty()) throw IoError("recording channel: peer closed");
    current_ = std::move(in_->frames.front());
    in_->frames.pop_front();
    return {current_.type, current_.payload.size()};
  }
  void read_payload(std::span<std::byte> out) override {
    PINFER_ASSERT(out.size() == current_.payload.size());
    if (!out.empty()) std::memcpy(out.data(), current_.payload.data(), out.size());
  }

 private:
  std::shared_ptr<RecordingPair::Shared> shared_;
  Pipe* out_;
  Pipe* in_;
  ScriptFrame current_;
};

}  // namespace

RecordingPair make_recording_pair(std::size_t max_frame_bytes) {
  RecordingPair p;
  p.shared = std::make_shared<RecordingPair::Shared>();
  p.first = std::make_unique<RecordingChannel>(p.shared, &p.shared->to_second, &p.shared->to_first,
                                               max_frame_bytes);
  p.second = std::make_unique<RecordingChannel>(p.shared, &p.shared->to_first, &p.shared->to_second,
                                                max_frame_bytes);
  return p;
}

std::vector<ScriptFrame> RecordingPair::received_by_first() const {
  std::lock_guard lock(shared->to_first.mu);
  return shared->to_first.log;
}

std::vector<ScriptFrame> RecordingPair::received_by_second() const {
  std::lock_guard lock(shared->to_second.mu);
  return shared->to_second.log;
}

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                           ? "/dev/shm"
                                           : std::filesystem::temp_directory_path();
    std::filesystem::path d = base / ("pinfer-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return dir;
}

std::filesystem::path scratch_file(std::span<const uint8_t> data, const std::string& suffix) {
  std::filesystem::path p = scratch_dir() / ("input" + suffix);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  out.close();
  return p;
}

}  // namespace pinfer::fuzz
