#pragma once
// `--reveal label|topk:K|logits`: what a server's clients learn (docs/PROTOCOLS.md "What the
// client learns"), shared by the commands that serve a model.
#include <CLI/CLI.hpp>

#include <string>

#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::cli {

// Adds --reveal to `cmd` (default: the value `reveal` holds), checked when parsed.
void add_reveal_option(CLI::App& cmd, std::string& reveal);

// For the serving line: "only the label", "only the 5 best labels" or "every class score".
[[nodiscard]] std::string describe_reveal(const nn::LoweredModel& served);

}  // namespace pinfer::cli
