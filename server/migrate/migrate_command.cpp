// `secchats-server migrate`: flags, one-line errors, the summary. The work is in migrate.cpp.
#include <CLI/CLI.hpp>

#include <iostream>

#include "migrate/migrate.hpp"

namespace secchats::server {

int run_migrate_command(int argc, char** argv) {
  CLI::App app{
      "secchats-server migrate: copy a stopped SQLite relay's users, groups, queues, group "
      "messages, clock and complete blobs into an empty PostgreSQL database, in one "
      "transaction (docs/operations.md)."};
  app.name("secchats-server migrate");
  MigrateOptions options;
  std::string from;
  app.add_option("--from", from, "The stopped relay's --data-dir (holds relay.db and blobs/)")
      ->required();
  app.add_option("--to", options.target_uri,
                 "libpq connection URI of the target database, postgresql://USER@HOST:PORT/DB")
      ->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  options.data_dir = from;
  options.progress = [](std::string_view line) { std::cerr << line << "\n"; };

  auto result = migrate_sqlite_to_postgres(options);
  if (!result.ok()) {
    // The URI may carry a password: it is never printed.
    std::cerr << "secchats-server migrate: " << result.error().message() << "\n";
    const ErrorCode code = result.error().code();
    return code == ErrorCode::kRefused || code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  const MigrateSummary& s = *result;
  std::cout << "migrated " << s.users << " users, " << s.groups << " groups, " << s.queue_items
            << " queue items, " << s.group_messages << " group messages, " << s.blobs << " blobs ("
            << s.blob_bytes << " bytes); clock at " << s.target_clock << "\n";
  if (s.unfinished_uploads > 0) {
    std::cout << "left behind " << s.unfinished_uploads
              << " unfinished uploads (their clients upload them again)\n";
  }
  return 0;
}

}  // namespace secchats::server
