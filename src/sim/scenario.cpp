#include "pinfer/sim/scenario.hpp"

#include <filesystem>

#include "json_fields.hpp"
#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/sim/units.hpp"

namespace pinfer::sim {

using detail::Json;

namespace {

const std::vector<std::string_view> kSettingKeys = {"profile",
                                                    "protocol",
                                                    "mode",
                                                    "policy",
                                                    "client_storage",
                                                    "server_storage",
                                                    "uplink_mbps",
                                                    "downlink_mbps",
                                                    "wireless_total_mbps",
                                                    "uplink_share",
                                                    "client_threads",
                                                    "server_gc_threads",
                                                    "server_he_threads",
                                                    "client_cores",
                                                    "server_cores",
                                                    "he_model",
                                                    "he_speedup",
                                                    "gc_speedup",
                                                    "bandwidth_speedup",
                                                    "client_device_factor",
                                                    "poll_interval_s",
                                                    "sim_hours",
                                                    "runs",
                                                    "seed",
                                                    "rates",
                                                    "clients",
                                                    "server_quota_per_client",
                                                    "server_uplink_mbps",
                                                    "server_downlink_mbps",
                                                    "shared_cores",
                                                    "drain"};

// Runs a units.hpp / system_config.hpp parser and turns its InvalidArgument into a FormatError
// naming the field path.
template <typename F>
auto as_format_error(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const InvalidArgument& e) {
    const std::string msg = e.what();
    if (msg.rfind(path + ":", 0) == 0) throw FormatError(msg);  // already names the field
    detail::fail(path, msg);
  }
}

uint64_t size_setting(const Json& v, const std::string& path) {
  if (v.is_string()) {
    return as_format_error(path, [&] { return parse_byte_size(v.get<std::string>(), path); });
  }
  return detail::unsigned_integer(v, path, 0, uint64_t{1} << 62);
}

std::vector<double> rates_setting(const Json& v, const std::string& path) {
  if (v.is_string()) {
    return as_format_error(path, [&] { return parse_rates(v.get<std::string>(), path); });
  }
  if (v.is_array()) {
    auto r = detail::number_array(v, path, 1e-12, 1e9, 100000);
    if (r.empty()) detail::fail(path, "needs at least one rate");
    return r;
  }
  if (v.is_object()) {
    detail::reject_unknown_keys(v, path, {"start", "end", "count"});
    const double a =
        detail::number(detail::field(v, "start", path), detail::join(path, "start"), 1e-12, 1e9);
    const double b =
        detail::number(detail::field(v, "end", path), detail::join(path, "end"), a, 1e9);
    const auto n = detail::unsigned_integer(detail::field(v, "count", path),
                                            detail::join(path, "count"), 1, 100000);
    return linspace(a, b, static_cast<uint32_t>(n));
  }
  detail::fail(path, "expected \"a:b:n\", an array of rates or {start, end, count}");
}

uint32_t threads_setting(const Json& v, const std::string& path, uint32_t min) {
  return static_cast<uint32_t>(detail::unsigned_integer(v, path, min, 4096));
}

// Applies the settings present in `obj` to `s`; `modes` receives the mode list ("both" gives
// two). Keys not in kSettingKeys (plus `extra`) are errors.
void apply_settings(const Json& obj, const std::string& path, SeriesSpec& s,
                    std::vector<SimMode>& modes) {
  const auto has = [&](std::string_view k) { return detail::optional_field(obj, k); };
  const auto p = [&](std::string_view k) { return detail::join(path, k); };
  if (auto v = has("profile")) s.profile = detail::string(*v, p("profile"), 1024);
  if (auto v = has("protocol")) {
    const std::string name = detail::string(*v, p("protocol"), 64);
    s.config.protocol =
        as_format_error(p("protocol"), [&] { return canonical_protocol_name(name); });
  }
  if (auto v = has("mode")) {
    const std::string m = detail::string(*v, p("mode"), 32);
    if (m == "both") {
      modes = {SimMode::independent, SimMode::contended};
    } else {
      modes = {as_format_error(p("mode"), [&] { return parse_mode(m, p("mode")); })};
    }
  }
  if (auto v = has("policy")) {
    const std::string m = detail::string(*v, p("policy"), 32);
    s.config.policy = as_format_error(p("policy"), [&] { return parse_policy(m, p("policy")); });
  }
  if (auto v = has("he_model")) {
    const std::string m = detail::string(*v, p("he_model"), 32);
    s.config.he_model =
        as_format_error(p("he_model"), [&] { return parse_he_model(m, p("he_model")); });
  }
  if (auto v = has("client_storage"))
    s.config.client_storage_bytes = size_setting(*v, p("client_storage"));
  if (auto v = has("server_storage"))
    s.config.server_storage_bytes = size_setting(*v, p("server_storage"));
  if (auto v = has("uplink_mbps"))
    s.config.uplink_mbps = detail::number(*v, p("uplink_mbps"), 1e-9, 1e9);
  if (auto v = has("downlink_mbps"))
    s.config.downlink_mbps = detail::number(*v, p("downlink_mbps"), 1e-9, 1e9);
  if (auto v = has("wireless_total_mbps")) {
    s.wireless_total_mbps = detail::number(*v, p("wireless_total_mbps"), 1e-9, 1e9);
  }
  if (auto v = has("uplink_share"))
    s.uplink_share = detail::number(*v, p("uplink_share"), 1e-6, 1 - 1e-6);
  if (auto v = has("client_threads"))
    s.config.client_threads = threads_setting(*v, p("client_threads"), 1);
  if (auto v = has("server_gc_threads"))
    s.config.server_gc_threads = threads_setting(*v, p("server_gc_threads"), 1);
  if (auto v = has("server_he_threads"))
    s.config.server_he_threads = threads_setting(*v, p("server_he_threads"), 1);
  if (auto v = has("client_cores"))
    s.config.client_cores = threads_setting(*v, p("client_cores"), 0);
  if (auto v = has("server_cores"))
    s.config.server_cores = threads_setting(*v, p("server_cores"), 0);
  if (auto v = has("he_speedup"))
    s.config.he_speedup = detail::number(*v, p("he_speedup"), 1e-6, 1e6);
  if (auto v = has("gc_speedup"))
    s.config.gc_speedup = detail::number(*v, p("gc_speedup"), 1e-6, 1e6);
  if (auto v = has("bandwidth_speedup")) {
    s.config.bandwidth_speedup = detail::number(*v, p("bandwidth_speedup"), 1e-6, 1e6);
  }
  if (auto v = has("client_device_factor")) {
    s.config.client_device_factor = detail::number(*v, p("client_device_factor"), 1e-6, 1e6);
  }
  if (auto v = has("poll_interval_s"))
    s.config.poll_interval_s = detail::number(*v, p("poll_interval_s"), 0, 86400);
  if (auto v = has("sim_hours"))
    s.config.sim_hours = detail::number(*v, p("sim_hours"), 1e-6, 876000);
  if (auto v = has("runs"))
    s.runs = static_cast<uint32_t>(detail::unsigned_integer(*v, p("runs"), 1, 100000));
  if (auto v = has("seed")) s.seed = detail::unsigned_integer(*v, p("seed"), 0, UINT64_MAX);
  if (auto v = has("rates")) s.rates = rates_setting(*v, p("rates"));
  if (auto v = has("clients")) {
    s.config.clients =
        static_cast<uint32_t>(detail::unsigned_integer(*v, p("clients"), 1, kMaxClients));
  }
  if (auto v = has("server_quota_per_client")) {
    s.config.server_quota_per_client_bytes = size_setting(*v, p("server_quota_per_client"));
  }
  if (auto v = has("server_uplink_mbps"))
    s.config.server_uplink_mbps = detail::number(*v, p("server_uplink_mbps"), 0, 1e9);
  if (auto v = has("server_downlink_mbps"))
    s.config.server_downlink_mbps = detail::number(*v, p("server_downlink_mbps"), 0, 1e9);
  if (auto v = has("shared_cores"))
    s.config.shared_cores = threads_setting(*v, p("shared_cores"), 0);
  if (auto v = has("drain")) s.config.drain = detail::boolean(*v, p("drain"));
}

void finish_series(SeriesSpec& s, const std::string& path) {
  if (s.wireless_total_mbps.has_value() != s.uplink_share.has_value()) {
    detail::fail(detail::join(path, s.uplink_share ? "wireless_total_mbps" : "uplink_share"),
                 "wireless_total_mbps and uplink_share must be given together");
  }
  if (s.wireless_total_mbps) {
    as_format_error(path, [&] {
      apply_wireless_split(s.config, *s.wireless_total_mbps, *s.uplink_share);
      return 0;
    });
  }
  if (s.rates.empty()) detail::fail(detail::join(path, "rates"), "no arrival rates given");
  as_format_error(path, [&] {
    validate(s.config);
    return 0;
  });
}

std::string value_label(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

SeriesSettings parse_series_settings(const nlohmann::json& settings, SeriesSpec defaults) {
  detail::require_object(settings, "settings");
  detail::reject_unknown_keys(settings, "", kSettingKeys);
  SeriesSettings out{std::move(defaults), {SimMode::independent}};
  apply_settings(settings, "", out.spec, out.modes);
  finish_series(out.spec, "");
  return out;
}

Scenario parse_scenario(const nlohmann::json& j) {
  detail::require_object(j, "");
  detail::reject_unknown_keys(j, "",
                              {"format", "version", "name", "description", "defaults", "series",
                               "sweep", "plots", "split_searches"});
  if (detail::string(detail::field(j, "format", ""), "format", 64) != "pinfer-sim-scenario") {
    detail::fail("format", "expected \"pinfer-sim-scenario\"");
  }
  const uint64_t version =
      detail::unsigned_integer(detail::field(j, "version", ""), "version", 0, 1u << 30);
  if (version != kScenarioVersion)
    detail::fail("version", "unsupported version " + std::to_string(version));
  Scenario sc;
  sc.name = detail::string(detail::field(j, "name", ""), "name", 256);
  if (auto d = detail::optional_field(j, "description"))
    sc.description = detail::string(*d, "description");

  SeriesSpec base;
  std::vector<SimMode> base_modes = {SimMode::independent};
  if (auto d = detail::optional_field(j, "defaults")) {
    detail::require_object(*d, "defaults");
    detail::reject_unknown_keys(*d, "defaults", kSettingKeys);
    apply_settings(*d, "defaults", base, base_modes);
  }

  // Series: explicit list, or one series from the defaults.
  struct Pending {
    SeriesSpec spec;
    std::vector<SimMode> modes;
    std::string path;
  };
  std::vector<Pending> pending;
  if (auto s = detail::optional_field(j, "series")) {
    const Json& arr = detail::array(*s, "series", kMaxScenarioSeries);
    if (arr.empty()) detail::fail("series", "must not be empty");
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const std::string path = detail::index("series", i);
      detail::require_object(arr[i], path);
      std::vector<std::string_view> allowed(kSettingKeys);
      allowed.push_back("label");
      detail::reject_unknown_keys(arr[i], path, allowed);
      Pending p{base, base_modes, path};
      p.spec.label =
          detail::string(detail::field(arr[i], "label", path), detail::join(path, "label"), 200);
      apply_settings(arr[i], path, p.spec, p.modes);
      pending.push_back(std::move(p));
    }
  } else {
    Pending p{base, base_modes, "defaults"};
    p.spec.label = sc.name;
    pending.push_back(std::move(p));
  }

  // Sweep: cartesian product over the listed settings, applied to every series.
  if (auto sw = detail::optional_field(j, "sweep")) {
    detail::require_object(*sw, "sweep");
    detail::reject_unknown_keys(*sw, "sweep", kSettingKeys);
    for (auto it = sw->begin(); it != sw->end(); ++it) {
      const std::string path = detail::join("sweep", it.key());
      const Json& values = detail::array(it.value(), path, 1000);
      if (values.empty()) detail::fail(path, "must list at least one value");
      std::vector<Pending> expanded;
      for (const Pending& p : pending) {
        for (std::size_t k = 0; k < values.size(); ++k) {
          Pending q = p;
          Json one = Json::object();
          one[it.key()] = values[k];
          apply_settings(one, detail::index(path, k), q.spec, q.modes);
          q.spec.label += " " + it.key() + "=" + value_label(values[k]);
          expanded.push_back(std::move(q));
          if (expanded.size() > kMaxScenarioSeries) {
            detail::fail("sweep",
                         "expands to more than " + std::to_string(kMaxScenarioSeries) + " series");
          }
        }
      }
      pending = std::move(expanded);
    }
  }

  for (Pending& p : pending) {
    for (SimMode m : p.modes) {
      SeriesSpec s = p.spec;
      s.config.mode = m;
      if (p.modes.size() > 1) s.label += " [" + std::string(to_string(m)) + "]";
      finish_series(s, p.path);
      sc.series.push_back(std::move(s));
    }
  }
  for (std::size_t i = 0; i < sc.series.size(); ++i) {
    for (std::size_t k = 0; k < i; ++k) {
      if (sc.series[i].label == sc.series[k].label) {
        detail::fail("series", "duplicate label \"" + sc.series[i].label + "\"");
      }
    }
  }
  const auto has_series = [&](const std::string& label) {
    for (const SeriesSpec& s : sc.series) {
      if (s.label == label) return true;
    }
    return false;
  };

  if (auto pl = detail::optional_field(j, "plots")) {
    const Json& arr = detail::array(*pl, "plots", 100);
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const std::string path = detail::index("plots", i);
      detail::require_object(arr[i], path);
      detail::reject_unknown_keys(arr[i], path,
                                  {"name", "kind", "title", "series", "y_unit", "stable_only"});
      PlotSpec p;
      p.name = detail::string(detail::field(arr[i], "name", path), detail::join(path, "name"), 100);
      for (char c : p.name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
          detail::fail(detail::join(path, "name"), "use only letters, digits, '_' and '-'");
        }
      }
      const std::string kind =
          detail::string(detail::field(arr[i], "kind", path), detail::join(path, "kind"), 32);
      if (kind == "latency") {
        p.kind = PlotKind::latency;
      } else if (kind == "breakdown") {
        p.kind = PlotKind::breakdown;
      } else {
        detail::fail(detail::join(path, "kind"),
                     "unknown plot kind \"" + kind + "\", expected latency or breakdown");
      }
      if (auto t = detail::optional_field(arr[i], "title"))
        p.title = detail::string(*t, detail::join(path, "title"), 200);
      if (auto y = detail::optional_field(arr[i], "y_unit")) {
        p.y_unit = detail::string(*y, detail::join(path, "y_unit"), 8);
        if (p.y_unit != "s" && p.y_unit != "min" && p.y_unit != "h") {
          detail::fail(detail::join(path, "y_unit"), "expected s, min or h");
        }
      }
      if (auto so = detail::optional_field(arr[i], "stable_only")) {
        p.stable_only = detail::boolean(*so, detail::join(path, "stable_only"));
      }
      if (auto s = detail::optional_field(arr[i], "series")) {
        const Json& labels = detail::array(*s, detail::join(path, "series"), kMaxScenarioSeries);
        for (std::size_t k = 0; k < labels.size(); ++k) {
          const std::string lp = detail::index(detail::join(path, "series"), k);
          std::string label = detail::string(labels[k], lp, 200);
          if (!has_series(label)) detail::fail(lp, "no series labelled \"" + label + "\"");
          p.series.push_back(std::move(label));
        }
      }
      sc.plots.push_back(std::move(p));
    }
  }

  if (auto ss = detail::optional_field(j, "split_searches")) {
    const Json& arr = detail::array(*ss, "split_searches", 100);
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const std::string path = detail::index("split_searches", i);
      detail::require_object(arr[i], path);
      detail::reject_unknown_keys(arr[i], path, {"series", "total_mbps", "rate"});
      SplitSearchSpec s;
      s.series =
          detail::string(detail::field(arr[i], "series", path), detail::join(path, "series"), 200);
      if (!has_series(s.series))
        detail::fail(detail::join(path, "series"), "no series labelled \"" + s.series + "\"");
      s.total_mbps = detail::number(detail::field(arr[i], "total_mbps", path),
                                    detail::join(path, "total_mbps"), 1e-6, 1e9);
      s.rate = detail::number(detail::field(arr[i], "rate", path), detail::join(path, "rate"),
                              1e-12, 1e9);
      sc.split_searches.push_back(std::move(s));
    }
  }
  return sc;
}

Scenario load_scenario(const std::string& file) {
  const Json j = detail::read_json_file(file, "scenario");
  Scenario sc;
  try {
    sc = parse_scenario(j);
  } catch (const FormatError& e) {
    throw FormatError("scenario " + file + ": " + e.what());
  }
  const std::filesystem::path dir = std::filesystem::path(file).parent_path();
  for (SeriesSpec& s : sc.series) {
    if (s.profile.rfind("paper:", 0) == 0) continue;
    const std::filesystem::path p(s.profile);
    if (p.is_relative()) s.profile = (dir / p).lexically_normal().string();
  }
  return sc;
}

}  // namespace pinfer::sim
