// Photos to and from a reference-client friend (protocol v1, COMPAT.md §5): a phone photo of
// 10+ MB with EXIF GPS and a rotation goes out through the real CLI and relay as an IMG the
// reference UI can show — a JPEG of at most 384 KiB, upright, without any metadata — and a
// JPEG the reference UI sends is kept and saved as .jpg.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "image_test_inputs.hpp"
#include "secchats/common/encoding.hpp"
#include "secchats/media/image.hpp"
#include "support/v1_peer.hpp"
#include "v2_fixture.hpp"

namespace secchats::testing {
namespace {

namespace fs = std::filesystem;
namespace mt = media::testing;

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool is_red(const std::uint8_t* p) {
  return p[0] > 180 && p[1] < 80 && p[2] < 80;
}

TEST_F(CliV2, APhonePhotoReachesAReferenceClientUprightAndWithoutMetadata) {
  std::string carol_id;
  CliUser carol = make_cli("Carol", &carol_id);
  V1Peer ref(proxy_->port(), "Ref");
  ref.register_account();
  ok(carol, {"add", ref.user_id()});
  ASSERT_EQ(ref.poll().accepted.size(), 1u);
  ok(carol, {"sync"});
  ref.poll();  // Carol's v2 offer, which the reference client skips

  // A 12-megapixel phone photo held upright (EXIF Orientation 6), with GPS, XMP and a comment.
  const auto stored = mt::make_picture(4032, 3024, 60, 600);
  const auto photo = mt::add_phone_metadata(mt::encode_jpeg(stored, 98, false), 6);
  ASSERT_GE(photo.size(), 10u * 1000 * 1000);
  const fs::path file = dir_->path() / "IMG_0001.JPG";
  write_bytes(file, photo);
  ok(carol, {"send-image", ref.user_id(), file.string()});

  // The reference UI's reading: base64 of the decoded text gives the JPEG bytes.
  auto polled = ref.poll();
  EXPECT_TRUE(polled.anomalies.empty()) << polled.raw_body;
  ASSERT_EQ(polled.messages.size(), 1u) << polled.raw_body.substr(0, 200);
  ASSERT_EQ(polled.messages[0].type, "IMG");
  const std::vector<std::uint8_t>& got = polled.messages[0].image;
  EXPECT_EQ(media::sniff_image_type(got), "image/jpeg");
  EXPECT_LE(got.size(), media::kMaxV1ImageBytes);
  EXPECT_FALSE(mt::contains(got, std::string_view("Exif\0\0", 6)));
  EXPECT_FALSE(mt::contains(got, mt::kGpsDatum));
  EXPECT_FALSE(mt::contains(got, mt::gps_latitude_bytes()));
  EXPECT_FALSE(mt::contains(got, mt::kXmpMarker));
  EXPECT_FALSE(mt::contains(got, mt::kComment));
  EXPECT_FALSE(mt::contains(got, std::vector<std::uint8_t>{0xFF, 0xE1}));  // no APP1 at all
  // libjpeg decodes it, portrait, with the corner block where the camera's top-left was.
  const auto shown = mt::decode(got);
  ASSERT_GT(shown.width, 0u);
  EXPECT_LT(shown.width, shown.height);
  EXPECT_LE(shown.height, 2048u);
  EXPECT_TRUE(is_red(shown.at(shown.width - 5, 5)));
  EXPECT_FALSE(is_red(shown.at(5, 5)));

  // Carol's own copy is what was sent, saved as .jpg.
  const fs::path saved = dir_->path() / "carol-saved";
  auto history = ok(carol, {"history", ref.user_id(), "--save-images", saved.string()});
  ASSERT_FALSE(history.empty());
  const std::string sent_id = str(history.back(), "messageId");
  EXPECT_EQ(read_bytes(saved / (sent_id + ".jpg")), got);
  EXPECT_FALSE(fs::exists(saved / (sent_id + ".png")));

  // The other way: the reference UI sends a JPEG (base64 twice); Carol saves it as .jpg.
  const auto jpeg = mt::encode_jpeg(mt::make_picture(120, 90, 10, 20), 85);
  protocol::Message m = ref.make_text(carol_id, "unused");
  m.type = "IMG";
  m.content = base64_encode(base64_encode(jpeg));
  ASSERT_EQ(ref.send_message(carol_id, m).status, 200);
  auto events = events_of(ok(carol, {"sync"}), "message");
  ASSERT_EQ(events.size(), 1u) << dump(events);
  EXPECT_EQ(str(events[0], "type"), "IMG");
  const fs::path inbox = dir_->path() / "carol-inbox";
  history = ok(carol, {"history", ref.user_id(), "--save-images", inbox.string()});
  EXPECT_EQ(read_bytes(inbox / (str(history.back(), "messageId") + ".jpg")), jpeg);
}

}  // namespace
}  // namespace secchats::testing
