#include "pinfer/protocol/cost_component.hpp"

namespace pinfer::protocol {

std::string_view to_string(Side side) noexcept {
  return side == Side::client ? "client" : "server";
}

std::string_view to_string(Component component) noexcept {
  switch (component) {
    case Component::he_keygen:
      return "he_keygen";
    case Component::he_encrypt:
      return "he_encrypt";
    case Component::he_evaluate:
      return "he_evaluate";
    case Component::he_decrypt:
      return "he_decrypt";
    case Component::ot:
      return "ot";
    case Component::garble:
      return "garble";
    case Component::store_write:
      return "store_write";
    case Component::store_read:
      return "store_read";
    case Component::linear_shared:
      return "linear_shared";
    case Component::gc_input_labels:
      return "gc_input_labels";
    case Component::gc_input_flips:
      return "gc_input_flips";
    case Component::gc_flip_labels:
      return "gc_flip_labels";
    case Component::gc_evaluate:
      return "gc_evaluate";
    case Component::output:
      return "output";
    case Component::cpu_total:
      return "cpu_total";
    case Component::wait_peer:
      return "wait_peer";
    case Component::store_cpu:
      return "store_cpu";
  }
  return "unknown";
}

std::optional<Component> parse_component(std::string_view name) noexcept {
  for (Component c : kAllComponents) {
    if (to_string(c) == name) return c;
  }
  return std::nullopt;
}

std::string component_key(Side side, Component component) {
  std::string key(to_string(side));
  key += '/';
  key += to_string(component);
  return key;
}

bool is_wall_clock(Component component) noexcept {
  return component == Component::store_write || component == Component::store_read ||
         component == Component::wait_peer;
}

bool is_step(Component component) noexcept {
  return component != Component::cpu_total && component != Component::wait_peer &&
         component != Component::store_cpu;
}

}  // namespace pinfer::protocol
