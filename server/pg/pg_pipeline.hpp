// Several statements in one round trip with libpq's pipeline mode (PostgreSQL docs, libpq
// "Pipeline Mode"). The PostgreSQL storage backend sends a whole write batch this way so the
// clock-row lock is held for one round trip plus COMMIT instead of one round trip per write.
//
// Semantics are PostgreSQL's: statements run in order; after the first failing statement the
// rest up to the sync point are skipped (reported as kInternal "skipped"). Inside an explicit
// transaction (BEGIN sent earlier) a failure leaves that transaction aborted: the caller
// sends ROLLBACK. The connection is used in blocking mode: fine for results that fit in the
// socket buffers (small command results, as the backend's writes produce), not for large
// result sets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/pg_connection.hpp"

namespace secchats::server::pg {

class PgPipeline {
 public:
  // Queues one statement with $1..$n parameters; the values are copied.
  void add(std::string_view sql, const std::vector<PgParam>& params = {});
  // Queues a run of the statement prepared on this connection as `name` (prepare()).
  void add_prepared(std::string_view name, const std::vector<PgParam>& params);
  std::size_t size() const { return statements_.size(); }

  // Sends every queued statement and one sync, and reads the results in order. The outer
  // error is kUnavailable when the connection broke (nothing is known about what ran);
  // otherwise one Result per statement. After an outer error the connection may be left
  // mid-pipeline: discard it. Clears the queue.
  Result<std::vector<Result<PgResult>>> run(PgConnection& conn);

 private:
  struct Statement {
    std::string sql;  // or the prepared statement's name
    bool prepared = false;
    std::vector<std::optional<std::string>> values;
    std::vector<bool> binary;
  };
  std::vector<Statement> statements_;
};

// Prepares `sql` as the named statement on `conn` (PQprepare; PostgreSQL docs, "Extended
// Query"), so pipelines run it without parsing and planning it again. Parameter types are
// inferred from the SQL. Errors as PgConnection::exec.
Status prepare(PgConnection& conn, std::string_view name, std::string_view sql);

}  // namespace secchats::server::pg
