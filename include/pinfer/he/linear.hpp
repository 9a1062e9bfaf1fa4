#pragma once
// Homomorphic linear layers for the offline phase (conv2d and fully connected), coefficient
// encoding without rotations as in Cheetah (Huang, Lu, Hong, Ding, USENIX Security 2022, Sec. 3).
//
// Per layer: the client sends Enc(r) (encrypt_linear_input), the server, holding W, returns
// Enc(W r - s) (LinearServer::evaluate) and keeps the uniform mask s, the client decrypts
// W r - s mod 2^l (decrypt_linear_output). Results equal the plaintext ring computation bit for
// bit: conv2d with zero padding (cross-correlation, as in PyTorch) or matrix-vector product.
//
// Encoding (docs/HE.md): a stride-s convolution is rewritten as a stride-1 "valid" convolution
// over the s_h*s_w polyphase components of the zero-padded input. Input blocks of Cw channels x
// Hb x Wb are laid out in one polynomial; the kernels of Mg output channels are stacked at
// offsets of Cw*Hb*Wb in one plaintext polynomial, so one product yields Mg output channels of a
// spatial block at known coefficients. The tiling (Cw, Mg, block size) is chosen to minimise the
// bytes sent, deterministically from (context, geometry), so both parties agree on it; a
// convolution may also be split into two row ranges with their own tilings (LinearPlan::split_row).
//
// Privacy of the response (docs/HE.md): re-randomisation with a fresh public-key encryption of
// zero, uniform noise flooding of every revealed coefficient, unneeded c0 coefficients dropped,
// then modulus switching of c0 and c1 to powers of two just large enough to decrypt (c1 with
// randomised rounding: decryption is exact except with probability <= 2^-70 per coefficient,
// counted in the 2^-40 statistical budget, docs/HE.md sections 2 and 5).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <variant>
#include <vector>

#include "pinfer/core/prg.hpp"
#include "pinfer/he/context.hpp"
#include "pinfer/he/keys.hpp"

namespace pinfer::he {

// Output size: out_h = (in_h + pad_top + pad_bottom - kernel_h) / stride_h + 1, same for w.
struct ConvGeometry {
  std::size_t in_channels = 0, in_h = 0, in_w = 0, out_channels = 0;
  std::size_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1;
  std::size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  [[nodiscard]] std::size_t out_h() const;
  [[nodiscard]] std::size_t out_w() const;
};

struct FcGeometry {
  std::size_t in_features = 0, out_features = 0;
};

using LinearGeometry = std::variant<ConvGeometry, FcGeometry>;

// Element counts: input C*H*W (NCHW, N = 1) or in_features; output out_c*out_h*out_w or
// out_features; weights O*I*kh*kw (OIHW) or out*in (row major).
[[nodiscard]] std::size_t linear_input_size(const LinearGeometry& g);
[[nodiscard]] std::size_t linear_output_size(const LinearGeometry& g);
[[nodiscard]] std::size_t linear_weight_size(const LinearGeometry& g);

// How a layer is packed and what it costs; a pure function of (context, geometry).
struct LinearPlan {
  // The stride-1 valid convolution actually evaluated (FC: C' = in, 1x1 spatial, 1x1 kernel).
  std::size_t channels = 0, height = 0, width = 0, out_channels = 0, out_h = 0, out_w = 0;
  std::size_t kernel_h = 0, kernel_w = 0;
  std::size_t phase_h = 1, phase_w = 1;  // polyphase factors min(stride, kernel)
  // Tiling: channel block, output-channel group, output block; input block = (ob + k - 1).
  std::size_t cw = 0, mg = 0, ob_h = 0, ob_w = 0, ib_h = 0, ib_w = 0;
  std::size_t n_cblocks = 0, n_groups = 0, n_hblocks = 0, n_wblocks = 0;
  std::size_t limbs = 0;              // L: primes of the query modulus
  unsigned query_drop_bits = 0;       // k: query c0 sent as round(c0 / 2^k), randomised rounding
  unsigned query_coeff_bits = 0;      // bits per query coefficient on the wire
  std::size_t weight_terms = 0;       // nonzero weights feeding one output ct (noise bound)
  unsigned flood_log2 = 0;            // flooding noise uniform in [-2^f, 2^f)
  unsigned c0_bits = 0, c1_bits = 0;  // response moduli 2^a (c0) and 2^b (c1)
  double noise_log2 = 0;              // log2 of the worst-case noise bound before switching
  double log2_q = 0;
  // Row split (docs/HE.md, section 3): 0, or the first output row of a second part evaluated
  // with its own tiling. A split plan describes the first part's tiling and parameters; counts
  // and byte sizes are totals over both parts.
  std::size_t split_row = 0;
  std::size_t input_cts = 0, output_cts = 0, products = 0;
  std::size_t query_bytes = 0, response_bytes = 0;
  uint64_t fingerprint = 0;  // binds query/response bytes to this layer
};

// Throws InvalidArgument on an empty or inconsistent geometry, or if no parameter choice within
// the context decrypts correctly at the worst-case noise bound.
[[nodiscard]] LinearPlan plan_linear(const Context& ctx, const LinearGeometry& g);

// Client: Enc(r) for one layer. Secret: keys, r, prg. r: NCHW flattened (or [in_features]),
// each < 2^l. Throws InvalidArgument on a size mismatch or an unreduced value.
[[nodiscard]] std::vector<std::byte> encrypt_linear_input(const Context& ctx,
                                                          const ClientKeys& keys,
                                                          const LinearGeometry& g,
                                                          std::span<const uint64_t> r, Prg& prg);

// Client: decrypts a response to W r - s mod 2^l, flattened [out_c][out_h][out_w] or
// [out_features]. Throws FormatError on malformed, truncated or mismatching bytes.
[[nodiscard]] std::vector<uint64_t> decrypt_linear_output(const Context& ctx,
                                                          const ClientKeys& keys,
                                                          const LinearGeometry& g,
                                                          std::span<const std::byte> response);

struct LinearServerOptions {
  // NTT-form weight polynomials are cached up to this many bytes; the rest are transformed on
  // use (a ResNet-18 layer would need up to ~1 GB for all of them). The output is the same
  // either way; only memory and time differ.
  std::size_t max_cached_weight_bytes = std::size_t{256} << 20;
};

namespace detail {
struct LinearServerImpl;
}

// Server side of one layer: holds W (mod 2^l) encoded once. Keeps a reference to the context's
// precomputation: the Context must outlive the server (moving the Context is fine).
// Thread safety: evaluate() is const and may run concurrently from several threads (each with
// its own Prg).
class LinearServer {
 public:
  // weights: OIHW (conv) or [out][in] (FC), each < 2^l. Throws InvalidArgument.
  LinearServer(const Context& ctx, const LinearGeometry& g, std::span<const uint64_t> weights,
               LinearServerOptions options = {});
  ~LinearServer();
  LinearServer(LinearServer&&) noexcept;
  LinearServer& operator=(LinearServer&&) noexcept;

  // Secret: weights, prg, s_out. Returns Enc(W r - s); writes the uniform mask s (output layout)
  // to s_out. Throws FormatError on a malformed query, InvalidArgument if s_out has the wrong size.
  [[nodiscard]] std::vector<std::byte> evaluate(std::span<const std::byte> query,
                                                const PublicKey& pk, Prg& prg,
                                                std::span<uint64_t> s_out) const;

  [[nodiscard]] const LinearPlan& plan() const noexcept;
  // Bytes of NTT-form weights this server keeps (<= options.max_cached_weight_bytes).
  [[nodiscard]] std::size_t cached_weight_bytes() const noexcept;

  // Building blocks for layer-parallel evaluation (lphe.hpp): a parsed query, and the
  // evaluation of one output-channel group into its slice of the response.
  struct ParsedQuery;
  [[nodiscard]] std::shared_ptr<const ParsedQuery> parse_query(
      std::span<const std::byte> query) const;
  // Writes the response header into `response` (sized plan().response_bytes).
  void write_response_header(std::span<std::byte> response) const;
  // Evaluates output group `group` < plan().n_groups; writes its ciphertexts into `response`
  // and its masks into s_out. Disjoint groups touch disjoint bytes and mask entries.
  void evaluate_group(const ParsedQuery& q, const PublicKey& pk, std::size_t group, Prg& prg,
                      std::span<std::byte> response, std::span<uint64_t> s_out) const;

 private:
  std::unique_ptr<detail::LinearServerImpl> impl_;
};

}  // namespace pinfer::he
