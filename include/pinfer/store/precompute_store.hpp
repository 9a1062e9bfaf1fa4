#pragma once
// On-disk store of precomputes (offline-phase results), one per future inference.
//
// Layout under the root directory:
//   STORE                      marker (magic + version) so a wrong directory is never cleaned;
//                              also the lock file: one PrecomputeStore per directory at a time
//   JOURNAL                    append-only audit log: "publish|take|remove|discard <client> <id>"
//   tmp/<random>/              precomputes being written (removed when the store is opened)
//   ready/<client>/<id>/       published precomputes: their files plus MANIFEST
//   consumed/<random>/         precomputes taken for an online phase (removed when released
//                              or, after a crash, when the store is next opened)
// Guarantees:
//   - Publication is atomic: files and a checksummed MANIFEST are written and fsynced in tmp/,
//     then the directory is renamed into ready/. A crash leaves either nothing or a whole entry.
//   - A precompute is used at most once, even across crashes: take() renames the entry out of
//     ready/ (and fsyncs) *before* returning it, so no later take() can find it again.
//   - Capacity: the bytes of ready entries plus reservations of entries being written never
//     exceed capacity_bytes (and per_client_capacity_bytes per client); begin() refuses with
//     StoreError instead.
//   - Exclusive: the store holds flock(LOCK_EX) on STORE while open (released by the kernel
//     when the process dies, so a crash never leaves it locked). A second opener, in this or
//     another process, gets StoreError: recovery must never delete a live writer's tmp/ entry.
//   - Audit: every take, remove and discard appends one line to JOURNAL after it took effect, a
//     publish just before its rename (so a take always follows its publish line; a publish line
//     without an entry means the writer died). Best effort, not fsynced: the journal is for
//     audits and fault tests, the store's guarantees do not depend on it. It is rotated to
//     JOURNAL.old past kMaxJournalBytes.
//   - Damage: open() and take() check each MANIFEST (its own SHA-256, file names and sizes) and
//     the SHA-256 of every file up to kVerifyFullBytes; a damaged entry is discarded, never used.
//     Larger files (garbled circuits) carry their own per-batch checksums, verified as read.
// Thread safety: all members may be called concurrently (the server serves many clients).
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pinfer::store {

struct StoreLimits {
  uint64_t capacity_bytes = 0;             // total; must be > 0
  uint64_t per_client_capacity_bytes = 0;  // 0: no per-client limit
};

struct StoreRecovery {
  std::size_t removed_incomplete = 0;  // tmp/ entries of crashed writers
  std::size_t removed_consumed = 0;    // taken entries whose release did not happen
  std::size_t removed_damaged = 0;     // ready entries whose MANIFEST or files were wrong
};

// Result of PrecomputeStore::scan().
struct StoreScan {
  std::size_t entries_ok = 0;       // ready entries that verified fully
  std::size_t removed_damaged = 0;  // ready entries discarded by this scan
};

class PrecomputeStore;

// A precompute being written. Files are created with path(name). If destroyed without
// publish(), the partial entry and its reservation are removed.
class PrecomputeWriter {
 public:
  ~PrecomputeWriter();
  PrecomputeWriter(PrecomputeWriter&&) noexcept;
  PrecomputeWriter& operator=(PrecomputeWriter&&) = delete;
  PrecomputeWriter(const PrecomputeWriter&) = delete;

  // Path of file `name` ([A-Za-z0-9_.-], no leading dot) inside the entry.
  [[nodiscard]] std::filesystem::path path(std::string_view name) const;
  // Bytes of the files written into the entry so far.
  [[nodiscard]] uint64_t bytes_written() const;
  // Checks the written bytes against the reservation (StoreError if larger), writes the
  // MANIFEST, fsyncs and atomically publishes the entry.
  void publish();
  [[nodiscard]] const std::string& id() const noexcept { return id_; }

 private:
  friend class PrecomputeStore;
  PrecomputeWriter(PrecomputeStore* store, std::string client, std::string id,
                   std::filesystem::path dir, uint64_t reserved);
  void abandon() noexcept;
  PrecomputeStore* store_;
  std::string client_;
  std::string id_;
  std::filesystem::path dir_;
  uint64_t reserved_;
  bool done_ = false;
};

// A precompute taken for use. Its directory is deleted when this is destroyed.
class ConsumedPrecompute {
 public:
  ~ConsumedPrecompute();
  ConsumedPrecompute(ConsumedPrecompute&&) noexcept;
  ConsumedPrecompute& operator=(ConsumedPrecompute&&) = delete;
  ConsumedPrecompute(const ConsumedPrecompute&) = delete;

  [[nodiscard]] std::filesystem::path path(std::string_view name) const;
  [[nodiscard]] const std::string& id() const noexcept { return id_; }
  [[nodiscard]] uint64_t bytes() const noexcept { return bytes_; }

 private:
  friend class PrecomputeStore;
  ConsumedPrecompute(std::string id, std::filesystem::path dir, uint64_t bytes);
  std::string id_;
  std::filesystem::path dir_;
  uint64_t bytes_;
};

class PrecomputeStore {
 public:
  // Opens (creating if needed) the store at `root`, locks it and recovers from crashes (see
  // recovery()). Throws InvalidArgument on a zero capacity, StoreError if `root` exists, is not
  // empty and is not a pinfer store, or is open elsewhere (locked), IoError on file-system
  // failure (e.g. out of space while creating it).
  PrecomputeStore(std::filesystem::path root, StoreLimits limits);
  ~PrecomputeStore();

  // Starts a precompute of at most `reserved_bytes` for `client` with `id` (both
  // [A-Za-z0-9_-], 1..64 chars). Throws StoreError if the store (or the client's quota) cannot
  // hold it or the id exists, InvalidArgument on a bad name.
  [[nodiscard]] PrecomputeWriter begin(std::string_view client, std::string_view id,
                                       uint64_t reserved_bytes);
  // Fully verifies every ready entry (MANIFEST, file set, sizes, and the SHA-256 of every file
  // the MANIFEST hashes) and discards the damaged ones. Slow on big stores: for audits, tests
  // and operators, not for every open. Throws IoError on file-system failure.
  [[nodiscard]] StoreScan scan();
  // Takes the client's oldest ready precompute, or nullopt if none. Damaged entries met on the
  // way are discarded. The entry can never be taken again.
  [[nodiscard]] std::optional<ConsumedPrecompute> take_oldest(std::string_view client);
  // Takes a specific precompute. Throws StoreError if it does not exist (or was used) or is
  // damaged (it is then discarded).
  [[nodiscard]] ConsumedPrecompute take(std::string_view client, std::string_view id);
  // Deletes a ready precompute of the client; false if there was none.
  bool remove(std::string_view client, std::string_view id);

  [[nodiscard]] std::vector<std::string> list(std::string_view client) const;
  [[nodiscard]] std::size_t count(std::string_view client) const;
  [[nodiscard]] uint64_t used_bytes() const;
  [[nodiscard]] uint64_t used_bytes(std::string_view client) const;
  [[nodiscard]] const StoreLimits& limits() const noexcept { return limits_; }
  [[nodiscard]] const StoreRecovery& recovery() const noexcept { return recovery_; }
  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

  // Files up to this size are fully re-hashed when taken.
  static constexpr uint64_t kVerifyFullBytes = uint64_t{64} << 20;
  // JOURNAL is rotated to JOURNAL.old when it is larger than this at open.
  static constexpr uint64_t kMaxJournalBytes = uint64_t{4} << 20;

 private:
  friend class PrecomputeWriter;
  struct Entry {
    std::string id;
    uint64_t bytes = 0;
    uint64_t sequence = 0;
  };
  void recover();
  void release_reservation(const std::string& client, uint64_t reserved) noexcept;
  void finish_publish(const std::string& client, const std::string& id, uint64_t reserved,
                      uint64_t bytes, uint64_t sequence);
  std::optional<ConsumedPrecompute> take_locked_entry(const std::string& client, Entry entry,
                                                      std::string_view journal_op);
  ConsumedPrecompute take_named(std::string_view client, std::string_view id,
                                std::string_view journal_op);
  void journal(std::string_view op, std::string_view client, std::string_view id) noexcept;
  void lock_and_mark();

  std::filesystem::path root_;
  int lock_fd_ = -1;     // STORE, flock()ed for the store's lifetime
  int journal_fd_ = -1;  // JOURNAL, O_APPEND
  StoreLimits limits_;
  StoreRecovery recovery_;
  mutable std::mutex mu_;
  struct ClientState {
    std::vector<Entry> ready;  // ordered by sequence
    uint64_t ready_bytes = 0;
    uint64_t reserved_bytes = 0;
  };
  std::map<std::string, ClientState, std::less<>> clients_;
  uint64_t total_ready_ = 0;
  uint64_t total_reserved_ = 0;
  uint64_t next_sequence_ = 1;
};

// A fresh random precompute id: 32 hex characters from the OS random source.
[[nodiscard]] std::string new_precompute_id();

}  // namespace pinfer::store
