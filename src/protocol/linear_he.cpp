#include "linear_he.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "frames.hpp"
#include "pinfer/core/channel_stream.hpp"
#include "pinfer/core/error.hpp"
#include "pinfer/core/sha256.hpp"
#include "pinfer/he/context.hpp"
#include "pinfer/he/keys.hpp"
#include "pinfer/he/linear.hpp"
#include "pinfer/he/weight_cache_budget.hpp"
#include "pinfer/protocol/he_geometry.hpp"

namespace pinfer::protocol::detail {
namespace {

// Each group of a grouped convolution is its own HE layer (he_geometry: one group).
std::size_t groups_of(const nn::LinearOp& op) {
  return op.kind == nn::LinearOp::Kind::conv ? op.conv.groups : 1;
}

// Public-key frames are small; the cap only guards the allocation.
constexpr std::size_t kMaxPublicKeyBytes = 16 << 20;

void send_stream(Channel& ch, uint32_t type, std::span<const std::byte> bytes) {
  ChannelStreamWriter w(ch, type, bytes.size());
  w.write(bytes);
  w.finish();
}

std::vector<std::byte> recv_stream(Channel& ch, uint32_t type, uint64_t exact) {
  ChannelStreamReader r(ch, type, exact);
  if (r.total() != exact) {
    throw ProtocolError("HE message has " + std::to_string(r.total()) + " bytes, expected " +
                        std::to_string(exact));
  }
  std::vector<std::byte> bytes(exact);
  r.read(bytes);
  r.finish();
  return bytes;
}

}  // namespace

struct HeServerModel::Impl {
  Impl(const nn::LoweredModel& model, std::size_t cache_budget)
      : ctx(he::Context::create(model.l)), budget(cache_budget) {
    for (const nn::LinearOp& op : model.linear_ops) {
      const std::size_t groups = groups_of(op), w_step = op.weight.size() / groups;
      servers.emplace_back();
      for (std::size_t k = 0; k < groups; ++k) {
        servers.back().push_back(
            budget.build(ctx, he_geometry(op), op.weight.span().subspan(k * w_step, w_step)));
      }
    }
  }
  he::Context ctx;
  he::WeightCacheBudget budget;
  std::vector<std::vector<he::LinearServer>> servers;  // [op][group]
};

HeServerModel::HeServerModel(const nn::LoweredModel& model, std::size_t weight_cache_bytes)
    : impl_(std::make_unique<Impl>(model, weight_cache_bytes)) {}
HeServerModel::~HeServerModel() = default;

std::size_t HeServerModel::cached_weight_bytes() const noexcept {
  return impl_->budget.spent_bytes();
}

std::vector<RingTensor> he_offline_client(Channel& ch, const nn::LoweredModel& arch,
                                          const HeKeySchedule& schedule,
                                          std::span<const RingTensor> masks, PhaseCost& cost,
                                          const std::function<void(uint64_t, uint64_t)>& progress) {
  PINFER_ASSERT(schedule.key_of.size() == arch.linear_ops.size());
  const he::Context ctx = he::Context::create(arch.l);
  Prg prg;
  // Fresh keys per precompute, and a fresh one wherever the schedule starts one: what one key
  // ever reveals stays within the flooding budget (docs/HE.md, "Key schedule").
  std::vector<std::unique_ptr<he::ClientKeys>> keys;
  {
    ScopedTimer t(cost, Component::he_keygen);
    for (std::size_t k = 0; k < schedule.keys(); ++k) {
      keys.push_back(std::make_unique<he::ClientKeys>(ctx, prg));
    }
  }
  const std::size_t n_ops = arch.linear_ops.size();
  std::vector<he::LinearGeometry> geoms;
  std::vector<he::LinearPlan> plans;
  for (const nn::LinearOp& op : arch.linear_ops) {
    geoms.push_back(he_geometry(op));
    plans.push_back(he::plan_linear(ctx, geoms.back()));
  }
  cost.layers.resize(n_ops);
  for (std::size_t i = 0; i < n_ops; ++i) {
    const std::size_t groups = groups_of(arch.linear_ops[i]);
    cost.layers[i].name = arch.linear_ops[i].name;
    cost.layers[i].kind = "linear";
    cost.layers[i].upload_bytes = groups * plans[i].query_bytes;
    cost.layers[i].download_bytes = groups * plans[i].response_bytes;
  }
  // Queries go out from a second thread while this one decrypts responses, so the client's
  // encryption, the server's evaluation and the transfers overlap.
  PhaseCost send_cost;
  std::exception_ptr send_error;
  std::thread sender([&] {
    try {
      ScopedTimer busy(send_cost, Component::cpu_total);  // this thread's share of the total
      for (std::size_t i = 0; i < n_ops; ++i) {
        const std::span<const uint64_t> mask = masks[arch.linear_ops[i].input].span();
        const std::size_t groups = groups_of(arch.linear_ops[i]), step = mask.size() / groups;
        for (std::size_t k = 0; k < groups; ++k) {
          const he::ClientKeys& key = *keys[schedule.key_of[i][k]];
          if (schedule.starts_key(i, k)) {
            ch.send(frames::kHePublicKey, key.public_key().serialize());
          }
          std::vector<std::byte> query;
          {
            ScopedTimer t(send_cost, Component::he_encrypt, &cost.layers[i]);
            query = he::encrypt_linear_input(ctx, key, geoms[i], mask.subspan(k * step, step), prg);
          }
          send_stream(ch, frames::kHeQuery, query);
        }
      }
    } catch (...) {
      send_error = std::current_exception();
      ch.close();
    }
  });
  std::vector<RingTensor> c_ops;
  try {
    for (std::size_t i = 0; i < n_ops; ++i) {
      RingTensor c(arch.linear_ops[i].output_shape());
      const std::size_t groups = groups_of(arch.linear_ops[i]), step = c.size() / groups;
      for (std::size_t k = 0; k < groups; ++k) {
        const std::vector<std::byte> response =
            recv_stream(ch, frames::kHeResponse, plans[i].response_bytes);
        ScopedTimer t(cost, Component::he_decrypt, &cost.layers[i]);
        const std::vector<uint64_t> part =
            he::decrypt_linear_output(ctx, *keys[schedule.key_of[i][k]], geoms[i], response);
        PINFER_ASSERT(part.size() == step);
        std::copy(part.begin(), part.end(),
                  c.span().begin() + static_cast<std::ptrdiff_t>(k * step));
      }
      c_ops.push_back(std::move(c));
      if (progress) progress(i + 1, n_ops);
    }
  } catch (...) {
    ch.close();
    sender.join();
    if (send_error) std::rethrow_exception(send_error);
    throw;
  }
  sender.join();
  if (send_error) std::rethrow_exception(send_error);
  cost.merge_seconds(send_cost);
  return c_ops;
}

std::vector<RingTensor> he_offline_server(Channel& ch, const nn::LoweredModel& model,
                                          const HeKeySchedule& schedule,
                                          const HeServerModel& he_model, PhaseCost& cost) {
  const HeServerModel::Impl& he = he_model.impl();
  PINFER_ASSERT(schedule.key_of.size() == model.linear_ops.size());
  std::optional<he::PublicKey> pk;
  std::set<std::string> seen_keys;  // digests of this precompute's public keys
  Prg prg;
  std::vector<RingTensor> s_ops;
  cost.layers.resize(model.linear_ops.size());
  for (std::size_t i = 0; i < model.linear_ops.size(); ++i) {
    RingTensor s(model.linear_ops[i].output_shape());
    const std::size_t groups = he.servers[i].size(), step = s.size() / groups;
    for (std::size_t k = 0; k < groups; ++k) {
      const he::LinearServer& server = he.servers[i][k];
      if (schedule.starts_key(i, k)) {
        // The client's next key: nothing more is revealed under the previous one. A repeated
        // key would put the budget's coefficients twice under one key: refused.
        const std::vector<std::byte> bytes = ch.recv(frames::kHePublicKey, kMaxPublicKeyBytes);
        if (!seen_keys.insert(sha256_hex(bytes)).second) {
          throw ProtocolError("client sent the same HE public key for two key budgets");
        }
        pk.emplace(he::PublicKey::deserialize(he.ctx, bytes));
      }
      const std::vector<std::byte> query =
          recv_stream(ch, frames::kHeQuery, server.plan().query_bytes);
      std::vector<std::byte> response;
      {
        ScopedTimer t(cost, Component::he_evaluate, &cost.layers[i]);
        response = server.evaluate(query, *pk, prg, s.span().subspan(k * step, step));
      }
      send_stream(ch, frames::kHeResponse, response);
    }
    s_ops.push_back(std::move(s));
  }
  ch.flush();
  return s_ops;
}

}  // namespace pinfer::protocol::detail
