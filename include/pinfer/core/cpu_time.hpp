#pragma once
// CPU time of the calling thread, for measuring what a party was busy on (as opposed to wall
// time, which also counts waiting for a peer, a lock or the network).
namespace pinfer {

// Seconds of CPU the calling thread has used since it started (CLOCK_THREAD_CPUTIME_ID: user
// and system time, so kernel work on the thread's behalf such as socket copies counts).
[[nodiscard]] double thread_cpu_seconds() noexcept;

}  // namespace pinfer
