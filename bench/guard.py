#!/usr/bin/env python3
"""The regression guard of `make bench` (issue 14 item 3): compares this run's figures with the
last ones recorded in docs/performance.md and fails when one got more than 20 % worse.

What is compared: every `ratio NAME=VALUE` line and every `instructions endpoint=PATH
[transport=plain|tls] per_request=N` line inside a bench block (the text between a begin and an end marker that
bench/run_all.py writes). Each name has a direction:

  * higher is better (throughput ratios against nginx or curl, crypto speed-ups, the daemon's
    speed-up): it fails when the new value is below 0.80x the recorded one;
  * lower is better (latencies in ms, instructions per request, size and time ratios such as
    client_v2_wire_bytes_vs_v1): it fails when the new value is above 1.25x the recorded one,
    the same 20 % loss seen the other way round (a latency 1.25x higher is a rate 0.80x).

Ratios between two of our own set-ups (pg_postmsg_vs_sqlite, pg2_receive_vs_pg: PostgreSQL
against SQLite, two relays against one) are shown but not guarded: making the denominator
faster lowers them, so they would call an improvement a regression. Each set-up is guarded on
its own, against nginx.

A figure with no recorded value is new (reported, never a failure); a recorded figure that
this run did not measure (--no-pg, a skipped desktop run) is reported as not measured.

The guard runs in `make bench` only (bench/run_all.py calls check()); its comparison logic is
tested by bench/guard_test.py in `make test`. Alone, it compares a file with the document:
`python3 bench/guard.py build-release/bench-scratch/performance.md` (the copy a failed guard
leaves there) or any file of ratio lines. Only the Python standard library is used.
"""

import re
import sys
from pathlib import Path

# A figure may get this much worse (as a fraction of its goodness) before the guard fails.
ALLOWED_LOSS = 0.20

HIGHER, LOWER = "higher", "lower"

# Names whose smaller value is the better one. Every other ratio is higher-is-better; the
# instructions per request (key "instructions /path") are always lower-is-better.
LOWER_IS_BETTER = {
    "client_v2_ratchet_vs_v1_cached",  # time of a v2 ratchet step over a v1 message
    "client_v2_wire_bytes_vs_v1",  # bytes on the wire, v2 over v1
}

# Ratios of one of our set-ups over another: context, never a failure (see the docstring).
RELATIVE_RATIO = re.compile(r"^pg2?_[a-z]+_vs_(?:pg|sqlite)$")

RATIO_LINE = re.compile(r"^ratio ([A-Za-z0-9_]+)=([-+0-9.eE]+)\s*$", re.M)
# bench/instructions prints `instructions endpoint=/receive transport=plain per_request=N
# requests=2000`; transport and requests are optional here.
INSTRUCTIONS_LINE = re.compile(
    r"^instructions endpoint=(\S+)(?: transport=(\S+))? per_request=([0-9.]+)\b.*$", re.M)


def direction(name):
    """HIGHER or LOWER: which way `name` (a ratio name or "instructions /path") improves."""
    if name.startswith("instructions "):
        return LOWER
    if name in LOWER_IS_BETTER or name.endswith(("_ms", "_us", "_bytes", "_kib")):
        return LOWER
    return HIGHER


def instructions_name(endpoint, transport=""):
    """The guard's name of an instructions figure: "instructions /receive" (plain HTTP) or
    "instructions /receive tls"."""
    suffix = f" {transport}" if transport and transport != "plain" else ""
    return f"instructions {endpoint}{suffix}"


def parse_figures(text):
    """{name: value} for every ratio and instructions line in `text` (a bench block)."""
    figures = {name: float(value) for name, value in RATIO_LINE.findall(text)}
    for endpoint, transport, value in INSTRUCTIONS_LINE.findall(text):
        figures[instructions_name(endpoint, transport)] = float(value)
    return figures


def block(text, begin_mark, end_mark):
    """The text between the two marks (exclusive), or "" when either is missing."""
    if begin_mark not in text:
        return ""
    rest = text.split(begin_mark, 1)[1]
    if end_mark not in rest:
        return ""
    return rest.split(end_mark, 1)[0]


def recorded_figures(doc_text, begin_mark, end_mark):
    """The figures of the block between the marks in docs/performance.md's text."""
    return parse_figures(block(doc_text, begin_mark, end_mark))


def compare(recorded, measured, allowed_loss=ALLOWED_LOSS):
    """One row per name in either dict, sorted by name: (name, direction, recorded value or
    None, measured value or None, goodness, verdict). goodness is measured/recorded for a
    higher-is-better figure and recorded/measured for a lower-is-better one (1.0 unchanged,
    0.8 = 20 % worse); None when either value is missing or not positive. verdict is one of
    "ok", "REGRESSED", "new", "not measured", "no baseline" (a recorded value <= 0), "not
    guarded" (a ratio between two of our own set-ups, RELATIVE_RATIO)."""
    rows = []
    for name in sorted(set(recorded) | set(measured)):
        old, new = recorded.get(name), measured.get(name)
        way = direction(name)
        goodness = None
        if old is None:
            verdict = "new"
        elif new is None:
            verdict = "not measured"
        elif old <= 0 or new < 0:
            verdict = "no baseline"
        elif RELATIVE_RATIO.match(name):
            verdict = "not guarded"
        else:
            if way == HIGHER:
                goodness = new / old
            else:
                goodness = old / new if new > 0 else float("inf")
            # A small tolerance so that a value printed with three decimals exactly at the
            # limit does not flip with rounding.
            verdict = "REGRESSED" if goodness < 1 - allowed_loss - 1e-9 else "ok"
        rows.append((name, way, old, new, goodness, verdict))
    return rows


def regressions(rows):
    return [r for r in rows if r[5] == "REGRESSED"]


def _number(value):
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3f}"


def render(rows):
    """The comparison as an aligned text table, worst first among the regressions."""
    ordered = sorted(rows, key=lambda r: (r[5] != "REGRESSED",
                                          r[4] if r[4] is not None else float("inf")))
    table = [("figure", "better", "recorded", "now", "change", "verdict")]
    for name, way, old, new, goodness, verdict in ordered:
        # + 0.0 turns a rounded -0.0 into 0.0: an unchanged figure reads "+0.0 %".
        change = "-" if goodness is None else f"{round((goodness - 1) * 100, 1) + 0.0:+.1f} %"
        table.append((name, way, _number(old), _number(new), change, verdict))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip()
                     for r in table)


def check(recorded, measured, allowed_loss=ALLOWED_LOSS, out=sys.stdout):
    """Prints the comparison and a one-line verdict; returns True when nothing regressed.
    "change" is the gain (+) or loss (-) in the figure's good direction."""
    rows = compare(recorded, measured, allowed_loss)
    if not rows:
        print("guard: no recorded figures to compare with", file=out)
        return True
    print(f"regression guard: each figure against docs/performance.md, failing below "
          f"-{allowed_loss * 100:.0f} %", file=out)
    print(render(rows), file=out)
    bad = regressions(rows)
    if bad:
        names = ", ".join(f"{r[0]} ({(r[4] - 1) * 100:+.1f} %)" for r in bad)
        print(f"guard: FAILED, {len(bad)} figure(s) more than {allowed_loss * 100:.0f} % worse "
              f"than recorded: {names}", file=out)
        return False
    print("guard: passed, no figure more than "
          f"{allowed_loss * 100:.0f} % worse than recorded", file=out)
    return True


def document_figures(text):
    """The figures of a document's bench and bench-pg blocks; of the whole text when it has
    neither (a file of ratio lines)."""
    from benchlib import BEGIN_MARK, END_MARK
    from pg_bench import PG_BEGIN, PG_END
    figures = {**recorded_figures(text, BEGIN_MARK, END_MARK),
               **recorded_figures(text, PG_BEGIN, PG_END)}
    return figures or parse_figures(text)


def main(argv):
    from benchlib import DOC
    if len(argv) != 2:
        print("usage: guard.py FILE: compares the figures in FILE (a copy of the document, "
              "such as build-release/bench-scratch/performance.md after a failed guard, or "
              "ratio and instructions lines) with docs/performance.md's", file=sys.stderr)
        return 2
    recorded = document_figures(DOC.read_text())
    measured = document_figures(Path(argv[1]).read_text())
    return 0 if check(recorded, measured) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
