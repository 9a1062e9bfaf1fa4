#pragma once
// The queueing ideal of a closed-loop load run (`pinfer bench load`, docs/perf/admission.md): C
// clients, each sending its next request the moment the previous one returns (all starting at
// time 0, client 0 first), served first come, first served by M servers at once with no
// overhead at all (no connect, admission or hand-over time). Requests start in arrival order,
// each on the server that frees first: start = max(arrival, that server's free time), finish =
// start + service, and the client's next request arrives at that finish.
//
// With one service time S for every request and C = n * M clients, the first round's requests
// wait 0, 1, ..., n - 1 service times and every later one waits for the n - 1 rounds ahead of it:
// latency n * S = (C / M) * S for nearly all requests, which is then the p99.
#include <cstddef>
#include <vector>

namespace pinfer::sim {

// Latencies (finish - arrival, in the unit of `service`) of every request, in the order they
// start; service[c][k] is the service time of client c's k-th request. Throws InvalidArgument
// if servers is 0 or a service time is negative or not finite.
[[nodiscard]] std::vector<double> closed_loop_fifo_latencies(
    const std::vector<std::vector<double>>& service, std::size_t servers);

}  // namespace pinfer::sim
