#pragma once
// Private kernel entry points of the AES family; each lives in a file built with its ISA flags.
#include <cstddef>
#include <cstdint>

#include "pinfer/core/aes.hpp"

namespace pinfer::detail {

void aes_expand_portable(const Block& key, AesRoundKeys& rk) noexcept;
void aes_expand_aesni(const Block& key, AesRoundKeys& rk) noexcept;

void aes_ecb_openssl(const Block& key, const Block* in, Block* out, std::size_t n) noexcept;
void aes_ecb_aesni(const AesRoundKeys& rk, const Block* in, Block* out, std::size_t n) noexcept;
void aes_ecb_vaes(const AesRoundKeys& rk, const Block* in, Block* out, std::size_t n) noexcept;

void aes_ctr_openssl(const Block& key, uint64_t counter, uint64_t nonce, Block* out,
                     std::size_t n) noexcept;
void aes_ctr_aesni(const AesRoundKeys& rk, uint64_t counter, uint64_t nonce, Block* out,
                   std::size_t n) noexcept;
void aes_ctr_vaes(const AesRoundKeys& rk, uint64_t counter, uint64_t nonce, Block* out,
                  std::size_t n) noexcept;

}  // namespace pinfer::detail
