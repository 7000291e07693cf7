"""The client rows of `make bench` (issue 14 item 5): messages sent through `secchats daemon`
against one `secchats send` process per message, to a relay on loopback.

Two accounts, Alice and Bob, are made v2 friends with the CLI. Then, from Alice to Bob:
  * process per message: `secchats --json send Bob TEXT`, one process each (each pays the
    process start and the store unlock, Argon2id), timed from spawn to exit;
  * through the daemon: `secchats daemon` on Alice's home, and a JSON-RPC 2.0 client on its
    Unix socket (docs/cli.md "The daemon: one unlock for scripts and bots", newline-delimited
    JSON) sending `send` requests one at a time, each timed from the request written to its
    answer read: the per-message latency a script sees;
  * the daemon's throughput: the same requests with a window of several in flight on one
    connection (the daemon runs them one at a time, so this takes only the socket round trip
    out of the figure).
Every answer must be a `sent` result (a 200 from the relay: a durable commit), and at the
end Bob's `sync` must show every message exactly once, so the figures measure real sends.
Only the Python standard library is used.
"""

import json
import math
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from benchlib import fail, free_port, log, start_relay, stop

PASSWORD = "bench correct horse battery"


def percentile(values, fraction):
    """The nearest-rank percentile of `values` (fraction in 0..1)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


class Cli:
    """One account's home and the `secchats` binary, with the password in the environment."""

    def __init__(self, binary, home):
        self.binary, self.home = str(binary), str(home)
        self.env = dict(os.environ, SECCHATS_PASSWORD=PASSWORD)

    def argv(self, *words):
        return [self.binary, "--home", self.home, "--json", *words]

    def run(self, *words, timeout=120):
        """Runs one command; its JSON lines, or fail() with the command's error."""
        result = subprocess.run(self.argv(*words), capture_output=True, text=True,
                                env=self.env, timeout=timeout)
        if result.returncode != 0:
            fail(f"secchats {words[0]} exited {result.returncode}: {result.stderr.strip()[:300]}")
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def make_friends(alice, bob, url):
    ids = {}
    for cli, nick in ((alice, "Alice"), (bob, "Bob")):
        events = cli.run("init", "--server", url, "--nick", nick)
        ids[nick] = next(e["userId"] for e in events if e.get("event") == "initialized")
    alice.run("add", ids["Bob"])
    if not any(e.get("event") == "friendRequest" for e in bob.run("sync")):
        fail("Bob's sync showed no friend request from Alice")
    bob.run("accept", ids["Alice"])
    if not any(e.get("event") == "friendAccepted" for e in alice.run("sync")):
        fail("Alice's sync showed no friendAccepted from Bob")
    return ids


def process_per_message(alice, count):
    """Seconds per `secchats send` process, spawn to exit, for `count` messages."""
    seconds = []
    for i in range(count):
        start = time.perf_counter()
        events = alice.run("send", "Bob", f"process message {i}")
        seconds.append(time.perf_counter() - start)
        if not any(e.get("event") == "sent" for e in events):
            fail(f"secchats send printed no sent object: {events}")
    return seconds


def drain(stream, keep):
    """Reads `stream` to its end in a thread, keeping the last lines in `keep`: a daemon whose
    output pipe filled up would stop in the middle of the benchmark."""
    def run():
        for line in stream:
            keep.append(line)
            del keep[:-20]
    threading.Thread(target=run, daemon=True).start()


def start_daemon(alice):
    """Starts `secchats daemon` on Alice's home (its socket where the contract puts it,
    HOME/daemon.sock) and waits for its daemonReady line (at most 60 s). Returns the process
    and the socket's path."""
    process = subprocess.Popen(alice.argv("daemon"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=alice.env)
    errors = []
    drain(process.stderr, errors)
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        try:
            ready = json.loads(line)
        except ValueError:
            continue
        if ready.get("event") == "daemonReady":
            drain(process.stdout, [])
            return process, ready.get("socket") or str(Path(alice.home) / "daemon.sock")
    process.kill()
    process.wait()
    fail(f"secchats daemon did not become ready (exit {process.returncode}): "
         f"{(line + ''.join(errors)).strip()[-300:]}")


class RpcClient:
    """Newline-delimited JSON-RPC 2.0 on the daemon's Unix socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb")
        self.next_id = 1

    def request(self, method, params):
        request_id = self.next_id
        self.next_id += 1
        line = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                           "params": params}, separators=(",", ":")) + "\n"
        self.sock.sendall(line.encode())
        return request_id

    def answer(self):
        """The next response (notifications are skipped), or fail() on a closed socket."""
        while True:
            line = self.reader.readline()
            if not line:
                fail("the daemon closed the socket")
            message = json.loads(line)
            if "id" in message:
                return message

    def close(self):
        self.reader.close()
        self.sock.close()


def check_sent(answer):
    if "error" in answer:
        fail(f"daemon send failed: {answer['error']}")
    result = answer.get("result")
    if not (isinstance(result, list) and any(r.get("event") == "sent" for r in result)):
        fail(f"daemon send answered without a sent object: {answer}")


def daemon_one_at_a_time(client, count):
    seconds = []
    for i in range(count):
        start = time.perf_counter()
        client.request("send", {"friend": "Bob", "text": f"daemon message {i}"})
        answer = client.answer()
        seconds.append(time.perf_counter() - start)
        check_sent(answer)
    return seconds


def daemon_windowed(client, count, window):
    """Seconds for `count` sends with up to `window` requests in flight."""
    start = time.perf_counter()
    sent = answered = 0
    while answered < count:
        while sent < count and sent - answered < window:
            client.request("send", {"friend": "Bob", "text": f"windowed message {sent}"})
            sent += 1
        check_sent(client.answer())
        answered += 1
    return time.perf_counter() - start


def daemon_benchmark(args, workdir, results):
    """Fills results["daemon"]; needs args.bin/secchats with the `daemon` command."""
    binary = args.bin / "secchats"
    if not binary.exists():
        fail(f"{binary} missing: build the release preset first (make bench)")
    help_text = subprocess.run([str(binary), "--help"], capture_output=True, text=True)
    if "daemon" not in help_text.stdout + help_text.stderr:
        log("secchats has no daemon command in this build: skipping the daemon figures")
        return
    port = free_port()
    data_dir = workdir / "daemon-relay"
    data_dir.mkdir()
    relay = start_relay(args, data_dir, port)
    daemon = None
    try:
        alice, bob = Cli(binary, workdir / "alice"), Cli(binary, workdir / "bob")
        make_friends(alice, bob, f"http://127.0.0.1:{port}")
        log(f"client: {args.process_sends} sends, one secchats process each ...")
        per_process = process_per_message(alice, args.process_sends)
        log(f"client: {args.daemon_sends} sends through secchats daemon, one at a time, "
            f"then {args.daemon_sends} with {args.daemon_window} in flight ...")
        daemon, socket_path = start_daemon(alice)
        client = RpcClient(socket_path)
        through_daemon = daemon_one_at_a_time(client, args.daemon_sends)
        windowed_s = daemon_windowed(client, args.daemon_sends, args.daemon_window)
        client.close()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
        if code != 0:
            fail(f"secchats daemon exited {code} on SIGTERM")
        daemon = None
        expected = args.process_sends + 2 * args.daemon_sends
        got = []
        for _ in range(5):  # a sync round may stop at a page limit: take until nothing comes
            more = [e for e in bob.run("sync", timeout=600) if e.get("event") == "message"]
            got += more
            if not more or len(got) >= expected:
                break
        texts = {e.get("text") for e in got}
        if len(got) != expected or len(texts) != expected:
            fail(f"Bob received {len(got)} messages ({len(texts)} distinct), "
                 f"expected {expected}")
        results["daemon"] = {
            "process_sends": args.process_sends, "daemon_sends": args.daemon_sends,
            "window": args.daemon_window,
            "process_p50_ms": percentile(per_process, 0.5) * 1e3,
            "process_p99_ms": percentile(per_process, 0.99) * 1e3,
            "daemon_p50_ms": percentile(through_daemon, 0.5) * 1e3,
            "daemon_p99_ms": percentile(through_daemon, 0.99) * 1e3,
            "sequential_msgs_per_s": len(through_daemon) / sum(through_daemon),
            "windowed_msgs_per_s": args.daemon_sends / windowed_s,
            "process_msgs_per_s": len(per_process) / sum(per_process),
        }
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        stop(relay)


def rows(results):
    d = results.get("daemon")
    if not d:
        return []
    return [
        (f"client send, one secchats process each ({d['process_sends']})",
         f"{d['process_msgs_per_s']:.1f} msg/s", f"p50 {d['process_p50_ms']:.1f} ms",
         f"p99 {d['process_p99_ms']:.1f} ms"),
        (f"client send through secchats daemon, one at a time ({d['daemon_sends']})",
         f"{d['sequential_msgs_per_s']:,.0f} msg/s", f"p50 {d['daemon_p50_ms']:.2f} ms",
         f"p99 {d['daemon_p99_ms']:.2f} ms"),
        (f"client send through secchats daemon, {d['window']} in flight",
         f"{d['windowed_msgs_per_s']:,.0f} msg/s", "", ""),
    ]


def ratios(results):
    d = results.get("daemon")
    if not d:
        return {}
    return {"daemon_vs_process_per_message": d["process_p50_ms"] / d["daemon_p50_ms"]}


def targets(results):
    r = ratios(results)
    if not r:
        return []
    speedup = r["daemon_vs_process_per_message"]
    return [("send through the daemon >= 50x faster than a process per message (p50)",
             f"{speedup:.0f}x", speedup >= 50)]


def add_arguments(parser):
    parser.add_argument("--process-sends", type=int, default=60,
                        help="messages sent with one secchats process each")
    parser.add_argument("--daemon-sends", type=int, default=1000,
                        help="messages sent through the daemon (one at a time, then windowed)")
    parser.add_argument("--daemon-window", type=int, default=16,
                        help="requests in flight in the daemon's throughput run")
    parser.add_argument("--daemon-only", action="store_true",
                        help="only the client daemon figures (printed; the document is kept)")
