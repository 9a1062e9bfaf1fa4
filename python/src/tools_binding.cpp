// pinfer.characterize and pinfer.simulate: the library's characterize_model and run_one_off,
// the code `pinfer characterize --out` and `pinfer simulate --json` run, so both answer in the
// same schema. The GIL is released while they run.
#include <fmt/core.h>

#include "bindings.hpp"
#include "pinfer/characterize/characterize_model.hpp"
#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/one_off_run.hpp"
#include "pinfer/sim/profile_catalog.hpp"

namespace pinfer::python {

namespace {

// None (both protocols), a name, or a sequence of names.
std::vector<std::string> protocol_names(const py::object& protocol) {
  if (protocol.is_none()) return characterize::CharacterizeOptions{}.protocols;
  if (py::isinstance<py::str>(protocol)) return {protocol.cast<std::string>()};
  std::vector<std::string> names;
  for (const py::handle& p : protocol) names.push_back(py::str(p).cast<std::string>());
  return names;
}

py::object characterize_model(const py::object& model, const py::object& protocol,
                              const std::string& capacity, const py::object& store_dir,
                              bool insecure, const py::object& progress, bool log) {
  const std::shared_ptr<PyModel> m = as_model(model);
  characterize::CharacterizeOptions options;
  options.protocols = protocol_names(protocol);
  options.capacity_bytes = parse_byte_size(capacity, "capacity");
  if (!store_dir.is_none()) options.store_dir = path_string(store_dir);
  options.insecure = insecure;
  const PyProgress callback(progress);
  options.progress = callback.fn();
  if (log) options.log = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
  nlohmann::json profile;
  {
    py::gil_scoped_release release;
    callback.run([&] {
      profile = sim::to_json(characterize::characterize_model(m->loaded->lowered, options).profile);
    });
  }
  return to_python(profile);
}

py::object simulate(const py::object& profile, const py::object& search_split_at, uint32_t threads,
                    const std::vector<std::string>& profile_dirs, const py::kwargs& settings) {
  sim::OneOffSettings parsed = sim::one_off_settings(from_python(settings, "settings"));
  sim::OneOffRequest& request = parsed.request;
  if (!search_split_at.is_none()) request.search_split_at = search_split_at.cast<double>();
  request.sweep.threads = threads;
  // A dict (e.g. from characterize) is the profile itself; anything else names one.
  const bool given = py::isinstance<py::dict>(profile);
  const nlohmann::json profile_json = given ? from_python(profile, "profile") : nlohmann::json();
  const std::string spec = given ? "" : path_string(profile);
  nlohmann::json results;
  {
    py::gil_scoped_release release;
    const sim::CostProfile costs =
        given ? sim::cost_profile_from_json(profile_json)
              : sim::load_profile_spec(spec, sim::profile_search_dirs(profile_dirs, data_dir()));
    results = sim::brief_results(sim::run_one_off(costs, request).results);
  }
  return to_python(results);
}

}  // namespace

void bind_tools(py::module_& m) {
  m.def("characterize", &characterize_model, py::arg("model"), py::arg("protocol") = py::none(),
        py::kw_only(), py::arg("capacity") = "200GB", py::arg("store_dir") = py::none(),
        py::arg("insecure") = false, py::arg("progress") = py::none(), py::arg("log") = false,
        "Measures one offline and one online run per protocol on this machine (client and "
        "server in this process over loopback TLS 1.3, the private result checked bit for bit "
        "against the fixed-point engine) and returns the simulator cost profile: a dict in the "
        "schema of `pinfer characterize --out`. model: a Model, a path or a built-in name. "
        "protocol: a name, a list of names, or None for both. capacity: of each temporary "
        "store. store_dir: where the stores go (default: a temporary directory, removed). "
        "progress: progress(step, done, total). log: print status lines to stderr.");
  // Static: pybind11 keeps the pointer.
  static const std::string simulate_doc =
      "Runs the discrete-event simulator and returns the dict `pinfer simulate --json` prints. "
      "profile: 'paper:<dataset>/<network>', a profile file, or a profile dict (from "
      "characterize). settings: a scenario series' settings (docs/SIMULATOR.md), e.g. "
      "protocol='client-garbler', client_storage='16GB', rates='0.01,0.02' (or a list), runs=5, "
      "seed=1, sim_hours=24, mode='both', poll_interval_s=1, wireless_total_mbps=100, "
      "uplink_share=0.3; rates default to " +
      std::string(sim::kDefaultRates) +
      ". search_split_at: also search the best uplink share at this rate. threads: simulation "
      "threads (0: all cores). profile_dirs: more places to look up 'paper:' names.";
  m.def("simulate", &simulate, py::arg("profile") = "paper:cifar10/resnet18", py::kw_only(),
        py::arg("search_split_at") = py::none(), py::arg("threads") = 0,
        py::arg("profile_dirs") = std::vector<std::string>{}, simulate_doc.c_str());
}

}  // namespace pinfer::python
