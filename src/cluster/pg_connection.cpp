#include "cluster/pg_connection.hpp"

#include <charconv>
#include <cstring>
#include <memory>

#include "pinfer/core/error.hpp"

namespace pinfer::cluster {

namespace {

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

struct ConninfoOptions {
  std::string password, host, port, dbname;
};

// The parts of a connection string used in messages (and the password, to scrub it). Throws
// InvalidArgument without echoing the string (it may hold a password).
ConninfoOptions parse_conninfo(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    // libpq's parse errors may quote the string; name only that it is malformed.
    if (error != nullptr) PQfreemem(error);
    throw InvalidArgument(
        "cluster database URL is malformed (expected postgresql://[user@]host[:port]/dbname or "
        "key=value pairs)");
  }
  ConninfoOptions out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "password") == 0) out.password = o->val;
    if (std::strcmp(o->keyword, "host") == 0) out.host = o->val;
    if (std::strcmp(o->keyword, "hostaddr") == 0 && out.host.empty()) out.host = o->val;
    if (std::strcmp(o->keyword, "port") == 0) out.port = o->val;
    if (std::strcmp(o->keyword, "dbname") == 0) out.dbname = o->val;
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace

std::string PgResult::text(int row, int field) const {
  PINFER_ASSERT(row < rows() && field < PQnfields(result_));
  return std::string(PQgetvalue(result_, row, field),
                     static_cast<size_t>(PQgetlength(result_, row, field)));
}

int64_t PgResult::int64(int row, int field) const {
  const std::string s = text(row, field);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) {
    throw FormatError("cluster database returned a non-integer '" + s + "' in column " +
                      PQfname(result_, field));
  }
  return value;
}

uint64_t PgResult::uint64(int row, int field) const {
  const int64_t v = int64(row, field);
  if (v < 0) {
    throw FormatError("cluster database returned a negative " +
                      std::string(PQfname(result_, field)) + " " + std::to_string(v));
  }
  return static_cast<uint64_t>(v);
}

PgConnection::PgConnection(const std::string& url, std::chrono::seconds connect_timeout) {
  const ConninfoOptions parts = parse_conninfo(url);
  password_ = parts.password;
  description_ = "cluster database '" +
                 (parts.dbname.empty() ? std::string("(default)") : parts.dbname) + "' on " +
                 (parts.host.empty() ? std::string("(default host)") : parts.host) +
                 (parts.port.empty() ? std::string() : ":" + parts.port);
  // connect_timeout first, then the URL (expanded from dbname), so the URL's own wins.
  const std::string timeout = std::to_string(std::max<int64_t>(1, connect_timeout.count()));
  const char* keywords[] = {"connect_timeout", "dbname", "application_name", nullptr};
  const char* values[] = {timeout.c_str(), url.c_str(), "pinfer", nullptr};
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) throw IoError("cannot allocate a connection to the " + description_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = scrub(trim_newlines(PQerrorMessage(conn_)));
    PQfinish(conn_);
    conn_ = nullptr;
    throw IoError("cannot connect to the " + description_ + ": " + message);
  }
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

std::string PgConnection::scrub(std::string message) const {
  if (password_.empty()) return message;
  for (size_t at = message.find(password_); at != std::string::npos;
       at = message.find(password_, at)) {
    message.replace(at, password_.size(), "***");
    at += 3;
  }
  return message;
}

void PgConnection::ensure_connected(std::string_view what) {
  if (PQstatus(conn_) == CONNECTION_OK && !needs_reset_) return;
  needs_reset_ = false;
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    throw IoError(std::string(what) + ": lost the connection to the " + description_ +
                  " and could not reconnect: " + scrub(trim_newlines(PQerrorMessage(conn_))));
  }
}

PgResult PgConnection::exec(std::string_view what, const char* sql,
                            const std::vector<std::optional<std::string>>& params) {
  ensure_connected(what);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  // A lost connection (database restarted) shows only when it is used. Statements that start a
  // transaction or only read are sent once more on a fresh connection: nothing was written yet.
  const bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
  const std::string_view text(sql);
  const bool may_resend = idle && (text.starts_with("BEGIN") || text.starts_with("SELECT"));
  PgResult result(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, /*resultFormat=*/0));
  ExecStatusType status = PQresultStatus(result.raw());
  // An error the server sent has a SQLSTATE; one without is libpq's own: the connection is
  // gone (libpq may still report CONNECTION_OK until it next reads).
  const bool failed = status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
  if (failed && (PQstatus(conn_) != CONNECTION_OK ||
                 PQresultErrorField(result.raw(), PG_DIAG_SQLSTATE) == nullptr)) {
    needs_reset_ = true;
    if (may_resend) {
      PQreset(conn_);
      if (PQstatus(conn_) == CONNECTION_OK) {
        needs_reset_ = false;
        result = PgResult(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr,
                                       values.data(), nullptr, nullptr, /*resultFormat=*/0));
        status = PQresultStatus(result.raw());
      }
    }
  }
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return result;
  }
  const char* state = PQresultErrorField(result.raw(), PG_DIAG_SQLSTATE);
  last_sqlstate_ = state != nullptr ? state : "";
  throw IoError(std::string(what) + " failed in the " + description_ + ": " +
                scrub(trim_newlines(PQerrorMessage(conn_))));
}

}  // namespace pinfer::cluster
