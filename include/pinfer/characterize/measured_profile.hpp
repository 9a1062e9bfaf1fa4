#pragma once
// From measured cost reports to simulator steps (sim/cost_profile.hpp): the bridge between the
// real system and the simulator, used by `pinfer characterize` and `pinfer bench arrivals`.
//
// Every step is the time its party was busy on it (protocol/cost_component.hpp): thread CPU time
// of compute, wall time of store I/O, and bytes for transfers (the simulator divides by the link
// rate). The steps follow how the protocol code orders work, checked by tracing both parties
// (docs/perf/closed_loop.md): work it pipelines (HE queries, evaluation and decryption; each
// garbled-circuit stage online) forms groups of steps that overlap
// (CostStep::overlaps_previous), with chains inside a group where one party must finish a chunk
// before its next (CostStep::follows_previous); the offline garbled-circuit chunks are a strict
// chain of OT, garbling, tables on the link and storing them. CPU time of a side that no component
// covers (framing, TLS, copies) becomes a "transport" step of that side, spread over the groups by
// their bytes, so each side's steps add up to its measured CPU time plus its store I/O.
#include <cstdint>
#include <string>
#include <vector>

#include "pinfer/protocol/cost_report.hpp"
#include "pinfer/protocol/protocol_kind.hpp"
#include "pinfer/sim/cost_profile.hpp"

namespace pinfer::characterize {

// How much of a side's CPU time in a phase its busy components name.
struct CpuCoverage {
  double component_cpu_s = 0;  // the side's busy components timed by thread CPU, plus the CPU
                               // inside its store I/O
  double cpu_total_s = 0;      // all CPU time of the side's threads in the phase
};

struct MeasuredCosts {
  sim::ProtocolCosts costs;
  CpuCoverage client_offline, server_offline, client_online, server_online;
};

// One line per side and phase: CPU time and how much of it the named components cover.
[[nodiscard]] std::string format_coverage(const MeasuredCosts& costs);

// Builds the steps of one protocol from the report of an offline phase (`offline`, as returned
// by InferenceClient::precompute) and of an online phase using it (`online`, from infer).
// Throws FormatError naming the side, phase and component when a component the protocol always
// produces is missing (a renamed or dropped component never reads as 0 s).
[[nodiscard]] MeasuredCosts to_protocol_costs(const protocol::CostReport& offline,
                                              const protocol::CostReport& online,
                                              protocol::ProtocolKind kind);

}  // namespace pinfer::characterize
