#!/usr/bin/env python3
"""Runs every Secure Chats benchmark side by side on this machine and reports the figures.

Called by `make bench` (through bench/run) after a Release build. In one go it measures:
  * nginx answering a static 200 JSON body, plain and TLS: the ceiling for this box;
  * the relay's /postmsg, /receive and /pollgroups, plain and TLS, with the same wrk settings;
  * the same endpoints at about half of their peak rate, for the p99 latency target;
  * 5 000 idle long-polls (server RSS per connection) and 1 000 wake-ups (p50/p99);
  * the same /postmsg and /receive on PostgreSQL, one relay and two behind HAProxy, and the
    cross-relay wake-up (bench/pg_bench.py; --pg-only runs just those);
  * the client's v1 crypto with a cached key against PBKDF2 per message, and store unlock;
  * a 100 MB attachment sent and downloaded through the relay against curl and nginx, and
    the attachment encryption's own throughput;
  * messages sent through `secchats daemon` against one `secchats send` process each
    (bench/daemon_bench.py);
  * instructions per request of the relay's hot endpoints under callgrind
    (bench/instructions, through bench/instruction_counts.py).
It prints a table, each target as met or missed and one `ratio NAME=VALUE` line per
comparison. Then the regression guard (bench/guard.py) compares every ratio and instruction
count with the figures recorded in docs/performance.md before this run: if none is more than
20 % worse, the figures sections of the document are rewritten; if one is, the document keeps
its figures, this run's version of it goes to build-release/bench-scratch/performance.md, and
the exit status is 1 (--accept takes the new figures anyway). Only the Python standard
library is used.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

import benchlib
import daemon_bench
import guard
import instruction_counts
import pg_bench
from benchlib import (BEGIN_MARK, END_MARK, REPO, Api, fail, first_output_line, free_port, log,
                      prepare_relay_load, render_table, replace_block, rss_kib, run_wrk,
                      start_nginx, start_relay, stop, wait_for_port)

HALF_PEAK_BAND = (0.45, 0.55)


def run_at_half_peak(args, url, path, bodies, peak):
    """wrk has no rate option: each connection waits delay() whole milliseconds between
    requests, so it sends about once per (delay + latency). Start from delay = 2 C / peak and
    correct for the measured latency until the achieved rate is within HALF_PEAK_BAND of half
    the peak (at most three runs); keep the run closest to half. The fraction is reported,
    and a latency target only counts for a run inside the band."""
    latency_ms = peak["p50_ms"]
    delay = max(1, round(2 * args.connections * 1000 / peak["rps"]))
    best = None
    for _ in range(3):
        figures = run_wrk(args, url, path, bodies, delay)
        figures["delay_ms"] = delay
        figures["fraction_of_peak"] = figures["rps"] / peak["rps"]
        if best is None or abs(figures["fraction_of_peak"] - 0.5) < abs(
                best["fraction_of_peak"] - 0.5):
            best = figures
        low, high = HALF_PEAK_BAND
        if low <= figures["fraction_of_peak"] <= high:
            break
        # rate ~ C / (delay + latency): scale the period by fraction / 0.5.
        latency_ms = figures["p50_ms"]
        period = (delay + latency_ms) * figures["fraction_of_peak"] / 0.5
        new_delay = max(1, round(period - latency_ms))
        if new_delay == delay:
            break  # whole milliseconds cannot get closer
        delay = new_delay
    return best


def http_benchmarks(args, workdir, results):
    nginx_plain, nginx_tls = free_port(), free_port()
    relay_plain, relay_tls = free_port(), free_port()
    nginx = relay = None
    try:
        nginx = start_nginx(args, workdir, nginx_plain, nginx_tls)
        data_dir = workdir / "relay-data"
        data_dir.mkdir()
        relay = start_relay(args, data_dir, relay_plain, relay_tls)
        log("preparing users, groups and queued messages ...")
        files = prepare_relay_load(relay_plain, workdir)
        # The set-up posts commit one by one; count only what the wrk runs write.
        varz_before = Api(relay_plain).post("/varz")

        runs = [("nginx static", f"http://127.0.0.1:{nginx_plain}", "/", "-"),
                ("nginx static TLS", f"https://127.0.0.1:{nginx_tls}", "/", "-")]
        for path in ("/postmsg", "/receive", "/pollgroups"):
            runs.append((path, f"http://127.0.0.1:{relay_plain}", path, files[path]))
            runs.append((f"{path} TLS", f"https://127.0.0.1:{relay_tls}", path, files[path]))
        for name, url, path, bodies in runs:
            log(f"wrk {name} ...")
            results["http"][name] = run_wrk(args, url, path, bodies)
        for name, url, path, bodies in runs:
            if "TLS" in name and name != "/postmsg TLS":
                continue
            log(f"wrk {name} at half of peak ...")
            results["half_peak"][name] = run_at_half_peak(args, url, path, bodies,
                                                          results["http"][name])
        results["relay_rss_after_http_kib"] = rss_kib(relay.pid)
        varz = Api(relay_plain).post("/varz")
        batches = varz["write_batches"] - varz_before["write_batches"]
        results["group_commit"] = {
            "batches": batches, "ops": varz["write_ops"] - varz_before["write_ops"],
            "max_batch": varz["write_max_batch"],
            "fsync_ms_avg": (varz["commit_micros_total"] - varz_before["commit_micros_total"])
                            / max(1, batches) / 1e3,
        }
    finally:
        stop(relay)
        stop(nginx)


def longpoll_benchmark(args, workdir, results):
    port = free_port()
    data_dir = workdir / "longpoll-data"
    data_dir.mkdir()
    relay = start_relay(args, data_dir, port, extra=(
        "--longpoll-timeout-ms", "24000", "--max-connections", str(args.longpolls + 2000),
        "--idle-timeout-ms", "600000", "--request-timeout-ms", "600000"))
    try:
        log(f"{args.longpolls} idle long-polls and {args.wakeups} wake-ups ...")
        result = subprocess.run(
            [str(args.bin / "longpoll_bench"), "--port", str(port), "--server-pid",
             str(relay.pid), "--connections", str(args.longpolls), "--wakeups",
             str(args.wakeups)], capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            fail(f"longpoll_bench failed:\n{result.stdout}{result.stderr}")
        figures = dict(re.findall(r"^(\w+)=([0-9.]+)$", result.stdout, re.M))
        results["longpoll"] = {k: float(v) for k, v in figures.items()}
    finally:
        stop(relay)


def client_benchmark(args, workdir, results):
    log("client crypto and store unlock ...")
    out = workdir / "client.json"
    subprocess.run([str(args.bin / "client_crypto_bench"), "--benchmark_format=console",
                    f"--benchmark_out={out}", "--benchmark_out_format=json"],
                   check=True, stdout=subprocess.DEVNULL)
    runs = {b["name"]: b for b in json.loads(out.read_text())["benchmarks"]}

    def ns(name, field="real_time"):
        b = runs[name]
        return b[field] * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]

    results["client"] = {
        "cached_us": ns("BM_V1MessageCachedKey") / 1e3,
        "pbkdf2_ms": ns("BM_V1MessagePbkdf2PerMessage") / 1e6,
        "unlock_ms": ns("BM_StoreUnlock/iterations:5") / 1e6,
        "unlock_cpu_ms": ns("BM_StoreUnlock/iterations:5", "cpu_time") / 1e6,
        "v2_chain_us": ns("BM_V2MessageRatchet/0") / 1e3,
        "v2_ratchet_us": ns("BM_V2MessageRatchet/1") / 1e3,
        "v1_wire_bytes": runs["BM_V1MessageCachedKey"]["wire_bytes"],
        "v2_wire_bytes": runs["BM_V2MessageRatchet/0"]["wire_bytes"],
    }


def start_nginx_files(workdir, port):
    """nginx storing PUT bodies (the DAV module) and serving files back with sendfile: the
    ceiling for moving a large file over loopback on this box."""
    prefix = workdir / "nginx-files"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "tmp").mkdir()
    (prefix / "root").mkdir()
    # Started as root, nginx's workers would drop to nobody, who cannot enter the private
    # scratch directory: keep them as the user running the benchmark.
    user = "user root;" if os.geteuid() == 0 else ""
    config = prefix / "nginx.conf"
    config.write_text(f"""
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    client_body_temp_path {prefix}/tmp;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            root {prefix}/root;
            dav_methods PUT;
            client_max_body_size 1g;
        }}
    }}
}}
""")
    process = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(config), "-g",
                                "daemon off;"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    wait_for_port(port, process, "nginx (files)")
    return process


def blob_benchmark(args, workdir, results):
    """Attachments: a file of args.blob_megabytes MB sent with Client::send_file and fetched
    with Client::download through the relay (bench/blob_bench.cpp: encryption, upload, the
    relay's fsync, download, hash and AEAD checks, fsync), against curl PUTting and GETting
    the same number of bytes to and from nginx. Medians of args.blob_runs runs each."""
    binary = args.bin / "blob_bench"
    if not binary.exists():
        fail(f"{binary} missing: build the release preset first (make bench)")
    if not shutil.which("curl"):
        fail("curl not found: run scripts/install-deps --bench (make bench does)")
    log(f"attachments: {args.blob_megabytes} MB through the relay and through nginx ...")
    relay_port, nginx_port = free_port(), free_port()
    data_dir = workdir / "blob-relay"
    data_dir.mkdir()
    relay = start_relay(args, data_dir, relay_port)
    nginx = start_nginx_files(workdir, nginx_port)
    try:
        result = subprocess.run(
            [str(binary), "--server", f"http://127.0.0.1:{relay_port}", "--work",
             str(workdir / "blob-client"), "--megabytes", str(args.blob_megabytes), "--runs",
             str(args.blob_runs)], capture_output=True, text=True, timeout=1800)
        if result.returncode != 0:
            fail(f"blob_bench failed:\n{result.stdout}{result.stderr[-3000:]}")
        ours = [json.loads(l) for l in result.stdout.splitlines() if l.startswith("{")]
        size = ours[0]["bytes"]
        payload = workdir / "blob-client" / "payload.bin"
        curl_up, curl_down = [], []
        for run in range(args.blob_runs):
            url = f"http://127.0.0.1:{nginx_port}/payload-{run}.bin"
            up = subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null", "-T", str(payload),
                                 "-w", "%{time_total}", url], capture_output=True, text=True,
                                check=True)
            curl_up.append(float(up.stdout))
            target = workdir / f"curl-download-{run}.bin"
            down = subprocess.run(["curl", "-sS", "--fail", "-o", str(target), "-w",
                                   "%{time_total}", url], capture_output=True, text=True,
                                  check=True)
            curl_down.append(float(down.stdout))
            target.unlink()

        def median(values):
            values = sorted(values)
            return values[len(values) // 2]

        mb = size / 1e6
        results["blobs"] = {
            "megabytes": mb,
            "upload_mb_s": mb / median([r["upload_s"] for r in ours]),
            "download_mb_s": mb / median([r["download_s"] for r in ours]),
            "curl_upload_mb_s": mb / median(curl_up),
            "curl_download_mb_s": mb / median(curl_down),
        }
    finally:
        stop(nginx)
        stop(relay)


def blob_crypto_benchmark(args, workdir, results):
    """The client's attachment encryption alone (client_crypto_bench BM_BlobStream*), MB/s."""
    out = workdir / "blob-crypto.json"
    subprocess.run([str(args.bin / "client_crypto_bench"), "--benchmark_filter=BM_BlobStream",
                    f"--benchmark_out={out}", "--benchmark_out_format=json"],
                   check=True, stdout=subprocess.DEVNULL)
    runs = {b["name"]: b for b in json.loads(out.read_text())["benchmarks"]}
    blobs = results.setdefault("blobs", {})
    blobs["encrypt_mb_s"] = runs["BM_BlobStreamSeal"]["bytes_per_second"] / 1e6
    blobs["decrypt_mb_s"] = runs["BM_BlobStreamOpen"]["bytes_per_second"] / 1e6


def desktop_benchmark(args, workdir, results):
    """The desktop app (apps/desktop/bench/desktop_bench.cpp): cold start, a 10 000-message
    chat, memory. The chat is prepared once per scratch dir through a real relay."""
    binary = args.bin / "desktop_bench"
    if not binary.exists():
        log("desktop_bench not built (Qt 6 missing?): skipping the desktop figures")
        return
    port = free_port()
    data_dir = workdir / "desktop-relay"
    data_dir.mkdir()
    relay = start_relay(args, data_dir, port)
    try:
        log(f"desktop app: {args.desktop_messages} messages, {args.desktop_runs} cold starts ...")
        env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        result = subprocess.run(
            [str(binary), "--server", f"http://127.0.0.1:{port}", "--work",
             str(workdir / "desktop"), "--messages", str(args.desktop_messages), "--runs",
             str(args.desktop_runs)], capture_output=True, text=True, timeout=1800, env=env)
        if result.returncode != 0:
            fail(f"desktop_bench failed:\n{result.stdout}{result.stderr[-3000:]}")
        lines = [json.loads(l) for l in result.stdout.splitlines() if l.startswith("{")]
        head, runs = lines[0], lines[1:]

        def median(key):
            values = sorted(r[key] for r in runs)
            return values[len(values) // 2]

        results["desktop"] = {"unlock_ms": head["unlock_ms"], "messages": head["messages"],
                              **{k: median(k) for k in runs[0]}}
    finally:
        stop(relay)


def desktop_rows(results):
    d = results.get("desktop")
    if not d:
        return [], []
    start_excl = d["spawn_to_chat_list_ms"] - d["unlock_ms"]
    rows = [
        ("desktop: start to unlocked chat list", f"{start_excl:.0f} ms without unlock",
         f"{d['spawn_to_chat_list_ms']:.0f} ms in all", f"unlock {d['unlock_ms']:.0f} ms"),
        (f"desktop: open a {d['messages']:,}-message chat", f"{d['open_chat_ms']:.1f} ms",
         f"RSS {d['rss_chat_open_kib'] / 1024:.0f} MiB open", ""),
        ("desktop: scroll to its first message", f"{d['scroll_all_ms'] / 1000:.1f} s",
         f"frame p99 {d['frame_p99_ms']:.1f} ms", f"max {d['frame_max_ms']:.1f} ms"),
        ("desktop: memory after scrolling all", f"RSS {d['rss_scrolled_kib'] / 1024:.0f} MiB",
         f"peak {d['hwm_kib'] / 1024:.0f} MiB", f"{d['rows']:,} rows"),
    ]
    targets = [
        ("desktop start to chat list (without unlock) <= 1000 ms", f"{start_excl:.0f} ms",
         start_excl <= 1000),
        ("desktop opens a 10 000-message chat <= 200 ms", f"{d['open_chat_ms']:.1f} ms",
         d["open_chat_ms"] <= 200),
        ("desktop scroll frame p99 <= 16 ms (no stutter at 60 Hz)",
         f"{d['frame_p99_ms']:.1f} ms", d["frame_p99_ms"] <= 16),
    ]
    return rows, targets


def machine_facts(args):
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])

    commit = first_output_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(), "load_average": "%.2f %.2f %.2f" % os.getloadavg(),
        "nginx": first_output_line(["nginx", "-v"]).replace("nginx version: ", ""),
        "wrk": first_output_line(["wrk", "--version"]).split(" [")[0],
        "commit": commit,
        "settings": f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s, "
                    f"keep-alive; nginx {args.server_threads} workers, relay "
                    f"--threads {args.server_threads}",
    }


def evaluate(results):
    """Returns (table rows, ratio lines, target rows)."""
    http = results["http"]
    half = results["half_peak"]
    rows = []
    for name, f in http.items():
        rows.append((name, f"{f['rps']:,.0f} req/s", f"p50 {f['p50_ms']:.2f} ms",
                     f"p99 {f['p99_ms']:.2f} ms"))
    for name, f in half.items():
        rows.append((f"{name} @ {f['fraction_of_peak'] * 100:.0f}% of peak",
                     f"{f['rps']:,.0f} req/s",
                     f"p50 {f['p50_ms']:.2f} ms", f"p99 {f['p99_ms']:.2f} ms"))
    gc = results["group_commit"]
    rows.append(("group commit under the runs above",
                 f"{gc['ops'] / max(1, gc['batches']):.1f} writes per commit",
                 f"largest {gc['max_batch']}", f"commit {gc['fsync_ms_avg']:.2f} ms avg"))
    lp = results["longpoll"]
    rows.append(("idle long-polls", f"{lp['longpoll_connections']:.0f} connections",
                 f"{lp['longpoll_rss_per_conn_kib']:.2f} KiB RSS each", ""))
    rows.append(("long-poll wake-ups", f"{lp.get('wake_count', 0):.0f} wakes",
                 f"p50 {lp['wake_p50_ms']:.2f} ms", f"p99 {lp['wake_p99_ms']:.2f} ms"))
    rows.append(("  of which the post's durable ack", "",
                 f"p50 {lp['postmsg_p50_ms']:.2f} ms", f"p99 {lp['postmsg_p99_ms']:.2f} ms"))
    rows.append(("  wake after ack (relay's own part)", "",
                 f"p50 {lp['wake_after_ack_p50_ms']:.2f} ms",
                 f"p99 {lp['wake_after_ack_p99_ms']:.2f} ms"))
    c = results["client"]
    rows.append(("client v1 message, cached key", f"{c['cached_us']:.1f} us", "", ""))
    rows.append(("client v1 message, PBKDF2 each", f"{c['pbkdf2_ms']:.1f} ms", "", ""))
    rows.append(("client v2 message, chain step", f"{c['v2_chain_us']:.1f} us",
                 f"{c['v2_wire_bytes']:.0f} B on the wire", f"v1: {c['v1_wire_bytes']:.0f} B"))
    rows.append(("client v2 message, DH ratchet step", f"{c['v2_ratchet_us']:.1f} us", "", ""))
    rows.append(("client store unlock", f"{c['unlock_ms']:.0f} ms",
                 f"{c['unlock_cpu_ms']:.0f} ms CPU", ""))
    rows += blob_rows(results)

    ratios = {
        "postmsg_vs_nginx": http["/postmsg"]["rps"] / http["nginx static"]["rps"],
        "receive_vs_nginx": http["/receive"]["rps"] / http["nginx static"]["rps"],
        "pollgroups_vs_nginx": http["/pollgroups"]["rps"] / http["nginx static"]["rps"],
        "postmsg_tls_vs_nginx_tls":
            http["/postmsg TLS"]["rps"] / http["nginx static TLS"]["rps"],
        "receive_tls_vs_nginx_tls":
            http["/receive TLS"]["rps"] / http["nginx static TLS"]["rps"],
        "pollgroups_tls_vs_nginx_tls":
            http["/pollgroups TLS"]["rps"] / http["nginx static TLS"]["rps"],
        "client_cached_vs_pbkdf2_per_message": c["pbkdf2_ms"] * 1e3 / c["cached_us"],
        "client_v2_ratchet_vs_v1_cached": c["v2_ratchet_us"] / c["cached_us"],
        "client_v2_wire_bytes_vs_v1": c["v2_wire_bytes"] / c["v1_wire_bytes"],
        **blob_ratios(results),
    }
    low, high = HALF_PEAK_BAND
    targets = [
        ("/postmsg >= 0.30x nginx", f"{ratios['postmsg_vs_nginx']:.2f}x",
         ratios["postmsg_vs_nginx"] >= 0.30),
        ("/receive >= 0.50x nginx", f"{ratios['receive_vs_nginx']:.2f}x",
         ratios["receive_vs_nginx"] >= 0.50),
        ("TLS /postmsg >= 0.40x nginx TLS", f"{ratios['postmsg_tls_vs_nginx_tls']:.2f}x",
         ratios["postmsg_tls_vs_nginx_tls"] >= 0.40),
        ("/pollgroups >= 0.40x nginx", f"{ratios['pollgroups_vs_nginx']:.2f}x",
         ratios["pollgroups_vs_nginx"] >= 0.40),
    ]
    # Every relay endpoint's p99 at half of its peak; a run outside the band does not count.
    for name in (n for n in half if n.startswith("/")):
        f = half[name]
        in_band = low <= f["fraction_of_peak"] <= high
        targets.append((f"{name} p99 <= 5 ms at half of peak", f"{f['p99_ms']:.2f} ms" + (
            "" if in_band else f" (at {f['fraction_of_peak'] * 100:.0f} % of peak, not 45-55 %)"),
            f["p99_ms"] <= 5 and in_band))
    targets += [
        ("<= 16 KiB RSS per idle long-poll", f"{lp['longpoll_rss_per_conn_kib']:.2f} KiB",
         lp["longpoll_rss_per_conn_kib"] <= 16),
        ("wake-up p99 <= 5 ms (post written -> poll answered)", f"{lp['wake_p99_ms']:.2f} ms",
         lp["wake_p99_ms"] <= 5),
        ("cached client crypto >= 1000x PBKDF2 per message",
         f"{ratios['client_cached_vs_pbkdf2_per_message']:.0f}x",
         ratios["client_cached_vs_pbkdf2_per_message"] >= 1000),
    ] + blob_targets(results)
    return rows, ratios, targets


def blob_rows(results):
    b = results.get("blobs")
    if not b:
        return []
    rows = [(f"attachment upload, {b['megabytes']:.0f} MB (send_file)",
             f"{b['upload_mb_s']:.0f} MB/s", f"curl -> nginx {b['curl_upload_mb_s']:.0f} MB/s",
             ""),
            (f"attachment download, {b['megabytes']:.0f} MB (download)",
             f"{b['download_mb_s']:.0f} MB/s",
             f"curl <- nginx {b['curl_download_mb_s']:.0f} MB/s", "")]
    if "encrypt_mb_s" in b:
        rows.append(("attachment encryption (STREAM, 64 KiB chunks)",
                     f"{b['encrypt_mb_s']:.0f} MB/s", f"decryption {b['decrypt_mb_s']:.0f} MB/s",
                     ""))
    return rows


def blob_ratios(results):
    b = results.get("blobs")
    if not b:
        return {}
    return {"blob_upload_vs_curl_nginx": b["upload_mb_s"] / b["curl_upload_mb_s"],
            "blob_download_vs_curl_nginx": b["download_mb_s"] / b["curl_download_mb_s"]}


def blob_targets(results):
    ratios = blob_ratios(results)
    if not ratios:
        return []
    return [("attachment upload >= 0.5x curl to nginx",
             f"{ratios['blob_upload_vs_curl_nginx']:.2f}x",
             ratios["blob_upload_vs_curl_nginx"] >= 0.5),
            ("attachment download >= 0.5x curl from nginx",
             f"{ratios['blob_download_vs_curl_nginx']:.2f}x",
             ratios["blob_download_vs_curl_nginx"] >= 0.5)]


def write_document(facts, rows, ratios, targets, figure_lines=()):
    """Rewrites the bench block of the document (benchlib.DOC): the machine, the table, the
    targets, and the ratio and instructions lines the regression guard reads next time."""
    lines = [BEGIN_MARK, "", f"Measured {facts['date']} at commit `{facts['commit']}`.", "",
             "| Machine | |", "|---|---|",
             f"| CPU | {facts['cpu']} ({facts['cores']} cores) |",
             f"| Memory | {facts['memory_gib']} GiB |",
             f"| Kernel | {facts['kernel']} |",
             f"| Load average at start | {facts['load_average']} |",
             f"| Load generator | {facts['wrk']}: {facts['settings']} |",
             f"| Ceiling | {facts['nginx']}, static 200 JSON body |", "",
             "| Run | Throughput / size | | |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    lines += ["", "| Target | Measured | Met |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in targets]
    lines += ["", "```"] + [f"ratio {k}={v:.3f}" for k, v in ratios.items()]
    lines += list(figure_lines) + ["```", "", END_MARK]
    replace_block(BEGIN_MARK, END_MARK, "\n".join(lines))


def recorded_figures():
    """The figures docs/performance.md holds before this run rewrites it: the bench block's
    ratio and instructions lines, and the PostgreSQL block's ratios."""
    text = benchlib.DOC.read_text() if benchlib.DOC.exists() else ""
    return {**guard.recorded_figures(text, BEGIN_MARK, END_MARK),
            **guard.recorded_figures(text, pg_bench.PG_BEGIN, pg_bench.PG_END)}


def scratch_dir():
    scratch = REPO / "build-release" / "bench-scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def run_guard(args, recorded, measured):
    """Prints the comparison; True when the run may rewrite the document (nothing more than
    20 % worse, or --accept)."""
    if args.no_guard:
        return True
    print()
    if guard.check(recorded, measured):
        return True
    if args.accept:
        print("guard: --accept given: the new figures become the recorded ones")
        return True
    return False


def divert_document():
    """After a failed guard: the document keeps its figures, and this run writes into a copy
    of it in the scratch directory instead. Returns the copy's path."""
    copy = scratch_dir() / "performance.md"
    copy.write_text(benchlib.DOC.read_text())
    benchlib.DOC = copy
    return copy


def print_targets(targets):
    for target, value, ok in targets:
        print(f"target {'met   ' if ok else 'MISSED'} {target}: {value}")


def partial_run(args, recorded):
    """--blobs-only, --desktop-only, --daemon-only, --instructions-only: those figures are
    printed and compared with the recorded ones; the document is kept. Returns the exit
    status."""
    results = {}
    with tempfile.TemporaryDirectory(dir=scratch_dir()) as tmp:
        if args.blobs_only:
            blob_benchmark(args, Path(tmp), results)
            blob_crypto_benchmark(args, Path(tmp), results)
        if args.desktop_only:
            desktop_benchmark(args, Path(tmp), results)
        if args.daemon_only:
            daemon_bench.daemon_benchmark(args, Path(tmp), results)
        if args.instructions_only:
            instruction_counts.instructions_benchmark(args, results)
    rows = (blob_rows(results) + desktop_rows(results)[0] + daemon_bench.rows(results)
            + instruction_counts.rows(results))
    if rows:
        print(render_table(rows))
    print_targets(blob_targets(results) + desktop_rows(results)[1]
                  + daemon_bench.targets(results))
    ratios = {**blob_ratios(results), **daemon_bench.ratios(results)}
    for name, value in ratios.items():
        print(f"ratio {name}={value:.3f}")
    figure_lines = instruction_counts.lines(results)
    for line in figure_lines:
        print(line)
    measured = {**ratios, **guard.parse_figures("\n".join(figure_lines))}
    args.accept = False  # nothing is written: --accept has nothing to take
    return 0 if run_guard(args, {k: v for k, v in recorded.items() if k in measured},
                          measured) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", type=Path, default=REPO / "build-release" / "bin")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--server-threads", type=int, default=2)
    parser.add_argument("--longpolls", type=int, default=5000)
    parser.add_argument("--wakeups", type=int, default=1000)
    parser.add_argument("--desktop-messages", type=int, default=10000)
    parser.add_argument("--desktop-runs", type=int, default=3)
    parser.add_argument("--blob-megabytes", type=int, default=100)
    parser.add_argument("--blob-runs", type=int, default=3)
    parser.add_argument("--blobs-only", action="store_true",
                        help="only the attachment figures (printed; the document is kept)")
    parser.add_argument("--desktop-only", action="store_true",
                        help="only the desktop app's figures (printed; the document is kept)")
    parser.add_argument("--no-daemon", action="store_true", help="skip the client daemon rows")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite the document")
    parser.add_argument("--no-guard", action="store_true",
                        help="do not compare with the recorded figures (never fails on them)")
    parser.add_argument("--accept", action="store_true",
                        help="rewrite the document even when the guard finds a figure more "
                             "than 20 %% worse than recorded (an intended change)")
    pg_bench.add_arguments(parser)
    daemon_bench.add_arguments(parser)
    instruction_counts.add_arguments(parser)
    args = parser.parse_args()
    recorded = recorded_figures()

    if args.pg_only:
        pg_bench.check_tools()
        results = {}
        with tempfile.TemporaryDirectory(dir=scratch_dir()) as tmp:
            pg_bench.postgres_benchmarks(args, Path(tmp), results)
        _, pg_ratios = pg_bench.evaluate(results)
        ok = run_guard(args, {k: v for k, v in recorded.items() if k in pg_ratios}, pg_ratios)
        copy = None if ok or args.no_doc else divert_document()
        pg_bench.report(args, results)
        if copy:
            print(f"\nguard failed: {benchlib.DOC_NAME} keeps its figures; this run's are in "
                  f"{copy} (bench/run --pg-only --accept to take them)")
        raise SystemExit(0 if ok else 1)

    if args.blobs_only or args.desktop_only or args.daemon_only or args.instructions_only:
        raise SystemExit(partial_run(args, recorded))

    for tool in ("wrk", "nginx", "openssl", "curl"):
        if not shutil.which(tool):
            fail(f"{tool} not found: run scripts/install-deps --bench (make bench does)")
    if not args.no_pg:
        pg_bench.check_tools()
    for binary in ("secchats-server", "longpoll_bench", "client_crypto_bench", "blob_bench"):
        if not (args.bin / binary).exists():
            fail(f"{args.bin / binary} missing: build the release preset first (make bench)")
    # Thousands of long-polls need as many descriptors, in the relay and in the load tool.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.longpolls * 2 + 4096
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
        except (ValueError, OSError):
            pass

    facts = machine_facts(args)
    results = {"http": {}, "half_peak": {}}
    # Benchmark data lives on the build disk, not in a tmpfs, so fsync costs what it costs.
    with tempfile.TemporaryDirectory(dir=scratch_dir()) as tmp:
        workdir = Path(tmp)
        http_benchmarks(args, workdir, results)
        if not args.no_pg:
            pg_bench.postgres_benchmarks(args, workdir, results)
        longpoll_benchmark(args, workdir, results)
        client_benchmark(args, workdir, results)
        blob_benchmark(args, workdir, results)
        blob_crypto_benchmark(args, workdir, results)
        desktop_benchmark(args, workdir, results)
        if not args.no_daemon:
            daemon_bench.daemon_benchmark(args, workdir, results)
    # Under callgrind the relay is slow and alone: after the timed runs, never beside them.
    if not args.no_instructions:
        instruction_counts.instructions_benchmark(args, results)

    rows, ratios, targets = evaluate(results)
    more_rows, more_targets = desktop_rows(results)
    rows += more_rows + daemon_bench.rows(results) + instruction_counts.rows(results)
    targets += more_targets + daemon_bench.targets(results)
    ratios.update(daemon_bench.ratios(results))
    figure_lines = instruction_counts.lines(results)
    print()
    print(f"machine: {facts['cpu']}, {facts['cores']} cores, load {facts['load_average']}; "
          f"{facts['settings']}")
    print(render_table(rows))
    print()
    print_targets(targets)
    print()
    for name, value in ratios.items():
        print(f"ratio {name}={value:.3f}")
    for line in figure_lines:
        print(line)

    measured = {**ratios, **guard.parse_figures("\n".join(figure_lines))}
    if not args.no_pg:
        measured.update(pg_bench.evaluate(results)[1])
    ok = run_guard(args, recorded, measured)
    copy = None if ok or args.no_doc else divert_document()
    if not args.no_doc:
        write_document(facts, rows, ratios, targets, figure_lines)
    if not args.no_pg:
        pg_bench.report(args, results)
    if copy:
        print(f"\nguard failed: {benchlib.DOC_NAME} keeps its figures; this run's version of it "
              f"is {copy.relative_to(REPO)} (if the drop is intended: bench/run --accept, or "
              f"copy that file over {benchlib.DOC_NAME})")
    elif not args.no_doc:
        print(f"\nwrote {benchlib.DOC_NAME}")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
