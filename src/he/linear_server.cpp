// Server side of a linear layer: Enc(r) -> Enc(W r - s), with circuit privacy (docs/HE.md).
#include <string>

#include "he/context_impl.hpp"
#include "he/linear_layout.hpp"
#include "he/linear_parts.hpp"
#include "he/linear_wire.hpp"
#include "he/pow2_switch.hpp"
#include "he/sampling.hpp"
#include "pinfer/core/bit_packing.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/he/linear.hpp"

namespace pinfer::he {

namespace detail {

// A parsed query of one part: c0 and the expanded c1 of every input ciphertext, NTT form.
struct PartQuery {
  std::size_t n = 0, limbs = 0;
  std::vector<uint64_t> c0;  // [ct][limb][N], NTT form
  std::vector<uint64_t> c1;  // expanded uniform part, same layout
  [[nodiscard]] const uint64_t* c0_at(std::size_t ct, std::size_t i) const {
    return c0.data() + (ct * limbs + i) * n;
  }
  [[nodiscard]] const uint64_t* c1_at(std::size_t ct, std::size_t i) const {
    return c1.data() + (ct * limbs + i) * n;
  }
};

}  // namespace detail

struct LinearServer::ParsedQuery {
  std::vector<detail::PartQuery> parts;  // one per part of the layer (linear_parts.hpp)
};

namespace detail {

// One part of a layer (the whole layer unless row-split, linear_parts.hpp).
struct PartServer {
  // The context's precomputation lives on the heap, so moving the Context keeps this valid.
  const ContextImpl* ctx = nullptr;
  LinearGeometry geometry;                                               // the part's own geometry
  LinearPlan plan;                                                       // never split
  std::size_t in_row0 = 0, full_in_h = 0, out_row0 = 0, full_out_h = 0;  // Layout offsets
  // The model is the server's secret: weights and their encodings live in wiping buffers.
  std::span<const uint64_t> weights;           // the layer's, owned by LinearServerImpl
  std::vector<SecretBuffer<uint64_t>> cached;  // [group * n_cblocks + cb] -> L x N NTT form
  std::vector<std::size_t> ct_offset;          // byte offset of each output ciphertext
  std::vector<u128> f_a, f_b;                  // floor(2^(k+64) / p_i) for k = a, b

  [[nodiscard]] Layout layout() const {
    return Layout{plan, geometry, in_row0, full_in_h, out_row0, full_out_h};
  }

  // The stacked weight polynomial of (group, cb) in NTT form, L limbs of N (docs/HE.md, eq. 2).
  void weight_ntt(std::size_t group, std::size_t cb, uint64_t* out) const {
    const ContextImpl& c = *ctx;
    const Layout lay = layout();
    const std::size_t n = ctx->params.poly_degree, L = plan.limbs;
    const unsigned l = ctx->params.plain_bits;
    SecretBuffer<int64_t> poly(n);
    const std::size_t base = lay.out_offset(), area = lay.area(), n_in = lay.n_in();
    for (std::size_t oi = 0; oi < plan.mg; ++oi) {
      const std::size_t o = group * plan.mg + oi;
      if (o >= plan.out_channels) break;
      for (std::size_t ci = 0; ci < plan.cw; ++ci) {
        const std::size_t cp = cb * plan.cw + ci;
        if (cp >= plan.channels) break;
        for (std::size_t i = 0; i < plan.kernel_h; ++i) {
          for (std::size_t j = 0; j < plan.kernel_w; ++j) {
            const int64_t wi = lay.weight_index(o, cp, i, j);
            if (wi < 0) continue;
            const uint64_t w = weights[static_cast<std::size_t>(wi)];
            // Centered representative in [-2^(l-1), 2^(l-1)) keeps the noise bound small.
            const int64_t centered = static_cast<int64_t>(w << (64 - l)) >> (64 - l);
            poly[oi * n_in + base - (ci * area + i * plan.ib_w + j)] = centered;
          }
        }
      }
    }
    for (std::size_t li = 0; li < L; ++li) {
      uint64_t* dst = out + li * n;
      const uint64_t p = c.params.primes[li];
      for (std::size_t j = 0; j < n; ++j) {
        dst[j] = lift_signed(poly[j], p);  // |w| < 2^43 < p
      }
      c.ntt[li].forward({dst, n});
    }
  }
};

namespace {

void mac(const ContextImpl& c, std::size_t i, uint64_t* acc, const uint64_t* a, const uint64_t* b,
         std::size_t n) {
  if (c.path == NttPath::ifma) {
    dyadic_mac_ifma(c.barrett[i], acc, a, b, n);
  } else {
    dyadic_mac_portable(c.barrett[i], acc, a, b, n);
  }
}

}  // namespace

struct LinearServerImpl {
  const ContextImpl* ctx = nullptr;
  LinearGeometry geometry;
  LinearPlan plan;                  // of the whole layer (totals if split)
  SecretBuffer<uint64_t> weights;   // as given, each < 2^l
  std::vector<LinearPart> parts;    // offsets of each part's query, response and groups
  std::vector<PartServer> servers;  // one per part
  std::size_t cached_bytes = 0;     // NTT-form weight polynomials kept (LinearServerOptions)
};

}  // namespace detail

LinearServer::LinearServer(const Context& ctx, const LinearGeometry& g,
                           std::span<const uint64_t> weights, LinearServerOptions options)
    : impl_(std::make_unique<detail::LinearServerImpl>()) {
  auto& top = *impl_;
  top.ctx = &ctx.impl();
  top.geometry = g;
  top.plan = plan_linear(ctx, g);
  top.parts = detail::plan_parts(ctx, g);
  if (weights.size() != linear_weight_size(g)) {
    throw InvalidArgument("layer weights have " + std::to_string(weights.size()) +
                          " elements, geometry needs " + std::to_string(linear_weight_size(g)));
  }
  const uint64_t tmask = ctx.ring().mask();
  uint64_t unreduced = 0;  // no early exit on secret weights
  for (uint64_t w : weights) unreduced |= w & ~tmask;
  if (unreduced != 0) throw InvalidArgument("layer weights must be reduced modulo 2^l");
  top.weights = SecretBuffer<uint64_t>(weights.size());
  std::copy(weights.begin(), weights.end(), top.weights.begin());
  const std::size_t n = ctx.n();
  std::size_t cache_budget = options.max_cached_weight_bytes;
  for (const detail::LinearPart& part : top.parts) {
    detail::PartServer& s = top.servers.emplace_back();
    s.ctx = &ctx.impl();
    s.geometry = part.geometry;
    s.plan = part.plan;
    if (const auto* cv = std::get_if<ConvGeometry>(&g)) {
      s.in_row0 = part.in_row0;
      s.full_in_h = cv->in_h;
      s.out_row0 = part.out_row0;
      s.full_out_h = cv->out_h();
    }
    s.weights = top.weights.span();
    const LinearPlan& p = s.plan;
    const std::size_t poly_bytes = p.limbs * n * sizeof(uint64_t);
    const std::size_t total = p.n_groups * p.n_cblocks;
    s.cached.resize(total);
    const std::size_t cache_count = std::min(total, cache_budget / poly_bytes);
    cache_budget -= cache_count * poly_bytes;
    top.cached_bytes += cache_count * poly_bytes;
    for (std::size_t k = 0; k < cache_count; ++k) {
      s.cached[k] = SecretBuffer<uint64_t>(p.limbs * n);
      s.weight_ntt(k / p.n_cblocks, k % p.n_cblocks, s.cached[k].data());
    }
    const detail::Layout lay = s.layout();
    std::size_t off = detail::kResponseHeaderBytes;
    for (std::size_t gi = 0; gi < p.n_groups; ++gi) {
      for (std::size_t hb = 0; hb < p.n_hblocks; ++hb) {
        for (std::size_t wb = 0; wb < p.n_wblocks; ++wb) {
          s.ct_offset.push_back(off);
          off += packed_size_bytes(n, p.c1_bits) +
                 packed_size_bytes(lay.useful_count(gi, hb, wb), p.c0_bits);
        }
      }
    }
    PINFER_ASSERT(off == p.response_bytes);
    for (std::size_t i = 0; i < p.limbs; ++i) {
      s.f_a.push_back(detail::pow2_scale_factor(ctx.impl().params.primes[i], p.c0_bits));
      s.f_b.push_back(detail::pow2_scale_factor(ctx.impl().params.primes[i], p.c1_bits));
    }
  }
}

LinearServer::~LinearServer() = default;
LinearServer::LinearServer(LinearServer&&) noexcept = default;
LinearServer& LinearServer::operator=(LinearServer&&) noexcept = default;

const LinearPlan& LinearServer::plan() const noexcept {
  return impl_->plan;
}

std::size_t LinearServer::cached_weight_bytes() const noexcept {
  return impl_->cached_bytes;
}

namespace {

// Parses the query of one part (exactly s.plan.query_bytes bytes).
detail::PartQuery parse_part(const detail::PartServer& s, std::span<const std::byte> query) {
  const detail::ContextImpl& c = *s.ctx;
  const LinearPlan& p = s.plan;
  PINFER_ASSERT(query.size() == p.query_bytes);
  ByteReader rd(query);
  rd.expect_u32(detail::kQueryMagic, "query magic");
  rd.expect_u32(detail::kWireVersion, "query version");
  if (rd.u64("query fingerprint") != p.fingerprint) {
    throw FormatError("linear query is for another layer or parameter set (fingerprint)");
  }
  const uint32_t limbs = rd.u32("query limbs");
  const uint32_t cts = rd.u32("query ciphertext count");
  if (limbs != p.limbs || cts != p.input_cts) {
    throw FormatError("query shape (" + std::to_string(limbs) + " limbs, " + std::to_string(cts) +
                      " ciphertexts) does not match the layer (" + std::to_string(p.limbs) + ", " +
                      std::to_string(p.input_cts) + ")");
  }
  const Block seed = rd.block("query seed");
  const std::size_t n = s.ctx->params.poly_degree;
  detail::PartQuery q;
  q.n = n;
  q.limbs = p.limbs;
  q.c0.resize(p.input_cts * p.limbs * n);
  q.c1.resize(p.input_cts * p.limbs * n);
  const std::byte* src = query.data() + detail::kQueryHeaderBytes;
  const unsigned k = p.query_drop_bits;
  const detail::U256 max_v = detail::u256_add(
      detail::u256_shr(detail::u256_sub(c.prefix[p.limbs - 1].q, detail::U256{{1, 0, 0, 0}}), k),
      detail::U256{{1, 0, 0, 0}});
  for (std::size_t ct = 0; ct < p.input_cts; ++ct) {
    // c0 = v * 2^k mod Q_L, v < 2^bits and v <= max_v (else the query is malformed).
    BitReader br(src, packed_size_bytes(n, p.query_coeff_bits));
    for (std::size_t j = 0; j < n; ++j) {
      const detail::U256 v = detail::get_wide(br, p.query_coeff_bits);
      if (detail::u256_less(max_v, v)) {
        throw FormatError("query ciphertext " + std::to_string(ct) + " coefficient " +
                          std::to_string(j) + " exceeds the modulus");
      }
      for (std::size_t i = 0; i < p.limbs; ++i) {
        const uint64_t prime = c.params.primes[i];
        uint64_t acc = 0;
        for (std::size_t w = 0; w < 4; ++w) {
          const uint64_t part = detail::reduce64(v.w[w], prime, c.ratio64[i]);
          acc = detail::reduce_once(
              acc + detail::reduce_once(
                        detail::mul_shoup_lazy(part, c.pow64[i][w], c.pow64_q[i][w], prime), prime),
              prime);
        }
        q.c0[(ct * p.limbs + i) * n + j] = acc;
      }
    }
    src += packed_size_bytes(n, p.query_coeff_bits);
    Prg a_prg = Prg::from_seed(seed, ct);
    for (std::size_t i = 0; i < p.limbs; ++i) {
      const uint64_t prime = c.params.primes[i];
      uint64_t* c0 = q.c0.data() + (ct * p.limbs + i) * n;
      const uint64_t scale = detail::pow_mod(2, k, prime);
      const uint64_t scale_q = detail::shoup52(scale, prime);
      for (std::size_t j = 0; j < n; ++j) {
        c0[j] = detail::reduce_once(detail::mul_shoup_lazy(c0[j], scale, scale_q, prime), prime);
      }
      c.ntt[i].forward({c0, n});
      detail::sample_uniform_mod(a_prg, prime, {q.c1.data() + (ct * p.limbs + i) * n, n});
    }
  }
  return q;
}

// Evaluates output group `group` of one part into its response bytes (header at offset 0).
void evaluate_part_group(const detail::PartServer& s, const detail::PartQuery& q,
                         const PublicKey& pk, std::size_t group, Prg& prg,
                         std::span<std::byte> response, std::span<uint64_t> s_out) {
  const detail::ContextImpl& c = *s.ctx;
  const LinearPlan& p = s.plan;
  const detail::Layout lay = s.layout();
  const std::size_t n = s.ctx->params.poly_degree, L = p.limbs;
  const uint64_t tmask = (uint64_t{1} << s.ctx->params.plain_bits) - 1;
  const std::size_t n_sp = p.n_hblocks * p.n_wblocks;
  PINFER_ASSERT(group < p.n_groups && q.limbs == L && pk.n() == n);

  // acc[sb][0 or 1][limb][N]: the products summed over channel blocks, NTT form.
  SecretBuffer<uint64_t> acc(n_sp * 2 * L * n);  // W-dependent until flooded
  auto acc_at = [&](std::size_t sb, std::size_t part, std::size_t i) {
    return acc.data() + ((sb * 2 + part) * L + i) * n;
  };
  SecretBuffer<uint64_t> wbuf;
  for (std::size_t cb = 0; cb < p.n_cblocks; ++cb) {
    const SecretBuffer<uint64_t>& cached = s.cached[group * p.n_cblocks + cb];
    const uint64_t* w = cached.data();
    if (cached.empty()) {
      if (wbuf.empty()) wbuf = SecretBuffer<uint64_t>(L * n);
      s.weight_ntt(group, cb, wbuf.data());
      w = wbuf.data();
    }
    for (std::size_t hb = 0; hb < p.n_hblocks; ++hb) {
      for (std::size_t wb = 0; wb < p.n_wblocks; ++wb) {
        const std::size_t sb = hb * p.n_wblocks + wb, ct = lay.input_ct(cb, hb, wb);
        for (std::size_t i = 0; i < L; ++i) {
          detail::mac(c, i, acc_at(sb, 0, i), q.c0_at(ct, i), w + i * n, n);
          detail::mac(c, i, acc_at(sb, 1, i), q.c1_at(ct, i), w + i * n, n);
        }
      }
    }
  }

  SecretBuffer<int8_t> small(n);
  SecretBuffer<uint64_t> u_ntt(n);
  std::vector<uint64_t> c1_out(n);
  SecretBuffer<uint64_t> coins(n);  // rounding coins of the c1 switch
  std::vector<uint64_t> c0_out;
  SecretBuffer<uint64_t> flood_words;
  const unsigned fbits = p.flood_log2 + 1;  // flood uniform in [-2^f, 2^f): f + 1 random bits
  uint64_t flood_half[16];                  // 2^f mod p_i
  for (std::size_t i = 0; i < L; ++i)
    flood_half[i] = detail::pow_mod(2, p.flood_log2, c.params.primes[i]);
  for (std::size_t hb = 0; hb < p.n_hblocks; ++hb) {
    for (std::size_t wb = 0; wb < p.n_wblocks; ++wb) {
      const std::size_t sb = hb * p.n_wblocks + wb;
      // Re-randomise with a fresh public-key encryption of zero: + (u*b_pk + e1, u*a_pk + e2).
      detail::sample_ternary(prg, small.span());
      for (std::size_t i = 0; i < L; ++i) {
        const uint64_t prime = c.params.primes[i];
        for (std::size_t j = 0; j < n; ++j) u_ntt[j] = detail::lift_signed(small[j], prime);
        c.ntt[i].forward(u_ntt.span());
        detail::mac(c, i, acc_at(sb, 0, i), u_ntt.data(), pk.b_ntt().data() + i * n, n);
        detail::mac(c, i, acc_at(sb, 1, i), u_ntt.data(), pk.a_ntt().data() + i * n, n);
        c.ntt[i].inverse({acc_at(sb, 0, i), n});
        c.ntt[i].inverse({acc_at(sb, 1, i), n});
      }
      detail::sample_cbd21(prg, small.span());  // e2, on every c1 coefficient
      const uint64_t* c1_limbs[16];
      const uint64_t* c0_limbs[16];
      for (std::size_t i = 0; i < L; ++i) {
        const uint64_t prime = c.params.primes[i];
        uint64_t* c1 = acc_at(sb, 1, i);
        for (std::size_t j = 0; j < n; ++j) {
          c1[j] = detail::reduce_once(c1[j] + detail::lift_signed(small[j], prime), prime);
        }
        c1_limbs[i] = c1;
        c0_limbs[i] = acc_at(sb, 0, i);
      }
      // c1 to 2^b with randomised rounding: the rounding errors are independent and zero-mean,
      // so their effect on decryption obeys the Hoeffding bound the plan uses (docs/HE.md, eq. 7).
      prg.fill_bytes(std::as_writable_bytes(coins.span()));
      for (std::size_t j = 0; j < n; ++j) {
        c1_out[j] =
            detail::switch_to_pow2_randomized(c, L, c1_limbs, j, s.f_b.data(), p.c1_bits, coins[j]);
      }
      // Revealed c0 coefficients: + e1 + flood - round(Q s / t); all others are dropped.
      const std::size_t useful = lay.useful_count(group, hb, wb);
      c0_out.resize(useful);
      detail::sample_cbd21(prg, small.span());  // e1 (first `useful` entries used)
      if (flood_words.size() < 2 * useful) flood_words = SecretBuffer<uint64_t>(2 * useful);
      prg.fill_bytes(std::as_writable_bytes(flood_words.span().first(2 * useful)));
      std::size_t k = 0;
      lay.for_each_output(group, hb, wb, [&](std::size_t pos, std::size_t idx) {
        const uint64_t mask_s = prg.next_u64() & tmask;
        s_out[idx] = mask_s;
        const uint64_t neg_s = (0 - mask_s) & tmask;
        const uint64_t lo = flood_words[2 * k];
        const uint64_t hi =
            fbits > 64 ? flood_words[2 * k + 1] & ((uint64_t{1} << (fbits - 64)) - 1) : 0;
        const uint64_t lo_m = fbits >= 64 ? lo : lo & ((uint64_t{1} << fbits) - 1);
        uint64_t vals[16];
        for (std::size_t i = 0; i < L; ++i) {
          const uint64_t prime = c.params.primes[i];
          // flood = z - 2^f with z uniform in [0, 2^(f+1)): z mod p - 2^f mod p.
          const uint64_t z = detail::reduce_once(
              detail::mul_mod(detail::reduce64(hi, prime, c.ratio64[i]), c.two64_mod[i], prime) +
                  detail::reduce64(lo_m, prime, c.ratio64[i]),
              prime);
          uint64_t v = detail::reduce_once(z + prime - flood_half[i], prime);
          v = detail::reduce_once(v + detail::lift_signed(small[k], prime), prime);
          v = detail::reduce_once(v + detail::encode_scaled(c, L, i, neg_s), prime);
          v = detail::reduce_once(v + c0_limbs[i][pos], prime);
          vals[i] = v;
        }
        const uint64_t* vl[16];
        for (std::size_t i = 0; i < L; ++i) vl[i] = &vals[i];
        c0_out[k] = detail::switch_to_pow2(c, L, vl, 0, s.f_a.data(), p.c0_bits);
        ++k;
      });
      std::byte* dst = response.data() + s.ct_offset[group * n_sp + sb];
      pack_values(std::span(c1_out.data(), n), p.c1_bits,
                  std::span(dst, packed_size_bytes(n, p.c1_bits)));
      dst += packed_size_bytes(n, p.c1_bits);
      pack_values(std::span(c0_out.data(), useful), p.c0_bits,
                  std::span(dst, packed_size_bytes(useful, p.c0_bits)));
    }
  }
}

}  // namespace

std::shared_ptr<const LinearServer::ParsedQuery> LinearServer::parse_query(
    std::span<const std::byte> query) const {
  const auto& top = *impl_;
  if (query.size() != top.plan.query_bytes) {
    throw FormatError("linear query has " + std::to_string(query.size()) +
                      " bytes, this layer's query has exactly " +
                      std::to_string(top.plan.query_bytes));
  }
  auto q = std::make_shared<ParsedQuery>();
  for (std::size_t k = 0; k < top.parts.size(); ++k) {
    const detail::LinearPart& part = top.parts[k];
    q->parts.push_back(
        parse_part(top.servers[k], query.subspan(part.query_offset, part.plan.query_bytes)));
  }
  return q;
}

void LinearServer::write_response_header(std::span<std::byte> response) const {
  const auto& top = *impl_;
  PINFER_ASSERT(response.size() == top.plan.response_bytes);
  for (const detail::LinearPart& part : top.parts) {
    ByteWriter w;
    w.u32(detail::kResponseMagic);
    w.u32(detail::kWireVersion);
    w.u64(part.plan.fingerprint);
    w.u32(static_cast<uint32_t>(part.plan.output_cts));
    std::copy(w.data().begin(), w.data().end(), response.begin() + part.response_offset);
  }
}

void LinearServer::evaluate_group(const ParsedQuery& q, const PublicKey& pk, std::size_t group,
                                  Prg& prg, std::span<std::byte> response,
                                  std::span<uint64_t> s_out) const {
  const auto& top = *impl_;
  PINFER_ASSERT(group < top.plan.n_groups && q.parts.size() == top.parts.size());
  std::size_t k = 0;
  while (group >= top.parts[k].group_offset + top.parts[k].plan.n_groups) ++k;
  const detail::LinearPart& part = top.parts[k];
  evaluate_part_group(top.servers[k], q.parts[k], pk, group - part.group_offset, prg,
                      response.subspan(part.response_offset, part.plan.response_bytes), s_out);
}

std::vector<std::byte> LinearServer::evaluate(std::span<const std::byte> query, const PublicKey& pk,
                                              Prg& prg, std::span<uint64_t> s_out) const {
  const LinearPlan& p = impl_->plan;
  if (s_out.size() != linear_output_size(impl_->geometry)) {
    throw InvalidArgument("mask output has " + std::to_string(s_out.size()) +
                          " elements, layer output has " +
                          std::to_string(linear_output_size(impl_->geometry)));
  }
  if (pk.n() != impl_->ctx->params.poly_degree || pk.b_ntt().size() < p.limbs * pk.n()) {
    throw InvalidArgument("public key does not belong to this context");
  }
  const auto q = parse_query(query);
  std::vector<std::byte> response(p.response_bytes);
  write_response_header(response);
  for (std::size_t gi = 0; gi < p.n_groups; ++gi) evaluate_group(*q, pk, gi, prg, response, s_out);
  return response;
}

}  // namespace pinfer::he
