#include "pinfer/gc/nonlinear_circuits.hpp"

#include <algorithm>
#include <bit>
#include <string>

#include "pinfer/core/error.hpp"
#include "pinfer/gc/arithmetic.hpp"

namespace pinfer::gc {
namespace {

void check_params(unsigned l, unsigned f) {
  if (l < 2 || l > 64 || f + 2 > l) {
    throw InvalidArgument("non-linear circuit: ring_bits " + std::to_string(l) + ", frac_bits " +
                          std::to_string(f) +
                          " (need 2 <= ring_bits <= 64, frac_bits <= " + "ring_bits - 2)");
  }
}

// ReLU of a signed word m (width w), widened to l bits: bit i = m_i AND NOT sign for the w - 1
// value bits; the sign bit and everything above are the constant 0 (w - 1 ANDs).
Word relu_widened(CircuitBuilder& b, const Word& m, unsigned l) {
  const Bit keep = b.not_(m.back());
  Word y(l, Bit::constant(false));
  for (std::size_t i = 0; i + 1 < m.size(); ++i) y[i] = b.and_(m[i], keep);
  return y;
}

NonlinearCircuit build(unsigned l, unsigned f, unsigned elements) {
  CircuitBuilder b;
  std::vector<Word> a(elements), c(elements);
  for (auto& w : a) w = b.input_word(l);
  for (auto& w : c) w = b.input_word(l);
  const Word r = b.input_word(l);
  // trunc_f(a + c) as a signed (l - f)-bit word: bits f .. l-1 of the sum (free).
  Word m;
  for (unsigned j = 0; j < elements; ++j) {
    const Word t = slice(add(b, a[j], c[j]), f, l - f);
    m = (j == 0) ? t : max_signed(b, m, t);
  }
  b.output_word(sub(b, relu_widened(b, m, l), r));
  NonlinearCircuit out;
  out.circuit = b.build();
  out.ring_bits = l;
  out.frac_bits = f;
  out.elements = elements;
  return out;
}

// A signed constant as a w-bit word of constant bits.
Word constant_word(int64_t v, unsigned w) {
  Word out(w, Bit::constant(false));
  for (unsigned i = 0; i < w; ++i)
    out[i] = Bit::constant(((static_cast<uint64_t>(v) >> i) & 1) != 0);
  return out;
}

// The bounds clamped to the signed (l - f)-bit range of the truncated value; a bound at or past
// the range's end changes nothing and is dropped.
struct ClipRange {
  bool has_lo = false, has_hi = false;
  int64_t lo = 0, hi = 0;
};
ClipRange clip_range(unsigned l, unsigned f, int64_t lo, int64_t hi) {
  if (lo > hi) {
    throw InvalidArgument("clip circuit: lower bound " + std::to_string(lo) + " exceeds upper " +
                          std::to_string(hi));
  }
  const unsigned w = l - f;
  const int64_t min = -(int64_t{1} << (w - 1)), max = (int64_t{1} << (w - 1)) - 1;
  ClipRange r;
  r.has_lo = lo > min;
  r.has_hi = hi < max;
  r.lo = std::clamp(lo, min, max);
  r.hi = std::clamp(hi, min, max);
  return r;
}

}  // namespace

NonlinearCircuit maxpool_relu_window_circuit(unsigned ring_bits, unsigned frac_bits,
                                             unsigned elements) {
  check_params(ring_bits, frac_bits);
  if (elements < 1 || elements > 256) {
    throw InvalidArgument("maxpool window of " + std::to_string(elements) +
                          " elements outside [1, 256]");
  }
  return build(ring_bits, frac_bits, elements);
}

NonlinearCircuit clip_step_circuit(unsigned l, unsigned f, int64_t lo, int64_t hi) {
  check_params(l, f);
  const ClipRange range = clip_range(l, f, lo, hi);
  const unsigned w = l - f;
  CircuitBuilder b;
  const Word a = b.input_word(l);
  const Word c = b.input_word(l);
  const Word r = b.input_word(l);
  Word m = slice(add(b, a, c), f, w);  // trunc_f(a + c), signed w bits
  if (range.has_lo) {
    const Word k = constant_word(range.lo, w);
    m = mux(b, less_than_signed(b, m, k), m, k);
    if (range.lo >= 0) m.back() = Bit::constant(false);  // now >= lo >= 0
  }
  if (range.has_hi) {
    const Word k = constant_word(range.hi, w);
    m = mux(b, less_than_signed(b, k, m), m, k);
  }
  Word y(l, m.back());  // sign-extend to l bits (free wiring)
  for (unsigned i = 0; i < w; ++i) y[i] = m[i];
  b.output_word(sub(b, y, r));
  NonlinearCircuit out;
  out.circuit = b.build();
  out.ring_bits = l;
  out.frac_bits = f;
  out.elements = 1;
  return out;
}

uint64_t clip_step_and_count(unsigned l, unsigned f, int64_t lo, int64_t hi) {
  return clip_step_circuit(l, f, lo, hi).circuit.and_count();
}

uint64_t clip_step_reference(const Ring& ring, unsigned f, int64_t lo, int64_t hi, uint64_t a,
                             uint64_t c, uint64_t r) {
  const int64_t t = ring.to_signed(ring.shift_right_arith(ring.add(a, c), f));
  return ring.sub(ring.from_signed(std::clamp(t, lo, hi)), r);
}

NonlinearCircuit argmax_circuit(unsigned l, unsigned n) {
  check_params(l, 0);
  if (n < 1 || n > 65536 || std::bit_width(n - 1u) >= l) {
    throw InvalidArgument("argmax circuit: " + std::to_string(n) + " classes at ring_bits " +
                          std::to_string(l));
  }
  CircuitBuilder b;
  std::vector<Word> a(n), c(n);
  for (auto& w : a) w = b.input_word(l);
  for (auto& w : c) w = b.input_word(l);
  const Word r = b.input_word(l);
  const unsigned bits = std::max(1u, static_cast<unsigned>(std::bit_width(n - 1u)));
  Word best = add(b, a[0], c[0]);
  Word index = constant_word(0, bits);
  for (unsigned j = 1; j < n; ++j) {
    const Word v = add(b, a[j], c[j]);
    const Bit larger = less_than_signed(b, best, v);  // strictly: the first maximum stays
    index = mux(b, larger, index, constant_word(j, bits));
    if (j + 1 < n) best = mux(b, larger, best, v);
  }
  Word y(l, Bit::constant(false));
  for (unsigned i = 0; i < bits; ++i) y[i] = index[i];
  b.output_word(sub(b, y, r));
  NonlinearCircuit out;
  out.circuit = b.build();
  out.ring_bits = l;
  out.frac_bits = 0;
  out.elements = n;
  return out;
}

uint64_t argmax_and_count(unsigned l, unsigned n) {
  return argmax_circuit(l, n).circuit.and_count();
}

uint64_t argmax_reference(const Ring& ring, std::span<const uint64_t> a,
                          std::span<const uint64_t> c, uint64_t r) {
  PINFER_ASSERT(a.size() == c.size() && !a.empty());
  std::size_t best = 0;
  int64_t best_v = ring.to_signed(ring.add(a[0], c[0]));
  for (std::size_t j = 1; j < a.size(); ++j) {
    const int64_t v = ring.to_signed(ring.add(a[j], c[j]));
    if (v > best_v) best = j, best_v = v;
  }
  return ring.sub(ring.reduce(best), r);
}

NonlinearCircuit top_k_circuit(unsigned l, unsigned n, unsigned k) {
  check_params(l, 0);
  if (n < 1 || n > 65536 || std::bit_width(n - 1u) >= l || k < 1 || k > n) {
    throw InvalidArgument("top-k circuit: top " + std::to_string(k) + " of " + std::to_string(n) +
                          " classes at ring_bits " + std::to_string(l));
  }
  CircuitBuilder b;
  std::vector<Word> a(n), c(n), r(k);
  for (auto& w : a) w = b.input_word(l);
  for (auto& w : c) w = b.input_word(l);
  for (auto& w : r) w = b.input_word(l);
  const unsigned bits = std::max(1u, static_cast<unsigned>(std::bit_width(n - 1u)));
  // The list, best first: equal values keep their order (lower index first), and a new class
  // (a higher index) goes behind its equals, so the comparison is strict.
  struct Slot {
    Word value, index;
  };
  std::vector<Slot> list;
  for (unsigned j = 0; j < n; ++j) {
    const Slot next{add(b, a[j], c[j]), constant_word(j, bits)};
    const bool values_needed = j + 1 < n;
    std::vector<Bit> larger;  // next beats slot i; monotone along the list
    for (const Slot& slot : list) larger.push_back(less_than_signed(b, slot.value, next.value));
    const std::size_t size = std::min<std::size_t>(list.size() + 1, k);
    std::vector<Slot> out(size);
    for (std::size_t i = 0; i < size; ++i) {
      // Slot i takes slot i - 1 if the new class beat that one, else the new class if it beat
      // slot i (an empty slot is always beaten), else keeps its own.
      const auto pick = [&](auto member) {
        Word w = next.*member;
        if (i > 0) w = mux(b, larger[i - 1], w, list[i - 1].*member);
        if (i < list.size()) w = mux(b, larger[i], list[i].*member, w);
        return w;
      };
      out[i].index = pick(&Slot::index);
      if (values_needed) out[i].value = pick(&Slot::value);
    }
    list = std::move(out);
  }
  for (unsigned i = 0; i < k; ++i) {
    Word y(l, Bit::constant(false));
    for (unsigned t = 0; t < bits; ++t) y[t] = list[i].index[t];
    b.output_word(sub(b, y, r[i]));
  }
  NonlinearCircuit out;
  out.circuit = b.build();
  out.ring_bits = l;
  out.frac_bits = 0;
  out.elements = n;
  out.outputs = k;
  return out;
}

uint64_t top_k_and_count(unsigned l, unsigned n, unsigned k) {
  return top_k_circuit(l, n, k).circuit.and_count();
}

std::vector<uint64_t> top_k_reference(const Ring& ring, std::span<const uint64_t> a,
                                      std::span<const uint64_t> c, std::span<const uint64_t> r) {
  PINFER_ASSERT(a.size() == c.size() && !r.empty() && r.size() <= a.size());
  std::vector<std::size_t> order(a.size());
  for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
  const auto value = [&](std::size_t j) { return ring.to_signed(ring.add(a[j], c[j])); };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return value(x) > value(y); });
  std::vector<uint64_t> out(r.size());
  for (std::size_t i = 0; i < r.size(); ++i) out[i] = ring.sub(ring.reduce(order[i]), r[i]);
  return out;
}

NonlinearCircuit relu_step_circuit(unsigned ring_bits, unsigned frac_bits) {
  check_params(ring_bits, frac_bits);
  return build(ring_bits, frac_bits, 1);
}

NonlinearCircuit maxpool_relu_circuit(unsigned ring_bits, unsigned frac_bits, unsigned k) {
  check_params(ring_bits, frac_bits);
  if (k < 1 || k > 16) {
    throw InvalidArgument("maxpool window k " + std::to_string(k) + " outside [1, 16]");
  }
  return build(ring_bits, frac_bits, k * k);
}

uint64_t relu_step_and_count(unsigned l, unsigned f) {
  return uint64_t{3} * l - f - 3;
}

uint64_t maxpool_relu_and_count(unsigned l, unsigned f, unsigned k) {
  const uint64_t n = uint64_t{k} * k;
  return n * (l - 1) + (n - 1) * 2 * (l - f) + (l - f - 1) + (l - 1);
}

uint64_t relu_step_reference(const Ring& ring, unsigned f, uint64_t a, uint64_t c, uint64_t r) {
  const uint64_t t = ring.shift_right_arith(ring.add(a, c), f);
  const uint64_t y = ring.to_signed(t) > 0 ? t : 0;
  return ring.sub(y, r);
}

uint64_t maxpool_relu_reference(const Ring& ring, unsigned f, std::span<const uint64_t> a,
                                std::span<const uint64_t> c, uint64_t r) {
  PINFER_ASSERT(a.size() == c.size() && !a.empty());
  int64_t best = 0;  // ReLU: the maximum with 0
  for (std::size_t j = 0; j < a.size(); ++j) {
    best = std::max(best, ring.to_signed(ring.shift_right_arith(ring.add(a[j], c[j]), f)));
  }
  return ring.sub(ring.from_signed(best), r);
}

}  // namespace pinfer::gc
