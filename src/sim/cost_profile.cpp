#include "pinfer/sim/cost_profile.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <queue>

#include "json_fields.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/protocol_kind.hpp"

namespace pinfer::sim {

using detail::Json;

namespace {

constexpr double kMaxStepSeconds = 1e9;  // ~30 years; anything larger is a unit mistake
constexpr double kMaxStepBytes = 1e15;   // 1 PB
constexpr std::size_t kMaxThreadsTable = 4096;
constexpr uint64_t kMaxStorageBytes = uint64_t{1} << 60;

template <typename E>
E parse_enum(const Json& j, std::string_view path,
             std::initializer_list<std::pair<std::string_view, E>> names) {
  const std::string s = detail::string(j, path, 64);
  std::string allowed;
  for (const auto& [n, v] : names) {
    if (s == n) return v;
    allowed += (allowed.empty() ? "" : " | ") + std::string(n);
  }
  detail::fail(path, "unknown value \"" + s + "\", expected " + allowed);
}

CostStep parse_step(const Json& j, const std::string& path) {
  detail::require_object(j, path);
  detail::reject_unknown_keys(
      j, path,
      {"label", "party", "kind", "category", "layer", "seconds", "scaling", "threads",
       "seconds_by_threads", "per_layer_seconds", "bytes", "direction", "per_layer_bytes",
       "overlaps_previous", "follows_previous"});
  CostStep s;
  s.label = detail::string(detail::field(j, "label", path), detail::join(path, "label"), 256);
  s.party = parse_enum<Party>(detail::field(j, "party", path), detail::join(path, "party"),
                              {{"client", Party::client}, {"server", Party::server}});
  s.kind = parse_enum<StepKind>(detail::field(j, "kind", path), detail::join(path, "kind"),
                                {{"compute", StepKind::compute}, {"transfer", StepKind::transfer}});
  if (const Json* c = detail::optional_field(j, "category")) {
    s.category = parse_enum<Category>(*c, detail::join(path, "category"),
                                      {{"he", Category::he},
                                       {"gc", Category::gc},
                                       {"ot", Category::ot},
                                       {"ss", Category::ss},
                                       {"other", Category::other}});
  }
  if (const Json* o = detail::optional_field(j, "overlaps_previous")) {
    s.overlaps_previous = detail::boolean(*o, detail::join(path, "overlaps_previous"));
  }
  if (const Json* o = detail::optional_field(j, "follows_previous")) {
    s.follows_previous = detail::boolean(*o, detail::join(path, "follows_previous"));
    if (s.follows_previous && s.overlaps_previous) {
      detail::fail(detail::join(path, "follows_previous"),
                   "a step either overlaps or follows the previous one, not both");
    }
  }
  if (const Json* l = detail::optional_field(j, "layer")) {
    s.layer = static_cast<uint32_t>(
        detail::unsigned_integer(*l, detail::join(path, "layer"), 0, 1u << 20));
  }
  const auto forbid = [&](std::string_view key, std::string_view kind) {
    if (detail::optional_field(j, key) != nullptr) {
      detail::fail(detail::join(path, key), "not allowed in a " + std::string(kind) + " step");
    }
  };
  if (s.kind == StepKind::compute) {
    for (auto k : {"bytes", "direction", "per_layer_bytes"}) forbid(k, "compute");
    s.seconds = detail::number(detail::field(j, "seconds", path), detail::join(path, "seconds"), 0,
                               kMaxStepSeconds);
    if (const Json* sc = detail::optional_field(j, "scaling")) {
      s.scaling = parse_enum<Scaling>(*sc, detail::join(path, "scaling"),
                                      {{"none", Scaling::none},
                                       {"linear", Scaling::linear},
                                       {"table", Scaling::table},
                                       {"layer_parallel", Scaling::layer_parallel}});
    }
    if (const Json* t = detail::optional_field(j, "threads")) {
      s.threads = parse_enum<ThreadPool>(*t, detail::join(path, "threads"),
                                         {{"none", ThreadPool::none},
                                          {"client", ThreadPool::client},
                                          {"server_gc", ThreadPool::server_gc},
                                          {"server_he", ThreadPool::server_he}});
    }
    if (const Json* t = detail::optional_field(j, "seconds_by_threads")) {
      s.seconds_by_threads = detail::number_array(*t, detail::join(path, "seconds_by_threads"), 0,
                                                  kMaxStepSeconds, kMaxThreadsTable);
    }
    if (const Json* t = detail::optional_field(j, "per_layer_seconds")) {
      s.per_layer_seconds =
          detail::number_array(*t, detail::join(path, "per_layer_seconds"), 0, kMaxStepSeconds);
    }
    if (s.scaling != Scaling::none && s.threads == ThreadPool::none) {
      detail::fail(detail::join(path, "threads"),
                   "required (client | server_gc | server_he) when scaling is " +
                       std::string(to_string(s.scaling)));
    }
    if (s.scaling == Scaling::none && s.threads != ThreadPool::none) {
      detail::fail(detail::join(path, "threads"), "given but scaling is none");
    }
    if (s.threads == ThreadPool::client && s.party != Party::client) {
      detail::fail(detail::join(path, "threads"), "client threads on a server step");
    }
    if ((s.threads == ThreadPool::server_gc || s.threads == ThreadPool::server_he) &&
        s.party != Party::server) {
      detail::fail(detail::join(path, "threads"), "server threads on a client step");
    }
    if (s.scaling == Scaling::table) {
      if (s.seconds_by_threads.empty()) {
        detail::fail(detail::join(path, "seconds_by_threads"),
                     "required (non-empty) when scaling is table");
      }
      const double t1 = s.seconds_by_threads.front();
      if (std::fabs(t1 - s.seconds) > 1e-9 * std::max(1.0, s.seconds)) {
        detail::fail(detail::join(path, "seconds_by_threads[0]"),
                     "must equal seconds (the one-thread time)");
      }
    }
    if (s.scaling == Scaling::layer_parallel && s.per_layer_seconds.empty()) {
      detail::fail(detail::join(path, "per_layer_seconds"),
                   "required (non-empty) when scaling is layer_parallel");
    }
  } else {
    for (auto k : {"seconds", "scaling", "threads", "seconds_by_threads", "per_layer_seconds"}) {
      forbid(k, "transfer");
    }
    s.bytes = detail::number(detail::field(j, "bytes", path), detail::join(path, "bytes"), 0,
                             kMaxStepBytes);
    s.direction =
        parse_enum<Direction>(detail::field(j, "direction", path), detail::join(path, "direction"),
                              {{"up", Direction::up}, {"down", Direction::down}});
    if ((s.direction == Direction::up) != (s.party == Party::client)) {
      detail::fail(detail::join(path, "direction"),
                   "the client sends up and the server sends down");
    }
    if (const Json* t = detail::optional_field(j, "per_layer_bytes")) {
      s.per_layer_bytes =
          detail::number_array(*t, detail::join(path, "per_layer_bytes"), 0, kMaxStepBytes);
    }
  }
  return s;
}

std::vector<CostStep> parse_phase(const Json& j, const std::string& path) {
  const Json& a = detail::array(j, path, detail::kMaxJsonArray);
  std::vector<CostStep> steps;
  steps.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    steps.push_back(parse_step(a[i], detail::index(path, i)));
  if (!steps.empty() && steps.front().overlaps_previous) {
    detail::fail(detail::join(detail::index(path, 0), "overlaps_previous"),
                 "the first step of a phase has no previous step to overlap");
  }
  if (!steps.empty() && steps.front().follows_previous) {
    detail::fail(detail::join(detail::index(path, 0), "follows_previous"),
                 "the first step of a phase has no previous step to follow");
  }
  return steps;
}

ProtocolCosts parse_protocol(const Json& j, const std::string& path) {
  detail::require_object(j, path);
  detail::reject_unknown_keys(j, path, {"storage_bytes_per_precompute", "offline", "online"});
  ProtocolCosts p;
  const std::string sp = detail::join(path, "storage_bytes_per_precompute");
  const Json& st = detail::field(j, "storage_bytes_per_precompute", path);
  detail::require_object(st, sp);
  detail::reject_unknown_keys(st, sp, {"client", "server"});
  p.client_storage_bytes = detail::unsigned_integer(
      detail::field(st, "client", sp), detail::join(sp, "client"), 0, kMaxStorageBytes);
  p.server_storage_bytes = detail::unsigned_integer(
      detail::field(st, "server", sp), detail::join(sp, "server"), 0, kMaxStorageBytes);
  p.offline = parse_phase(detail::field(j, "offline", path), detail::join(path, "offline"));
  p.online = parse_phase(detail::field(j, "online", path), detail::join(path, "online"));
  if (p.online.empty()) detail::fail(detail::join(path, "online"), "must have at least one step");
  return p;
}

Json step_to_json(const CostStep& s) {
  Json j = Json::object();
  j["label"] = s.label;
  j["party"] = std::string(to_string(s.party));
  j["kind"] = s.kind == StepKind::compute ? "compute" : "transfer";
  j["category"] = std::string(to_string(s.category));
  if (s.layer) j["layer"] = *s.layer;
  if (s.overlaps_previous) j["overlaps_previous"] = true;
  if (s.follows_previous) j["follows_previous"] = true;
  if (s.kind == StepKind::compute) {
    j["seconds"] = s.seconds;
    j["scaling"] = std::string(to_string(s.scaling));
    if (s.threads != ThreadPool::none) j["threads"] = std::string(to_string(s.threads));
    if (!s.seconds_by_threads.empty()) j["seconds_by_threads"] = s.seconds_by_threads;
    if (!s.per_layer_seconds.empty()) j["per_layer_seconds"] = s.per_layer_seconds;
  } else {
    j["bytes"] = s.bytes;
    j["direction"] = s.direction == Direction::up ? "up" : "down";
    if (!s.per_layer_bytes.empty()) j["per_layer_bytes"] = s.per_layer_bytes;
  }
  return j;
}

}  // namespace

CostStep CostStep::compute(std::string label, Party party, Category category, double seconds) {
  CostStep s;
  s.label = std::move(label);
  s.party = party;
  s.kind = StepKind::compute;
  s.category = category;
  s.seconds = seconds;
  return s;
}

CostStep CostStep::transfer(std::string label, Party sender, double bytes) {
  CostStep s;
  s.label = std::move(label);
  s.party = sender;
  s.kind = StepKind::transfer;
  s.category = Category::other;
  s.bytes = bytes;
  s.direction = sender == Party::client ? Direction::up : Direction::down;
  return s;
}

const ProtocolCosts& CostProfile::protocol(std::string_view name) const {
  const std::string canon = canonical_protocol_name(name);
  auto it = protocols.find(canon);
  if (it == protocols.end()) {
    std::string have;
    for (const auto& [k, v] : protocols) have += (have.empty() ? "" : ", ") + k;
    throw InvalidArgument("protocol " + canon + " not in profile " + this->name + " (has: " + have +
                          ")");
  }
  return it->second;
}

std::string canonical_protocol_name(std::string_view name) {
  return std::string(to_string(parse_protocol_kind(name)));
}

std::string_view to_string(Party p) noexcept {
  return p == Party::client ? "client" : "server";
}

std::string_view to_string(Scaling s) noexcept {
  switch (s) {
    case Scaling::none:
      return "none";
    case Scaling::linear:
      return "linear";
    case Scaling::table:
      return "table";
    case Scaling::layer_parallel:
      return "layer_parallel";
  }
  return "?";
}

std::string_view to_string(ThreadPool t) noexcept {
  switch (t) {
    case ThreadPool::none:
      return "none";
    case ThreadPool::client:
      return "client";
    case ThreadPool::server_gc:
      return "server_gc";
    case ThreadPool::server_he:
      return "server_he";
  }
  return "?";
}

std::string_view to_string(Category c) noexcept {
  switch (c) {
    case Category::he:
      return "he";
    case Category::gc:
      return "gc";
    case Category::ot:
      return "ot";
    case Category::ss:
      return "ss";
    case Category::other:
      return "other";
  }
  return "?";
}

double lpt_makespan(std::vector<double> job_seconds, uint32_t threads) {
  PINFER_ASSERT(threads >= 1);
  std::sort(job_seconds.begin(), job_seconds.end(), std::greater<>());
  // Min-heap of thread loads: each job goes to the least loaded thread.
  std::priority_queue<double, std::vector<double>, std::greater<>> loads;
  for (uint32_t i = 0; i < threads && i < job_seconds.size(); ++i) loads.push(0.0);
  double makespan = 0.0;
  for (double t : job_seconds) {
    const double load = loads.top() + t;
    loads.pop();
    loads.push(load);
    makespan = std::max(makespan, load);
  }
  return makespan;
}

nlohmann::json to_json(const CostProfile& profile) {
  Json j = Json::object();
  j["format"] = "pinfer-cost-profile";
  j["version"] = kCostProfileVersion;
  j["name"] = profile.name;
  j["dataset"] = profile.dataset;
  j["network"] = profile.network;
  j["source"] = {{"kind", profile.source.kind},
                 {"method", profile.source.method},
                 {"description", profile.source.description}};
  j["relu_count"] = profile.relu_count;
  Json protos = Json::object();
  for (const auto& [name, p] : profile.protocols) {
    Json pj = Json::object();
    pj["storage_bytes_per_precompute"] = {{"client", p.client_storage_bytes},
                                          {"server", p.server_storage_bytes}};
    pj["offline"] = Json::array();
    for (const CostStep& s : p.offline) pj["offline"].push_back(step_to_json(s));
    pj["online"] = Json::array();
    for (const CostStep& s : p.online) pj["online"].push_back(step_to_json(s));
    protos[name] = std::move(pj);
  }
  j["protocols"] = std::move(protos);
  return j;
}

CostProfile cost_profile_from_json(const nlohmann::json& j) {
  detail::require_object(j, "");
  detail::reject_unknown_keys(
      j, "",
      {"format", "version", "name", "dataset", "network", "source", "relu_count", "protocols"});
  if (detail::string(detail::field(j, "format", ""), "format", 64) != "pinfer-cost-profile") {
    detail::fail("format", "expected \"pinfer-cost-profile\"");
  }
  const uint64_t version =
      detail::unsigned_integer(detail::field(j, "version", ""), "version", 0, 1u << 30);
  if (version != kCostProfileVersion) {
    detail::fail("version", "unsupported version " + std::to_string(version) +
                                " (supported: " + std::to_string(kCostProfileVersion) + ")");
  }
  CostProfile p;
  p.name = detail::string(detail::field(j, "name", ""), "name", 256);
  if (const Json* d = detail::optional_field(j, "dataset"))
    p.dataset = detail::string(*d, "dataset", 256);
  if (const Json* n = detail::optional_field(j, "network"))
    p.network = detail::string(*n, "network", 256);
  if (const Json* s = detail::optional_field(j, "source")) {
    detail::require_object(*s, "source");
    detail::reject_unknown_keys(*s, "source", {"kind", "method", "description"});
    if (const Json* k = detail::optional_field(*s, "kind"))
      p.source.kind = detail::string(*k, "source.kind");
    if (const Json* m = detail::optional_field(*s, "method"))
      p.source.method = detail::string(*m, "source.method");
    if (const Json* d = detail::optional_field(*s, "description")) {
      p.source.description = detail::string(*d, "source.description");
    }
  }
  p.relu_count = detail::unsigned_integer(detail::field(j, "relu_count", ""), "relu_count", 0,
                                          uint64_t{1} << 40);
  const Json& protos = detail::field(j, "protocols", "");
  detail::require_object(protos, "protocols");
  if (protos.empty()) detail::fail("protocols", "must name at least one protocol");
  for (auto it = protos.begin(); it != protos.end(); ++it) {
    const std::string path = detail::join("protocols", it.key());
    std::string canon;
    try {
      canon = canonical_protocol_name(it.key());
    } catch (const InvalidArgument&) {
      detail::fail(path, "unknown protocol, expected server-garbler or client-garbler");
    }
    if (canon != it.key()) detail::fail(path, "write the protocol name as " + canon);
    p.protocols.emplace(canon, parse_protocol(it.value(), path));
  }
  return p;
}

CostProfile load_cost_profile(const std::string& file) {
  const Json j = detail::read_json_file(file, "cost profile");
  try {
    return cost_profile_from_json(j);
  } catch (const FormatError& e) {
    throw FormatError("cost profile " + file + ": " + e.what());
  }
}

void validate(const CostProfile& profile) {
  try {
    (void)cost_profile_from_json(to_json(profile));
  } catch (const FormatError& e) {
    throw InvalidArgument(std::string("cost profile ") + profile.name + ": " + e.what());
  }
}

void save_cost_profile(const CostProfile& profile, const std::string& file) {
  validate(profile);  // never write a file that load_cost_profile would refuse
  std::error_code ec;
  const std::filesystem::path path(file);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) throw IoError("cannot create directory for " + file + ": " + ec.message());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError("cannot write cost profile " + file);
  out << to_json(profile).dump(1) << '\n';
  if (!out) throw IoError("write failed for cost profile " + file);
}

}  // namespace pinfer::sim
