// How the CLI prints strings a peer controls (message text, nicknames, group and invite names,
// reaction names, file names) in human output, so that what the terminal shows is what the
// peer sent and nothing more (docs/cli.md "What you see is what they sent"):
//
// - Nothing is lost: bytes that are not UTF-8 are shown as \xNN, never dropped.
// - Nothing can fake a line of output or move the cursor: C0 controls (\n, \r, \t, \x1b, ...),
//   DEL and C1 controls (\u0085, \u009b, ...) are escaped; in message text a line break is
//   kept but every following line starts with kContinuation, which no output line starts with.
// - Nothing can reorder what the terminal shows: the bidirectional controls (U+061C, U+200E,
//   U+200F, U+202A-U+202E, U+2066-U+2069), the line/paragraph separators U+2028/U+2029 and the
//   invisible format characters U+200B, U+2060-U+2064, U+FEFF are escaped as \uXXXX.
// - Nobody passes for another friend: a person is always shown with the first 8 hex digits of
//   the user id the relay assigned ("Alice (9f1c2b3a)"), and a name that could be mistaken for
//   that form (containing quotes, brackets, parentheses, ':', '#', a backslash, escapes, or
//   spaces at either end) is shown in double quotes ("\"Bob (12345678)\" (9f1c2b3a)"), so the
//   last parenthesised id outside quotes is always the true one.
//
// JSON output does not go through these functions: Boost.JSON escapes quotes, backslashes and
// every C0 control, so a peer's string stays inside its JSON value on one line.
#pragma once

#include <string>
#include <string_view>

namespace secchats::cli {

// What starts every continuation line of a multi-line message in human output.
inline constexpr std::string_view kContinuation = "    | ";

// `s` on one line with every unsafe character escaped (see above; \n, \r, \t as such).
std::string escape_inline(std::string_view s);

// A message's text for human output: line breaks ("\n", "\r\n") start a new line that begins
// with kContinuation; everything else as escape_inline. Text with nothing visible in it is
// shown so that it is seen: "(empty message)", or, when it is only spaces and line breaks,
// (blank: "  \n ") with every character spelled out.
std::string render_message_text(std::string_view text);

// A nickname or group/invite name: as is when that is unambiguous, else quoted (see above).
// An empty name is shown as "(no name)", which a peer's name can never render as.
std::string render_name(std::string_view name);

// An attachment's file name or media type in a line whose fields are separated by ", ": as
// render_name, and quoted also when it contains a comma, so that no name can pass for the
// size or type after it.
std::string render_field(std::string_view name);

// The first 8 characters of an id, escaped (ids are lowercase hex; this only guards).
std::string short_id(std::string_view id);

// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, for JSON
// output (a JSON text must be UTF-8; Boost.JSON copies bytes through unchecked).
std::string valid_utf8(std::string_view s);

// A person as shown everywhere in human output: render_name(nickname) + " (" + short_id + ")".
std::string render_person(std::string_view nickname, std::string_view user_id);

}  // namespace secchats::cli
