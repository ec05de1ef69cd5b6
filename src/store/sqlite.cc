#include "store/sqlite.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace zflow::store {

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) Reset();
    db_ = other.db_;
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) Reset();
}

Statement& Statement::Bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = db_->Error(rc, "cannot run a query");
  sqlite3_reset(stmt_);
  return st;
}

Status Statement::Run() {
  auto done = Step();
  Reset();
  if (!done.ok()) return done.status();
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string_view Statement::Text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 DatabaseOptions options) {
  sqlite3* raw = nullptr;
  int flags = options.read_only ? SQLITE_OPEN_READONLY
                                : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(path, raw));
  if (rc != SQLITE_OK) return db->Error(rc, "cannot open the database");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  if (!options.read_only) {
    // journal_mode=WAL reads the file: the first statement that finds a broken file.
    ZFLOW_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
    ZFLOW_RETURN_IF_ERROR(db->Exec(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                            : "PRAGMA synchronous=NORMAL"));
  }
  ZFLOW_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

Database::~Database() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) return Error(rc, fmt::format("cannot run {}", text.substr(0, 40)));
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  if (auto it = cache_.find(std::string(sql)); it != cache_.end()) {
    return Statement(this, it->second);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "cannot prepare a query");
  cache_.emplace(std::string(sql), stmt);
  return Statement(this, stmt);
}

std::int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const { return sqlite3_changes(db_); }

Status Database::Error(int code, std::string_view doing) const {
  const char* detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  std::string message = fmt::format("{}: {} ({})", path_, doing, detail);
  switch (code & 0xff) {
    case SQLITE_FULL:
      return ResourceExhaustedError(message + "; the disk is full: free space and try again");
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return Status(StatusCode::kPermissionDenied,
                    message + "; check that the data directory exists and can be written");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status(StatusCode::kDataLoss, message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(message);
    case SQLITE_CONSTRAINT:
      return AlreadyExistsError(message);
    case SQLITE_IOERR:
      return Status(StatusCode::kUnavailable, message);
    default:
      return InternalError(message);
  }
}

}  // namespace zflow::store
