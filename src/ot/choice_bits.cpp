#include "choice_bits.hpp"

#include <string>

#include "pinfer/core/error.hpp"

namespace pinfer::ot::detail {

void check_choice_bits(std::span<const uint8_t> bits, const char* field) {
  uint8_t acc = 0;
  for (const uint8_t b : bits) acc |= b;
  if ((acc & 0xFE) != 0) {
    throw InvalidArgument(std::string(field) + " must hold one 0/1 value per byte");
  }
}

}  // namespace pinfer::ot::detail
