#!/usr/bin/env python3
"""Echo bot for `secchats daemon` (docs/cli.md, "The daemon: one unlock for scripts and bots").

Subscribes to the daemon's events and answers every text message from a friend with
"echo: <text>". Standard library only. Usage: echo_bot.py [SOCKET] (default ~/.secchats/daemon.sock).
"""
import json, os, socket, sys

path = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.secchats/daemon.sock")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(path)
conn = sock.makefile("rw", encoding="utf-8", newline="\n")

def request(id, method, **params):
    conn.write(json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params}) + "\n")
    conn.flush()

request(0, "subscribe")
for n, line in enumerate(conn, start=1):
    msg = json.loads(line)
    if "error" in msg:  # an answer to one of our requests that failed
        print("error:", msg["error"]["message"], file=sys.stderr, flush=True)
    event = msg.get("params", {}) if msg.get("method") == "event" else {}
    if event.get("event") == "message" and event.get("type") == "TEXT" \
            and event.get("chatKind") == "friend" and not event.get("outgoing"):
        request(n, "send", friend=event["fromUserId"], text="echo: " + event["text"])
