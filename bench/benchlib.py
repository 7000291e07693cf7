"""Shared pieces of the benchmarks (bench/run_all.py, bench/pg_bench.py): starting nginx and
the relay, preparing the load, running wrk, and the figures section of docs/performance.md.
Only the Python standard library is used."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOAD_SCRIPT = REPO / "bench" / "wrk" / "load.lua"
DOC_NAME = "docs/performance.md"
# Where the figures sections are written: the document, or (after a failed regression guard,
# bench/run_all.py) a copy of it in the scratch directory.
DOC = REPO / DOC_NAME
BEGIN_MARK = "<!-- bench:begin (written by bench/run_all.py; edit outside the markers) -->"
END_MARK = "<!-- bench:end -->"

# Every message body the load posts: 48 random-looking bytes in base64, the size of a short
# v1 text message's IV + ciphertext + tag.
ENC_CONTENT = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQ"
USERS = 200
MESSAGES_PER_READ = 10  # every /receive and /pollgroups answer carries this many messages
GROUPS = 50
GROUPS_PER_POLL = 5


def log(message):
    print(message, flush=True)


def fail(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            fail(f"{what} exited with status {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    fail(f"{what} did not listen on port {port} within {timeout:.0f} s")


def stop(process):
    if process and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Api:
    """A keep-alive HTTP client for setting up the load: users, groups and queued messages."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(self, path, body=None):
        payload = json.dumps(body, separators=(",", ":")) if body is not None else ""
        self.connection.request("POST", path, payload, {"Content-Type": "application/json"})
        response = self.connection.getresponse()
        text = response.read().decode()
        if response.status != 200:
            fail(f"setup request {path} answered {response.status}: {text[:200]}")
        return json.loads(text) if text else None

    def register(self):
        user = self.post("/register")
        return {"userId": user["userId"], "authToken": user["authToken"]}

    @staticmethod
    def message_body(sender, to_id):
        return {"object": "SendMessage", "toId": to_id, "authToken": sender["authToken"],
                "fromUserId": sender["userId"], "encContent": ENC_CONTENT, "timestamp": 0}


def write_lines(path, bodies):
    with open(path, "w") as f:
        for body in bodies:
            f.write(json.dumps(body, separators=(",", ":")) + "\n")


def prepare_relay_load(port, workdir):
    """Registers users and groups, queues the messages the reads will return, and writes one
    bodies file per endpoint. Returns {endpoint: bodies file}."""
    api = Api(port)
    senders = [api.register() for _ in range(USERS)]
    readers = [api.register() for _ in range(USERS)]
    groups = [api.post("/register2", {"object": "User", **senders[0], "name": "",
                                      "lastMessageTimestamp": 0})["groupId"]
              for _ in range(GROUPS)]
    for i, reader in enumerate(readers):
        for _ in range(MESSAGES_PER_READ):
            api.post("/postmsg", api.message_body(senders[i], reader["userId"]))
    per_group = MESSAGES_PER_READ // GROUPS_PER_POLL
    for i, group in enumerate(groups):
        for _ in range(per_group):
            api.post("/postgroup", api.message_body(senders[i % USERS], group))

    files = {}
    files["/postmsg"] = workdir / "postmsg.txt"
    write_lines(files["/postmsg"], [api.message_body(s, senders[(i + 1) % USERS]["userId"])
                                    for i, s in enumerate(senders)])
    files["/receive"] = workdir / "receive.txt"
    write_lines(files["/receive"], [{"object": "User", **r, "name": "",
                                     "lastMessageTimestamp": 0} for r in readers])
    files["/pollgroups"] = workdir / "pollgroups.txt"
    write_lines(files["/pollgroups"], [
        {"object": "PollGroups", "userId": r["userId"], "authToken": r["authToken"],
         "groupIds": [groups[(i + k) % GROUPS] for k in range(GROUPS_PER_POLL)],
         "lastMessageTimestamp": 0} for i, r in enumerate(readers)])

    # Check that each kind of read really returns the intended number of messages, so the
    # benchmark measures real work and not an error path.
    receive = api.post("/receive", json.loads(files["/receive"].read_text().splitlines()[0]))
    poll = api.post("/pollgroups", json.loads(files["/pollgroups"].read_text().splitlines()[0]))
    got = (len(receive.get("messages") or []), len(poll.get("messages") or []))
    if got != (MESSAGES_PER_READ, MESSAGES_PER_READ):
        fail(f"prepared reads return {got} messages, expected {MESSAGES_PER_READ} each")
    api.connection.close()
    return files


def run_wrk(args, url, path, bodies, delay_ms=0):
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.duration}s",
               "--timeout", "5s", "-s", str(LOAD_SCRIPT), url, "--", path, str(bodies)]
    env = dict(os.environ)
    if delay_ms:
        env["SECCHATS_WRK_DELAY_MS"] = str(delay_ms)
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        fail(f"wrk failed on {url}{path}: {result.stderr.strip()}")
    figures = dict(re.findall(r"^(wrk_\w+)=(\S+)$", result.stdout, re.M))
    if "wrk_rps" not in figures:
        fail(f"wrk printed no summary for {url}{path}:\n{result.stdout}{result.stderr}")
    figures = {k[4:]: float(v) for k, v in figures.items()}
    if figures["errors_status"] or figures["errors_socket"]:
        fail(f"{url}{path}: {figures['errors_status']:.0f} non-2xx answers and "
             f"{figures['errors_socket']:.0f} socket errors out of {figures['requests']:.0f}")
    return figures


def make_certificate(workdir):
    key, cert = workdir / "nginx.key", workdir / "nginx.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return key, cert


def start_nginx(args, workdir, plain_port, tls_port):
    key, cert = make_certificate(workdir)
    (workdir / "nginx-logs").mkdir()
    config = workdir / "nginx.conf"
    # The same shape as the relay: as many workers as relay threads, keep-alive without a
    # request cap, TLS 1.2+ with the same kind of certificate (ECDSA P-256).
    config.write_text(f"""
worker_processes {args.server_threads};
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    client_body_temp_path {workdir}/nginx-logs;
    server {{
        listen 127.0.0.1:{plain_port};
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            default_type application/json;
            return 200 '{{"object":"Status","status":"ok"}}';
        }}
    }}
}}
""")
    process = subprocess.Popen(["nginx", "-p", str(workdir), "-c", str(config), "-g",
                                "daemon off;"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    wait_for_port(plain_port, process, "nginx")
    wait_for_port(tls_port, process, "nginx (TLS)")
    return process


def start_relay(args, data_dir, plain_port, tls_port=None, extra=()):
    command = [str(args.bin / "secchats-server"), "--listen", f"127.0.0.1:{plain_port}",
               "--data-dir", str(data_dir), "--threads", str(args.server_threads),
               "--log-level", "warn", "--ip-rate-per-sec", "0", "--user-rate-per-sec", "0",
               "--register-rate-per-min", "0", *extra]
    if tls_port:
        command += ["--tls-listen", f"127.0.0.1:{tls_port}", "--tls-self-signed"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(plain_port, process, "secchats-server")
    if tls_port:
        wait_for_port(tls_port, process, "secchats-server (TLS)")
    return process


def first_output_line(command):
    """The first line a version command prints (stdout, then stderr), or "unknown"."""
    try:
        r = subprocess.run(command, capture_output=True, text=True)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def render_table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip()
                     for r in rows)


def replace_block(begin_mark, end_mark, block):
    """Puts `block` (which starts with begin_mark and ends with end_mark) in place of the text
    between the two marks in docs/performance.md, or at its end the first time."""
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if begin_mark in text and end_mark in text:
        head, rest = text.split(begin_mark, 1)
        tail = rest.split(end_mark, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)
