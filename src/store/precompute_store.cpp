#include "pinfer/store/precompute_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "pinfer/core/error.hpp"
#include "pinfer/core/hex.hpp"
#include "pinfer/core/prg.hpp"
#include "pinfer/core/private_files.hpp"
#include "pinfer/core/sha256.hpp"

namespace fs = std::filesystem;

namespace pinfer::store {
namespace {

constexpr std::string_view kStoreMagic = "pinfer-precompute-store 1\n";
constexpr std::string_view kManifestMagic = "pinfer-precompute 1";
constexpr uintmax_t kMaxManifestBytes = 64 * 1024;
constexpr std::size_t kMaxFiles = 256;

bool valid_name(std::string_view s, std::size_t max_len, bool allow_dot) {
  if (s.empty() || s.size() > max_len || s[0] == '.') return false;
  return std::all_of(s.begin(), s.end(), [&](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || (allow_dot && ch == '.');
  });
}

void check_name(std::string_view what, std::string_view s) {
  if (!valid_name(s, 64, false)) {
    throw InvalidArgument(std::string(what) + " '" + std::string(s.substr(0, 80)) +
                          "' must be 1..64 characters of [A-Za-z0-9_-]");
  }
}

std::string random_name() {
  std::array<unsigned char, 16> b{};
  os_random_bytes(std::as_writable_bytes(std::span(b)));
  return to_hex(b);
}

// Runs a std::filesystem operation, turning its exceptions into IoError.
template <typename F>
auto fs_call(const char* what, F&& f) {
  try {
    return f();
  } catch (const fs::filesystem_error& e) {
    throw IoError(std::string(what) + ": " + e.what());
  }
}

void remove_quietly(const fs::path& p) noexcept {
  std::error_code ec;
  fs::remove_all(p, ec);
}

struct ManifestFile {
  std::string name;
  uint64_t size = 0;
  std::string sha;  // "-" when not hashed (large files)
};

struct Manifest {
  std::string client;
  std::string id;
  uint64_t sequence = 0;
  std::vector<ManifestFile> files;
  [[nodiscard]] uint64_t bytes() const {
    uint64_t b = 0;
    for (const auto& f : files) b += f.size;
    return b;
  }
};

std::string render_manifest(const Manifest& m) {
  std::ostringstream body;
  body << kManifestMagic << "\nclient " << m.client << "\nid " << m.id << "\nsequence "
       << m.sequence << "\n";
  for (const auto& f : m.files) body << "file " << f.name << ' ' << f.size << ' ' << f.sha << '\n';
  std::string text = body.str();
  text += "end " + sha256_hex(text) + "\n";
  return text;
}

// Parses and checks a MANIFEST; throws FormatError naming what is wrong.
Manifest read_manifest(const fs::path& dir) {
  const fs::path p = dir / "MANIFEST";
  std::error_code ec;
  const uintmax_t size = fs::file_size(p, ec);
  if (ec) throw FormatError("MANIFEST missing in " + dir.string());
  if (size > kMaxManifestBytes) throw FormatError("MANIFEST larger than 64 KiB");
  const SecretBuffer<std::byte> raw = read_file_capped(p, kMaxManifestBytes);
  std::string text(reinterpret_cast<const char*>(raw.data()), raw.size());
  const std::size_t end_pos = text.rfind("end ");
  if (end_pos == std::string::npos || text.size() != end_pos + 4 + 64 + 1 || text.back() != '\n') {
    throw FormatError("MANIFEST has no valid end line");
  }
  if (text.substr(end_pos + 4, 64) != sha256_hex(std::string_view(text).substr(0, end_pos))) {
    throw FormatError("MANIFEST checksum mismatch");
  }
  std::istringstream lines(text.substr(0, end_pos));
  std::string line;
  Manifest m;
  if (!std::getline(lines, line) || line != kManifestMagic) throw FormatError("MANIFEST magic");
  std::string key;
  while (std::getline(lines, line)) {
    std::istringstream ls(line);
    ls >> key;
    if (key == "client") {
      ls >> m.client;
    } else if (key == "id") {
      ls >> m.id;
    } else if (key == "sequence") {
      ls >> m.sequence;
    } else if (key == "file") {
      ManifestFile f;
      ls >> f.name >> f.size >> f.sha;
      if (!valid_name(f.name, 128, true) || f.name == "MANIFEST") {
        throw FormatError("MANIFEST file name invalid");
      }
      m.files.push_back(std::move(f));
      if (m.files.size() > kMaxFiles) throw FormatError("MANIFEST lists too many files");
    } else {
      throw FormatError("MANIFEST has unknown key '" + key.substr(0, 32) + "'");
    }
    if (ls.fail()) throw FormatError("MANIFEST line malformed: " + key.substr(0, 32));
  }
  return m;
}

// Checks that the files on disk match the manifest; full hashes for small files.
void verify_files(const fs::path& dir, const Manifest& m) {
  std::size_t on_disk = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename() != "MANIFEST") ++on_disk;
  }
  if (on_disk != m.files.size()) throw FormatError("entry has files not in its MANIFEST");
  for (const auto& f : m.files) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(dir / f.name, ec);
    if (ec || size != f.size) throw FormatError("file '" + f.name + "' is missing or resized");
    if (f.sha != "-" && sha256_file_hex(dir / f.name) != f.sha) {
      throw FormatError("file '" + f.name + "' checksum mismatch");
    }
  }
}

}  // namespace

std::string new_precompute_id() {
  return random_name();
}

// ---------------------------------------------------------------- PrecomputeWriter

PrecomputeWriter::PrecomputeWriter(PrecomputeStore* store, std::string client, std::string id,
                                   fs::path dir, uint64_t reserved)
    : store_(store),
      client_(std::move(client)),
      id_(std::move(id)),
      dir_(std::move(dir)),
      reserved_(reserved) {}

PrecomputeWriter::PrecomputeWriter(PrecomputeWriter&& o) noexcept
    : store_(o.store_),
      client_(std::move(o.client_)),
      id_(std::move(o.id_)),
      dir_(std::move(o.dir_)),
      reserved_(o.reserved_),
      done_(o.done_) {
  o.done_ = true;
}

PrecomputeWriter::~PrecomputeWriter() {
  abandon();
}

void PrecomputeWriter::abandon() noexcept {
  if (done_) return;
  done_ = true;
  remove_quietly(dir_);
  store_->release_reservation(client_, reserved_);
}

fs::path PrecomputeWriter::path(std::string_view name) const {
  if (!valid_name(name, 128, true) || name == "MANIFEST") {
    throw InvalidArgument("precompute file name '" + std::string(name.substr(0, 80)) +
                          "' is not allowed");
  }
  return dir_ / std::string(name);
}

uint64_t PrecomputeWriter::bytes_written() const {
  return fs_call("size precompute", [&] {
    uint64_t total = 0;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.is_regular_file()) total += entry.file_size();
    }
    return total;
  });
}

void PrecomputeWriter::publish() {
  if (done_) throw StoreError("precompute " + id_ + " was already published or abandoned");
  Manifest m;
  m.client = client_;
  m.id = id_;
  fs_call("publish precompute", [&] {
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (!entry.is_regular_file()) throw StoreError("precompute entry holds a non-file");
      ManifestFile f;
      f.name = entry.path().filename().string();
      f.size = entry.file_size();
      f.sha = f.size <= PrecomputeStore::kVerifyFullBytes ? sha256_file_hex(entry.path()) : "-";
      fsync_path(entry.path(), false);
      m.files.push_back(std::move(f));
    }
  });
  std::sort(m.files.begin(), m.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.name < b.name; });
  if (m.bytes() > reserved_) {
    throw StoreError("precompute " + id_ + " wrote " + std::to_string(m.bytes()) +
                     " bytes, more than its reservation of " + std::to_string(reserved_));
  }
  {
    std::lock_guard lock(store_->mu_);
    m.sequence = store_->next_sequence_++;
  }
  const std::string text = render_manifest(m);
  // Atomic and fsynced with its folder; mode 0600 like every file of the store.
  write_file_atomically(dir_ / "MANIFEST", std::string_view(text));
  const fs::path client_dir = store_->root_ / "ready" / client_;
  const fs::path target = client_dir / id_;
  // Journaled before the rename: every later take of the id finds its publish line even if the
  // process dies right after the rename (a line without an entry means a publish died first).
  store_->journal("publish", client_, id_);
  fs_call("publish precompute", [&] {
    create_private_directories(client_dir);
    if (fs::exists(target)) throw StoreError("precompute id " + id_ + " already exists");
    fs::rename(dir_, target);
  });
  fsync_path(client_dir, true);
  done_ = true;
  store_->finish_publish(client_, id_, reserved_, m.bytes(), m.sequence);
}

// ---------------------------------------------------------------- ConsumedPrecompute

ConsumedPrecompute::ConsumedPrecompute(std::string id, fs::path dir, uint64_t bytes)
    : id_(std::move(id)), dir_(std::move(dir)), bytes_(bytes) {}

ConsumedPrecompute::ConsumedPrecompute(ConsumedPrecompute&& o) noexcept
    : id_(std::move(o.id_)), dir_(std::move(o.dir_)), bytes_(o.bytes_) {
  o.dir_.clear();
}

ConsumedPrecompute::~ConsumedPrecompute() {
  if (!dir_.empty()) remove_quietly(dir_);
}

fs::path ConsumedPrecompute::path(std::string_view name) const {
  if (!valid_name(name, 128, true)) {
    throw InvalidArgument("precompute file name '" + std::string(name.substr(0, 80)) +
                          "' is not allowed");
  }
  return dir_ / std::string(name);
}

// ---------------------------------------------------------------- PrecomputeStore

PrecomputeStore::PrecomputeStore(fs::path root, StoreLimits limits)
    : root_(std::move(root)), limits_(limits) {
  if (limits.capacity_bytes == 0) throw InvalidArgument("store capacity_bytes must be > 0");
  try {
    fs_call("open precompute store", [&] {
      if (fs::exists(root_) && !fs::exists(root_ / "STORE")) {
        // Empty, or holding only the marker of an interrupted creation: a new store.
        for (const auto& e : fs::directory_iterator(root_)) {
          const std::string name = e.path().filename().string();
          if (name != "STORE.new" && name.rfind("STORE.tmp-", 0) != 0) {
            throw StoreError("directory " + root_.string() +
                             " is not empty and is not a pinfer precompute store");
          }
        }
      }
      // Folders 0700 and files 0600: entries hold garbling offsets, label seeds and masks.
      // An existing store made before this rule is tightened on open.
      create_private_directories(root_);
      lock_and_mark();
      create_private_directories(root_ / "tmp");
      create_private_directories(root_ / "ready");
      create_private_directories(root_ / "consumed");
    });
    recover();
  } catch (...) {
    if (journal_fd_ >= 0) ::close(journal_fd_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
    throw;
  }
}

PrecomputeStore::~PrecomputeStore() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

// Creates the STORE marker atomically (write_file_atomically: a failed write, e.g. out of space,
// never leaves a marker that would make the directory unopenable), takes the lock and opens the
// journal.
void PrecomputeStore::lock_and_mark() {
  const fs::path marker = root_ / "STORE";
  std::error_code ec;
  if (!fs::exists(marker) || fs::file_size(marker, ec) == 0) {
    write_file_atomically(marker, kStoreMagic);
  }
  lock_fd_ = ::open(marker.c_str(), O_RDONLY | O_CLOEXEC);
  if (lock_fd_ < 0) throw IoError("cannot open " + marker.string() + ": " + std::strerror(errno));
  // A marker from a store made before files were private: tighten it (the owner may always).
  (void)::fchmod(lock_fd_, kPrivateFileMode);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      throw StoreError("precompute store " + root_.string() +
                       " is in use (locked by another process or another open of it)");
    }
    throw IoError("cannot lock " + marker.string() + ": " + std::strerror(errno));
  }
  std::string head(kStoreMagic.size(), '\0');
  if (::pread(lock_fd_, head.data(), head.size(), 0) != static_cast<ssize_t>(head.size()) ||
      head != kStoreMagic) {
    throw StoreError("STORE marker of " + root_.string() + " is wrong");
  }
  const fs::path journal_path = root_ / "JOURNAL";
  if (fs::exists(journal_path) && fs::file_size(journal_path, ec) > kMaxJournalBytes && !ec) {
    fs::rename(journal_path, root_ / "JOURNAL.old");
    fs::permissions(root_ / "JOURNAL.old", fs::perms::owner_read | fs::perms::owner_write);
  }
  // The journal names clients and precompute ids: private like the rest of the store.
  journal_fd_ =
      ::open(journal_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, kPrivateFileMode);
  if (journal_fd_ < 0 || ::fchmod(journal_fd_, kPrivateFileMode) != 0) {
    throw IoError("cannot open " + journal_path.string() + ": " + std::strerror(errno));
  }
}

void PrecomputeStore::journal(std::string_view op, std::string_view client,
                              std::string_view id) noexcept {
  std::string line;
  line.reserve(op.size() + client.size() + id.size() + 3);
  line.append(op).append(" ").append(client).append(" ").append(id).append("\n");
  // One write() per line: O_APPEND keeps lines whole between threads and processes.
  (void)!::write(journal_fd_, line.data(), line.size());
}

void PrecomputeStore::recover() {
  fs_call("recover precompute store", [&] {
    for (const auto& e : fs::directory_iterator(root_ / "tmp")) {
      remove_quietly(e.path());
      ++recovery_.removed_incomplete;
    }
    for (const auto& e : fs::directory_iterator(root_ / "consumed")) {
      remove_quietly(e.path());
      ++recovery_.removed_consumed;
    }
    for (const auto& c : fs::directory_iterator(root_ / "ready")) {
      const std::string client = c.path().filename().string();
      if (!c.is_directory() || !valid_name(client, 64, false)) {
        remove_quietly(c.path());
        ++recovery_.removed_damaged;
        continue;
      }
      for (const auto& e : fs::directory_iterator(c.path())) {
        const std::string id = e.path().filename().string();
        try {
          const Manifest m = read_manifest(e.path());
          if (m.client != client || m.id != id) throw FormatError("MANIFEST names another entry");
          // Sizes only here: re-hashing every entry would make opening slow; take() re-hashes.
          for (const auto& f : m.files) {
            std::error_code ec;
            if (fs::file_size(e.path() / f.name, ec) != f.size || ec) {
              throw FormatError("file size mismatch");
            }
          }
          ClientState& st = clients_[client];
          st.ready.push_back({id, m.bytes(), m.sequence});
          st.ready_bytes += m.bytes();
          total_ready_ += m.bytes();
          next_sequence_ = std::max(next_sequence_, m.sequence + 1);
        } catch (const Error&) {
          remove_quietly(e.path());
          ++recovery_.removed_damaged;
          journal("discard", client, id);
        }
      }
    }
  });
  for (auto& [client, st] : clients_) {
    std::sort(st.ready.begin(), st.ready.end(),
              [](const Entry& a, const Entry& b) { return a.sequence < b.sequence; });
  }
}

PrecomputeWriter PrecomputeStore::begin(std::string_view client, std::string_view id,
                                        uint64_t reserved_bytes) {
  check_name("client id", client);
  check_name("precompute id", id);
  {
    std::lock_guard lock(mu_);
    const uint64_t total = total_ready_ + total_reserved_;
    if (reserved_bytes > limits_.capacity_bytes ||
        total > limits_.capacity_bytes - reserved_bytes) {
      throw StoreError("store full: " + std::to_string(total) + " of " +
                       std::to_string(limits_.capacity_bytes) + " bytes used, precompute needs " +
                       std::to_string(reserved_bytes));
    }
    ClientState& st = clients_[std::string(client)];
    const uint64_t mine = st.ready_bytes + st.reserved_bytes;
    if (limits_.per_client_capacity_bytes != 0 &&
        (reserved_bytes > limits_.per_client_capacity_bytes ||
         mine > limits_.per_client_capacity_bytes - reserved_bytes)) {
      throw StoreError("client quota exceeded: " + std::to_string(mine) + " of " +
                       std::to_string(limits_.per_client_capacity_bytes) +
                       " bytes used, precompute needs " + std::to_string(reserved_bytes));
    }
    for (const Entry& e : st.ready) {
      if (e.id == id) throw StoreError("precompute id " + std::string(id) + " already exists");
    }
    st.reserved_bytes += reserved_bytes;
    total_reserved_ += reserved_bytes;
  }
  const fs::path dir = root_ / "tmp" / random_name();
  try {
    fs_call("begin precompute", [&] { create_private_directories(dir); });
  } catch (...) {
    release_reservation(std::string(client), reserved_bytes);
    throw;
  }
  return PrecomputeWriter(this, std::string(client), std::string(id), dir, reserved_bytes);
}

void PrecomputeStore::release_reservation(const std::string& client, uint64_t reserved) noexcept {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  if (it != clients_.end()) it->second.reserved_bytes -= reserved;
  total_reserved_ -= reserved;
}

void PrecomputeStore::finish_publish(const std::string& client, const std::string& id,
                                     uint64_t reserved, uint64_t bytes, uint64_t sequence) {
  std::lock_guard lock(mu_);
  ClientState& st = clients_[client];
  st.reserved_bytes -= reserved;
  total_reserved_ -= reserved;
  st.ready.push_back({id, bytes, sequence});
  std::sort(st.ready.begin(), st.ready.end(),
            [](const Entry& a, const Entry& b) { return a.sequence < b.sequence; });
  st.ready_bytes += bytes;
  total_ready_ += bytes;
}

// Moves the entry out of ready/ (the point after which it can never be used again), then
// verifies it. Returns nullopt if it was damaged (and discarded).
std::optional<ConsumedPrecompute> PrecomputeStore::take_locked_entry(const std::string& client,
                                                                     Entry entry,
                                                                     std::string_view journal_op) {
  const fs::path from = root_ / "ready" / client / entry.id;
  const fs::path to = root_ / "consumed" / random_name();
  fs_call("take precompute", [&] { fs::rename(from, to); });
  fsync_path(root_ / "consumed", true);
  fsync_path(root_ / "ready" / client, true);
  try {
    const Manifest m = read_manifest(to);
    if (m.client != client || m.id != entry.id) throw FormatError("MANIFEST names another entry");
    verify_files(to, m);
  } catch (const Error&) {
    remove_quietly(to);
    journal("discard", client, entry.id);
    std::lock_guard lock(mu_);
    ++recovery_.removed_damaged;
    return std::nullopt;
  }
  journal(journal_op, client, entry.id);
  return ConsumedPrecompute(entry.id, to, entry.bytes);
}

std::optional<ConsumedPrecompute> PrecomputeStore::take_oldest(std::string_view client) {
  check_name("client id", client);
  for (;;) {
    Entry e;
    {
      std::lock_guard lock(mu_);
      auto it = clients_.find(client);
      if (it == clients_.end() || it->second.ready.empty()) return std::nullopt;
      e = it->second.ready.front();
      it->second.ready.erase(it->second.ready.begin());
      it->second.ready_bytes -= e.bytes;
      total_ready_ -= e.bytes;
    }
    if (auto taken = take_locked_entry(std::string(client), e, "take")) return taken;
  }
}

ConsumedPrecompute PrecomputeStore::take(std::string_view client, std::string_view id) {
  return take_named(client, id, "take");
}

ConsumedPrecompute PrecomputeStore::take_named(std::string_view client, std::string_view id,
                                               std::string_view journal_op) {
  check_name("client id", client);
  check_name("precompute id", id);
  Entry e;
  {
    std::lock_guard lock(mu_);
    auto it = clients_.find(client);
    bool found = false;
    if (it != clients_.end()) {
      auto& ready = it->second.ready;
      auto pos =
          std::find_if(ready.begin(), ready.end(), [&](const Entry& x) { return x.id == id; });
      if (pos != ready.end()) {
        e = *pos;
        ready.erase(pos);
        it->second.ready_bytes -= e.bytes;
        total_ready_ -= e.bytes;
        found = true;
      }
    }
    if (!found) {
      throw StoreError("precompute " + std::string(id) + " of client " + std::string(client) +
                       " does not exist or was already used");
    }
  }
  auto taken = take_locked_entry(std::string(client), e, journal_op);
  if (!taken) throw StoreError("precompute " + std::string(id) + " was damaged and discarded");
  return std::move(*taken);
}

bool PrecomputeStore::remove(std::string_view client, std::string_view id) {
  try {
    ConsumedPrecompute gone = take_named(client, id, "remove");
    return true;
  } catch (const StoreError&) {
    return false;
  }
}

StoreScan PrecomputeStore::scan() {
  StoreScan result;
  std::lock_guard lock(mu_);  // entries listed in clients_ stay in ready/ while mu_ is held
  for (auto& [client, st] : clients_) {
    for (auto it = st.ready.begin(); it != st.ready.end();) {
      const fs::path dir = root_ / "ready" / client / it->id;
      bool ok = true;
      try {
        const Manifest m = fs_call("scan precompute store", [&] { return read_manifest(dir); });
        if (m.client != client || m.id != it->id || m.bytes() != it->bytes) {
          throw FormatError("MANIFEST names another entry");
        }
        fs_call("scan precompute store", [&] { verify_files(dir, m); });
      } catch (const FormatError&) {
        ok = false;
      }
      if (ok) {
        ++result.entries_ok;
        ++it;
        continue;
      }
      remove_quietly(dir);
      journal("discard", client, it->id);
      ++result.removed_damaged;
      ++recovery_.removed_damaged;
      st.ready_bytes -= it->bytes;
      total_ready_ -= it->bytes;
      it = st.ready.erase(it);
    }
  }
  return result;
}

std::vector<std::string> PrecomputeStore::list(std::string_view client) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  auto it = clients_.find(client);
  if (it != clients_.end()) {
    for (const Entry& e : it->second.ready) ids.push_back(e.id);
  }
  return ids;
}

std::size_t PrecomputeStore::count(std::string_view client) const {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  return it == clients_.end() ? 0 : it->second.ready.size();
}

uint64_t PrecomputeStore::used_bytes() const {
  std::lock_guard lock(mu_);
  return total_ready_ + total_reserved_;
}

uint64_t PrecomputeStore::used_bytes(std::string_view client) const {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  return it == clients_.end() ? 0 : it->second.ready_bytes + it->second.reserved_bytes;
}

}  // namespace pinfer::store
