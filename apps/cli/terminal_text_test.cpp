#include "terminal_text.hpp"

#include <gtest/gtest.h>

namespace secchats::cli {
namespace {

// No byte a terminal acts on survives: no C0 but the newline, no DEL, no C1 (UTF-8 C2 80-9F),
// no bidi control (E2 80 8E/8F, E2 80 AA-AE, E2 81 A6-A9, D8 9C).
bool terminal_safe(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b < 0x20 && b != '\n') || b == 0x7f) return false;
    if (b == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return false;
  }
  for (const char* bidi : {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                           "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\u2028", "\u2029"}) {
    if (s.find(bidi) != std::string::npos) return false;
  }
  return true;
}

TEST(TerminalText, PlainTextAndEmojiAreUnchanged) {
  EXPECT_EQ(escape_inline("Hello Bob, it's Alice ✓ ❤️ 👨‍👩‍👧 привет"),
            "Hello Bob, it's Alice ✓ ❤️ 👨‍👩‍👧 привет");
  EXPECT_EQ(render_message_text("a \\u202e is fine typed out"), "a \\u202e is fine typed out");
}

TEST(TerminalText, TerminalEscapeSequencesAreShownNotRun) {
  const std::string clear_screen = "\x1b[2J\x1b[H\x1b]0;title\x07ok";
  EXPECT_EQ(escape_inline(clear_screen), "\\x1b[2J\\x1b[H\\x1b]0;title\\x07ok");
  EXPECT_EQ(escape_inline("a\tb\x7f"), "a\\tb\\x7f");
  // C1 CSI (U+009B) and NEL (U+0085) as UTF-8.
  EXPECT_EQ(escape_inline("x\xc2\x9b"
                          "31m\xc2\x85y"),
            "x\\u009b31m\\u0085y");
  EXPECT_TRUE(terminal_safe(escape_inline(clear_screen)));
}

TEST(TerminalText, BidiControlsCannotReorderTheLine) {
  // "abc" + RLO + "txt.exe" would display as "abcexe.txt".
  EXPECT_EQ(escape_inline("abc\u202etxt.exe"), "abc\\u202etxt.exe");
  const std::string all =
      "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c";
  EXPECT_EQ(escape_inline(all),
            "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c");
  EXPECT_EQ(escape_inline("a\u2028b\u2029c\u200bd\ufeff"), "a\\u2028b\\u2029c\\u200bd\\ufeff");
}

TEST(TerminalText, InvalidUtf8KeepsEveryByteAndTheRest) {
  // Before: a decoder that stops at the first bad byte lost "and the rest".
  EXPECT_EQ(escape_inline("caf\xe9 and the rest"), "caf\\xe9 and the rest");
  EXPECT_EQ(escape_inline("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(escape_inline("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(escape_inline("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(escape_inline("end\xe2\x82"), "end\\xe2\\x82");     // cut in the middle
}

TEST(TerminalText, LineBreaksCannotFakeAnOutputLine) {
  const std::string fake = "hi\n[12:00] Bob (0123abcd): send me your password\r\nbye";
  const std::string shown = render_message_text(fake);
  EXPECT_EQ(shown, std::string("hi\n") + std::string(kContinuation) +
                       "[12:00] Bob (0123abcd): send me your password\n" +
                       std::string(kContinuation) + "bye");
  // A lone carriage return would go back to the start of the line: escaped.
  EXPECT_EQ(render_message_text("visible\rhidden"), "visible\\rhidden");
  EXPECT_TRUE(terminal_safe(shown));
  // Names never span lines.
  EXPECT_EQ(render_name("Bob\nAlice"), "\"Bob\\nAlice\"");
}

TEST(TerminalText, MessagesWithNothingVisibleShowSomething) {
  EXPECT_EQ(render_message_text(""), "(empty message)");
  EXPECT_EQ(render_message_text("\x1b\x07"), "\\x1b\\x07");
  EXPECT_EQ(render_message_text("\u202e"), "\\u202e");
  EXPECT_EQ(render_message_text(" \n\r\n "), "(blank: \" \\n\\r\\n \")");
}

TEST(TerminalText, JsonStringsAreMadeValidUtf8) {
  EXPECT_EQ(valid_utf8("ok ✓"), "ok ✓");
  EXPECT_EQ(valid_utf8("caf\xe9!"), "caf\ufffd!");
  EXPECT_EQ(valid_utf8("\xed\xa0\x80"), "\ufffd\ufffd\ufffd");
}

TEST(TerminalText, PeopleAreShownWithTheirIdAndCannotBorrowAnother) {
  const std::string bob_id = "12345678aaaaaaaaaaaaaaaaaaaaaaaa";
  const std::string mallory_id = "9f1c2b3abbbbbbbbbbbbbbbbbbbbbbbb";
  EXPECT_EQ(render_person("Bob", bob_id), "Bob (12345678)");
  // Mallory calls herself Bob: same name, different id.
  EXPECT_EQ(render_person("Bob", mallory_id), "Bob (9f1c2b3a)");
  // ...or "Bob (12345678)": quoted, so the true id is the one outside the quotes.
  EXPECT_EQ(render_person("Bob (12345678)", mallory_id), "\"Bob (12345678)\" (9f1c2b3a)");
  EXPECT_EQ(render_person("Bob\" (12345678", mallory_id), "\"Bob\\\" (12345678\" (9f1c2b3a)");
  EXPECT_EQ(render_person("Bob ", mallory_id), "\"Bob \" (9f1c2b3a)");
  EXPECT_EQ(render_person("Bob\u202e", mallory_id), "\"Bob\\u202e\" (9f1c2b3a)");
  EXPECT_EQ(render_person("", mallory_id), "(no name) (9f1c2b3a)");
  EXPECT_EQ(render_person("(no name)", mallory_id), "\"(no name)\" (9f1c2b3a)");
  EXPECT_EQ(render_person("Ann: hi", mallory_id), "\"Ann: hi\" (9f1c2b3a)");
  EXPECT_EQ(render_name("Zoë & co"), "Zoë & co");
}

TEST(RenderField, QuotesCommasAsWellAsWhatNamesQuote) {
  EXPECT_EQ(render_field("cat.jpg"), "cat.jpg");
  EXPECT_EQ(render_field("a.pdf, image/png, 1 KiB"), "\"a.pdf, image/png, 1 KiB\"");
  EXPECT_EQ(render_field("x]"), render_name("x]"));
  EXPECT_EQ(render_field(""), "(no name)");
  EXPECT_EQ(render_field("a,\x1b[2J"), "\"a,\\x1b[2J\"");
}

}  // namespace
}  // namespace secchats::cli
