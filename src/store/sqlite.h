// A thin layer over SQLite's C API: a connection, prepared statements with typed binds and
// reads, and SQLite's result codes turned into zflow::Status with the database's path and what
// was being done. Nothing else in zflow includes <sqlite3.h>.
//
//   ZFLOW_ASSIGN_OR_RETURN(auto db, Database::Open("zflow.db"));
//   ZFLOW_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT name FROM t WHERE id = ?"));
//   q.Bind(1, id);
//   ZFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
//   if (row) use(q.Text(0));
#ifndef ZFLOW_STORE_SQLITE_H_
#define ZFLOW_STORE_SQLITE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "zflow/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace zflow::store {

class Database;

// A prepared statement, borrowed from its connection's cache: when the handle goes away the
// statement is reset for its next use (not finalized), so the same SQL is compiled once per
// connection. Binds are 1-based, columns 0-based (as in SQLite). Not thread-safe: a statement
// belongs to its connection's user, and must not outlive the connection.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  Statement& Bind(int index, std::int64_t value);
  Statement& Bind(int index, std::string_view text);  // copied by SQLite
  Statement& BindNull(int index);

  // Runs the statement one step: true when a row is ready to read, false when done.
  Result<bool> Step();
  // Runs a statement that returns no rows, then resets it for the next use.
  Status Run();
  // Makes the statement ready to run again (binds are cleared).
  void Reset();

  std::int64_t Int(int column) const;
  std::string_view Text(int column) const;  // valid until the next Step/Reset
  bool IsNull(int column) const;

 private:
  friend class Database;
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

struct DatabaseOptions {
  bool read_only = false;
  // PRAGMA synchronous: FULL flushes every commit to disk (power-loss safe); NORMAL leaves
  // the write-ahead log to the OS until a checkpoint (safe when the process dies).
  bool synchronous_full = true;
  int busy_timeout_ms = 5000;
};

// One connection. Not thread-safe; each thread that reads uses its own.
class Database {
 public:
  // Opens (creating unless read-only) the database at `path` in write-ahead-log mode. Errors
  // name the path: kPermissionDenied for a file or directory that cannot be written,
  // kDataLoss for a file that is not a database.
  static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                DatabaseOptions options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status Exec(std::string_view sql);
  // The statement for `sql`, compiled on first use and kept. Only one handle per SQL text may
  // be alive at a time.
  Result<Statement> Prepare(std::string_view sql);
  std::int64_t LastInsertRowId() const;
  int Changes() const;
  const std::string& path() const { return path_; }

  // The error SQLite reported for the last call, as a Status saying what was being done.
  Status Error(int code, std::string_view doing) const;

 private:
  Database(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Runs `body` in a transaction (BEGIN IMMEDIATE ... COMMIT), rolled back when it fails.
template <typename F>
Status InTransaction(Database& db, F&& body) {
  ZFLOW_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status st = body();
  if (st.ok()) st = db.Exec("COMMIT");
  if (!st.ok()) (void)db.Exec("ROLLBACK");
  return st;
}

}  // namespace zflow::store

#endif  // ZFLOW_STORE_SQLITE_H_
