// The real `pinfer` executable (issue 13, parts 2 and 3): `serve --reveal topk:K` and what
// `infer` prints and reports, the calibration warning, and `pinfer model check` with its errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pi_harness.hpp"
#include "pinfer/nn/lowered_model.hpp"

namespace pinfer::system_test {
namespace {

struct CliRun {
  int status = -1;
  std::string out, err;
};

// `pinfer <words...>` (no transport flags), waited for.
CliRun run_cli(const fs::path& work, const std::string& tag, std::vector<std::string> words) {
  words.insert(words.begin(), cli_path());
  ChildProcess c(words, SpawnOptions{work / (tag + ".out"), work / (tag + ".err")});
  const auto st = c.wait_for(180s);
  return {st ? *st : -1, c.stdout_text(), c.stderr_text()};
}

class RevealAndCalibration : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(work_); }
  fs::path work_ = fresh_dir("reveal");
};

TEST_F(RevealAndCalibration, ServeRevealsTheTopKLabelsAndInferPrintsThem) {
  ServerProcess server(work_, "client-garbler", {"--reveal", "topk:3"});
  // No --calibration: the server says what the ring was chosen on.
  EXPECT_NE(server.process().stderr_text().find("warning: no --calibration given"),
            std::string::npos)
      << server.process().stderr_text();
  EXPECT_NE(server.process().stderr_text().find("digits.calib.npy"), std::string::npos);
  EXPECT_NE(server.process().stdout_text().find("clients learn only the 3 best labels"),
            std::string::npos)
      << server.process().stdout_text();
  const fs::path store = work_ / "client";
  ASSERT_EQ(run_client(work_, "register", "client", server.endpoint(), store).status, 0);
  HeldOutSet held_out(work_);
  for (std::size_t i : {0, 7}) {
    const RingTensor logits = nn::run_fixed_point(
        held_out.lowered(), nn::encode_input(held_out.lowered(), held_out.image(i)));
    const std::vector<std::size_t> best =
        nn::top_k_classes(held_out.lowered().ring(), logits.span(), 3);
    const ClientResult json =
        run_client(work_, "infer-json" + std::to_string(i), "infer", server.endpoint(), store,
                   {"--input", held_out.input(i).string(), "--json"});
    ASSERT_EQ(json.status, 0) << json.err;
    const nlohmann::json report = nlohmann::json::parse(json.out);
    EXPECT_EQ(report["reveals"], "topk:3");
    EXPECT_EQ(report["labels"].get<std::vector<std::size_t>>(), best);
    EXPECT_TRUE(report["logits"].empty());
    EXPECT_EQ(report["logits_ring"].size(), 3u);
    const ClientResult text =
        run_client(work_, "infer-text" + std::to_string(i), "infer", server.endpoint(), store,
                   {"--input", held_out.input(i).string()});
    ASSERT_EQ(text.status, 0) << text.err;
    EXPECT_NE(text.out.find("top 3 labels: " + std::to_string(best[0]) + " " +
                            std::to_string(best[1]) + " " + std::to_string(best[2])),
              std::string::npos)
        << text.out;
  }
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(RevealAndCalibration, ServeRefusesAMalformedReveal) {
  for (const std::string bad : {"topk:0", "topk:", "top3", "topk:11"}) {
    const CliRun r = run_cli(work_, "bad-reveal",
                             {"serve", "--model", digits_model(), "--store", (work_ / "s").string(),
                              "--capacity", "1GB", "--port", "0", "--insecure", "--reveal", bad});
    EXPECT_NE(r.status, 0) << bad;
    // topk:11 parses but the digits model has 10 classes.
    EXPECT_NE((r.err + r.out).find(bad == "topk:11" ? "of 10 classes" : "topk:K"),
              std::string::npos)
        << bad << ": " << r.err << r.out;
  }
}

TEST_F(RevealAndCalibration, ModelCheckReportsAgreementAccuracyAndMargin) {
  const std::string models = std::string(PINFER_SOURCE_DIR) + "/models/";
  const CliRun r = run_cli(
      work_, "check",
      {"model", "check", digits_model(), "--data", models + "digits_test_images.npy", "--labels",
       models + "digits_test_labels.npy", "--json", "--calibration", models + "digits.calib.npy"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;  // --calibration given
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["samples"], 360);
  EXPECT_GE(j["agreement"].get<double>(), 0.99);
  EXPECT_GE(j["accuracy"].get<double>(), 0.95);
  EXPECT_GT(j["margin_bits"].get<double>(), 0.0);
  EXPECT_EQ(j["wrapped"], 0);
  // Without labels there is no accuracy.
  const CliRun unlabelled = run_cli(
      work_, "check2",
      {"model", "check", digits_model(), "--data", models + "digits_test_images.npy", "--json"});
  ASSERT_EQ(unlabelled.status, 0) << unlabelled.err;
  EXPECT_TRUE(nlohmann::json::parse(unlabelled.out)["accuracy"].is_null());
  EXPECT_NE(unlabelled.err.find("warning: no --calibration given"), std::string::npos);
}

TEST_F(RevealAndCalibration, ModelCheckAndServeNameBadFiles) {
  std::ofstream(work_ / "bad.npy") << "\x93NUMPY garbage";
  write_npy(work_ / "wrong.npy", FloatTensor(Shape{2, 1, 5, 5}));
  const CliRun bad = run_cli(
      work_, "bad", {"model", "check", digits_model(), "--data", (work_ / "bad.npy").string()});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("bad.npy"), std::string::npos) << bad.err;
  const CliRun wrong = run_cli(
      work_, "wrong", {"model", "check", digits_model(), "--data", (work_ / "wrong.npy").string()});
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.err.find("25 values"), std::string::npos) << wrong.err;
  const CliRun serve = run_cli(
      work_, "serve-bad-calibration",
      {"serve", "--model", digits_model(), "--store", (work_ / "s").string(), "--capacity", "1GB",
       "--port", "0", "--insecure", "--calibration", (work_ / "wrong.npy").string()});
  EXPECT_NE(serve.status, 0);
  EXPECT_NE(serve.err.find("wrong.npy"), std::string::npos) << serve.err;
}

}  // namespace
}  // namespace pinfer::system_test
