#include "pinfer/core/delta.hpp"

#include "pinfer/core/error.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/secret_buffer.hpp"

namespace pinfer {

Delta Delta::random() {
  const Block r = os_random_block();
  return Delta(Block(r.lo | 1, r.hi));
}

Delta Delta::from_block(const Block& block) {
  if (!block.lsb()) {
    throw InvalidArgument("a garbling offset (Delta) must have lsb 1 (point-and-permute)");
  }
  return Delta(block);
}

Delta::~Delta() {
  secure_wipe(&block_, sizeof block_);
}

}  // namespace pinfer
