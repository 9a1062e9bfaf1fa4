#include "pinfer/core/sharing.hpp"

namespace pinfer {

SharedTensor share(const Ring& ring, const RingTensor& x, Prg& prg) {
  SharedTensor s{RingTensor(x.shape()), RingTensor(x.shape())};
  prg.fill_ring(ring, s.mask.span());
  for (std::size_t i = 0; i < x.size(); ++i) s.masked[i] = ring.sub(ring.reduce(x[i]), s.mask[i]);
  return s;
}

RingTensor reconstruct(const Ring& ring, const RingTensor& masked, const RingTensor& mask) {
  return add(ring, masked, mask);
}

}  // namespace pinfer
