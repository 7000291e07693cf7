#include "group_commands.hpp"

#include <filesystem>
#include <fstream>

#include "secchats/qr/qr.hpp"
#include "terminal_text.hpp"

namespace secchats::cli {
namespace {

namespace fs = std::filesystem;

void print_group(Command& c, const GroupInfo& g, std::string_view event) {
  JsonLine j;
  if (!event.empty()) j.add("event", event);
  j.add("groupId", g.group_id)
      .add("name", g.name)
      .add("origin", origin_name(g.origin))
      .add("protocol", g.protocol);
  if (!g.protocol_reason.empty()) j.add("protocolReason", g.protocol_reason);
  j.add("closed", g.closed);
  if (g.closed) j.add("removedBy", g.removed_by);
  std::string human = render_name(g.name);
  human += "  ";
  human += escape_inline(g.group_id);
  human += "  (";
  human += origin_name(g.origin);
  human += ", ";
  human += escape_inline(g.protocol);
  if (!g.protocol_reason.empty()) {
    human += ": ";
    human += escape_inline(g.protocol_reason);
  }
  human += ")";
  if (g.closed) {
    human += "  closed: ";
    human += escape_inline(g.removed_by);
    human += " removed you";
  }
  c.out().line(human, j.str());
}

void cmd_group_create(Command& c) {
  print_group(c, c.value_or_fail(c.client().create_group(c.args().name)), "groupCreated");
}

void cmd_group_invite(Command& c) {
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  FriendInfo f = c.value_or_fail(client.find_friend(c.args().id));
  c.ok_or_fail(client.invite_to_group(g.group_id, f.user_id));
  c.out().line(
      "invited " + render_person(f.nickname, f.user_id) + " to " + render_name(g.name),
      JsonLine().add("event", "invited").add("groupId", g.group_id).add("userId", f.user_id).str());
}

void cmd_group_remove(Command& c) {
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  c.ok_or_fail(client.remove_group_member(g.group_id, c.args().id));
  // Who was removed, as the library resolved it: a friend's nickname names that friend (an
  // ambiguous one was refused above); anything else was taken as the member's id.
  auto f = client.find_friend(c.args().id);
  const std::string member_id = f.ok() ? f->user_id : c.args().id;
  const std::string who =
      f.ok() ? render_person(f->nickname, f->user_id) : escape_inline(member_id);
  c.out().line(
      "removed " + who + " from " + render_name(g.name) + " (new group key sent to the others)",
      JsonLine().add("event", "removed").add("groupId", g.group_id).add("member", member_id).str());
}

void cmd_group_invites(Command& c) {
  for (const auto& i : c.value_or_fail(c.client().group_invites())) {
    c.out().line(render_name(i.name) + "  " + escape_inline(i.group_id) + "  from " +
                     render_person(i.from_nickname, i.from_user_id),
                 JsonLine()
                     .add("groupId", i.group_id)
                     .add("name", i.name)
                     .add("fromUserId", i.from_user_id)
                     .add("fromName", i.from_nickname)
                     .str());
  }
}

void cmd_group_join(Command& c) {
  print_group(c, c.value_or_fail(c.client().join_group(c.args().group)), "joined");
}

void cmd_group_decline(Command& c) {
  c.ok_or_fail(c.client().decline_group_invite(c.args().group));
  c.out().line("invite to " + escape_inline(c.args().group) + " declined (the inviter is not told)",
               JsonLine().add("event", "inviteDeclined").add("group", c.args().group).str());
}

void cmd_groups(Command& c) {
  for (const auto& g : c.value_or_fail(c.client().groups()))
    print_group(c, g, "");
}

void cmd_group_send(Command& c) {
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  c.out().sent(
      c.value_or_fail(client.send_group_text(g.group_id, text_argument(c, c.args().text))));
}

void cmd_group_send_image(Command& c) {
  auto png = read_image_or_fail(c.args().file);
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  c.out().sent(
      image_sent_or_fail(c, c.args().file, client.send_group_image(g.group_id, std::move(png))));
}

void cmd_group_react(Command& c) {
  const std::int64_t target = parse_message_id(c.args().message_id);
  Client& client = c.client();
  GroupInfo g = c.value_or_fail(client.find_group(c.args().group));
  c.out().sent(c.value_or_fail(client.react_in_group(g.group_id, target, c.args().reaction)));
}

void cmd_group_qr_create(Command& c) {
  Client& client = c.client();
  // Check the PNG can be written before anything is created.
  std::string png = c.args().png;
  if (!png.empty()) {
    std::error_code ec;
    const bool existed = fs::exists(png, ec);
    if (ec || fs::is_directory(png, ec) || !std::ofstream(png, std::ios::app)) {
      throw Failure{"cannot write " + png, kExitUsage};
    }
    if (!existed) fs::remove(png, ec);
  }
  auto [group, payload] = c.value_or_fail(client.create_in_person_group(c.args().name));
  if (png.empty()) png = "secchats-group-" + group.group_id.substr(0, 8) + ".png";
  c.ok_or_fail(qr::write_png(payload.view(), png));
  std::string art = c.value_or_fail(qr::render_terminal(payload.view()));
  JsonLine j;
  j.add("event", "groupCreated")
      .add("groupId", group.group_id)
      .add("name", group.name)
      .add("origin", origin_name(group.origin))
      .add("protocol", group.protocol)
      .add("png", png);
  if (c.args().show_payload) j.add("payload", payload.view());
  c.out().line(art + "\nScan this in person to join " + render_name(group.name) +
                   " (also saved as " + escape_inline(png) +
                   ").\nAnyone who sees this code can read the group: show it only to members.",
               j.str());
}

void cmd_group_qr_join(Command& c) {
  const auto& a = c.args();
  if (a.png.empty() == a.payload.empty()) {
    throw Failure{"give exactly one of --png FILE or --payload TEXT", kExitUsage};
  }
  // "--payload -" reads it from stdin, keeping the key out of argv and shell history.
  if (!a.png.empty()) check_input_or_fail(a.png);
  SecretString payload = !a.png.empty()     ? c.value_or_fail(qr::read_png(a.png))
                         : a.payload == "-" ? SecretString(text_argument(c, "-"))
                                            : SecretString(a.payload);
  print_group(c, c.value_or_fail(c.client().join_in_person_group(payload.view())), "joined");
}

}  // namespace

CLI::App* add_group_commands(CLI::App& app, Args& a, const AddSubcommand& sub) {
  sub(&app, "groups", "list groups", cmd_groups);
  CLI::App* group = app.add_subcommand("group", "group chats");
  group->require_subcommand(1);
  sub(group, "create", "create a group", cmd_group_create)->add_option("NAME", a.name)->required();
  auto* ginvite = sub(group, "invite", "invite a friend", cmd_group_invite);
  ginvite->add_option("GROUP", a.group)->required();
  ginvite->add_option("FRIEND", a.id)->required();
  auto* gremove = sub(group, "remove", "remove a member (v2: rekeys the group)", cmd_group_remove);
  gremove->add_option("GROUP", a.group)->required();
  gremove->add_option("MEMBER", a.id, "member id or friend nickname")->required();
  sub(group, "invites", "list group invites", cmd_group_invites);
  sub(group, "decline", "forget a group invite without joining", cmd_group_decline)
      ->add_option("GROUP", a.group)
      ->required();
  sub(group, "join", "join a group you were invited to", cmd_group_join)
      ->add_option("GROUP", a.group)
      ->required();
  auto* gsend = sub(group, "send", "send a text to a group", cmd_group_send);
  gsend->add_option("GROUP", a.group)->required();
  gsend->add_option("TEXT", a.text)->required();
  auto* gsend_image = sub(group, "send-image", "send a photo to a group", cmd_group_send_image);
  gsend_image->add_option("GROUP", a.group)->required();
  gsend_image->add_option("FILE", a.file)->required();
  auto* greact = sub(group, "react", "react to a group message", cmd_group_react);
  greact->add_option("GROUP", a.group)->required();
  greact->add_option("MESSAGE_ID", a.message_id)->required();
  greact->add_option("EMOJI", a.reaction)->required();
  auto* qr_create = sub(group, "qr-create", "create an in-person group and show its QR code",
                        cmd_group_qr_create);
  qr_create->add_option("NAME", a.name)->required();
  qr_create->add_option("--png", a.png, "where to write the PNG");
  qr_create->add_flag("--show-payload", a.show_payload, "also print the payload text (secret!)");
  auto* qr_join =
      sub(group, "qr-join", "join an in-person group from its QR code", cmd_group_qr_join);
  qr_join->add_option("--png", a.png, "a photo/screenshot of the code (PNG)");
  qr_join->add_option("--payload", a.payload, "the payload text ('-' reads stdin)");

  return group;
}

}  // namespace secchats::cli
