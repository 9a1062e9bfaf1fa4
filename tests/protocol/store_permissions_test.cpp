// Every file a full run leaves holding secret state is private: after precomputes and an
// inference of each protocol, no file in the stores (entries, state, garbled tables, manifests,
// journal, registry, credentials) has a group or other permission bit and every folder is 0700
// (the equivalent of `find STORE -type f -perm /077` printing nothing).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pinfer/core/error.hpp"
#include "pinfer/core/private_files.hpp"
#include "pinfer/protocol/client_registry.hpp"
#include "pinfer/protocol/inference_client.hpp"
#include "pinfer/protocol/inference_server.hpp"
#include "session_util.hpp"
#include "test_models.hpp"

namespace fs = std::filesystem;
using namespace pinfer;
using namespace pinfer::protocol;
using namespace pinfer::store;

namespace {

// Sets the umask for one scope: 0 lets every mode bit a writer asks for through, so a writer
// that relies on the usual 022 umask (or asks for 0644) is caught.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

struct Walk {
  std::vector<std::string> open_files;    // files with a group/other bit
  std::vector<std::string> open_folders;  // folders not exactly 0700
  std::size_t files = 0;
};

Walk walk(const fs::path& root) {
  Walk w;
  const auto mode_of = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode;
  };
  if ((mode_of(root) & 07777) != 0700) w.open_folders.push_back(root.string());
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const mode_t m = mode_of(e.path());
    if (S_ISDIR(m)) {
      if ((m & 07777) != 0700) w.open_folders.push_back(e.path().string());
    } else {
      ++w.files;
      if ((m & 077) != 0) w.open_files.push_back(e.path().string());
    }
  }
  return w;
}

class StorePermissions : public ::testing::TestWithParam<ProtocolKind> {};

TEST_P(StorePermissions, NoFileOrFolderOfAFullRunIsReadableByOthers) {
  ScopedUmask open_umask(0);
  const nn::LoweredModel model = test_models::small_test_model(5);
  test_session::Stores stores("pinfer-perm-test");
  InferenceServer server(model, GetParam(), stores.server, stores.registry);
  const ClientCredentials creds = stores.registry.register_client({});
  save_credentials(stores.dir / "client" / "CREDENTIALS", creds);
  std::size_t ready_files = 0;
  test_session::with_session(
      server, stores.client, {.credentials = creds.clone(), .protocol = GetParam()},
      [&](InferenceClient& client) {
        (void)client.precompute();
        (void)client.precompute();
        (void)client.infer(test_models::random_input(model.input_shape, 3), false);
        // One precompute is still ready on both sides: its files are part of the walk.
        for (const fs::path& side : {stores.dir / "client", stores.dir / "server"}) {
          for (const auto& e : fs::recursive_directory_iterator(side / "ready")) {
            ready_files += e.is_regular_file() ? 1 : 0;
          }
        }
      });
  EXPECT_GE(ready_files, 4u);  // a state file and a MANIFEST on each side at least
  const Walk w = walk(stores.dir);
  EXPECT_GE(w.files, ready_files + 5);  // + STORE and JOURNAL of each store, CLIENTS, ...
  EXPECT_TRUE(w.open_files.empty()) << "first: " << w.open_files.front();
  EXPECT_TRUE(w.open_folders.empty()) << "first: " << w.open_folders.front();
}

INSTANTIATE_TEST_SUITE_P(BothProtocols, StorePermissions,
                         ::testing::Values(ProtocolKind::client_garbler,
                                           ProtocolKind::server_garbler),
                         test_models::ProtocolName());

TEST(PrivateFiles, ModesAreExactWhateverTheUmask) {
  ScopedUmask open_umask(0);
  const fs::path dir = fs::temp_directory_path() / ("pinfer-private-" + new_precompute_id());
  create_private_directories(dir / "a" / "b");
  write_file_atomically(dir / "a" / "secret", std::string_view("k"));
  const int fd = open_private_file_for_writing(dir / "a" / "b" / "stream");
  ASSERT_GE(fd, 0);
  ::close(fd);
  const Walk w = walk(dir);
  EXPECT_EQ(w.files, 2u);
  EXPECT_TRUE(w.open_files.empty());
  EXPECT_TRUE(w.open_folders.empty());
  // A folder that exists with a wider mode is tightened; a file replaced keeps no old mode.
  fs::permissions(dir / "a", fs::perms::all);
  create_private_directories(dir / "a");
  EXPECT_TRUE(walk(dir).open_folders.empty());
  EXPECT_EQ(read_file_capped(dir / "a" / "secret", 1).size(), 1u);
  EXPECT_THROW((void)read_file_capped(dir / "a" / "secret", 0), FormatError);
  fs::remove_all(dir);
}

}  // namespace
