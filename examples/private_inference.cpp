// Private inference of an ONNX model: a server holds the weights, a client holds the input, and
// the client learns the logits and nothing else (the server learns nothing). Both run in this
// process, talking TLS 1.3 over loopback as two machines would; the client pins the server's
// certificate. The private logits must equal the plaintext fixed-point engine's bit for bit.
//
//   private_inference [model.onnx] [images.npy]   (default: the shipped digits model)
#include <pinfer/pinfer.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>

namespace fs = std::filesystem;
using namespace pinfer;

// A scratch folder removed when the example ends, after everything that uses it.
struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("pinfer-example-" + std::to_string(getpid()));
  ~ScratchDir() { fs::remove_all(path); }
};

int main(int argc, char** argv) try {
  const std::string model_file = argc > 1 ? argv[1] : "models/digits.onnx";
  const std::string images_file = argc > 2 ? argv[2] : "models/digits_test_images.npy";
  const nn::LoadedModel model = nn::load_model(model_file);  // imported and quantized
  const FloatTensor image = nn::split_batch(nn::read_npy_float(images_file)).front();

  // Each party has its own precompute store (offline results wait there for the online phase).
  const ScratchDir work;
  store::PrecomputeStore server_store(work.path / "server", {.capacity_bytes = 1'000'000'000});
  store::PrecomputeStore client_store(work.path / "client", {.capacity_bytes = 1'000'000'000});

  // The server: a self-signed certificate, the model served from a background thread.
  const transport::PemCertificate cert = transport::make_certificate({});
  service::ServiceOptions service;  // 127.0.0.1, an ephemeral port
  service.tls = transport::TlsServerContext::from_pem(cert.cert_pem, cert.key_pem.span());
  service::BackgroundService server(model.lowered, protocol::ProtocolKind::client_garbler,
                                    server_store, service);

  // The client trusts exactly that certificate, registers, then runs one offline phase and one
  // inference that consumes it.
  transport::ServerTrust trust;
  trust.pin = transport::to_hex(server.tls()->fingerprint());
  protocol::ClientCredentials credentials;
  {
    auto channel = transport::connect_to_server(server.endpoint(), {}, trust);
    credentials = protocol::register_with_server(*channel);
  }
  auto channel = transport::connect_to_server(server.endpoint(), {}, trust);
  protocol::InferenceClient client(*channel, client_store, {.credentials = std::move(credentials)});
  (void)client.precompute();
  const protocol::InferenceResult result = client.infer(image, /*allow_on_demand=*/false);
  client.close();

  // The plaintext reference: the same quantized model on the same input.
  const RingTensor expect =
      nn::run_fixed_point(model.lowered, nn::encode_input(model.lowered, image));
  const bool exact = result.logits_ring == expect.values();
  std::printf("private prediction %d, logits bit-exact: %s\n", result.prediction,
              exact ? "yes" : "NO");
  std::printf("online phase: %.3f s, %llu bytes up, %llu bytes down\n", result.cost.online.seconds,
              static_cast<unsigned long long>(result.cost.online.upload_bytes),
              static_cast<unsigned long long>(result.cost.online.download_bytes));
  return exact ? 0 : 1;
} catch (const pinfer::Error& e) {
  std::fprintf(stderr, "private_inference: %s\n", e.what());
  return 1;
}
