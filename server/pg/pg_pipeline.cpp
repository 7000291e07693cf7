#include "pg/pg_pipeline.hpp"

#include <libpq-fe.h>

#include "pg/pg_error.hpp"

namespace secchats::server::pg {
namespace {

Error connection_lost(pg_conn* conn, const char* what) {
  std::string why = PQerrorMessage(conn) != nullptr ? PQerrorMessage(conn) : "";
  why = why.substr(0, why.find('\n'));
  return Error(ErrorCode::kUnavailable, std::string("database connection lost (") + what +
                                            "): " + (why.empty() ? "no message" : why));
}

}  // namespace

void PgPipeline::add_prepared(std::string_view name, const std::vector<PgParam>& params) {
  add(name, params);
  statements_.back().prepared = true;
}

Status prepare(PgConnection& conn, std::string_view name, std::string_view sql) {
  return conn.prepare(name, sql);
}

void PgPipeline::add(std::string_view sql, const std::vector<PgParam>& params) {
  Statement s;
  s.sql = std::string(sql);
  s.values.reserve(params.size());
  s.binary.reserve(params.size());
  for (const PgParam& p : params) {
    s.values.push_back(p.value ? std::optional<std::string>(std::string(*p.value)) : std::nullopt);
    s.binary.push_back(p.binary);
  }
  statements_.push_back(std::move(s));
}

Result<std::vector<Result<PgResult>>> PgPipeline::run(PgConnection& conn) {
  std::vector<Statement> statements = std::move(statements_);
  statements_.clear();
  conn.start_deadline();
  pg_conn* c = conn.raw();
  if (!conn.healthy()) return Error(ErrorCode::kUnavailable, "database connection lost");
  if (PQenterPipelineMode(c) == 0) return connection_lost(c, "entering pipeline mode");

  bool sent_all = true;
  for (const Statement& s : statements) {
    const std::size_t n = s.values.size();
    std::vector<const char*> values(n, nullptr);
    std::vector<int> lengths(n, 0), formats(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (!s.values[i]) continue;
      values[i] = s.values[i]->c_str();
      lengths[i] = static_cast<int>(s.values[i]->size());
      formats[i] = s.binary[i] ? 1 : 0;
    }
    const int sent = s.prepared
                         ? PQsendQueryPrepared(c, s.sql.c_str(), static_cast<int>(n), values.data(),
                                               lengths.data(), formats.data(), 0)
                         : PQsendQueryParams(c, s.sql.c_str(), static_cast<int>(n), nullptr,
                                             values.data(), lengths.data(), formats.data(), 0);
    if (sent == 0) {
      sent_all = false;
      break;
    }
  }
  if (!sent_all || PQpipelineSync(c) == 0) {
    return connection_lost(c, "sending");
  }
  // Every read below first waits (within the connection's query deadline) until it cannot
  // block; a missed deadline drops the connection, so `c` is not touched after one.
  auto wait = [&conn]() -> Status { return conn.wait_readable(); };

  std::vector<Result<PgResult>> out;
  out.reserve(statements.size());
  for (std::size_t i = 0; i < statements.size(); ++i) {
    SC_TRY(wait());
    pg_result* res = PQgetResult(c);
    if (res == nullptr || PQstatus(c) != CONNECTION_OK) {
      Error e = connection_lost(c, "reading results");
      if (res != nullptr) PQclear(res);
      return e;
    }
    switch (PQresultStatus(res)) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
      case PGRES_EMPTY_QUERY:
        out.emplace_back(PgResult(res));
        break;
      case PGRES_PIPELINE_ABORTED:
        PQclear(res);
        out.emplace_back(Error(ErrorCode::kInternal, "skipped after an earlier error"));
        break;
      default:
        out.emplace_back(detail::error_for(c, res));
        PQclear(res);
        break;
    }
    // Each statement's results end with a null.
    for (;;) {
      SC_TRY(wait());
      pg_result* extra = PQgetResult(c);
      if (extra == nullptr) break;
      if (PQresultStatus(extra) == PGRES_PIPELINE_SYNC) {
        PQclear(extra);
        return connection_lost(c, "unexpected sync");
      }
      PQclear(extra);
    }
  }
  SC_TRY(wait());
  pg_result* sync = PQgetResult(c);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  if (sync != nullptr) PQclear(sync);
  if (!synced || PQexitPipelineMode(c) == 0) return connection_lost(c, "finishing the pipeline");
  return out;
}

}  // namespace secchats::server::pg
