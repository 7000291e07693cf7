"""Instructions per request in `make bench` (issue 14 item 1): runs bench/instructions (the
callgrind harness: the release relay under `valgrind --tool=callgrind`, counters zeroed after
a warm-up, then N requests on one keep-alive connection, every thread's Ir divided by N) and
turns its lines into table rows beside the figures before issue 14's work.

Instruction counts do not depend on what else the machine runs, so these rows are the steady
before/after figures of the relay's hot paths; the wrk rows are the ones with noise.
Only the Python standard library is used.
"""

import re
import shutil
import subprocess

from benchlib import REPO, fail, log

HARNESS = REPO / "bench" / "instructions"
LINE = re.compile(r"^instructions endpoint=(\S+) transport=(\S+) per_request=(\d+)"
                  r"(?: requests=(\d+))?\s*$", re.M)

# Before issue 14's changes: bench/instructions (its defaults: 2 000 requests after 200 of
# warm-up, relay --threads 1, 20 users, 10 groups) on the release build of commit d997402,
# 2026-12-01. A second run of the plain ones gave the same counts within 0.3 %.
BEFORE_COMMIT = "d997402"
BEFORE = {
    ("/postmsg", "plain"): 138_344,
    ("/receive", "plain"): 148_508,
    ("/pollgroups", "plain"): 165_903,
    ("/postmsg", "tls"): 161_610,
    ("/receive", "tls"): 175_708,
    ("/pollgroups", "tls"): 193_130,
}


def available():
    """"" when the harness can run, else why not."""
    if not HARNESS.exists():
        return "bench/instructions is not in this tree"
    for tool in ("valgrind", "callgrind_control"):
        if not shutil.which(tool):
            return f"{tool} not found (scripts/install-deps --bench installs valgrind)"
    return ""


def parse(text):
    """{(endpoint, transport): instructions per request} from the harness's output."""
    return {(endpoint, transport): int(value)
            for endpoint, transport, value, _ in LINE.findall(text)}


def instructions_benchmark(args, results):
    """Fills results["instructions"]; skipped (with a line saying why) when the harness or
    valgrind is missing. The relay under callgrind runs about 50x slower: a few minutes."""
    why = available()
    if why:
        log(f"instructions per request skipped: {why}")
        return
    log(f"instructions per request (callgrind, {args.instructions_requests} requests each) ...")
    result = subprocess.run([str(HARNESS), "--bin", str(args.bin), "--requests",
                             str(args.instructions_requests)],
                            capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        fail(f"bench/instructions failed:\n{result.stdout}{result.stderr[-3000:]}")
    counts = parse(result.stdout)
    if not counts:
        fail(f"bench/instructions printed no instructions lines:\n{result.stdout[-2000:]}")
    results["instructions"] = counts


def rows(results):
    counts = results.get("instructions") or {}
    out = []
    for (endpoint, transport), value in counts.items():
        name = f"instructions per request, {endpoint}" + (" TLS" if transport == "tls" else "")
        before = BEFORE.get((endpoint, transport))
        if before:
            out.append((name, f"{value:,}", f"before ({BEFORE_COMMIT}): {before:,}",
                        f"{(value / before - 1) * 100:+.1f} %"))
        else:
            out.append((name, f"{value:,}", "", ""))
    return out


def lines(results):
    """The harness's own line format, for the document's figures (the guard reads them)."""
    counts = results.get("instructions") or {}
    return [f"instructions endpoint={e} transport={t} per_request={v}"
            for (e, t), v in counts.items()]


def add_arguments(parser):
    parser.add_argument("--instructions-requests", type=int, default=2000,
                        help="requests counted per endpoint by bench/instructions")
    parser.add_argument("--no-instructions", action="store_true",
                        help="skip the instructions per request (callgrind, a few minutes)")
    parser.add_argument("--instructions-only", action="store_true",
                        help="only the instructions per request (printed; the document is "
                             "kept)")
