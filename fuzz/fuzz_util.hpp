#pragma once
// Shared pieces of the fuzz targets (fuzz/README in docs/perf/fuzz.md).
//
// - Frame scripts: a peer's messages as fuzz input. Wire format, repeated until the input ends:
//     u32 type, u32 announced length, then min(announced, rest) payload bytes
//   ScriptChannel replays such a script as the frames a protocol step receives (what the step
//   sends is dropped), so every receive of a protocol role sees hostile frames. An announced
//   length above the bytes present behaves like a peer that stalls mid-frame (IoError) *after*
//   the receiver has checked the length against its caps, as TcpChannel would.
// - RecordingChannel pairs: two in-process channels that log every frame each side receives,
//   so the corpus generator turns a real two-party run into seed scripts.
// - expect_clean(): a pinfer::Error is a clean rejection; any other exception escapes to
//   libFuzzer, which reports it as a crash (untrusted input must fail with a typed error).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pinfer/core/channel.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::fuzz {

struct ScriptFrame {
  uint32_t type = 0;
  uint64_t announced = 0;  // the length in the header
  std::vector<std::byte> payload;
};

[[nodiscard]] std::vector<ScriptFrame> parse_script(std::span<const uint8_t> data);
[[nodiscard]] std::vector<std::byte> encode_script(const std::vector<ScriptFrame>& frames);

class ScriptChannel final : public Channel {
 public:
  ScriptChannel(std::vector<ScriptFrame> frames, std::size_t max_frame_bytes);
  void close() noexcept override {}
  [[nodiscard]] std::size_t frames_read() const noexcept { return next_; }

 protected:
  void write_frame(uint32_t, std::span<const std::byte>) override {}
  FrameHeader read_header() override;
  void read_payload(std::span<std::byte> out) override;

 private:
  std::vector<ScriptFrame> frames_;
  std::size_t next_ = 0;
};

// Two connected channels (first <-> second); each logs the frames it receives.
struct RecordingPair {
  std::unique_ptr<Channel> first;
  std::unique_ptr<Channel> second;
  [[nodiscard]] std::vector<ScriptFrame> received_by_first() const;
  [[nodiscard]] std::vector<ScriptFrame> received_by_second() const;
  struct Shared;
  std::shared_ptr<Shared> shared;
};
[[nodiscard]] RecordingPair make_recording_pair(
    std::size_t max_frame_bytes = kDefaultMaxFrameBytes);

// Writes `data` to a per-process scratch file (tmpfs when available) and returns its path.
[[nodiscard]] std::filesystem::path scratch_file(std::span<const uint8_t> data,
                                                 const std::string& suffix);
// A per-process scratch directory (created empty on first use).
[[nodiscard]] const std::filesystem::path& scratch_dir();

[[nodiscard]] inline std::span<const std::byte> as_bytes(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

template <typename F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const pinfer::Error&) {
    // A typed rejection: what the parser must do with bad input.
  }
}

}  // namespace pinfer::fuzz
