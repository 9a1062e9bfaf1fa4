#pragma once
// Output of `pinfer simulate`: text tables, result files (JSON, CSV) and gnuplot plots.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "pinfer/sim/one_off_run.hpp"
#include "pinfer/sim/pi_model.hpp"
#include "pinfer/sim/sweep.hpp"

namespace pinfer::cli {

using SeriesOutput = sim::SeriesRun;

// Human-readable summary of one series: phase durations, storage, then one row per rate.
void print_series_table(const SeriesOutput& s);

// Writes `text` to dir/name (creating dir); IoError on failure.
void write_text_file(const std::string& dir, const std::string& name, const std::string& text);

enum class PlotUnit { s, min, h };
[[nodiscard]] PlotUnit parse_plot_unit(const std::string& unit);

// Mean latency vs arrival rate, one line per series. Writes NAME.dat, NAME.gp and renders
// NAME.png and NAME.svg with gnuplot. Returns false (after printing a warning) if gnuplot
// failed or is missing; the data and script are kept either way.
bool write_latency_plot(const std::string& dir, const std::string& name, const std::string& title,
                        const std::vector<const SeriesOutput*>& series, PlotUnit unit,
                        bool stable_only);
// Stacked mean latency breakdown (online, offline on the critical path, queueing) vs rate.
bool write_breakdown_plot(const std::string& dir, const std::string& name, const std::string& title,
                          const SeriesOutput& series, PlotUnit unit, bool stable_only);

}  // namespace pinfer::cli
