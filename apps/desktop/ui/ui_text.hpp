// Small pure helpers shared by the views: how a protocol, a delivery state or a time is shown,
// how a typed friend id is checked, and how peer-controlled text is made safe to paint.
#pragma once

#include <QDateTime>
#include <QString>
#include <QStringList>

namespace secchats::desktop::ui {

// "v2" -> "v2"; anything else -> "v1" (the library only reports these two).
QString protocolBadge(const QString& protocol);
// The one-line explanation of a badge (tooltip and header label).
QString protocolExplanation(const QString& protocol);

// What an outgoing message's delivery mark says: "sent" -> "Sent", "pending" -> "Sending…",
// "failed" -> "Failed"; anything else (incoming "received") -> "" (no mark).
QString deliveryText(const QString& delivery);

// Chat list / bubble time: hh:mm when `when` is on the same local day as `now`, else the date
// in the locale's short format. Invalid -> "".
QString formatChatTime(const QDateTime& when, const QDateTime& now);

// A user id as the relay issues them: lowercase hex, 32 to 128 characters. White space around
// or inside (a pasted, wrapped id) is dropped and upper case accepted. Returns the normalised
// id, or "" if `typed` is not one.
QString normalizeUserId(const QString& typed);

// Peer-controlled text (names, message text) for painting as plain text: C0/C1 control
// characters become visible control pictures (U+2400 block / U+FFFD) so they can neither hide
// text nor break a layout; with `keep_newlines` a line feed stays a line break (message text).
// Bidirectional embeddings are closed at the end of the string (an isolate around it), so a
// name cannot reorder what is drawn after it.
QString displaySafe(const QString& peer_text, bool keep_newlines = false);

// The reaction names of COMPAT §5 in canonical order (secchats::reaction_names()), and the
// emoji character of one ("" for EMO_SMILE_PLUS = remove).
QStringList reactionNames();
QString reactionSymbol(const QString& name);

}  // namespace secchats::desktop::ui
