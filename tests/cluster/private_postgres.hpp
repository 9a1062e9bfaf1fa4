#pragma once
// A private PostgreSQL server for tests: `initdb` into a fresh temporary folder, `pg_ctl start`
// listening only on a Unix socket in that folder (listen_addresses = '', so no TCP port at all
// and nothing to collide with a parallel test), trust authentication for the one test user, and
// `pg_ctl stop -m immediate` plus removal of the folder in the destructor.
//
// The server binaries come from Debian's `postgresql` package (scripts/install-deps.sh):
// $PINFER_PG_BINDIR, else the newest /usr/lib/postgresql/<version>/bin. initdb refuses to run as
// root, so as root (CI) the folder is given to the `postgres` system user the package creates
// and initdb/pg_ctl run as that user through `runuser -u postgres --`.
//
// Header-only: the test folders glob only *_test.cpp. Throws std::runtime_error with what to
// install or what failed (and the server log's tail) when the server cannot be started.
#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pinfer::cluster_test {

class PrivatePostgres {
 public:
  // The folder with initdb and pg_ctl, or "" when PostgreSQL's server binaries are missing.
  static std::filesystem::path find_bindir() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("PINFER_PG_BINDIR"); env != nullptr && *env != '\0') {
      return fs::exists(fs::path(env) / "initdb") ? fs::path(env) : fs::path();
    }
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      if (fs::exists(e.path() / "bin" / "initdb") && fs::exists(e.path() / "bin" / "pg_ctl")) {
        found.push_back(e.path() / "bin");
      }
    }
    if (found.empty()) return {};
    // Versions are folder names ("15", "16"): the newest by number.
    std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
      return std::atoi(a.parent_path().filename().c_str()) <
             std::atoi(b.parent_path().filename().c_str());
    });
    return found.back();
  }

  PrivatePostgres() : bindir_(find_bindir()) {
    namespace fs = std::filesystem;
    if (bindir_.empty()) {
      throw std::runtime_error(
          "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin "
          "or $PINFER_PG_BINDIR: install the Debian package 'postgresql' "
          "(scripts/install-deps.sh)");
    }
    as_root_ = ::geteuid() == 0;
    // Under /tmp: the `postgres` user must be able to reach it, and the socket path must stay
    // below the 107-byte limit of Unix socket names.
    std::string pattern = "/tmp/pinfer-pg-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot create a temporary folder for PostgreSQL under /tmp");
    }
    dir_ = pattern;
    if (as_root_) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) {
        fs::remove_all(dir_);
        throw std::runtime_error(
            "running as root, and there is no 'postgres' system user to run initdb as: install "
            "the Debian package 'postgresql' (scripts/install-deps.sh), which creates it");
      }
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        fs::remove_all(dir_);
        throw std::runtime_error("cannot give " + dir_.string() + " to the postgres user");
      }
    }
    try {
      run({(bindir_ / "initdb").string(), "-D", data_dir().string(), "-A", "trust", "-U", user(),
           "-E", "UTF8", "--no-sync", "--no-instructions"},
          "initdb");
      start();
    } catch (...) {
      fs::remove_all(dir_);
      throw;
    }
  }

  ~PrivatePostgres() {
    if (running_) {
      try {
        stop();
      } catch (...) {  // NOLINT: best effort in a destructor
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  PrivatePostgres(const PrivatePostgres&) = delete;
  PrivatePostgres& operator=(const PrivatePostgres&) = delete;

  // Starts the server again after stop() (e.g. a database restart under running nodes).
  void start() {
    const std::string options = "-c listen_addresses='' -k " + dir_.string() + " -p " +
                                std::to_string(kPort) +
                                " -c fsync=off -c full_page_writes=off -c max_connections=60";
    run({(bindir_ / "pg_ctl").string(), "-D", data_dir().string(), "-l", log_path().string(), "-w",
         "-t", "60", "-o", options, "start"},
        "pg_ctl start");
    running_ = true;
  }

  void stop() {
    running_ = false;
    run({(bindir_ / "pg_ctl").string(), "-D", data_dir().string(), "-m", "immediate", "-w", "-t",
         "60", "stop"},
        "pg_ctl stop");
  }

  // A libpq URL for `dbname` on the server's Unix socket (no password: trust for this user).
  [[nodiscard]] std::string url(const std::string& dbname = "postgres") const {
    return "postgresql://" + user() + "@/" + dbname + "?host=" + dir_.string() +
           "&port=" + std::to_string(kPort) + "&connect_timeout=10";
  }

  // Rows of a query's result as text (NULL as ""), on a connection of its own; throws with the
  // server's message when it fails. For tests that audit what the cluster recorded.
  [[nodiscard]] std::vector<std::vector<std::string>> query(
      const std::string& sql, const std::string& dbname = "postgres") const {
    PGconn* conn = PQconnectdb(url(dbname).c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      const std::string why = PQerrorMessage(conn);
      PQfinish(conn);
      throw std::runtime_error("cannot connect to the private PostgreSQL: " + why);
    }
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const std::string why = PQerrorMessage(conn);
      PQclear(r);
      PQfinish(conn);
      throw std::runtime_error("query failed: " + sql + ": " + why);
    }
    std::vector<std::vector<std::string>> rows(static_cast<std::size_t>(PQntuples(r)));
    for (int i = 0; i < PQntuples(r); ++i) {
      for (int j = 0; j < PQnfields(r); ++j)
        rows[static_cast<std::size_t>(i)].emplace_back(PQgetvalue(r, i, j));
    }
    PQclear(r);
    PQfinish(conn);
    return rows;
  }

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] std::string log_tail() const {
    std::ifstream in(log_path());
    std::ostringstream s;
    s << in.rdbuf();
    const std::string all = s.str();
    return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
  }

 private:
  static constexpr int kPort = 5432;  // only names the socket file; no TCP listener
  static std::string user() { return "pinfer"; }
  [[nodiscard]] std::filesystem::path data_dir() const { return dir_ / "data"; }
  [[nodiscard]] std::filesystem::path log_path() const { return dir_ / "server.log"; }

  // Runs a server binary (as `postgres` when root), its output in dir_/<what>.out; throws with
  // that output when it fails.
  void run(std::vector<std::string> argv, const std::string& what) const {
    if (as_root_) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
    const std::string out = (dir_ / "command.out").string();
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed running " + what);
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec (the test process may have threads).
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) ::_exit(126);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) throw std::runtime_error("waitpid failed running " + what);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::ifstream in(out);
      std::ostringstream s;
      s << in.rdbuf();
      throw std::runtime_error(what + " failed (status " + std::to_string(status) +
                               "): " + s.str() + "\nserver log:\n" + log_tail());
    }
  }

  std::filesystem::path bindir_;
  std::filesystem::path dir_;
  bool as_root_ = false;
  bool running_ = false;
};

}  // namespace pinfer::cluster_test
