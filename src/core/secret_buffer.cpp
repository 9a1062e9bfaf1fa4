#include "pinfer/core/secret_buffer.hpp"

#include <sodium.h>

namespace pinfer {

void secure_wipe(void* p, std::size_t bytes) noexcept {
  if (p != nullptr && bytes != 0) sodium_memzero(p, bytes);
}

}  // namespace pinfer
