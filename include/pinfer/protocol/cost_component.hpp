#pragma once
// The typed names of what a protocol run spends its time on. A cost report stores them as
// strings ("client/garble"), the form that crosses the wire and lands in JSON; code that reads
// a report (the simulator's measured profiles) names them with these enums, so a renamed
// component is a compile error or a FormatError, never a silent 0 s.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pinfer::protocol {

enum class Side : uint8_t { client, server };

// Busy components hold the time a party's thread was running on that work (thread CPU time),
// never time blocked on the peer: two parties' components can be added without double
// counting. Store I/O is the wall time spent in store reads and writes (the party is busy on
// its disk). cpu_total, wait_peer and store_cpu are not steps: cpu_total is all CPU time of the
// side's threads in the phase (to check how much of it the busy components cover), wait_peer the
// wall time blocked on the peer in the garbled-circuit stages (diagnostic), store_cpu the CPU
// time spent inside store I/O (already part of its wall time, so not counted again).
enum class Component : uint8_t {
  he_keygen,
  he_encrypt,
  he_evaluate,
  he_decrypt,
  ot,
  garble,
  store_write,
  store_read,
  linear_shared,
  gc_input_labels,
  gc_input_flips,
  gc_flip_labels,
  gc_evaluate,
  output,
  cpu_total,
  wait_peer,
  store_cpu,
};

inline constexpr std::array kAllComponents = {
    Component::he_keygen,
    Component::he_encrypt,
    Component::he_evaluate,
    Component::he_decrypt,
    Component::ot,
    Component::garble,
    Component::store_write,
    Component::store_read,
    Component::linear_shared,
    Component::gc_input_labels,
    Component::gc_input_flips,
    Component::gc_flip_labels,
    Component::gc_evaluate,
    Component::output,
    Component::cpu_total,
    Component::wait_peer,
    Component::store_cpu,
};

[[nodiscard]] std::string_view to_string(Side side) noexcept;
[[nodiscard]] std::string_view to_string(Component component) noexcept;
// nullopt for a name that is no component.
[[nodiscard]] std::optional<Component> parse_component(std::string_view name) noexcept;
// "client/garble": the key of a side's component in a labelled PhaseCost.
[[nodiscard]] std::string component_key(Side side, Component component);
// True for the components timed by the wall clock (store I/O, waits); the rest are thread CPU.
[[nodiscard]] bool is_wall_clock(Component component) noexcept;
// True for the components that are work steps (all but cpu_total, wait_peer and store_cpu).
[[nodiscard]] bool is_step(Component component) noexcept;

}  // namespace pinfer::protocol
