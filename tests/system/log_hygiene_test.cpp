// Issue 8, hygiene: no secret value reaches a log. A full TLS run of the real processes (serve
// with a generated certificate, client register with the pinned fingerprint, precompute, infer),
// then the failure paths that are most tempted to echo what they got (a wrong token, a wrong
// pin). Every byte the processes printed is searched for the client's token, the server's TLS
// private key and the client's input.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pi_harness.hpp"

namespace pinfer::system_test {
namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value after `key ` on the line that starts with it in a text file.
std::string field_of(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + " ", 0) == 0) return line.substr(key.size() + 1);
  }
  return {};
}

class LogHygiene : public ::testing::Test {
 protected:
  void SetUp() override { work_ = fresh_dir("hygiene"); }
  void TearDown() override {
    server_.reset();
    if (!HasFailure()) fs::remove_all(work_);
  }

  // `pinfer <words...>` over TLS (no --insecure), output in work/<tag>.{out,err}.
  std::unique_ptr<ChildProcess> spawn(const std::string& tag, std::vector<std::string> words) {
    words.insert(words.begin(), cli_path());
    tags_.push_back(tag);
    return std::make_unique<ChildProcess>(
        words, SpawnOptions{work_ / (tag + ".out"), work_ / (tag + ".err"), RLIM_INFINITY});
  }
  ClientResult run(const std::string& tag, std::vector<std::string> words) {
    auto c = spawn(tag, std::move(words));
    const auto st = c->wait_for(180s);
    return {st ? *st : -1, c->stdout_text(), c->stderr_text()};
  }
  // Everything every process printed so far.
  std::string all_output() const {
    std::string all;
    for (const std::string& t : tags_) {
      all += read_all(work_ / (t + ".out"));
      all += read_all(work_ / (t + ".err"));
    }
    return all;
  }

  fs::path work_;
  std::vector<std::string> tags_;
  std::unique_ptr<ChildProcess> server_;
};

TEST_F(LogHygiene, TokensKeysAndInputsNeverReachAnyOutput) {
  const fs::path server_store = work_ / "server", client_store = work_ / "client";
  server_ = spawn("serve", {"serve", "--model", digits_model(), "--protocol", "client-garbler",
                            "--store", server_store.string(), "--capacity", "1GB", "--port", "0"});
  // The serving line (stdout) names the port; the certificate fingerprint is on stderr.
  std::string endpoint, pin;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (endpoint.empty() || pin.empty()) {
    const std::string out = server_->stdout_text(), err = server_->stderr_text();
    const auto at = out.find(" on 127.0.0.1:");
    if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
      endpoint = "127.0.0.1:" + std::to_string(std::stoul(out.substr(at + 14)));
    }
    const auto p = err.find("--pin ");
    if (p != std::string::npos && err.find('\n', p) != std::string::npos) {
      pin = err.substr(p + 6, err.find('\n', p) - p - 6);
    }
    ASSERT_TRUE(server_->running()) << "serve exited: " << err;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "serve did not start: " << err;
    std::this_thread::sleep_for(5ms);
  }

  const std::vector<std::string> link = {"--server", endpoint, "--store", client_store.string(),
                                         "--pin",    pin};
  auto with = [&](std::vector<std::string> words) {
    words.insert(words.end(), link.begin(), link.end());
    return words;
  };
  ASSERT_EQ(run("register", with({"client", "register"})).status, 0) << all_output();
  ASSERT_EQ(run("precompute", with({"precompute", "--count", "1"})).status, 0) << all_output();

  HeldOutSet held_out(work_);
  const fs::path input = held_out.input(3);
  const ClientResult ok = run("infer", with({"infer", "--input", input.string(), "--json"}));
  ASSERT_EQ(ok.status, 0) << ok.err;

  // The secrets, as files hold them.
  const std::string credentials = read_all(client_store / "CREDENTIALS");
  const std::string token = field_of(credentials, "token");
  ASSERT_EQ(token.size(), 64u) << "CREDENTIALS layout changed: " << credentials;
  const std::string key_pem = read_all(server_store / "TLS_KEY.pem");
  ASSERT_NE(key_pem.find("PRIVATE KEY"), std::string::npos);

  // A wrong token (last hex digit changed) must be refused without echoing either token.
  std::string wrong = token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  {
    std::string tampered = credentials;
    tampered.replace(tampered.find(token), token.size(), wrong);
    fs::permissions(client_store / "CREDENTIALS", fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream(client_store / "CREDENTIALS", std::ios::binary | std::ios::trunc) << tampered;
  }
  const ClientResult refused = run("wrong-token", with({"infer", "--input", input.string()}));
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("token"), std::string::npos) << refused.err;
  // A wrong pin must be refused too (it names fingerprints, which are public).
  std::string other_pin = pin;
  other_pin.front() = other_pin.front() == '0' ? '1' : '0';
  const ClientResult bad_pin =
      run("wrong-pin", {"infer", "--input", input.string(), "--server", endpoint, "--store",
                        client_store.string(), "--pin", other_pin});
  EXPECT_NE(bad_pin.status, 0);
  server_->signal(SIGTERM);
  ASSERT_EQ(server_->wait_for(60s), std::optional<int>(0));

  const std::string logs = lowercase(all_output());
  ASSERT_FALSE(logs.empty());
  EXPECT_EQ(logs.find(lowercase(token)), std::string::npos) << "the client token was printed";
  EXPECT_EQ(logs.find(lowercase(wrong)), std::string::npos) << "a presented token was printed";
  // Every base64 line of the private key (each 64 characters of key material).
  std::istringstream key_lines(key_pem);
  for (std::string line; std::getline(key_lines, line);) {
    if (line.empty() || line.rfind("-----", 0) == 0) continue;
    EXPECT_EQ(logs.find(lowercase(line)), std::string::npos) << "TLS key material was printed";
  }
  // The server never prints the client's input or result: the pixel values of the input file
  // are the client's secret, and the server's log does not even say which class was predicted.
  const std::string server_log = read_all(work_ / "serve.out") + read_all(work_ / "serve.err");
  EXPECT_EQ(server_log.find("prediction"), std::string::npos) << server_log;
  EXPECT_EQ(server_log.find("logits"), std::string::npos) << server_log;
  // The server keeps a hash of the token, never the token itself.
  EXPECT_EQ(lowercase(read_all(server_store / "CLIENTS")).find(lowercase(token)),
            std::string::npos);
}

}  // namespace
}  // namespace pinfer::system_test
