// pinfer: one executable, subcommands registered by the files of src/cli (command_registry.hpp).
// The only place errors become messages and exit codes.
#include <CLI/CLI.hpp>

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "command_registry.hpp"
#include "pinfer/core/detail/cpu_features.hpp"
#include "pinfer/core/error.hpp"

namespace pinfer::cli {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> entries;
  return entries;
}

namespace {

int run(int argc, char** argv) {
  CLI::App app{"pinfer: private inference of neural networks (Server-Garbler and Client-Garbler)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Print help for every command");
  std::string cpu;
  app.add_option(
         "--cpu", cpu,
         "Cap the kernel path: openssl (AES in OpenSSL, which still uses AES-NI if the CPU has "
         "it), aesni or vaes (default: widest)")
      ->envname("PINFER_CPU");
  app.parse_complete_callback([&] {
    if (!cpu.empty()) set_cpu_path_cap(parse_cpu_path(cpu));
  });

  CLI::App* bench = app.add_subcommand("bench", "Measure headline figures (like `openssl speed`)");
  bench->require_subcommand(1);

  auto& entries = command_registry();
  std::sort(entries.begin(), entries.end(),
            [](const CommandEntry& a, const CommandEntry& b) { return a.name < b.name; });
  for (const CommandEntry& e : entries) e.setup(e.parent == "bench" ? *bench : app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace
}  // namespace pinfer::cli

namespace {

// The protocols allocate buffers of megabytes per chunk of garbled circuits (tables, labels,
// frames) and free them a few milliseconds later. With glibc's defaults each thread gets an
// arena of its own, whose heaps are unmapped when they empty and mapped again for the next
// chunk, so every chunk page-faults its buffers in afresh; page faults are expensive on this
// project's virtual machines (a trap to the hypervisor), and ResNet-32's Client-Garbler garbling
// took 2.2-7.4 s of CPU, mostly in the kernel, instead of 0.5 s (perf record: exc_page_fault
// under memset/memmove; docs/perf/closed_loop.md, "Tracing the phases"). One arena, big
// buffers kept on the heap (up to glibc's 32 MiB cap for the mmap threshold) and no trimming
// below 1 GiB of free heap make the buffers of one chunk the buffers of the next. Threads
// still allocate small blocks from their own caches (tcache) without the arena lock.
void tune_allocator() {
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

// The library's messages never name flags; the CLI knows which of its flags fix an error of a
// given reason and says so after the message.
std::string hint_for(const pinfer::Error& e) {
  using pinfer::ErrorReason;
  switch (e.reason()) {
    case ErrorReason::tls_required:
      return " [hint: connect with --pin FINGERPRINT or --ca FILE; --insecure only works "
             "against a server started with --insecure]";
    case ErrorReason::tls_handshake:
      return " [hint: a server started with --insecure needs clients with --insecure]";
    case ErrorReason::tls_certificate:
      return " [hint: check --pin (the fingerprint `pinfer serve` prints) or --ca]";
    case ErrorReason::unauthenticated:
      return " [hint: register once with `pinfer client register --server HOST:PORT --store "
             "DIR`]";
    case ErrorReason::registration_refused:
      return " [hint: a server started with --registration-secret-file needs the same secret "
             "from the client's --registration-secret-file; a closed server needs its operator]";
    case ErrorReason::server_busy:
      return " [hint: the server's admission queue stayed full; try again later, or ask its "
             "operator for more `pinfer serve --max-sessions` or `--queue`]";
    case ErrorReason::queue_timeout:
      return " [hint: no session slot freed within the server's --queue-timeout-ms; try again "
             "later, or ask its operator for more --max-sessions]";
    case ErrorReason::plaintext_refused:
      return " [hint: --insecure (plain TCP) is only allowed on a loopback address; use TLS: "
             "the server's --cert/--key (or its generated certificate) and the client's --ca "
             "FILE or --pin SHA256]";
    default:
      return "";
  }
}

}  // namespace

int main(int argc, char** argv) {
  tune_allocator();
  try {
    return pinfer::cli::run(argc, argv);
  } catch (const pinfer::InvalidArgument& e) {
    std::fprintf(stderr, "pinfer: invalid argument: %s%s\n", e.what(), hint_for(e).c_str());
    return 2;
  } catch (const pinfer::Unsupported& e) {
    std::fprintf(stderr, "pinfer: unsupported: %s\n", e.what());
    return 3;
  } catch (const pinfer::Error& e) {
    std::fprintf(stderr, "pinfer: error: %s%s\n", e.what(), hint_for(e).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pinfer: unexpected error: %s\n", e.what());
    return 1;
  }
}
