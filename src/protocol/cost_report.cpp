#include "pinfer/protocol/cost_report.hpp"

#include <fmt/core.h>

#include "pinfer/core/error.hpp"

namespace pinfer::protocol {

double PhaseCost::seconds_of(Side side, Component component) const {
  const auto it = components.find(component_key(side, component));
  return it == components.end() ? 0.0 : it->second;
}

bool PhaseCost::has(Side side, Component component) const {
  return components.contains(component_key(side, component));
}

void PhaseCost::label_side(Side side) {
  const std::string prefix = std::string(to_string(side)) + "/";
  std::map<std::string, double> renamed;
  for (const auto& [k, v] : components) renamed[prefix + k] = v;
  components = std::move(renamed);
  for (LayerCost& l : layers) {
    std::map<std::string, double> r;
    for (const auto& [k, v] : l.seconds) r[prefix + k] = v;
    l.seconds = std::move(r);
  }
}

void PhaseCost::merge_seconds(const PhaseCost& other) {
  for (const auto& [k, v] : other.components) components[k] += v;
  for (std::size_t i = 0; i < other.layers.size() && i < layers.size(); ++i) {
    for (const auto& [k, v] : other.layers[i].seconds) layers[i].seconds[k] += v;
  }
}

namespace {

// A byte count from the peer: nlohmann's get<uint64_t>() converts a float or a negative number
// too (1e107 -> uint64_t is undefined behaviour, found by fuzzing), so only accept unsigned ints.
uint64_t get_bytes(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number_unsigned()) {
    throw FormatError(std::string("cost report field '") + key +
                      "' is not an unsigned integer: " + v.dump().substr(0, 40));
  }
  return v.get<uint64_t>();
}

uint32_t get_count(const nlohmann::json& j, const char* key) {
  const uint64_t v = get_bytes(j, key);
  if (v > UINT32_MAX)
    throw FormatError(std::string("cost report field '") + key + "' is too large");
  return static_cast<uint32_t>(v);
}

// A component key from the peer: "<name>" or "<side>/<name>" with a known name, so a renamed
// or misspelt component is refused here instead of reading as 0 s later.
void check_component_name(const std::string& key) {
  std::string_view name = key;
  if (const auto slash = name.find('/'); slash != std::string_view::npos) {
    const std::string_view side = name.substr(0, slash);
    if (side != to_string(Side::client) && side != to_string(Side::server)) {
      throw FormatError("cost report component '" + key.substr(0, 64) + "' names no side");
    }
    name = name.substr(slash + 1);
  }
  if (!parse_component(name)) {
    throw FormatError("cost report names unknown component '" + key.substr(0, 64) + "'");
  }
}

}  // namespace

nlohmann::json to_json(const PhaseCost& p) {
  nlohmann::json j;
  j["seconds"] = p.seconds;
  j["upload_bytes"] = p.upload_bytes;
  j["download_bytes"] = p.download_bytes;
  j["components"] = p.components;
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerCost& l : p.layers) {
    layers.push_back({{"name", l.name},
                      {"kind", l.kind},
                      {"seconds", l.seconds},
                      {"upload_bytes", l.upload_bytes},
                      {"download_bytes", l.download_bytes},
                      {"chunks", l.chunks}});
  }
  j["layers"] = std::move(layers);
  nlohmann::json transfers_json = nlohmann::json::object();
  for (const auto& [k, t] : p.transfers) {
    transfers_json[k] = {{"upload_bytes", t.bytes_sent}, {"download_bytes", t.bytes_received}};
  }
  j["transfers"] = std::move(transfers_json);
  j["gc_chunks"] = p.gc_chunks;
  j["ot_frames"] = p.ot_frames;
  return j;
}

PhaseCost phase_from_json(const nlohmann::json& j) {
  try {
    PhaseCost p;
    p.seconds = j.at("seconds").get<double>();
    p.upload_bytes = get_bytes(j, "upload_bytes");
    p.download_bytes = get_bytes(j, "download_bytes");
    p.components = j.at("components").get<std::map<std::string, double>>();
    for (const auto& [name, seconds] : p.components) check_component_name(name);
    for (const auto& l : j.at("layers")) {
      LayerCost c;
      c.name = l.at("name").get<std::string>();
      c.kind = l.at("kind").get<std::string>();
      c.seconds = l.at("seconds").get<std::map<std::string, double>>();
      for (const auto& [name, seconds] : c.seconds) check_component_name(name);
      c.upload_bytes = get_bytes(l, "upload_bytes");
      c.download_bytes = get_bytes(l, "download_bytes");
      if (l.contains("chunks")) c.chunks = get_count(l, "chunks");
      p.layers.push_back(std::move(c));
    }
    if (j.contains("gc_chunks")) p.gc_chunks = get_count(j, "gc_chunks");
    if (j.contains("ot_frames")) p.ot_frames = get_count(j, "ot_frames");
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(std::string("cost report is malformed: ") + e.what());
  }
}

nlohmann::json CostReport::to_json() const {
  nlohmann::json j;
  j["protocol"] = protocol;
  j["model"] = model;
  j["precompute_id"] = precompute_id;
  j["offline_on_demand"] = offline_on_demand;
  j["offline"] = protocol::to_json(offline);
  j["online"] = protocol::to_json(online);
  j["client_storage_bytes"] = client_storage_bytes;
  j["server_storage_bytes"] = server_storage_bytes;
  j["relus"] = relus;
  j["he_keys"] = he_keys;
  j["gc_scheme"] = gc_scheme;
  j["threads"] = threads;
  return j;
}

namespace {

std::string human_bytes(uint64_t b) {
  const double v = static_cast<double>(b);
  if (v >= 1e9) return fmt::format("{:.2f} GB", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} MB", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.2f} kB", v / 1e3);
  return fmt::format("{} B", b);
}

}  // namespace

std::string CostReport::to_table() const {
  std::string out = fmt::format("{} on {} ({} ReLUs, {} garbling)\n", protocol, model, relus,
                                gc_scheme.empty() ? "?" : gc_scheme);
  out += fmt::format("  {:<10} {:>10} {:>12} {:>12}\n", "phase", "seconds", "upload", "download");
  for (const auto& [name, p] : {std::pair{"offline", &offline}, std::pair{"online", &online}}) {
    out += fmt::format("  {:<10} {:>10.3f} {:>12} {:>12}\n", name, p->seconds,
                       human_bytes(p->upload_bytes), human_bytes(p->download_bytes));
    for (const auto& [k, v] : p->components) out += fmt::format("    {:<26} {:>10.3f} s\n", k, v);
  }
  out += fmt::format("  storage per precompute: client {}, server {}\n",
                     human_bytes(client_storage_bytes), human_bytes(server_storage_bytes));
  return out;
}

}  // namespace pinfer::protocol
