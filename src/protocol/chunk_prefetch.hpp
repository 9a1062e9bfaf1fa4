#pragma once
// Receives the frames of a stage's chunks one chunk ahead of the evaluator, on a second thread,
// so the bytes of chunk k + 1 cross the link (and are decrypted) while chunk k is evaluated.
// Without it the evaluator reads chunk k + 1 only after evaluating chunk k, and the link idles
// as soon as the socket buffers are full: on ResNet-18 TinyImageNet 1.11 GB of input labels and
// the evaluation of 2.2 M ReLUs ran one after the other (docs/perf/gc.md).
//
// At most two chunks are held beside the one being evaluated. The consumer wipes each buffer
// after use (input labels are secret to the evaluator's peer).
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "pinfer/core/channel.hpp"
#include "pinfer/protocol/cost_report.hpp"

namespace pinfer::protocol::detail {

class ChunkPrefetch {
 public:
  // Receives one frame of `frame_type` per entry of `chunk_bytes`, of exactly that many bytes.
  ChunkPrefetch(Channel& ch, uint32_t frame_type, std::vector<std::size_t> chunk_bytes);
  // Joins the receiver; if chunks were left unread (the caller failed), closes the channel
  // first so a receiver blocked on the peer wakes up.
  ~ChunkPrefetch();
  ChunkPrefetch(const ChunkPrefetch&) = delete;
  ChunkPrefetch& operator=(const ChunkPrefetch&) = delete;

  // The next chunk's bytes, waiting for them if they have not arrived (the wait is booked as
  // wait_peer on `cost` / `layer`); rethrows the receiver's error.
  std::vector<std::byte> next(PhaseCost& cost, LayerCost& layer);

  // Waits for the receiving thread to end (after the last chunk was taken) and returns its CPU
  // seconds (framing, TLS, copies: transport work, so no component of its own).
  double finish();

 private:
  void receive_all();

  Channel& ch_;
  const uint32_t frame_type_;
  const std::vector<std::size_t> chunk_bytes_;
  std::size_t taken_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::byte>> ready_;  // guarded by mu_
  std::exception_ptr error_;                  // guarded by mu_
  bool stop_ = false;                         // guarded by mu_
  double receiver_cpu_s_ = 0;                 // written by the receiver before it ends
  std::thread receiver_;
};

// Adds the receiving thread's CPU to the side's CPU total once every chunk was taken.
inline void add_receiver_cpu(PhaseCost& cost, ChunkPrefetch& prefetch) {
  const double s = prefetch.finish();
  if (s > 0) cost.add(Component::cpu_total, s);
}

}  // namespace pinfer::protocol::detail
