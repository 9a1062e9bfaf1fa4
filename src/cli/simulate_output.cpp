#include "simulate_output.hpp"

#include <fmt/core.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/error.hpp"

extern char** environ;

namespace pinfer::cli {
namespace {

double unit_divisor(PlotUnit u) {
  switch (u) {
    case PlotUnit::s:
      return 1.0;
    case PlotUnit::min:
      return 60.0;
    case PlotUnit::h:
      return 3600.0;
  }
  return 1.0;
}

const char* unit_name(PlotUnit u) {
  switch (u) {
    case PlotUnit::s:
      return "s";
    case PlotUnit::min:
      return "min";
    case PlotUnit::h:
      return "h";
  }
  return "s";
}

// A gnuplot single-quoted string: only ' needs escaping (doubled).
std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    if (c == '\n') continue;
    out += c;
  }
  return out + "'";
}

std::string fmt_or_nan(double v, double div) {
  if (std::isnan(v) || std::isinf(v)) return "NaN";
  return fmt::format("{:.10g}", v / div);
}

// Runs `gnuplot script` without a shell; true on exit status 0.
bool run_gnuplot(const std::string& script) {
  pid_t pid = 0;
  std::string prog = "gnuplot";
  char* argv[] = {prog.data(), const_cast<char*>(script.c_str()), nullptr};
  if (posix_spawnp(&pid, "gnuplot", nullptr, nullptr, argv, environ) != 0) {
    std::fprintf(stderr, "pinfer: warning: gnuplot not found; plot script kept at %s\n",
                 script.c_str());
    return false;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "pinfer: warning: gnuplot failed on %s\n", script.c_str());
    return false;
  }
  return true;
}

std::string terminals_preamble() {
  return "set termoption noenhanced\nset grid\nset key top left\n";
}

// Renders the same plot commands to PNG and SVG.
std::string both_terminals(const std::string& base, const std::string& body) {
  return "set terminal pngcairo size 1100,750 noenhanced font 'Sans,11'\n"
         "set output " +
         gp_quote(base + ".png") + "\n" + terminals_preamble() + body +
         "set terminal svg size 1100,750 dynamic noenhanced font 'Sans,11'\n"
         "set output " +
         gp_quote(base + ".svg") + "\n" + body + "unset output\n";
}

}  // namespace

PlotUnit parse_plot_unit(const std::string& unit) {
  if (unit == "min") return PlotUnit::min;
  if (unit == "h") return PlotUnit::h;
  return PlotUnit::s;
}

void print_series_table(const SeriesOutput& s) {
  const sim::ModelPlan& p = s.plan;
  fmt::print("== {} ({}, {}, mode {})\n", s.label, s.profile, s.config.protocol,
             sim::to_string(s.config.mode));
  fmt::print(
      "   offline phase {:.2f} s, online phase {:.2f} s (alone); precompute {} client / {} "
      "server; {}\n",
      p.offline.seconds, p.online.seconds,
      format_byte_size(static_cast<double>(p.client_bytes_per_precompute)),
      format_byte_size(static_cast<double>(p.server_bytes_per_precompute)),
      p.precompute_fits ? "precomputes stored" : "no precompute fits: offline+online per request");
  if (p.clients > 1) {
    fmt::print(
        "   {} clients share the server (quota {} each); rates are per client, figures over all "
        "requests (per-client figures: --json)\n",
        p.clients, format_byte_size(static_cast<double>(p.server_quota_bytes)));
  }
  fmt::print("   {:>10} {:>11} {:>11} {:>11} {:>11} {:>10} {:>10} {:>9} {:>8} {:>8} {}\n", "rate/s",
             "mean_s", "p50_s", "p95_s", "p99_s", "queue_s", "offline_s", "online_s", "served",
             "backlog", "stable");
  for (const sim::RateSummary& r : s.sweep.rates) {
    fmt::print(
        "   {:>10.6g} {:>11.2f} {:>11.2f} {:>11.2f} {:>11.2f} {:>10.2f} {:>10.2f} {:>9.2f} "
        "{:>8.1f} {:>8.1f} {}\n",
        r.rate, r.mean_latency_s, r.p50_latency_s, r.p95_latency_s, r.p99_latency_s, r.mean_queue_s,
        r.mean_offline_wait_s, r.mean_online_s, r.served, r.backlog_at_end,
        r.stable ? "yes" : "NO");
  }
  if (s.sweep.highest_stable_rate) {
    fmt::print("   highest stable rate: {:.6g} requests/s\n", *s.sweep.highest_stable_rate);
  } else {
    fmt::print("   highest stable rate: none of the swept rates\n");
  }
}

void write_text_file(const std::string& dir, const std::string& name, const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create output directory " + dir + ": " + ec.message());
  const std::string path = (std::filesystem::path(dir) / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError("cannot write " + path);
  out << text;
  if (!out) throw IoError("write failed for " + path);
}

bool write_latency_plot(const std::string& dir, const std::string& name, const std::string& title,
                        const std::vector<const SeriesOutput*>& series, PlotUnit unit,
                        bool stable_only) {
  const double div = unit_divisor(unit);
  std::string dat;
  for (const SeriesOutput* s : series) {
    dat += "# " + s->label + "\n# rate mean p50 p95 p99\n";
    for (const sim::RateSummary& r : s->sweep.rates) {
      if (stable_only && !r.stable) continue;
      dat += fmt::format("{:.10g} {} {} {} {}\n", r.rate, fmt_or_nan(r.mean_latency_s, div),
                         fmt_or_nan(r.p50_latency_s, div), fmt_or_nan(r.p95_latency_s, div),
                         fmt_or_nan(r.p99_latency_s, div));
    }
    dat += "\n\n";
  }
  const std::filesystem::path base = std::filesystem::absolute(std::filesystem::path(dir) / name);
  write_text_file(dir, name + ".dat", dat);
  std::string body = "set title " + gp_quote(title) + "\nset xlabel 'Arrival rate (requests/s)'\n" +
                     "set ylabel " +
                     gp_quote(std::string("Mean latency (") + unit_name(unit) + ")") + "\nplot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    body += (i ? ", \\\n     " : "") + gp_quote(base.string() + ".dat") + " index " +
            std::to_string(i) + " using 1:2 with linespoints lw 2 title " +
            gp_quote(series[i]->label);
  }
  body += "\n";
  write_text_file(dir, name + ".gp", both_terminals(base.string(), body));
  return run_gnuplot((base.string() + ".gp"));
}

bool write_breakdown_plot(const std::string& dir, const std::string& name, const std::string& title,
                          const SeriesOutput& s, PlotUnit unit, bool stable_only) {
  const double div = unit_divisor(unit);
  std::string dat = "# " + s.label + "\n# rate online online+offline online+offline+queue\n";
  for (const sim::RateSummary& r : s.sweep.rates) {
    if (stable_only && !r.stable) continue;
    if (std::isnan(r.mean_online_s)) continue;
    const double on = r.mean_online_s / div;
    const double off = on + r.mean_offline_wait_s / div;
    const double q = off + r.mean_queue_s / div;
    dat += fmt::format("{:.10g} {:.10g} {:.10g} {:.10g}\n", r.rate, on, off, q);
  }
  const std::filesystem::path base = std::filesystem::absolute(std::filesystem::path(dir) / name);
  write_text_file(dir, name + ".dat", dat);
  const std::string d = gp_quote(base.string() + ".dat");
  const std::string body =
      "set title " + gp_quote(title) + "\nset xlabel 'Arrival rate (requests/s)'\n" +
      "set ylabel " + gp_quote(std::string("Mean latency (") + unit_name(unit) + ")") +
      "\nset style fill solid 0.8 noborder\n"
      "plot " +
      d + " using 1:(0):2 with filledcurves lc rgb '#778899' title 'Online', \\\n     " + d +
      " using 1:2:3 with filledcurves lc rgb '#6495ed' title 'Offline on critical path', \\\n    "
      " " +
      d + " using 1:3:4 with filledcurves lc rgb '#f08080' title 'Waiting in queue'\n";
  write_text_file(dir, name + ".gp", both_terminals(base.string(), body));
  return run_gnuplot(base.string() + ".gp");
}

}  // namespace pinfer::cli
