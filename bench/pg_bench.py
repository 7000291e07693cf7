"""The PostgreSQL rows of `make bench` (issue 13, docs/operations.md "Sizing").

PostgreSQL, the relays and HAProxy are started by scripts/cluster, exactly as `make cluster`
does (PostgreSQL's defaults: fsync and synchronous_commit on; the data on the build disk). With
the load of bench/run_all.py prepared through the balancer, it measures, with the same wrk
settings as nginx's static 200 in the same run:
  * /postmsg and /receive on one relay on PostgreSQL (the second relay stopped meanwhile);
  * /postmsg and /receive through HAProxy with two relays on the one database;
  * the cross-relay wake-up: long-polls parked on relay A, each woken by a /postmsg through
    relay B (bench/longpoll_bench --post-port), p50/p99 from the post's write to the answer.
Figures go to their own section of docs/performance.md (markers below), so `--pg-only` can
refresh them without the hour-long full run. Only the Python standard library is used.
"""

import datetime
import os
import re
import shutil
import subprocess
import time

from benchlib import (REPO, Api, fail, first_output_line, free_port, log, prepare_relay_load,
                      render_table, replace_block, run_wrk, start_nginx, start_relay, stop)

CLUSTER = REPO / "scripts" / "cluster"
PG_BEGIN = "<!-- bench-pg:begin (written by bench/run_all.py; edit outside the markers) -->"
PG_END = "<!-- bench-pg:end -->"
ENDPOINTS = ("/postmsg", "/receive")


def cluster(args, state, *words):
    """Runs scripts/cluster WORDS --dir STATE with the release binaries and bench relay flags."""
    relay_flags = ["--threads", str(args.server_threads), "--log-level", "warn",
                   "--ip-rate-per-sec", "0", "--user-rate-per-sec", "0",
                   "--register-rate-per-min", "0", "--longpoll-timeout-ms", "24000",
                   "--max-connections", str(args.pg_longpolls + 2000),
                   "--idle-timeout-ms", "600000", "--request-timeout-ms", "600000"]
    env = dict(os.environ, SECCHATS_BIN_DIR=str(args.bin),
               SECCHATS_RELAY_ARGS=" ".join(relay_flags))
    result = subprocess.run([str(CLUSTER), *words, "--dir", str(state)], env=env,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        fail(f"scripts/cluster {' '.join(words)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def cluster_env(state):
    env = {}
    for line in (state / "cluster.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    return env


def stop_pid_file(path):
    """SIGTERM to the relay whose pid is in `path`; waits until it is gone (at most 15 s)."""
    pid = int(path.read_text().split()[0])
    os.kill(pid, 15)
    for _ in range(150):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return
        time.sleep(0.1)
    fail(f"relay pid {pid} did not stop within 15 s")


def varz(port):
    api = Api(port)
    figures = api.post("/varz")
    api.connection.close()
    return figures


def commit_figures(before, after):
    batches = after.get("write_batches", 0) - before.get("write_batches", 0)
    ops = after.get("write_ops", 0) - before.get("write_ops", 0)
    micros = after.get("commit_micros_total", 0) - before.get("commit_micros_total", 0)
    return {"batches": batches, "ops": ops, "commit_ms_avg": micros / max(1, batches) / 1e3}


def baseline(args, workdir, results):
    """nginx's static 200 and the SQLite relay's rows, unless this run has them already."""
    http = results.setdefault("http", {})
    if "nginx static" not in http:
        port = free_port()
        nginx = start_nginx(args, workdir, port, free_port())
        try:
            log("wrk nginx static ...")
            http["nginx static"] = run_wrk(args, f"http://127.0.0.1:{port}", "/", "-")
        finally:
            stop(nginx)
    if not all(path in http for path in ENDPOINTS):
        port = free_port()
        data_dir = workdir / "sqlite-relay"
        data_dir.mkdir()
        relay = start_relay(args, data_dir, port)
        try:
            log("preparing the SQLite relay's load ...")
            load = workdir / "sqlite-load"
            load.mkdir()
            files = prepare_relay_load(port, load)
            for path in ENDPOINTS:
                log(f"wrk {path} (SQLite) ...")
                http[path] = run_wrk(args, f"http://127.0.0.1:{port}", path, files[path])
        finally:
            stop(relay)


def postgres_benchmarks(args, workdir, results):
    """Fills results["pg"]: wrk figures per row, the cross-relay wake-up, commit batching."""
    baseline(args, workdir, results)
    # Under root PostgreSQL runs as nobody, who must enter the scratch directory.
    os.chmod(workdir, 0o755)
    state = workdir / "cluster"
    pg = results.setdefault("pg", {"duration_s": args.duration,
                                   "load_start": "%.2f %.2f %.2f" % os.getloadavg()})
    log("starting PostgreSQL, two relays and HAProxy (scripts/cluster) ...")
    cluster(args, state, "up", "--port", "0")
    try:
        env = cluster_env(state)
        front, a, b = (int(env[k]) for k in ("FRONT_PORT", "RELAY_A_PORT", "RELAY_B_PORT"))
        load = workdir / "pg-load"
        load.mkdir()
        log("preparing users, groups and queued messages in PostgreSQL ...")
        files = prepare_relay_load(front, load)

        stop_pid_file(state / "relay-b.pid")
        for path in ENDPOINTS:
            log(f"wrk {path} (one relay on PostgreSQL) ...")
            before = varz(a)
            pg[f"1 relay {path}"] = run_wrk(args, f"http://127.0.0.1:{a}", path, files[path])
            if path == "/postmsg":
                pg["commits"] = commit_figures(before, varz(a))
        cluster(args, state, "up")  # starts relay-b again
        for path in ENDPOINTS:
            log(f"wrk {path} (two relays behind HAProxy) ...")
            before = [varz(a), varz(b)]
            pg[f"2 relays {path}"] = run_wrk(args, f"http://127.0.0.1:{front}", path,
                                             files[path])
            if path == "/postmsg":
                both = [commit_figures(x, varz(port)) for x, port in zip(before, (a, b))]
                batches = sum(c["batches"] for c in both)
                pg["commits 2 relays"] = {
                    "batches": batches, "ops": sum(c["ops"] for c in both),
                    "commit_ms_avg": sum(c["commit_ms_avg"] * c["batches"] for c in both)
                                     / max(1, batches)}

        log(f"cross-relay wake-ups: {args.pg_wakeups} posts through relay B to polls on A ...")
        result = subprocess.run(
            [str(args.bin / "longpoll_bench"), "--port", str(a), "--post-port", str(b),
             "--server-pid", (state / "relay-a.pid").read_text().split()[0],
             "--connections", str(args.pg_longpolls), "--wakeups", str(args.pg_wakeups),
             "--settle-ms", "0"], capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            fail(f"longpoll_bench (cross-relay) failed:\n{result.stdout}{result.stderr}")
        figures = dict(re.findall(r"^(\w+)=([0-9.]+)$", result.stdout, re.M))
        pg["wake"] = {k: float(v) for k, v in figures.items()}
        pg["versions"] = versions(state)
    finally:
        cluster(args, state, "down", "--wipe")


def versions(state):
    bindir = cluster_env(state).get("PG_BINDIR", "")
    return {"postgres": first_output_line([f"{bindir}/postgres", "--version"]),
            "haproxy": first_output_line(["haproxy", "-v"]).split(" - ")[0]}


def evaluate(results):
    """Returns (table rows, ratio lines) for the PostgreSQL section."""
    http, pg = results["http"], results["pg"]
    nginx = http["nginx static"]["rps"]

    def row(name, f):
        return (name, f"{f['rps']:,.0f} req/s", f"{f['rps'] / nginx:.2f}x nginx",
                f"p50 {f['p50_ms']:.2f} ms", f"p99 {f['p99_ms']:.2f} ms")

    rows = [row("nginx static 200 (same run)", http["nginx static"])]
    ratios = {}
    for path in ENDPOINTS:
        key = path.strip("/")
        rows.append(row(f"{path}, one relay on SQLite", http[path]))
        rows.append(row(f"{path}, one relay on PostgreSQL", pg[f"1 relay {path}"]))
        rows.append(row(f"{path}, two relays on PostgreSQL behind HAProxy",
                        pg[f"2 relays {path}"]))
        ratios[f"sqlite_{key}_vs_nginx"] = http[path]["rps"] / nginx
        ratios[f"pg_{key}_vs_nginx"] = pg[f"1 relay {path}"]["rps"] / nginx
        ratios[f"pg2_{key}_vs_nginx"] = pg[f"2 relays {path}"]["rps"] / nginx
        ratios[f"pg_{key}_vs_sqlite"] = pg[f"1 relay {path}"]["rps"] / http[path]["rps"]
        ratios[f"pg2_{key}_vs_pg"] = pg[f"2 relays {path}"]["rps"] / pg[f"1 relay {path}"]["rps"]
    for key, name in (("commits", "one relay"), ("commits 2 relays", "two relays")):
        c = pg.get(key, {"batches": 0})
        if c["batches"]:
            rows.append((f"group commit, /postmsg on {name} (PostgreSQL)",
                         f"{c['ops'] / c['batches']:.1f} writes per commit",
                         f"{c['batches'] / pg['duration_s']:,.0f} commits/s",
                         f"commit {c['commit_ms_avg']:.2f} ms avg", ""))
    w = pg["wake"]
    rows.append(("cross-relay wake-up (poll on A, post via B)", f"{w['wake_count']:.0f} wakes",
                 f"p50 {w['wake_p50_ms']:.2f} ms", f"p99 {w['wake_p99_ms']:.2f} ms",
                 f"max {w['wake_max_ms']:.2f} ms"))
    rows.append(("  of which B's durable ack of the post", "", f"p50 {w['postmsg_p50_ms']:.2f} ms",
                 f"p99 {w['postmsg_p99_ms']:.2f} ms", ""))
    rows.append(("  wake after the ack (NOTIFY -> A -> answer)", "",
                 f"p50 {w['wake_after_ack_p50_ms']:.2f} ms",
                 f"p99 {w['wake_after_ack_p99_ms']:.2f} ms", ""))
    ratios["cross_relay_wake_p50_ms"] = w["wake_p50_ms"]
    ratios["cross_relay_wake_p99_ms"] = w["wake_p99_ms"]
    return rows, ratios


def write_section(args, results, rows, ratios):
    v = results["pg"]["versions"]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    lines = [PG_BEGIN, "",
             f"Measured {now} at commit `{commit}` on {os.cpu_count()} cores (load average "
             f"{results['pg']['load_start']} at the start, "
             f"{'%.2f %.2f %.2f' % os.getloadavg()} at the end); {v['postgres']}, {v['haproxy']}; "
             f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s, relays "
             f"--threads {args.server_threads}. PostgreSQL, both relays, HAProxy and wrk share "
             "these cores.", "",
             "| Run | Throughput | vs nginx | | |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    lines += ["", "```"] + [f"ratio {k}={v:.3f}" for k, v in ratios.items()] + ["```", "",
                                                                              PG_END]
    replace_block(PG_BEGIN, PG_END, "\n".join(lines))


def report(args, results):
    rows, ratios = evaluate(results)
    print()
    print(render_table(rows))
    for name, value in ratios.items():
        print(f"ratio {name}={value:.3f}")
    if not args.no_doc:
        write_section(args, results, rows, ratios)
    return rows, ratios


def add_arguments(parser):
    parser.add_argument("--pg-only", action="store_true",
                        help="only nginx, the SQLite relay and the PostgreSQL rows (section "
                             "bench-pg of the document)")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument("--pg-longpolls", type=int, default=200,
                        help="long-polls parked on relay A for the cross-relay wake-ups")
    parser.add_argument("--pg-wakeups", type=int, default=300)


def check_tools():
    if not shutil.which("haproxy"):
        fail("haproxy not found: run scripts/install-deps (make bench does)")
