// `pinfer bench arrivals` on the real executable: clients under Poisson arrivals over TLS against
// the built-in server, every result bit-exact, and with --simulate the simulator's figures for
// the same arrival seeds beside them. Short and bounded (a few seconds of arrivals).
#include <gtest/gtest.h>

#include "pi_harness.hpp"

namespace pinfer::system_test {
namespace {

TEST(BenchArrivals, ShortRunMeasuresAndSimulatesTheSameArrivals) {
  const fs::path work = fresh_dir("arrivals");
  ChildProcess bench({cli_path(),
                      "bench",
                      "arrivals",
                      "--model",
                      digits_model(),
                      "--protocol",
                      "server-garbler",
                      "--clients",
                      "2",
                      "--rate",
                      "2",
                      "--duration-s",
                      "2",
                      "--seed",
                      "5",
                      "--policy",
                      "poll",
                      "--poll-interval-s",
                      "0.2",
                      "--client-storage",
                      "100MB",
                      "--server-storage",
                      "1GB",
                      "--uplink-mbps",
                      "400",
                      "--downlink-mbps",
                      "400",
                      "--simulate",
                      "--json"},
                     {work / "out", work / "err"});
  const auto st = bench.wait_for(240s);
  ASSERT_TRUE(st.has_value()) << "bench arrivals did not finish";
  ASSERT_EQ(*st, 0) << bench.stderr_text() << bench.stdout_text();
  const nlohmann::json j = nlohmann::json::parse(bench.stdout_text());
  const uint64_t arrivals = j.at("arrivals").get<uint64_t>();
  ASSERT_GT(arrivals, 0u);
  EXPECT_EQ(j.at("unserved").get<uint64_t>(), 0u);
  EXPECT_EQ(j.at("wrong_results").get<uint64_t>(), 0u);
  ASSERT_EQ(j.at("requests").size(), arrivals);
  for (const auto& r : j.at("requests")) EXPECT_TRUE(r.at("bit_exact").get<bool>());
  const auto& measured = j.at("rates").at(0);
  EXPECT_EQ(measured.at("served").get<double>(), static_cast<double>(arrivals));
  EXPECT_GT(measured.at("mean_latency_s").get<double>(), 0.0);
  // The simulator replays the same arrival sequences, so it sees the same requests.
  const auto& simulated = j.at("simulated").at("rates").at(0);
  EXPECT_EQ(simulated.at("served").get<double>(), static_cast<double>(arrivals));
  EXPECT_EQ(j.at("simulated").at("requests").size(), arrivals);
  EXPECT_TRUE(j.at("relative_error_mean").is_number());
  EXPECT_TRUE(j.at("relative_error_p99").is_number());
  EXPECT_EQ(j.at("settings").at("transport").get<std::string>(), "tls1.3");
  fs::remove_all(work);
}

TEST(BenchArrivals, FlagsThatCannotActAreRefused) {
  const fs::path work = fresh_dir("arrivals-refused");
  // --server-storage sizes only the built-in server's store.
  ChildProcess bench({cli_path(), "bench", "arrivals", "--model", digits_model(), "--rate", "1",
                      "--server", "127.0.0.1:9", "--insecure", "--server-storage", "1GB"},
                     {work / "out", work / "err"});
  const auto st = bench.wait_for(60s);
  ASSERT_TRUE(st.has_value());
  EXPECT_NE(*st, 0);
  EXPECT_NE(bench.stderr_text().find("--server-storage"), std::string::npos) << bench.stderr_text();
  fs::remove_all(work);
}

}  // namespace
}  // namespace pinfer::system_test
