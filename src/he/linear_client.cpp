// Client side of a linear layer: Enc(r) and decryption of Enc(W r - s).
#include <string>

#include "he/context_impl.hpp"
#include "he/linear_layout.hpp"
#include "he/linear_parts.hpp"
#include "he/linear_wire.hpp"
#include "he/pow2_switch.hpp"
#include "he/sampling.hpp"
#include "he/wide_int.hpp"
#include "pinfer/core/bit_packing.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/core/serialization.hpp"
#include "pinfer/he/linear.hpp"

namespace pinfer::he {
namespace {

using detail::ContextImpl;
using detail::u128;

void dyadic_mul(const ContextImpl& c, std::size_t i, uint64_t* out, const uint64_t* a,
                const uint64_t* b, std::size_t n) {
  if (c.path == NttPath::ifma) {
    detail::dyadic_mul_ifma(c.barrett[i], out, a, b, n);
  } else {
    detail::dyadic_mul_portable(c.barrett[i], out, a, b, n);
  }
}

}  // namespace

namespace detail {

void c1_times_secret(const ContextImpl& c, const ClientKeys& keys, std::span<const uint64_t> c1,
                     std::span<uint64_t> out) {
  const std::size_t n = c1.size();
  PINFER_ASSERT(c.params.primes.size() >= 2 && out.size() == n);
  const uint64_t p0 = c.params.primes[0], p1 = c.params.primes[1];
  const uint64_t p0_inv = inv_mod(p0 % p1, p1);
  const uint64_t p0_inv_q = shoup52(p0_inv, p1);
  const u128 p01 = static_cast<u128>(p0) * p1;
  SecretBuffer<uint64_t> z0(n), z1(n);
  for (std::size_t j = 0; j < n; ++j) {
    z0[j] = reduce64(c1[j], p0, c.ratio64[0]);
    z1[j] = reduce64(c1[j], p1, c.ratio64[1]);
  }
  c.ntt[0].forward(z0.span());
  c.ntt[1].forward(z1.span());
  dyadic_mul(c, 0, z0.data(), z0.data(), keys.secret_ntt().data(), n);
  dyadic_mul(c, 1, z1.data(), z1.data(), keys.secret_ntt().data() + n, n);
  c.ntt[0].inverse(z0.span());
  c.ntt[1].inverse(z1.span());
  for (std::size_t j = 0; j < n; ++j) {
    // Garner: x = z0 + p0 * ((z1 - z0) p0^-1 mod p1) in [0, p0 p1), then centered.
    const uint64_t d = reduce_once(z1[j] + p1 - reduce64(z0[j], p1, c.ratio64[1]), p1);
    const uint64_t k = reduce_once(mul_shoup_lazy(d, p0_inv, p0_inv_q, p1), p1);
    const u128 x = static_cast<u128>(k) * p0 + z0[j];
    const u128 wrap = p01 & (static_cast<u128>(0) - static_cast<u128>(x > p01 / 2));
    out[j] = static_cast<uint64_t>(x - wrap);
  }
}

}  // namespace detail

namespace {

// The query of one part (its own header and ciphertexts) into out (plan.query_bytes bytes).
// Secret: keys, r, prg.
void encrypt_part(const Context& ctx, const ClientKeys& keys, const LinearPlan& plan,
                  const detail::Layout& lay, std::span<const uint64_t> r, Prg& prg,
                  std::span<std::byte> out) {
  const ContextImpl& c = ctx.impl();
  const uint64_t tmask = ctx.ring().mask();
  const std::size_t n = ctx.n(), L = plan.limbs;
  const Block seed = prg.next_block();
  PINFER_ASSERT(out.size() == plan.query_bytes);
  {
    ByteWriter w;
    w.u32(detail::kQueryMagic);
    w.u32(detail::kWireVersion);
    w.u64(plan.fingerprint);
    w.u32(static_cast<uint32_t>(L));
    w.u32(static_cast<uint32_t>(plan.input_cts));
    w.block(seed);
    PINFER_ASSERT(w.size() == detail::kQueryHeaderBytes);
    std::copy(w.data().begin(), w.data().end(), out.begin());
  }
  std::byte* dst = out.data() + detail::kQueryHeaderBytes;

  SecretBuffer<uint64_t> m(n);
  SecretBuffer<int8_t> e(n);
  SecretBuffer<uint64_t> v(n);
  SecretBuffer<uint64_t> round_u(n);
  SecretBuffer<uint64_t> round_k(n);
  std::vector<uint64_t> c0_all(L * n);
  std::vector<uint64_t> a(n);
  SecretBuffer<uint64_t> as(n);  // a * s reveals s
  const std::size_t area = lay.area();
  for (std::size_t cb = 0; cb < plan.n_cblocks; ++cb) {
    for (std::size_t hb = 0; hb < plan.n_hblocks; ++hb) {
      for (std::size_t wb = 0; wb < plan.n_wblocks; ++wb) {
        std::fill(m.begin(), m.end(), 0);
        for (std::size_t ci = 0; ci < plan.cw; ++ci) {
          for (std::size_t y = 0; y < plan.ib_h; ++y) {
            for (std::size_t z = 0; z < plan.ib_w; ++z) {
              const int64_t idx =
                  lay.input_index(cb * plan.cw + ci, hb * plan.ob_h + y, wb * plan.ob_w + z);
              if (idx >= 0) m[ci * area + y * plan.ib_w + z] = r[static_cast<std::size_t>(idx)];
            }
          }
        }
        detail::sample_cbd21(prg, e.span());
        prg.fill_bytes(std::as_writable_bytes(round_u.span()));
        for (auto& u : round_u) u &= tmask;
        Prg a_prg = Prg::from_seed(seed, lay.input_ct(cb, hb, wb));
        for (std::size_t i = 0; i < L; ++i) {
          const uint64_t p = c.params.primes[i];
          // c0 = NTT(round(Q m / t) + e) - a * s, in NTT form (a is uniform in NTT form).
          for (std::size_t j = 0; j < n; ++j) {
            const uint64_t x = detail::encode_scaled_randomized(c, L, i, m[j], round_u[j]) +
                               detail::lift_signed(e[j], p);
            v[j] = detail::reduce_once(x, p);
          }
          c.ntt[i].forward(v.span());
          detail::sample_uniform_mod(a_prg, p, a);
          dyadic_mul(c, i, as.data(), a.data(), keys.secret_ntt().data() + i * n, n);
          // c0 in coefficient form (for the compression below).
          uint64_t* c0_i = c0_all.data() + i * n;
          for (std::size_t j = 0; j < n; ++j) c0_i[j] = detail::reduce_once(v[j] + p - as[j], p);
          c.ntt[i].inverse({c0_i, n});
        }
        // Compress: compose c0 mod Q_L, send round(c0 / 2^k) with randomised rounding (the
        // rounding error joins the encryption noise, docs/HE.md section 4).
        const unsigned k = plan.query_drop_bits;
        const detail::PrefixConstants& pc = c.prefix[L - 1];
        prg.fill_bytes(std::as_writable_bytes(round_k.span()));
        BitWriter bw(dst);
        for (std::size_t j = 0; j < n; ++j) {
          detail::U256 x;
          for (std::size_t i = 0; i < L; ++i) {
            const uint64_t p = c.params.primes[i];
            const uint64_t y = detail::reduce_once(
                detail::mul_shoup_lazy(c0_all[i * n + j], pc.qhat_inv[i], pc.qhat_inv_q[i], p), p);
            x = detail::u256_add(x, detail::u256_mul_u64(pc.qhat[i], y));
          }
          while (!detail::u256_less(x, pc.q)) x = detail::u256_sub(x, pc.q);  // public value
          detail::U256 vq = detail::u256_shr(x, k);
          if (k > 0) {
            const uint64_t low = x.w[0] & ((uint64_t{1} << k) - 1);
            const uint64_t coin = round_k[j] & ((uint64_t{1} << k) - 1);
            vq = detail::u256_add(vq, detail::U256{{(coin - low) >> 63, 0, 0, 0}});  // coin < low
          }
          detail::put_wide(bw, vq, plan.query_coeff_bits);
        }
        bw.flush();
        dst += packed_size_bytes(n, plan.query_coeff_bits);
      }
    }
  }
  PINFER_ASSERT(dst == out.data() + out.size());
}

// Decrypts the response of one part (plan.response_bytes bytes) into its rows of out.
void decrypt_part(const Context& ctx, const ClientKeys& keys, const LinearPlan& plan,
                  const detail::Layout& lay, std::span<const std::byte> response,
                  std::span<uint64_t> out) {
  const ContextImpl& c = ctx.impl();
  if (response.size() != plan.response_bytes) {
    throw FormatError("linear response part has " + std::to_string(response.size()) +
                      " bytes, expected " + std::to_string(plan.response_bytes));
  }
  ByteReader rd(response);
  rd.expect_u32(detail::kResponseMagic, "response magic");
  rd.expect_u32(detail::kWireVersion, "response version");
  if (rd.u64("response fingerprint") != plan.fingerprint) {
    throw FormatError("linear response is for another layer or parameter set (fingerprint)");
  }
  const uint32_t cts = rd.u32("response ciphertext count");
  if (cts != plan.output_cts) {
    throw FormatError("response ciphertext count " + std::to_string(cts) +
                      " != " + std::to_string(plan.output_cts));
  }
  const std::byte* src = response.data() + detail::kResponseHeaderBytes;

  const std::size_t n = ctx.n();

  std::vector<uint64_t> c1(n), c0;
  SecretBuffer<uint64_t> prod(n);
  for (std::size_t gi = 0; gi < plan.n_groups; ++gi) {
    for (std::size_t hb = 0; hb < plan.n_hblocks; ++hb) {
      for (std::size_t wb = 0; wb < plan.n_wblocks; ++wb) {
        unpack_values(std::span(src, packed_size_bytes(n, plan.c1_bits)), plan.c1_bits,
                      std::span(c1.data(), n));
        src += packed_size_bytes(n, plan.c1_bits);
        const std::size_t useful = lay.useful_count(gi, hb, wb);
        c0.resize(useful);
        unpack_values(std::span(src, packed_size_bytes(useful, plan.c0_bits)), plan.c0_bits,
                      std::span(c0.data(), useful));
        src += packed_size_bytes(useful, plan.c0_bits);
        detail::c1_times_secret(c, keys, c1, prod.span());
        std::size_t k = 0;
        lay.for_each_output(gi, hb, wb, [&](std::size_t pos, std::size_t idx) {
          out[idx] =
              detail::decode_pow2(c0[k++], prod[pos], plan.c0_bits, plan.c1_bits, ctx.plain_bits());
        });
      }
    }
  }
}

// The Layout of one part: its rows within the whole layer's input and output.
detail::Layout part_layout(const detail::LinearPart& part, const LinearGeometry& g) {
  detail::Layout lay{part.plan, part.geometry};
  if (const auto* cv = std::get_if<ConvGeometry>(&g)) {
    lay.in_row0 = part.in_row0;
    lay.full_in_h = cv->in_h;
    lay.out_row0 = part.out_row0;
    lay.full_out_h = cv->out_h();
  }
  return lay;
}

}  // namespace

std::vector<std::byte> encrypt_linear_input(const Context& ctx, const ClientKeys& keys,
                                            const LinearGeometry& g, std::span<const uint64_t> r,
                                            Prg& prg) {
  const std::vector<detail::LinearPart> parts = detail::plan_parts(ctx, g);
  if (r.size() != linear_input_size(g)) {
    throw InvalidArgument("linear input has " + std::to_string(r.size()) +
                          " elements, layer needs " + std::to_string(linear_input_size(g)));
  }
  const uint64_t tmask = ctx.ring().mask();
  uint64_t bad = 0;
  for (uint64_t v : r) bad |= v & ~tmask;
  if (bad != 0) throw InvalidArgument("linear input values must be reduced modulo 2^l");
  std::vector<std::byte> out(parts.back().query_offset + parts.back().plan.query_bytes);
  for (const detail::LinearPart& part : parts) {
    encrypt_part(ctx, keys, part.plan, part_layout(part, g), r, prg,
                 std::span(out).subspan(part.query_offset, part.plan.query_bytes));
  }
  return out;
}

std::vector<uint64_t> decrypt_linear_output(const Context& ctx, const ClientKeys& keys,
                                            const LinearGeometry& g,
                                            std::span<const std::byte> response) {
  const std::vector<detail::LinearPart> parts = detail::plan_parts(ctx, g);
  const std::size_t total = parts.back().response_offset + parts.back().plan.response_bytes;
  if (response.size() != total) {
    throw FormatError("linear response has " + std::to_string(response.size()) +
                      " bytes, the layer's response has exactly " + std::to_string(total));
  }
  std::vector<uint64_t> out(linear_output_size(g));
  for (const detail::LinearPart& part : parts) {
    decrypt_part(ctx, keys, part.plan, part_layout(part, g),
                 response.subspan(part.response_offset, part.plan.response_bytes), out);
  }
  return out;
}

}  // namespace pinfer::he
