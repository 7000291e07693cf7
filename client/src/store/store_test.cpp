#include "secchats/store/store.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <stdexcept>

#include <sqlcipher/sqlite3.h>

#include "schema.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/crypto/random.hpp"

namespace secchats::store {
namespace {

namespace fs = std::filesystem;
using Bytes = std::string;

const SecretString kPassword("correct horse battery staple");

// A fresh directory under /tmp; the store's home is a not-yet-existing child of it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/secchats-store-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path home() const { return root_ / "home"; }
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

Bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Every regular file in `dir`, by name.
std::map<std::string, Bytes> snapshot(const fs::path& dir) {
  std::map<std::string, Bytes> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) out[entry.path().filename().string()] = read_bytes(entry.path());
  }
  return out;
}

fs::perms mode_of(const fs::path& p) {
  return fs::status(p).permissions() & fs::perms::mask;
}

constexpr fs::perms kOwnerRw = fs::perms::owner_read | fs::perms::owner_write;
constexpr fs::perms kOwnerRwx = fs::perms::owner_all;

Identity sample_identity(std::string nickname = "alice") {
  Identity id;
  id.user_id = "u-0123456789abcdef";
  id.auth_token = SecretString("token-" + crypto::random_hex(16));
  id.nickname = std::move(nickname);
  id.server_url = "https://relay.example:8443";
  id.created_at_ms = 1'700'000'000'000;
  return id;
}

StoredMessage text_message(std::string chat, std::string from, std::int64_t id, std::string text) {
  StoredMessage m;
  m.chat_id = std::move(chat);
  m.from_user_id = std::move(from);
  m.from_name = "Bob";
  m.message_id = id;
  m.type = "TEXT";
  m.text = std::move(text);
  m.sender_timestamp = 1000 + id;
  m.server_timestamp = 2000 + id;
  return m;
}

std::unique_ptr<Store> must_create(const fs::path& home, const Identity& id = sample_identity()) {
  auto s = Store::create(home, kPassword, id);
  EXPECT_TRUE(s.ok()) << s.error().message();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::unique_ptr<Store> must_open(const fs::path& home, const SecretString& pw = kPassword) {
  auto s = Store::open(home, pw);
  EXPECT_TRUE(s.ok()) << s.error().message();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(Store, CreateOpenRoundTripsEveryRecord) {
  TempDir tmp;
  const fs::path home = tmp.home();
  EXPECT_FALSE(Store::exists(home));
  const Identity identity = sample_identity();
  std::vector<std::uint8_t> png = crypto::random_bytes(5000);
  png[10] = 0;  // embedded zero bytes survive
  {
    auto store = must_create(home, identity);
    ASSERT_TRUE(store);
    EXPECT_TRUE(Store::exists(home));

    ASSERT_TRUE(store->set_nickname("alice2").ok());

    Friend carol{"u-carol", "", SecretString("carol-key"), "v1", 300};
    Friend bob{"u-bob", "Bob", SecretString("bob-key-old"), "v1", 100};
    ASSERT_TRUE(store->upsert_friend(carol).ok());
    ASSERT_TRUE(store->upsert_friend(bob).ok());
    bob.channel_key = SecretString("bob-key");
    ASSERT_TRUE(store->upsert_friend(bob).ok());  // replaces
    ASSERT_TRUE(store->set_friend_nickname("u-carol", "Carol").ok());
    auto missing = store->set_friend_nickname("u-nobody", "x");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

    ASSERT_TRUE(store->put_outgoing_request({"u-dave", SecretString("session-1"), 10}).ok());
    ASSERT_TRUE(store->put_outgoing_request({"u-dave", SecretString("session-2"), 11}).ok());
    ASSERT_TRUE(store->put_outgoing_request({"u-erin", SecretString("session-3"), 12}).ok());
    ASSERT_TRUE(store->delete_outgoing_request("u-erin").ok());
    ASSERT_TRUE(store->delete_outgoing_request("u-erin").ok());  // idempotent

    ASSERT_TRUE(store->put_incoming_request({"u-frank", "pub-frank", 500, 501}).ok());
    ASSERT_TRUE(store->put_incoming_request({"u-gina", "pub-gina", 400, 401}).ok());
    ASSERT_TRUE(store->delete_incoming_request("u-nobody").ok());

    ASSERT_TRUE(
        store->upsert_group({"g-1", "Climbers", SecretString("gk-1"), GroupOrigin::kInvited, 20})
            .ok());
    ASSERT_TRUE(
        store->upsert_group({"g-2", "Family", SecretString("gk-2"), GroupOrigin::kInPerson, 10})
            .ok());
    ASSERT_TRUE(
        store->upsert_group({"g-3", "Mine", SecretString("gk-3"), GroupOrigin::kCreated, 30}).ok());

    ASSERT_TRUE(store->put_group_invite({"g-9", "u-bob", "Chess", SecretString("gk-9"), 77}).ok());
    ASSERT_TRUE(store->put_group_invite({"g-8", "u-bob", "Go", SecretString("gk-8"), 66}).ok());
    ASSERT_TRUE(store->delete_group_invite("g-8").ok());

    StoredMessage img;
    img.chat_id = "g-1";
    img.chat_kind = ChatKind::kGroup;
    img.from_user_id = identity.user_id;
    img.from_name = "alice2";
    img.message_id = 42;
    img.type = "IMG";
    img.image = png;
    img.reply_to_message_id = 41;
    img.new_emoji = "👍";
    img.old_emoji = "😀";
    img.sender_timestamp = 123;
    img.server_timestamp = 0;
    img.outgoing = true;
    auto inserted = store->insert_message(img);
    ASSERT_TRUE(inserted.ok()) << inserted.error().message();
    EXPECT_TRUE(*inserted);
    ASSERT_TRUE(store->insert_message(text_message("g-1", "u-bob", 7, "héllo\nworld")).ok());
    ASSERT_TRUE(store->insert_message(text_message("u-bob", "u-bob", 1, "")).ok());

    ASSERT_TRUE(store->set_cursor("queue", 999).ok());

    // Files exist with owner-only modes while open (the -wal and -shm too).
    EXPECT_EQ(mode_of(home), kOwnerRwx);
    EXPECT_EQ(mode_of(Store::key_path(home)), kOwnerRw);
    EXPECT_EQ(mode_of(Store::database_path(home)), kOwnerRw);
    for (const char* suffix : {"-wal", "-shm"}) {
      const fs::path p = Store::database_path(home).string() + suffix;
      ASSERT_TRUE(fs::exists(p)) << suffix;
      EXPECT_EQ(mode_of(p), kOwnerRw) << suffix;
    }
  }
  // Closed: the WAL has been checkpointed away.
  EXPECT_FALSE(fs::exists(Store::database_path(home).string() + "-wal"));

  const auto start = std::chrono::steady_clock::now();
  auto store = must_open(home);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(store);
  std::cout << "[ timing ] Store::open (KdfCost{3, 64 MiB}) took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";

  auto id = store->identity();
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_EQ(id->user_id, identity.user_id);
  EXPECT_EQ(id->auth_token, identity.auth_token);
  EXPECT_EQ(id->nickname, "alice2");
  EXPECT_EQ(id->server_url, identity.server_url);
  EXPECT_EQ(id->created_at_ms, identity.created_at_ms);

  auto friends = store->friends();
  ASSERT_TRUE(friends.ok());
  ASSERT_EQ(friends->size(), 2u);
  EXPECT_EQ((*friends)[0].user_id, "u-bob");  // created_at 100 < 300
  EXPECT_EQ((*friends)[0].nickname, "Bob");
  EXPECT_EQ((*friends)[0].channel_key.str(), "bob-key");
  EXPECT_EQ((*friends)[0].protocol, "v1");
  EXPECT_EQ((*friends)[0].created_at_ms, 100);
  EXPECT_EQ((*friends)[1].user_id, "u-carol");
  EXPECT_EQ((*friends)[1].nickname, "Carol");
  auto carol = store->find_friend("u-carol");
  ASSERT_TRUE(carol.ok() && carol->has_value());
  EXPECT_EQ((*carol)->channel_key.str(), "carol-key");
  auto nobody = store->find_friend("u-nobody");
  ASSERT_TRUE(nobody.ok());
  EXPECT_FALSE(nobody->has_value());

  auto outgoing = store->outgoing_requests();
  ASSERT_TRUE(outgoing.ok());
  ASSERT_EQ(outgoing->size(), 1u);
  EXPECT_EQ((*outgoing)[0].to_user_id, "u-dave");
  EXPECT_EQ((*outgoing)[0].session_string.str(), "session-2");
  EXPECT_EQ((*outgoing)[0].created_at_ms, 11);
  auto dave = store->find_outgoing_request("u-dave");
  ASSERT_TRUE(dave.ok() && dave->has_value());
  EXPECT_EQ((*dave)->session_string.str(), "session-2");
  EXPECT_FALSE(store->find_outgoing_request("u-erin")->has_value());

  auto incoming = store->incoming_requests();
  ASSERT_TRUE(incoming.ok());
  ASSERT_EQ(incoming->size(), 2u);
  EXPECT_EQ((*incoming)[0].from_user_id, "u-gina");  // server_timestamp order
  EXPECT_EQ((*incoming)[1].from_user_id, "u-frank");
  auto frank = store->find_incoming_request("u-frank");
  ASSERT_TRUE(frank.ok() && frank->has_value());
  EXPECT_EQ((*frank)->crypto_data, "pub-frank");
  EXPECT_EQ((*frank)->server_timestamp, 500);
  EXPECT_EQ((*frank)->received_at_ms, 501);

  auto groups = store->groups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 3u);
  EXPECT_EQ((*groups)[0].group_id, "g-2");
  EXPECT_EQ((*groups)[0].origin, GroupOrigin::kInPerson);
  EXPECT_EQ((*groups)[1].group_id, "g-1");
  EXPECT_EQ((*groups)[1].origin, GroupOrigin::kInvited);
  EXPECT_EQ((*groups)[1].name, "Climbers");
  EXPECT_EQ((*groups)[1].key.str(), "gk-1");
  EXPECT_EQ((*groups)[2].origin, GroupOrigin::kCreated);
  auto g3 = store->find_group("g-3");
  ASSERT_TRUE(g3.ok() && g3->has_value());
  EXPECT_EQ((*g3)->created_at_ms, 30);

  auto invites = store->group_invites();
  ASSERT_TRUE(invites.ok());
  ASSERT_EQ(invites->size(), 1u);
  EXPECT_EQ((*invites)[0].group_id, "g-9");
  EXPECT_EQ((*invites)[0].from_user_id, "u-bob");
  EXPECT_EQ((*invites)[0].name, "Chess");
  EXPECT_EQ((*invites)[0].key.str(), "gk-9");
  EXPECT_EQ((*invites)[0].server_timestamp, 77);
  EXPECT_FALSE(store->find_group_invite("g-8")->has_value());

  auto messages = store->messages("g-1");
  ASSERT_TRUE(messages.ok()) << messages.error().message();
  ASSERT_EQ(messages->size(), 2u);
  const StoredMessage& m = (*messages)[0];
  EXPECT_GT(m.local_id, 0);
  EXPECT_EQ(m.chat_id, "g-1");
  EXPECT_EQ(m.chat_kind, ChatKind::kGroup);
  EXPECT_EQ(m.from_user_id, identity.user_id);
  EXPECT_EQ(m.from_name, "alice2");
  EXPECT_EQ(m.message_id, 42);
  EXPECT_EQ(m.type, "IMG");
  EXPECT_EQ(m.text, "");
  EXPECT_EQ(m.image, png);
  EXPECT_EQ(m.reply_to_message_id, 41);
  EXPECT_EQ(m.new_emoji, "👍");
  EXPECT_EQ(m.old_emoji, "😀");
  EXPECT_EQ(m.sender_timestamp, 123);
  EXPECT_EQ(m.server_timestamp, 0);
  EXPECT_TRUE(m.outgoing);
  const StoredMessage& t = (*messages)[1];
  EXPECT_GT(t.local_id, m.local_id);
  EXPECT_EQ(t.text, "héllo\nworld");
  EXPECT_TRUE(t.image.empty());
  EXPECT_FALSE(t.outgoing);
  EXPECT_EQ(t.chat_kind, ChatKind::kFriend);
  auto bob_chat = store->messages("u-bob");
  ASSERT_TRUE(bob_chat.ok());
  ASSERT_EQ(bob_chat->size(), 1u);
  EXPECT_EQ((*bob_chat)[0].text, "");

  EXPECT_EQ(*store->cursor("queue"), 999);
}

TEST(Store, MessagesCursorsAndTransactions) {
  TempDir tmp;
  const fs::path home = tmp.home();
  {
    auto store = must_create(home);
    ASSERT_TRUE(store);

    for (int i = 1; i <= 10; ++i) {
      auto r = store->insert_message(text_message("u-bob", "u-bob", i, "m" + std::to_string(i)));
      ASSERT_TRUE(r.ok() && *r);
    }
    // Same (chat, sender, id): dropped, whatever the content.
    auto dup = store->insert_message(text_message("u-bob", "u-bob", 3, "different"));
    ASSERT_TRUE(dup.ok()) << dup.error().message();
    EXPECT_FALSE(*dup);
    // Same id from another sender or in another chat is a different message.
    EXPECT_TRUE(*store->insert_message(text_message("u-bob", "u-me", 3, "mine")));
    EXPECT_TRUE(*store->insert_message(text_message("g-1", "u-bob", 3, "group")));

    auto all = store->messages("u-bob");
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 11u);
    EXPECT_EQ((*all)[2].text, "m3");

    auto last3 = store->messages("u-bob", 3);
    ASSERT_TRUE(last3.ok());
    ASSERT_EQ(last3->size(), 3u);
    EXPECT_EQ((*last3)[0].text, "m9");
    EXPECT_EQ((*last3)[1].text, "m10");
    EXPECT_EQ((*last3)[2].text, "mine");
    EXPECT_LT((*last3)[0].local_id, (*last3)[1].local_id);
    EXPECT_EQ(store->messages("u-bob", 100)->size(), 11u);
    EXPECT_TRUE(store->messages("u-nobody")->empty());

    // Cursors: unknown → 0.
    EXPECT_EQ(*store->cursor("queue"), 0);
    EXPECT_EQ(*store->cursor("g-1"), 0);
    ASSERT_TRUE(store->set_cursor("queue", 5000).ok());
    ASSERT_TRUE(store->set_cursor("g-1", 7000).ok());
    ASSERT_TRUE(store->set_cursor("g-1", 7100).ok());

    // A failing body leaves nothing behind.
    auto failed = store->transaction([&]() -> Status {
      SC_TRY(store->set_cursor("queue", 6000));
      SC_TRY(store->upsert_friend({"u-tx", "", SecretString("k"), "v1", 1}));
      auto r = store->insert_message(text_message("u-tx", "u-tx", 1, "in tx"));
      if (!r.ok()) return r.error();
      return Error(ErrorCode::kNetwork, "send failed");
    });
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code(), ErrorCode::kNetwork);
    EXPECT_EQ(*store->cursor("queue"), 5000);
    EXPECT_FALSE(store->find_friend("u-tx")->has_value());
    EXPECT_TRUE(store->messages("u-tx")->empty());

    // A nested failure dooms the outer transaction even if the outer body ignores it.
    auto doomed = store->transaction([&]() -> Status {
      SC_TRY(store->set_cursor("queue", 6000));
      (void)store->transaction([&]() -> Status {
        SC_TRY(store->set_cursor("g-1", 1));
        return Error(ErrorCode::kInvalidArgument, "inner");
      });
      return ok_status();
    });
    ASSERT_FALSE(doomed.ok());
    EXPECT_EQ(doomed.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(*store->cursor("queue"), 5000);
    EXPECT_EQ(*store->cursor("g-1"), 7100);

    // An exception in the body does not escape; it rolls back.
    auto threw = store->transaction([&]() -> Status {
      SC_TRY(store->set_cursor("queue", 6000));
      throw std::runtime_error("boom");
    });
    ASSERT_FALSE(threw.ok());
    EXPECT_EQ(threw.error().code(), ErrorCode::kInternal);
    EXPECT_EQ(*store->cursor("queue"), 5000);

    // Nested successes join and commit together.
    auto committed = store->transaction([&]() -> Status {
      SC_TRY(store->set_cursor("queue", 6000));
      return store->transaction([&]() -> Status {
        auto r = store->insert_message(text_message("u-carol", "u-carol", 1, "joined"));
        if (!r.ok()) return r.error();
        return ok_status();
      });
    });
    ASSERT_TRUE(committed.ok()) << committed.error().message();
    // The store still works normally after all of the above.
    ASSERT_TRUE(store->set_nickname("still-works").ok());
  }
  auto store = must_open(home);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->cursor("queue"), 6000);
  EXPECT_EQ(*store->cursor("g-1"), 7100);
  EXPECT_EQ(*store->cursor("never-set"), 0);
  EXPECT_EQ(store->messages("u-carol")->size(), 1u);
  EXPECT_EQ(store->messages("u-bob")->size(), 11u);
  EXPECT_EQ(store->identity()->nickname, "still-works");
}

TEST(Store, CreateRefusesExistingStoreAndBadArguments) {
  TempDir tmp;
  const fs::path home = tmp.home();

  // Nothing is created when the arguments are refused.
  auto empty_pw = Store::create(home, SecretString(""), sample_identity());
  ASSERT_FALSE(empty_pw.ok());
  EXPECT_EQ(empty_pw.error().code(), ErrorCode::kInvalidArgument);
  auto cheap = Store::create(home, kPassword, sample_identity(), {2, 64ull << 20});
  ASSERT_FALSE(cheap.ok());
  EXPECT_EQ(cheap.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(home));

  auto none = Store::open(home, kPassword);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  auto none_change = Store::change_password(home, kPassword, SecretString("x"));
  ASSERT_FALSE(none_change.ok());
  EXPECT_EQ(none_change.error().code(), ErrorCode::kNotFound);

  // The home path exists but is a file.
  write_bytes(tmp.root() / "file", "x");
  auto not_dir = Store::create(tmp.root() / "file", kPassword, sample_identity());
  ASSERT_FALSE(not_dir.ok());

  ASSERT_TRUE(must_create(home));
  const auto before = snapshot(home);
  auto again = Store::create(home, kPassword, sample_identity());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(snapshot(home), before);

  // A lone store.db (or store.key) also counts as existing; open calls it corrupt.
  const fs::path other = tmp.root() / "other";
  fs::create_directory(other);
  write_bytes(Store::database_path(other), "not a database");
  EXPECT_TRUE(Store::exists(other));
  auto lone_db = Store::create(other, kPassword, sample_identity());
  ASSERT_FALSE(lone_db.ok());
  EXPECT_EQ(lone_db.error().code(), ErrorCode::kAlreadyExists);
  auto open_lone = Store::open(other, kPassword);
  ASSERT_FALSE(open_lone.ok());
  EXPECT_EQ(open_lone.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(read_bytes(Store::database_path(other)), "not a database");
}

TEST(Store, WrongPasswordModifiesNothing) {
  TempDir tmp;
  const fs::path home = tmp.home();
  {
    auto store = must_create(home);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->insert_message(text_message("u-bob", "u-bob", 1, "hi")).ok());
  }
  const auto before = snapshot(home);
  ASSERT_EQ(before.size(), 2u);  // store.key, store.db

  auto wrong = Store::open(home, SecretString("correct horse battery stapler"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(wrong.error().message(), "wrong password");
  EXPECT_EQ(snapshot(home), before);  // same files (no -wal/-shm), same bytes
}

TEST(Store, ChangePassword) {
  TempDir tmp;
  const fs::path home = tmp.home();
  ASSERT_TRUE(must_create(home));
  const Bytes db_before = read_bytes(Store::database_path(home));
  const Bytes key_before = read_bytes(Store::key_path(home));
  const SecretString new_password("new password 2");

  auto wrong_old = Store::change_password(home, SecretString("nope"), new_password);
  ASSERT_FALSE(wrong_old.ok());
  EXPECT_EQ(wrong_old.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(read_bytes(Store::key_path(home)), key_before);

  auto empty_new = Store::change_password(home, kPassword, SecretString(""));
  ASSERT_FALSE(empty_new.ok());
  EXPECT_EQ(empty_new.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(read_bytes(Store::key_path(home)), key_before);

  ASSERT_TRUE(Store::change_password(home, kPassword, new_password).ok());
  const Bytes key_after = read_bytes(Store::key_path(home));
  EXPECT_NE(key_after, key_before);
  EXPECT_EQ(read_bytes(Store::database_path(home)), db_before);
  EXPECT_EQ(mode_of(Store::key_path(home)), kOwnerRw);
  EXPECT_EQ(snapshot(home).size(), 2u);  // no temporary file left behind

  auto old = Store::open(home, kPassword);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code(), ErrorCode::kUnauthenticated);
  auto store = must_open(home, new_password);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->identity()->nickname, "alice");
}

TEST(Store, TamperedKeyFileIsAnErrorNotACrash) {
  TempDir tmp;
  const fs::path home = tmp.home();
  const fs::path other_home = tmp.root() / "other";
  ASSERT_TRUE(must_create(home));
  ASSERT_TRUE(must_create(other_home));
  const fs::path key = Store::key_path(home);
  const Bytes original = read_bytes(key);
  ASSERT_FALSE(original.empty());
  ASSERT_EQ(original.back(), '\n');

  auto expect_open_fails = [&](std::string_view contents, ErrorCode code) {
    write_bytes(key, contents);
    auto r = Store::open(home, kPassword);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), code) << r.error().message();
  };

  // A flipped ciphertext digit: indistinguishable from a wrong password.
  Bytes flipped = original;
  char& c = flipped[flipped.size() - 5];
  c = c == '0' ? '1' : '0';
  expect_open_fails(flipped, ErrorCode::kUnauthenticated);

  // Structural damage: refused before any password hashing.
  expect_open_fails("", ErrorCode::kCorrupt);
  expect_open_fails("garbage\n", ErrorCode::kCorrupt);
  expect_open_fails(original.substr(0, original.size() / 2), ErrorCode::kCorrupt);
  expect_open_fails(Bytes(100000, 'a'), ErrorCode::kCorrupt);
  Bytes downgraded = original;
  downgraded.replace(downgraded.find(":v1:3:"), 6, ":v1:1:");
  expect_open_fails(downgraded, ErrorCode::kCorrupt);

  // Another store's key file (same password): unwraps fine, but does not decrypt this db.
  expect_open_fails(read_bytes(Store::key_path(other_home)), ErrorCode::kCorrupt);
  EXPECT_FALSE(fs::exists(Store::database_path(home).string() + "-wal"));

  // Restored, the store opens again: the failed attempts changed nothing.
  write_bytes(key, original);
  ASSERT_TRUE(must_open(home));

  fs::remove(key);
  auto no_key = Store::open(home, kPassword);
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.error().code(), ErrorCode::kCorrupt);
}

TEST(Store, TamperedDatabaseIsCorruptNotACrash) {
  TempDir tmp;
  const fs::path home = tmp.home();
  {
    auto store = must_create(home);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store
                    ->transaction([&]() -> Status {
                      for (int i = 0; i < 200; ++i) {
                        auto r = store->insert_message(
                            text_message("u-bob", "u-bob", i, std::string(300, 'q')));
                        if (!r.ok()) return r.error();
                      }
                      return ok_status();
                    })
                    .ok());
  }
  const fs::path db = Store::database_path(home);
  const Bytes original = read_bytes(db);
  ASSERT_GT(original.size(), 40'000u);

  // Page 1 (past the 16-byte salt): the very first read fails.
  Bytes first_page = original;
  first_page[200] = static_cast<char>(first_page[200] ^ 0x01);
  write_bytes(db, first_page);
  auto r1 = Store::open(home, kPassword);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code(), ErrorCode::kCorrupt) << r1.error().message();

  // A page in the middle (message data): open may succeed; reading it must fail.
  Bytes middle = original;
  const std::size_t at = (original.size() / 2 / 1024) * 1024 + 500;
  middle[at] = static_cast<char>(middle[at] ^ 0x01);
  write_bytes(db, middle);
  auto r2 = Store::open(home, kPassword);
  if (r2.ok()) {
    auto msgs = r2.value()->messages("u-bob");
    ASSERT_FALSE(msgs.ok());
    EXPECT_EQ(msgs.error().code(), ErrorCode::kCorrupt) << msgs.error().message();
  } else {
    EXPECT_EQ(r2.error().code(), ErrorCode::kCorrupt) << r2.error().message();
  }
}

// Raw, UTF-16 (both byte orders) and base64 (all three alignments) forms of `s`.
std::vector<Bytes> encodings_of(std::string_view s) {
  std::vector<Bytes> out{Bytes(s)};
  Bytes le, be;
  for (char ch : s) {
    le += ch;
    le += '\0';
    be += '\0';
    be += ch;
  }
  out.push_back(le);
  out.push_back(be);
  for (std::size_t shift = 0; shift < 3; ++shift) {
    const std::string b64 = base64_encode(Bytes(shift, 'x') + Bytes(s));
    // Drop the characters that mix with the neighbouring bytes.
    const std::size_t front = shift == 0 ? 0 : 4;
    if (b64.size() > front + 4 + 8) out.push_back(b64.substr(front, b64.size() - front - 4));
  }
  return out;
}

TEST(Store, NoPlaintextInFiles) {
  TempDir tmp;
  const fs::path home = tmp.home();
  const std::string text = "ZebraCanary-7781";
  const std::string my_nick = "NickCanary-4412";
  const std::string friend_nick = "FriendNick-9931";
  const std::string group_name = "GroupCanary-5150";
  const std::vector<std::uint8_t> raw_key = crypto::random_bytes(32);
  const std::string channel_key = base64_encode(raw_key);
  Identity identity = sample_identity(my_nick);

  std::vector<Bytes> needles;
  for (const std::string& s :
       {text, my_nick, friend_nick, group_name, channel_key, identity.auth_token.str()}) {
    for (Bytes& e : encodings_of(s))
      needles.push_back(std::move(e));
  }
  needles.push_back(Bytes(raw_key.begin(), raw_key.end()));
  needles.push_back(hex_encode(raw_key));

  auto expect_clean = [&](const char* when) {
    const auto files = snapshot(home);
    EXPECT_GE(files.size(), 2u);
    for (const auto& [name, bytes] : files) {
      for (const Bytes& needle : needles) {
        EXPECT_EQ(bytes.find(needle), Bytes::npos)
            << when << ": " << name << " contains a plaintext form of a secret";
      }
    }
  };

  {
    auto store = must_create(home, identity);
    ASSERT_TRUE(store);
    ASSERT_TRUE(
        store->upsert_friend({"u-bob", friend_nick, SecretString(channel_key), "v1", 1}).ok());
    ASSERT_TRUE(
        store->upsert_group({"g-1", group_name, SecretString("gk"), GroupOrigin::kCreated, 1})
            .ok());
    StoredMessage m = text_message("u-bob", "u-bob", 1, text);
    m.from_name = friend_nick;
    ASSERT_TRUE(store->insert_message(m).ok());
    // Secure delete: a replaced value is not left in a free page either.
    ASSERT_TRUE(store->set_friend_nickname("u-bob", "renamed").ok());
    ASSERT_TRUE(store->set_friend_nickname("u-bob", friend_nick).ok());
    expect_clean("while open");
    EXPECT_TRUE(fs::exists(Store::database_path(home).string() + "-wal"));
  }
  expect_clean("after close");
  EXPECT_EQ(mode_of(home), kOwnerRwx);
  for (const auto& entry : fs::directory_iterator(home)) {
    EXPECT_EQ(mode_of(entry.path()), kOwnerRw) << entry.path().filename();
  }
}

TEST(Store, IdentityKeepsTheConnectionSettings) {
  TempDir tmp;
  Identity identity = sample_identity();
  identity.ca_file = "/etc/secchats/relay-ca.pem";
  identity.pin_sha256 = "aT+5CUbt4vq46cNlLXlH0oWc2O/49yGW5wBWQ8ug8qs=";
  identity.allow_insecure_http = true;
  { ASSERT_TRUE(must_create(tmp.home(), identity)); }
  auto store = must_open(tmp.home());
  ASSERT_TRUE(store);
  auto read = store->identity();
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(read->ca_file, identity.ca_file);
  EXPECT_EQ(read->pin_sha256, identity.pin_sha256);
  EXPECT_TRUE(read->allow_insecure_http);

  TempDir plain;
  { ASSERT_TRUE(must_create(plain.home())); }
  auto defaults = must_open(plain.home())->identity();
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->ca_file, "");
  EXPECT_EQ(defaults->pin_sha256, "");
  EXPECT_FALSE(defaults->allow_insecure_http);
}

TEST(Store, V2StateRoundTripsAndSurvivesBefriendingAgain) {
  TempDir tmp;
  auto store = must_create(tmp.home());
  ASSERT_TRUE(store);
  auto none = store->own_v2_keys();
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_FALSE(none->has_value());
  const OwnV2Keys keys{SecretBytes(crypto::random_bytes(65)),
                       SecretBytes(crypto::random_bytes(161))};
  ASSERT_TRUE(store->set_own_v2_keys(keys).ok());
  auto again = store->set_own_v2_keys({SecretBytes(crypto::random_bytes(65)), keys.signed_prekey});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);  // never replaced
  EXPECT_EQ(store->set_own_v2_keys({}).error().code(), ErrorCode::kInvalidArgument);

  Friend bob{"u-bob", "Bob", SecretString("bob-key"), "v1", 100};
  ASSERT_TRUE(store->upsert_friend(bob).ok());
  auto fresh = store->find_friend("u-bob");
  ASSERT_TRUE(fresh.ok() && fresh->has_value());
  EXPECT_TRUE((*fresh)->peer_bundle.empty());
  EXPECT_TRUE((*fresh)->ratchet_state.empty());
  EXPECT_FALSE((*fresh)->update_sent || (*fresh)->control_pending || (*fresh)->v2_active ||
               (*fresh)->identity_changed || (*fresh)->send_blocked);
  EXPECT_TRUE((*fresh)->verified_ik.empty());

  bob.peer_bundle = crypto::random_bytes(128);
  bob.ratchet_state = SecretBytes(crypto::random_bytes(300));
  bob.update_sent = true;
  bob.control_pending = true;
  bob.v2_active = true;
  bob.verified_ik = crypto::random_bytes(32);
  bob.identity_changed = true;
  bob.send_blocked = true;
  ASSERT_TRUE(store->update_friend_v2(bob).ok());
  Friend nobody{"u-nobody", "", SecretString("k"), "v1", 1};
  EXPECT_EQ(store->update_friend_v2(nobody).error().code(), ErrorCode::kNotFound);

  // A new handshake replaces the channel key and nickname, and keeps every v2 field.
  ASSERT_TRUE(store->upsert_friend({"u-bob", "Bobby", SecretString("bob-key-2"), "v1", 999}).ok());
  store.reset();
  store = must_open(tmp.home());
  ASSERT_TRUE(store);
  auto read_keys = store->own_v2_keys();
  ASSERT_TRUE(read_keys.ok() && read_keys->has_value());
  EXPECT_EQ((*read_keys)->identity_key, keys.identity_key);
  EXPECT_EQ((*read_keys)->signed_prekey, keys.signed_prekey);
  auto all = store->friends();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  const Friend& f = (*all)[0];
  EXPECT_EQ(f.nickname, "Bobby");
  EXPECT_EQ(f.channel_key.str(), "bob-key-2");
  EXPECT_EQ(f.created_at_ms, 100);  // still the first friendship
  EXPECT_EQ(f.peer_bundle, bob.peer_bundle);
  EXPECT_EQ(f.ratchet_state, bob.ratchet_state);
  EXPECT_TRUE(f.update_sent && f.control_pending && f.v2_active && f.identity_changed &&
              f.send_blocked);
  EXPECT_EQ(f.verified_ik, bob.verified_ik);

  // Clearing works too (empty blobs are stored as NULL).
  bob.ratchet_state = SecretBytes();
  bob.verified_ik.clear();
  bob.send_blocked = false;
  ASSERT_TRUE(store->update_friend_v2(bob).ok());
  auto cleared = store->find_friend("u-bob");
  ASSERT_TRUE(cleared.ok() && cleared->has_value());
  EXPECT_TRUE((*cleared)->ratchet_state.empty());
  EXPECT_TRUE((*cleared)->verified_ik.empty());
  EXPECT_FALSE((*cleared)->send_blocked);
  EXPECT_TRUE((*cleared)->v2_active);
}

TEST(Store, GroupV2StateRoundTrips) {
  TempDir tmp;
  auto store = must_create(tmp.home());
  ASSERT_TRUE(store);
  const std::string g = "0123456789abcdef";
  // Members: adding again keeps the row as it is (a removed member stays removed).
  ASSERT_TRUE(store->add_group_member(g, "u-bob").ok());
  ASSERT_TRUE(store->add_group_member(g, "u-carol").ok());
  ASSERT_TRUE(store->put_group_member({g, "u-carol", true, 3}).ok());
  ASSERT_TRUE(store->add_group_member(g, "u-carol").ok());
  ASSERT_TRUE(store->add_group_member("other-group-id00", "u-dave").ok());

  EXPECT_FALSE(*store->member_list_received(g));
  ASSERT_TRUE(store->set_member_list_received(g).ok());
  ASSERT_TRUE(store->set_member_list_received(g).ok());
  EXPECT_FALSE(*store->member_list_received("other-group-id00"));
  EXPECT_FALSE(store->own_sender_key(g)->has_value());
  EXPECT_EQ(store->put_own_sender_key({g, 1, SecretBytes()}).error().code(),
            ErrorCode::kInvalidArgument);
  const SecretBytes own(crypto::random_bytes(150));
  ASSERT_TRUE(store->put_own_sender_key({g, 2, own}).ok());

  const std::vector<std::uint8_t> id1 = crypto::random_bytes(8), id2 = crypto::random_bytes(8);
  const SecretBytes s1(crypto::random_bytes(120)), s2(crypto::random_bytes(121));
  ASSERT_TRUE(store->put_received_sender_key({g, "u-bob", 1, id1, s1}).ok());
  ASSERT_TRUE(store->put_received_sender_key({g, "u-carol", 1, id2, s2}).ok());

  store.reset();
  store = must_open(tmp.home());
  ASSERT_TRUE(store);
  auto members = store->group_members(g);
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].user_id, "u-bob");
  EXPECT_FALSE((*members)[0].removed);
  EXPECT_EQ((*members)[0].sent_epoch, 0u);
  EXPECT_TRUE((*members)[1].removed);
  EXPECT_EQ((*members)[1].sent_epoch, 3u);
  EXPECT_TRUE(*store->member_list_received(g));
  auto read_own = store->own_sender_key(g);
  ASSERT_TRUE(read_own.ok() && read_own->has_value());
  EXPECT_EQ((*read_own)->epoch, 2u);
  EXPECT_EQ((*read_own)->state, own);

  auto found = store->find_received_sender_key(g, id2, 1);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->owner_user_id, "u-carol");
  EXPECT_EQ((*found)->state, s2);
  EXPECT_FALSE(store->find_received_sender_key(g, id2, 2)->has_value());
  EXPECT_FALSE(store->find_received_sender_key("other-group-id00", id2, 1)->has_value());
  ASSERT_TRUE(store->delete_received_sender_keys(g, "u-carol").ok());
  auto left = store->received_sender_keys(g);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].owner_user_id, "u-bob");
  EXPECT_EQ((*left)[0].key_id, id1);
}

// A store written before protocol v2 (schema version 2) opens, keeps its data and gains the
// v2 columns with their defaults.
TEST(Store, OutboxKeepsItemsInOrderUntilDeletedAndMarksTheirMessages) {
  TempDir tmp;
  auto store = must_create(tmp.home());
  ASSERT_TRUE(store);
  auto item = [](OutboxKind kind, std::string chat, std::int64_t id) {
    OutboxItem o;
    o.kind = kind;
    o.chat_id = chat;
    o.to_id = kind == OutboxKind::kInvite ? "u-carol" : chat;
    o.message_id = id;
    o.body = "sealed-" + std::to_string(id);
    o.created_at_ms = 100 + id;
    return o;
  };
  auto first = store->put_outbox_item(item(OutboxKind::kDirect, "u-bob", 7));
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto second = store->put_outbox_item(item(OutboxKind::kGroup, "g-1", 3));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(store->put_outbox_item(item(OutboxKind::kInvite, "g-1", 9)).ok());
  EXPECT_LT(*first, *second);
  // A message id is queued once.
  auto again = store->put_outbox_item(item(OutboxKind::kDirect, "u-bob", 7));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);

  auto all = store->outbox_items();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].message_id, 7);  // posting order is queueing order, not id order
  EXPECT_EQ((*all)[0].kind, OutboxKind::kDirect);
  EXPECT_EQ((*all)[0].body, "sealed-7");
  EXPECT_EQ((*all)[1].kind, OutboxKind::kGroup);
  EXPECT_EQ((*all)[2].kind, OutboxKind::kInvite);
  EXPECT_EQ((*all)[2].to_id, "u-carol");
  EXPECT_EQ((*all)[0].attempts, 0);
  EXPECT_FALSE((*all)[0].failed);

  ASSERT_TRUE(store->note_outbox_attempt(*first, "cannot reach relay", false).ok());
  ASSERT_TRUE(store->note_outbox_attempt(*first, "server refused (404)", true).ok());
  auto found = store->find_outbox_item(7);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->attempts, 2);
  EXPECT_EQ((*found)->last_error, "server refused (404)");
  EXPECT_TRUE((*found)->failed);
  EXPECT_FALSE(store->find_outbox_item(8)->has_value());

  EXPECT_TRUE(*store->delete_outbox_item(*first));
  EXPECT_FALSE(*store->delete_outbox_item(*first)) << "a second delete finds nothing";
  EXPECT_EQ(store->outbox_items()->size(), 2u);

  // The message of a queued send: pending, then sent; a message can also be deleted.
  StoredMessage m = text_message("u-bob", "u-me", 7, "hello");
  m.outgoing = true;
  m.delivery = "pending";
  ASSERT_TRUE(*store->insert_message(m));
  EXPECT_EQ(store->messages("u-bob")->at(0).delivery, "pending");
  EXPECT_TRUE(*store->set_message_delivery("u-bob", "u-me", 7, "sent"));
  EXPECT_EQ(store->messages("u-bob")->at(0).delivery, "sent");
  EXPECT_FALSE(*store->set_message_delivery("u-bob", "u-me", 8, "sent"));
  EXPECT_FALSE(store->set_message_delivery("u-bob", "u-me", 7, "lost").ok())
      << "only sent, pending and failed exist";
  // Incoming messages are "sent" (the default) whatever the caller leaves.
  ASSERT_TRUE(*store->insert_message(text_message("u-bob", "u-bob", 1, "hi")));
  EXPECT_EQ(store->messages("u-bob")->at(1).delivery, "sent");
  EXPECT_TRUE(*store->delete_message("u-bob", "u-me", 7));
  EXPECT_FALSE(*store->delete_message("u-bob", "u-me", 7));
  EXPECT_EQ(store->messages("u-bob")->size(), 1u);

  // A rolled-back transaction queues nothing (the seal and the queue commit together).
  Status failed = store->transaction([&]() -> Status {
    SC_TRY(store->put_outbox_item(item(OutboxKind::kDirect, "u-bob", 11)));
    return Error(ErrorCode::kInternal, "seal failed");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(store->find_outbox_item(11)->has_value());
}

TEST(Store, UndeliveredEventsAndSeenCiphertextsSurviveReopening) {
  TempDir tmp;
  {
    auto store = must_create(tmp.home());
    ASSERT_TRUE(store);
    auto a = store->put_undelivered_event("{\"kind\":3,\"n\":1}");
    auto b = store->put_undelivered_event("{\"kind\":3,\"n\":2}");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_LT(*a, *b);
    const auto digest = crypto::random_bytes(32);
    EXPECT_FALSE(*store->ciphertext_seen("u-bob", digest));
    ASSERT_TRUE(store->add_seen_ciphertext("u-bob", digest).ok());
    ASSERT_TRUE(store->add_seen_ciphertext("u-bob", digest).ok()) << "adding twice is fine";
    EXPECT_TRUE(*store->ciphertext_seen("u-bob", digest));
    EXPECT_FALSE(*store->ciphertext_seen("g-1", digest)) << "per chat";
    write_bytes(tmp.root() / "digest", std::string(digest.begin(), digest.end()));
  }
  auto store = must_open(tmp.home());
  ASSERT_TRUE(store);
  auto events = store->undelivered_events();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].second, "{\"kind\":3,\"n\":1}");
  EXPECT_EQ((*events)[1].second, "{\"kind\":3,\"n\":2}");
  EXPECT_TRUE(*store->delete_undelivered_event((*events)[0].first));
  EXPECT_FALSE(*store->delete_undelivered_event((*events)[0].first));
  ASSERT_EQ(store->undelivered_events()->size(), 1u);
  const std::string d = read_bytes(tmp.root() / "digest");
  EXPECT_TRUE(*store->ciphertext_seen("u-bob", std::vector<std::uint8_t>(d.begin(), d.end())));
}

TEST(Store, UpgradesASchemaVersion2Store) {
  TempDir tmp;
  const fs::path home = tmp.home();
  { ASSERT_TRUE(must_create(home)); }
  // Rebuild store.db at version 2 under the same key, the way the previous client wrote it.
  std::string line = read_bytes(Store::key_path(home));
  while (!line.empty() && line.back() == '\n')
    line.pop_back();
  auto wrapped = crypto::password::parse_wrapped_key(line);
  ASSERT_TRUE(wrapped.ok());
  auto db_key = crypto::password::unwrap_key(*wrapped, kPassword);
  ASSERT_TRUE(db_key.ok());
  const std::string db_path = Store::database_path(home).string();
  for (const char* suffix : {"", "-wal", "-shm"})
    fs::remove(db_path + suffix);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(
        sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
    auto exec = [&](const std::string& sql) {
      char* err = nullptr;
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
          << (err ? err : "") << " in " << sql.substr(0, 60);
      sqlite3_free(err);
    };
    exec("PRAGMA key = \"x'" + hex_encode(db_key->span()) + "'\";");
    exec(std::string(schema::kMigrations[0].sql));
    exec(std::string(schema::kMigrations[1].sql));
    exec("PRAGMA user_version = 2;");
    exec(
        "INSERT INTO identity (id, user_id, auth_token, nickname, server_url, created_at_ms) "
        "VALUES (1, 'u-old', 'tok', 'Old', 'http://127.0.0.1:1', 5);");
    exec("INSERT INTO friends VALUES ('u-bob', 'Bob', 'bob-key', 'v1', 7);");
    exec(
        "INSERT INTO messages (chat_id, chat_kind, from_user_id, from_name, message_id, type, "
        "text, image, reply_to_message_id, new_emoji, old_emoji, sender_timestamp, "
        "server_timestamp, outgoing) VALUES ('u-bob', 'friend', 'u-old', 'Old', 5, 'TEXT', 'x', "
        "NULL, 0, '', '', 1, 0, 1);");
    sqlite3_close(db);
  }
  auto store = must_open(home);
  ASSERT_TRUE(store);
  auto id = store->identity();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->user_id, "u-old");
  auto keys = store->own_v2_keys();
  ASSERT_TRUE(keys.ok());
  EXPECT_FALSE(keys->has_value());
  auto bob = store->find_friend("u-bob");
  ASSERT_TRUE(bob.ok() && bob->has_value());
  EXPECT_EQ((*bob)->channel_key.str(), "bob-key");
  EXPECT_FALSE((*bob)->v2_active);
  EXPECT_TRUE((*bob)->peer_bundle.empty());
  ASSERT_TRUE(store
                  ->set_own_v2_keys({SecretBytes(crypto::random_bytes(65)),
                                     SecretBytes(crypto::random_bytes(161))})
                  .ok());
  (*bob)->v2_active = true;
  ASSERT_TRUE(store->update_friend_v2(**bob).ok());
  // Messages sent before the outbox existed were sent (schema version 6).
  auto old_messages = store->messages("u-bob");
  ASSERT_TRUE(old_messages.ok());
  ASSERT_EQ(old_messages->size(), 1u);
  EXPECT_EQ(old_messages->front().delivery, "sent");
  EXPECT_TRUE(store->outbox_items()->empty());
}

}  // namespace
}  // namespace secchats::store
