#include "file_descriptor.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "message_codec.hpp"
#include "secchats/common/encoding.hpp"

namespace secchats::core {
namespace {
namespace json = boost::json;

FileDescriptor sample() {
  FileDescriptor d;
  d.info.kind = "image";
  d.info.media_type = "image/jpeg";
  d.info.file_name = "beach.jpg";
  d.info.size = 123456;
  d.info.width = 800;
  d.info.height = 600;
  d.info.thumbnail = {0xFF, 0xD8, 0xFF, 0xD9};
  d.blob_id = std::string(43, 'A');
  d.key = SecretBytes(std::vector<std::uint8_t>(32, 7));
  d.nonce_prefix.assign(19, 9);
  d.sha256_hex = std::string(64, 'a');
  return d;
}

// The sample's JSON with one member replaced (or removed, for a null value).
std::string with(std::string_view name, json::value value) {
  auto o = json::parse(encode_file_descriptor(sample())).as_object();
  if (value.is_null()) {
    o.erase(name);
  } else {
    o[name] = std::move(value);
  }
  return json::serialize(o);
}

TEST(FileDescriptorTest, RoundTrip) {
  auto back = decode_file_descriptor(encode_file_descriptor(sample()));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->info.kind, "image");
  EXPECT_EQ(back->info.file_name, "beach.jpg");
  EXPECT_EQ(back->info.size, 123456u);
  EXPECT_EQ(back->info.width, 800u);
  EXPECT_EQ(back->info.thumbnail, sample().info.thumbnail);
  EXPECT_EQ(back->blob_id, sample().blob_id);
  EXPECT_TRUE(back->key == sample().key);
  EXPECT_EQ(back->nonce_prefix, sample().nonce_prefix);
  auto o = json::parse(encode_file_descriptor(sample())).as_object();
  EXPECT_EQ(o["chunk"].as_int64(), 65536);
  EXPECT_EQ(o["v"].as_int64(), 1);
}

TEST(FileDescriptorTest, RefusesWhatSection15_2Refuses) {
  EXPECT_FALSE(decode_file_descriptor("[]").ok());
  EXPECT_FALSE(decode_file_descriptor("not json").ok());
  EXPECT_FALSE(decode_file_descriptor(with("v", 2)).ok());
  EXPECT_FALSE(decode_file_descriptor(with("v", nullptr)).ok());
  EXPECT_FALSE(decode_file_descriptor(with("chunk", 4096)).ok());
  EXPECT_FALSE(
      decode_file_descriptor(with("key", json::string(base64_encode(std::string(31, 'k'))))).ok());
  EXPECT_FALSE(
      decode_file_descriptor(with("nonce", json::string(base64_encode(std::string(24, 'n')))))
          .ok());
  EXPECT_FALSE(decode_file_descriptor(with("size", (std::int64_t{1} << 40) + 1)).ok());
  EXPECT_FALSE(decode_file_descriptor(with("size", -1)).ok());
  EXPECT_FALSE(decode_file_descriptor(with("blob", "../../etc/passwd")).ok());
  EXPECT_FALSE(decode_file_descriptor(with("sha256", "xyz")).ok());
  // Unknown members are ignored; an unknown kind reads as a file.
  EXPECT_TRUE(decode_file_descriptor(with("future", "x")).ok());
  auto odd = decode_file_descriptor(with("kind", "hologram"));
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->info.kind, "file");
  // An oversized thumbnail is dropped, not trusted.
  auto big =
      decode_file_descriptor(with("thumb", json::string(base64_encode(std::string(20000, 't')))));
  ASSERT_TRUE(big.ok());
  EXPECT_TRUE(big->info.thumbnail.empty());
}

TEST(FileDescriptorTest, InterpretShowsTheAttachmentButNeverTheKey) {
  const std::string text = encode_file_descriptor(sample());
  auto m = make_file({"me", "Me"}, "friend", 42, 1000, text);
  EXPECT_EQ(m.type, "FILE");
  auto info = interpret(m, ChatKind::kFriend, "friend", "me", 5);
  ASSERT_TRUE(info.ok()) << info.error().message();
  ASSERT_TRUE(info->attachment.has_value());
  EXPECT_EQ(info->attachment->file_name, "beach.jpg");
  EXPECT_TRUE(info->text.empty());
  auto stored = file_descriptor_text(m);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, text);

  auto bad = make_file({"me", "Me"}, "friend", 43, 1000, with("chunk", 1));
  EXPECT_FALSE(interpret(bad, ChatKind::kFriend, "friend", "me", 5).ok());
}

TEST(FileDescriptorTest, SafeFileNames) {
  EXPECT_EQ(safe_file_name("report.pdf"), "report.pdf");
  EXPECT_EQ(safe_file_name("../../.ssh/authorized_keys"), "authorized_keys");
  EXPECT_EQ(safe_file_name("C:\\Users\\x\\evil.exe"), "evil.exe");
  EXPECT_EQ(safe_file_name(".."), "attachment");
  EXPECT_EQ(safe_file_name(""), "attachment");
  EXPECT_EQ(safe_file_name(".bashrc"), "bashrc");
  EXPECT_EQ(safe_file_name("a\nb\x1b[31m.txt"), "ab[31m.txt");
  const std::string long_name = std::string(300, 'x') + ".tar.gz";
  const std::string cut = safe_file_name(long_name);
  EXPECT_LE(cut.size(), 255u);
  EXPECT_TRUE(cut.ends_with(".gz"));
}

}  // namespace
}  // namespace secchats::core
