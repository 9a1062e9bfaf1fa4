#pragma once
// A libpq connection with RAII results, for the cluster layer only (private header).
//
// Every statement is sent with PQexecParams: values travel as parameters, never spliced into
// SQL text. Errors become pinfer errors naming what failed; the password of the connection
// string is never part of a message (libpq's own messages are scrubbed of it as well).
//
// Not thread safe: ClusterState serializes its use with a mutex.
#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pinfer::cluster {

// One query result; rows and fields as text (what the SQL casts to text, e.g. ::text).
class PgResult {
 public:
  explicit PgResult(PGresult* result) noexcept : result_(result) {}
  ~PgResult() { PQclear(result_); }
  PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgResult& operator=(PgResult&& other) noexcept {
    if (this != &other) {
      PQclear(result_);
      result_ = other.result_;
      other.result_ = nullptr;
    }
    return *this;
  }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  [[nodiscard]] int rows() const noexcept { return PQntuples(result_); }
  [[nodiscard]] bool is_null(int row, int field) const noexcept {
    return PQgetisnull(result_, row, field) != 0;
  }
  [[nodiscard]] std::string text(int row, int field) const;
  [[nodiscard]] int64_t int64(int row, int field) const;
  [[nodiscard]] uint64_t uint64(int row, int field) const;
  [[nodiscard]] PGresult* raw() const noexcept { return result_; }

 private:
  PGresult* result_;
};

class PgConnection {
 public:
  // Connects with `url` (a postgresql:// URL or a libpq key=value string), giving up after
  // `connect_timeout` (unless the URL sets its own). Throws IoError naming the database, not the
  // password; InvalidArgument when libpq cannot parse the URL.
  PgConnection(const std::string& url, std::chrono::seconds connect_timeout);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one parameterized statement; `what` names the operation in errors. A NULL parameter
  // is std::nullopt. Throws IoError when the statement fails (the connection is reset before
  // the next statement when it was lost).
  PgResult exec(std::string_view what, const char* sql,
                const std::vector<std::optional<std::string>>& params = {});

  // The SQLSTATE of the last failed statement ("" if none), e.g. "40001".
  [[nodiscard]] const std::string& last_sqlstate() const noexcept { return last_sqlstate_; }

  // Where the connection goes, for messages: "database D on HOST:PORT" (no user, no password).
  [[nodiscard]] const std::string& describe() const noexcept { return description_; }

 private:
  [[nodiscard]] std::string scrub(std::string message) const;
  void ensure_connected(std::string_view what);

  PGconn* conn_ = nullptr;
  std::string password_;  // only to scrub it from libpq's messages; never printed
  std::string description_;
  std::string last_sqlstate_;
  bool needs_reset_ = false;  // the last statement lost the connection
};

// Runs `body` between BEGIN and COMMIT on `conn`, with ROLLBACK when it throws.
template <class Body>
auto in_transaction(PgConnection& conn, std::string_view what, Body&& body) {
  conn.exec(what, "BEGIN");
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      conn.exec(what, "COMMIT");
    } else {
      auto result = body();
      conn.exec(what, "COMMIT");
      return result;
    }
  } catch (...) {
    try {
      conn.exec(what, "ROLLBACK");
    } catch (...) {  // NOLINT: the first error is the one to report
    }
    throw;
  }
}

}  // namespace pinfer::cluster
