#pragma once
// The HE "session" the query / response targets negotiate: the standard context at l = 37, one
// client key pair and two small layers (a strided conv and an FC) whose plans fix every size
// the parsers may accept.
#include <vector>

#include "pinfer/core/prg.hpp"
#include "pinfer/he/keys.hpp"
#include "pinfer/he/linear.hpp"

namespace pinfer::fuzz {

struct HeFixture {
  he::Context ctx = he::Context::create(37);
  Prg prg = Prg::from_seed(Block{1, 2});
  he::ClientKeys keys{ctx, prg};
  std::vector<he::LinearGeometry> layers{
      he::ConvGeometry{3, 8, 8, 4, 3, 3, 2, 2, 1, 1, 1, 1},
      he::FcGeometry{40, 10},
  };
};

inline const HeFixture& he_fixture() {
  static const HeFixture f;
  return f;
}

}  // namespace pinfer::fuzz
