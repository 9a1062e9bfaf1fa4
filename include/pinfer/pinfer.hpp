#pragma once
// libpinfer's entry points, for programs that use pinfer as a library
// (find_package(pinfer), target pinfer::pinfer). examples/ shows each in use:
//   private_inference.cpp    a model served and queried privately over loopback TLS
//   simulate_deployment.cpp  a deployment's latency and capacity from a cost profile
//   check_model.cpp          an ONNX model imported, quantized and checked
//
// Serving:    service::BackgroundService (a model served from a thread of its own: client registry,
//             protocol::InferenceServer and the connection loop), service::ServiceOptions.
// Querying:   transport::connect_to_server (TLS 1.3 with a CA or a pinned certificate),
//             protocol::register_with_server, protocol::InferenceClient, whose infer() returns
//             a protocol::InferenceResult (prediction, logits or labels, cost); a busy
//             server's queue is waited in (protocol::AdmissionOptions) and a full one refuses
//             with ServerBusyError, which protocol::retry_while_busy retries after its hint.
// Stores:     store::PrecomputeStore, one per party, where offline phases leave what the
//             online phase consumes (each precompute used at most once).
// Channels:   Channel (the byte stream the protocols run on), transport::TcpChannel,
//             transport::TlsServerContext / TlsClientContext, transport::make_certificate.
// Models:     nn::load_model (ONNX file or built-in network, quantized for the protocols),
//             nn::run_fixed_point (the plaintext reference the protocols match bit for bit),
//             nn::check_model, nn::read_npy_float.
// Simulator:  sim::load_profile_spec (a shipped or measured cost profile), sim::SystemConfig,
//             sim::plan_model, sim::run_sweep.
// Errors:     everything thrown is a pinfer::Error (core/error.hpp); tell them apart by class and
//             reason() (ErrorReason), never by message text.
//
// Other headers under pinfer/ are the layers these are built from; they may change between
// versions without notice.
#include "pinfer/core/channel.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/tensor.hpp"
#include "pinfer/core/version.hpp"
#include "pinfer/nn/fixed_point_engine.hpp"
#include "pinfer/nn/input_files.hpp"
#include "pinfer/nn/model_check.hpp"
#include "pinfer/nn/model_loader.hpp"
#include "pinfer/protocol/admission.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_result.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "pinfer/protocol/protocol_kind.hpp"
#include "pinfer/service/background_service.hpp"
#include "pinfer/service/inference_service.hpp"
#include "pinfer/sim/cost_profile.hpp"
#include "pinfer/sim/profile_catalog.hpp"
#include "pinfer/sim/sweep.hpp"
#include "pinfer/sim/system_config.hpp"
#include "pinfer/store/precompute_store.hpp"
#include "pinfer/transport/server_connection.hpp"
#include "pinfer/transport/tcp_channel.hpp"
#include "pinfer/transport/tls_certificate.hpp"
#include "pinfer/transport/tls_context.hpp"
