// pinfer.Server (a model served from background threads) and pinfer.Client (registration,
// offline phases, private inference), over loopback or real TCP, with TLS 1.3 by default.
#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <mutex>

#include "bindings.hpp"
#include "pinfer/core/byte_size.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/secret_buffer.hpp"
#include "pinfer/protocol/admission.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/service/background_service.hpp"
#include "pinfer/service/client_session.hpp"
#include "pinfer/transport/endpoint.hpp"
#include "pinfer/transport/server_connection.hpp"
#include "pinfer/transport/tls_certificate.hpp"

namespace pinfer::python {

namespace {

std::unique_ptr<store::PrecomputeStore> open_store(const std::string& dir,
                                                   const std::string& capacity,
                                                   const std::string& per_client = "") {
  store::StoreLimits limits;
  limits.capacity_bytes = parse_byte_size(capacity, "capacity");
  if (!per_client.empty())
    limits.per_client_capacity_bytes = parse_byte_size(per_client, "client_quota");
  return std::make_unique<store::PrecomputeStore>(dir, limits);
}

std::optional<std::string> optional_path(const py::object& p) {
  if (p.is_none()) return std::nullopt;
  return path_string(p);
}

class PyServer {
 public:
  PyServer(const py::object& model, const std::string& protocol_name, const py::object& store,
           const std::string& capacity, const std::string& host, uint16_t port, bool tls,
           const py::object& cert, const py::object& key, const py::object& client_quota,
           std::size_t max_sessions, const std::string& registration, uint64_t timeout_ms, bool log,
           const std::string& reveal, const std::string& gc_scheme, unsigned threads,
           std::size_t queue, uint64_t queue_timeout_ms)
      : model_(as_model(model)), kind_(protocol::parse_protocol_kind(protocol_name)) {
    protocol::ServerOptions server_options;
    server_options.gc_scheme = gc::parse_gc_scheme(gc_scheme);
    server_options.threads = threads;
    const std::string store_dir = path_string(store);
    const std::optional<std::string> cert_file = optional_path(cert), key_file = optional_path(key);
    const std::string quota =
        client_quota.is_none() ? "" : py::str(client_quota).cast<std::string>();
    if (cert_file.has_value() != key_file.has_value()) {
      throw InvalidArgument("cert and key must be given together");
    }
    if (!tls && cert_file) throw InvalidArgument("cert and key need tls=True");
    if (registration != "open" && registration != "closed") {
      throw InvalidArgument("registration must be 'open' or 'closed', not '" + registration + "'");
    }
    py::gil_scoped_release release;
    // The library refuses it too (ServiceOptions); the module names its own argument.
    if (!tls && !transport::is_loopback_host(host)) {
      throw InvalidArgument("tls=False (plaintext TCP) is only allowed on a loopback host, not " +
                                transport::to_string(transport::Endpoint{host, port}),
                            ErrorReason::plaintext_refused);
    }
    store_ = open_store(store_dir, capacity, quota);
    service::ServiceOptions so;
    so.host = host;
    so.port = port;
    so.max_sessions = max_sessions;
    so.max_queued = queue;
    so.queue_timeout_ms = queue_timeout_ms;
    so.insecure_plaintext_loopback = !tls;
    so.tcp.io_timeout_ms = timeout_ms;
    so.tcp.handshake_timeout_ms = std::min<uint64_t>(so.tcp.handshake_timeout_ms, timeout_ms);
    if (tls) {
      if (cert_file) {
        so.tls = transport::TlsServerContext::from_pem_files(*cert_file, *key_file);
      } else {
        // As `pinfer serve`: a self-signed certificate kept in the store, made once.
        const transport::ServerCertificateFiles files =
            transport::ensure_server_certificate(store_->root(), {host});
        so.tls = transport::TlsServerContext::from_pem_files(files.cert_file, files.key_file);
      }
    }
    service::InferenceService::Logger logger;
    if (log) logger = [](std::string_view m) { fmt::print(stderr, "pinfer.Server: {}\n", m); };
    service_ = std::make_unique<service::BackgroundService>(
        nn::apply_reveal(model_->loaded->lowered, reveal), kind_, *store_, std::move(so),
        registration == "closed" ? protocol::RegistrationPolicy::closed
                                 : protocol::RegistrationPolicy::open,
        std::move(logger), server_options);
    endpoint_ = service_->endpoint();
    reveals_ = nn::reveals(service_->server().model());
    port_ = service_->port();
    if (service_->tls()) fingerprint_ = transport::to_hex(service_->tls()->fingerprint());
  }
  ~PyServer() { close(); }

  // Waits for open sessions to end; the GIL is released so client threads can finish them.
  void close() {
    py::gil_scoped_release release;
    service_.reset();
    store_.reset();
  }
  [[nodiscard]] bool closed() const { return service_ == nullptr; }
  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }
  [[nodiscard]] const std::optional<std::string>& fingerprint() const { return fingerprint_; }
  [[nodiscard]] protocol::ProtocolKind protocol() const { return kind_; }
  [[nodiscard]] const std::shared_ptr<PyModel>& model() const { return model_; }
  [[nodiscard]] const std::string& reveals() const { return reveals_; }
  [[nodiscard]] py::dict stats() const {
    if (!service_) throw InvalidArgument("the server is closed");
    const service::ServiceStats s = service_->stats();
    py::dict d;
    d["sessions_completed"] = s.sessions_completed;
    d["sessions_failed"] = s.sessions_failed;
    d["sessions_redirected"] = s.sessions_redirected;
    d["sessions_refused_busy"] = s.sessions_refused_busy;
    d["handshakes_failed"] = s.handshakes_failed;
    d["silent_clients"] = s.silent_clients;
    d["sessions_queued"] = s.sessions_queued;
    d["queue_timeouts"] = s.queue_timeouts;
    d["left_queue"] = s.left_queue;
    d["active_sessions"] = s.active_sessions;
    d["waiting"] = s.waiting;
    return d;
  }

 private:
  std::shared_ptr<PyModel> model_;
  protocol::ProtocolKind kind_;
  std::unique_ptr<store::PrecomputeStore> store_;
  std::unique_ptr<service::BackgroundService> service_;
  std::string endpoint_;
  std::string reveals_;
  uint16_t port_ = 0;
  std::optional<std::string> fingerprint_;
};

struct InferenceResult {
  int prediction = -1;
  std::optional<std::vector<double>> logits;
  std::vector<int> labels;
  std::vector<uint64_t> logits_ring;
  bool offline_on_demand = false;
  std::string precompute_id;
  nlohmann::json cost;
};

InferenceResult to_result(const protocol::InferenceResult& result) {
  InferenceResult r;
  r.prediction = result.prediction;
  // A server that reveals only the label sends no logits.
  if (!result.logits.empty()) r.logits = result.logits;
  r.labels = result.labels;
  r.logits_ring = result.logits_ring;
  r.offline_on_demand = result.cost.offline_on_demand;
  r.precompute_id = result.cost.precompute_id;
  r.cost = result.to_json();
  return r;
}

// The client's identity at its server, as `pinfer client register` keeps it.
std::filesystem::path credentials_file(const std::filesystem::path& store_dir) {
  return store_dir / "CREDENTIALS";
}

class PyClient {
 public:
  PyClient(const py::object& server, const py::object& store, const py::object& pin, bool insecure,
           const py::object& ca, const std::string& capacity, const py::object& protocol_name,
           uint64_t timeout_ms, py::object progress)
      : progress_(std::move(progress)) {
    if (py::isinstance<PyServer>(server)) {
      // A Server of this process: its endpoint, and its certificate pinned unless told otherwise.
      const PyServer& s = server.cast<const PyServer&>();
      endpoint_ = s.endpoint();
      if (pin.is_none() && ca.is_none() && !insecure) {
        if (s.fingerprint()) {
          trust_.pin = *s.fingerprint();
        } else {
          trust_.insecure_plaintext_loopback = true;
        }
      }
    } else {
      endpoint_ = py::str(server).cast<std::string>();
    }
    if (!pin.is_none()) trust_.pin = py::str(pin).cast<std::string>();
    if (!ca.is_none()) trust_.ca_file = path_string(ca);
    trust_.insecure_plaintext_loopback = trust_.insecure_plaintext_loopback || insecure;
    if (!protocol_name.is_none()) {
      protocol_ = protocol::parse_protocol_kind(py::str(protocol_name).cast<std::string>());
    }
    tcp_.io_timeout_ms = timeout_ms;
    store_dir_ = path_string(store);
    const std::string cap = capacity;
    py::gil_scoped_release release;
    store_ = open_store(store_dir_, cap);
  }
  ~PyClient() { close(); }

  std::string register_client(const py::object& secret_obj) {
    SecretBuffer<std::byte> secret;
    if (!secret_obj.is_none()) {
      const std::string s = py::isinstance<py::bytes>(secret_obj)
                                ? secret_obj.cast<std::string>()
                                : py::str(secret_obj).cast<std::string>();
      secret = SecretBuffer<std::byte>(s.size());
      std::memcpy(secret.data(), s.data(), s.size());
    }
    py::gil_scoped_release release;
    std::lock_guard lock(mu_);
    require_open();
    const std::filesystem::path file = credentials_file(store_dir_);
    if (std::filesystem::exists(file)) {
      // Replacing it would orphan this client's precomputes at its server.
      throw InvalidArgument(file.string() +
                            " exists: this store is already registered (delete the file to "
                            "register again; its precomputes at the server become unusable)");
    }
    auto ch = transport::connect_to_server(endpoint_, tcp_, trust_);
    const protocol::ClientCredentials credentials =
        protocol::register_with_server(*ch, secret.span());
    ch->close();
    protocol::save_credentials(file, credentials);
    return credentials.client_id;
  }

  py::list precompute(std::size_t count) {
    std::vector<protocol::CostReport> reports;
    {
      py::gil_scoped_release release;
      with_session([&](protocol::InferenceClient& c) {
        for (std::size_t i = 0; i < count; ++i) reports.push_back(c.precompute());
      });
    }
    py::list out;
    for (const auto& r : reports) out.append(to_python(r.to_json()));
    return out;
  }

  InferenceResult infer(const py::handle& x, bool on_demand) {
    const RawArray raw = raw_array(x, "input");
    py::gil_scoped_release release;
    protocol::InferenceResult result;
    with_session([&](protocol::InferenceClient& c) {
      result = c.infer(to_input(raw, c.architecture().input_shape), on_demand);
    });
    return to_result(result);
  }

  std::size_t stored_precomputes() {
    py::gil_scoped_release release;
    std::size_t n = 0;
    with_session([&](protocol::InferenceClient& c) { n = c.stored_precomputes(); });
    return n;
  }

  void close() {
    py::gil_scoped_release release;
    std::lock_guard lock(mu_);
    store_.reset();
  }
  [[nodiscard]] const std::string& server() const { return endpoint_; }
  // Where the last session ran: the server, or the fleet node it redirected this client to.
  // (Its own mutex: mu_ is held through whole sessions, without the GIL.)
  [[nodiscard]] std::string last_server() {
    std::lock_guard lock(last_endpoint_mu_);
    return last_endpoint_;
  }

 private:
  void require_open() const {
    if (!store_) throw InvalidArgument("the client is closed");
  }

  // One authenticated session per call (so an idle client holds no server slot and a notebook
  // left open for hours does not meet a timed-out connection). Calls from several Python
  // threads take turns: a session is one sequential protocol run. Called without the GIL. A
  // busy server's queue is waited in; a full one is retried after its retry-after hint
  // (protocol::retry_while_busy, bounded; then ServerBusyError).
  template <typename F>
  void with_session(F&& f) {
    std::lock_guard lock(mu_);
    require_open();
    progress_.run([&] {
      service::ClientSessionParts session;
      (void)protocol::retry_while_busy([&] {
        session.client.reset();  // before the channel it uses
        session.channel.reset();
        session = service::open_client_session(
            endpoint_,
            [&](const std::string& endpoint) {
              return transport::connect_to_server(endpoint, tcp_, trust_);
            },
            *store_,
            [&] {
              return protocol::ClientOptions{
                  protocol::load_credentials(credentials_file(store_dir_)), protocol_,
                  progress_.fn()};
            });
      });
      {
        std::lock_guard endpoint_lock(last_endpoint_mu_);
        last_endpoint_ = session.endpoint;
      }
      auto& client = session.client;
      f(*client);
      client->close();
    });
  }

  std::string endpoint_;
  std::mutex last_endpoint_mu_;
  std::string last_endpoint_;  // guarded by last_endpoint_mu_
  transport::ServerTrust trust_;
  transport::TcpOptions tcp_;
  std::string store_dir_;
  std::optional<protocol::ProtocolKind> protocol_;
  PyProgress progress_;
  std::mutex mu_;
  std::unique_ptr<store::PrecomputeStore> store_;
};

}  // namespace

void bind_service(py::module_& m) {
  py::class_<InferenceResult>(m, "InferenceResult", "The outcome of one private inference.")
      .def_readonly("prediction", &InferenceResult::prediction, "The predicted class.")
      .def_property_readonly(
          "logits",
          [](const InferenceResult& r) -> py::object {
            if (!r.logits) return py::none();
            return to_numpy(*r.logits);
          },
          "Decoded logits (float64), or None when the server reveals only the label.")
      .def_readonly("labels", &InferenceResult::labels,
                    "The labels the server revealed, best first (empty when it reveals the "
                    "logits).")
      .def_property_readonly(
          "logits_ring",
          [](const InferenceResult& r) -> py::object {
            if (r.logits_ring.empty()) return py::none();
            return to_numpy(r.logits_ring);
          },
          "The logits as ring elements (uint64), equal to Model.run_fixed_point(x, ring=True).")
      .def_readonly("offline_on_demand", &InferenceResult::offline_on_demand,
                    "True if no precompute was stored and the offline phase ran first.")
      .def_readonly("precompute_id", &InferenceResult::precompute_id)
      .def_property_readonly(
          "cost", [](const InferenceResult& r) { return to_python(r.cost); },
          "Cost report (dict): offline and online phases with seconds, bytes, components, "
          "layers and transfers; client/server storage bytes per precompute.")
      .def("__repr__", [](const InferenceResult& r) {
        return "<pinfer.InferenceResult prediction=" + std::to_string(r.prediction) + ">";
      });

  py::class_<PyServer>(m, "Server",
                       "Serves a model for private inference from background threads. A "
                       "context manager; close() stops it.")
      .def(py::init<const py::object&, const std::string&, const py::object&, const std::string&,
                    const std::string&, uint16_t, bool, const py::object&, const py::object&,
                    const py::object&, std::size_t, const std::string&, uint64_t, bool,
                    const std::string&, const std::string&, unsigned, std::size_t, uint64_t>(),
           py::arg("model"), py::arg("protocol") = "client-garbler", py::kw_only(),
           py::arg("store"), py::arg("capacity") = "20GB", py::arg("host") = "127.0.0.1",
           py::arg("port") = 0, py::arg("tls") = true, py::arg("cert") = py::none(),
           py::arg("key") = py::none(), py::arg("client_quota") = py::none(),
           py::arg("max_sessions") = 16, py::arg("registration") = "open",
           py::arg("timeout_ms") = 300'000, py::arg("log") = true, py::arg("reveal") = "label",
           py::arg("gc_scheme") = std::string(gc::to_string(protocol::kDefaultGcScheme)),
           py::arg("threads") = 0u, py::arg("queue") = service::ServiceOptions{}.max_queued,
           py::arg("queue_timeout_ms") = service::ServiceOptions{}.queue_timeout_ms,
           "model: a Model, a path or a built-in name. protocol: 'client-garbler' or "
           "'server-garbler'. store: directory of the server's precompute store. reveal: what "
           "clients learn, as `pinfer serve --reveal`: 'label' (a garbled argmax; the default), "
           "'topk:K' (the K best labels) or 'logits'. tls: TLS 1.3 "
           "with cert/key, or a self-signed certificate kept in the store; tls=False is plain "
           "TCP on loopback only. log: print session errors to stderr. gc_scheme: "
           "'three-halves' (fewer stored bytes) or 'half-gates' (faster per core); clients use "
           "the server's. threads: for garbling, evaluation and OT of one phase (0: all cores). "
           "queue: connections beyond max_sessions that wait for a session, told their place "
           "(0: refuse them at once); beyond, 'server busy' with a retry-after hint. "
           "queue_timeout_ms: refuse a connection that waited this long (reason 'queue timeout').")
      .def_property_readonly("port", &PyServer::port)
      .def_property_readonly("endpoint", &PyServer::endpoint, "'host:port' for Client(server=...)")
      .def_property_readonly("fingerprint", &PyServer::fingerprint,
                             "SHA-256 of the TLS certificate (hex) that clients pin; None "
                             "without TLS.")
      .def_property_readonly(
          "protocol",
          [](const PyServer& s) { return std::string(protocol::to_string(s.protocol())); })
      .def_property_readonly("model", &PyServer::model)
      .def_property_readonly("reveals", &PyServer::reveals,
                             "What clients learn: 'label', 'topk:K' or 'logits'.")
      .def_property_readonly("closed", &PyServer::closed)
      .def("stats", &PyServer::stats, "Session counters of the service.")
      .def("close", &PyServer::close,
           "Stops accepting and waits for the open sessions to end. Idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyServer& s, const py::args&) { s.close(); });

  py::class_<PyClient>(m, "Client",
                       "A private-inference client with its own precompute store. Thread safe: "
                       "calls from several threads run one after another.")
      .def(
          py::init<const py::object&, const py::object&, const py::object&, bool, const py::object&,
                   const std::string&, const py::object&, uint64_t, py::object>(),
          py::arg("server"), py::kw_only(), py::arg("store"), py::arg("pin") = py::none(),
          py::arg("insecure") = false, py::arg("ca") = py::none(), py::arg("capacity") = "16GB",
          py::arg("protocol") = py::none(), py::arg("timeout_ms") = 300'000,
          py::arg("progress") = py::none(),
          "server: 'host:port' or a Server of this process (then its certificate is pinned). "
          "store: directory of the client's precompute store. The server is checked by pin "
          "(SHA-256 hex) or ca (CA file); insecure=True is plain TCP to loopback only. "
          "protocol: refuse a server running another one. progress: progress(step, done, total).")
      .def_property_readonly("server", &PyClient::server)
      .def_property_readonly(
          "last_server", &PyClient::last_server,
          "Where the last session ran: the server, or the home node a fleet node redirected this "
          "client to (followed once per session, with the same TLS checks); '' before any.")
      .def("register", &PyClient::register_client, py::arg("secret") = py::none(),
           "Registers with the server and keeps the issued id and token in STORE/CREDENTIALS "
           "(as `pinfer client register`). Returns the client id.")
      .def("precompute", &PyClient::precompute, py::arg("count") = 1,
           "Runs `count` offline phases, stored on both sides. Returns their cost dicts.")
      .def("infer", &PyClient::infer, py::arg("x"), py::arg("on_demand") = true,
           "Private inference of one input. Uses a stored precompute, or runs the offline phase "
           "first when none is left (on_demand=False raises StoreError instead).")
      .def("stored_precomputes", &PyClient::stored_precomputes,
           "Precomputes for this server's model and protocol in the client's store.")
      .def("close", &PyClient::close, "Releases the store. Idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyClient& c, const py::args&) { c.close(); });
}

}  // namespace pinfer::python
