#!/usr/bin/env python3
"""Unit tests of the bench regression guard's comparison (bench/guard.py). Plain unittest,
no relay and no timing: registered as the CTest `bench_guard_test` so it runs in `make test`."""

import io
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import guard  # noqa: E402

BEGIN = "<!-- bench:begin (test) -->"
END = "<!-- bench:end -->"

DOC = f"""# Performance

ratio outside_the_block=9.000

{BEGIN}

| Target | Measured | Met |
|---|---|---|
| /postmsg >= 0.30x nginx | 0.14x | **no** |

```
ratio postmsg_vs_nginx=0.300
ratio receive_vs_nginx=0.500
ratio client_v2_wire_bytes_vs_v1=1.152
ratio cross_relay_wake_p99_ms=10.000
instructions endpoint=/postmsg per_request=100000
instructions endpoint=/receive transport=plain per_request=50000 requests=2000
instructions endpoint=/receive transport=tls per_request=70000 requests=2000
```

{END}
"""


class ParseTest(unittest.TestCase):
    def test_reads_only_the_lines_between_the_markers(self):
        figures = guard.recorded_figures(DOC, BEGIN, END)
        self.assertEqual(figures, {
            "postmsg_vs_nginx": 0.3, "receive_vs_nginx": 0.5,
            "client_v2_wire_bytes_vs_v1": 1.152, "cross_relay_wake_p99_ms": 10.0,
            "instructions /postmsg": 100000.0, "instructions /receive": 50000.0,
            "instructions /receive tls": 70000.0})

    def test_a_document_without_the_block_records_nothing(self):
        self.assertEqual(guard.recorded_figures("# Performance\nratio a=1.0\n", BEGIN, END), {})
        self.assertEqual(guard.recorded_figures(f"{BEGIN}\nratio a=1.0\n", BEGIN, END), {})


class DirectionTest(unittest.TestCase):
    def test_each_kind_of_figure_has_its_direction(self):
        self.assertEqual(guard.direction("postmsg_vs_nginx"), guard.HIGHER)
        self.assertEqual(guard.direction("daemon_vs_process_per_message"), guard.HIGHER)
        self.assertEqual(guard.direction("client_cached_vs_pbkdf2_per_message"), guard.HIGHER)
        self.assertEqual(guard.direction("client_v2_wire_bytes_vs_v1"), guard.LOWER)
        self.assertEqual(guard.direction("client_v2_ratchet_vs_v1_cached"), guard.LOWER)
        self.assertEqual(guard.direction("cross_relay_wake_p99_ms"), guard.LOWER)
        self.assertEqual(guard.direction("instructions /receive"), guard.LOWER)


class CompareTest(unittest.TestCase):
    def verdicts(self, recorded, measured):
        return {r[0]: r[5] for r in guard.compare(recorded, measured)}

    def test_higher_is_better_fails_only_below_eighty_percent(self):
        recorded = {"postmsg_vs_nginx": 0.300}
        self.assertEqual(self.verdicts(recorded, {"postmsg_vs_nginx": 0.241}),
                         {"postmsg_vs_nginx": "ok"})
        self.assertEqual(self.verdicts(recorded, {"postmsg_vs_nginx": 0.240}),
                         {"postmsg_vs_nginx": "ok"})  # exactly 20 % lower is allowed
        self.assertEqual(self.verdicts(recorded, {"postmsg_vs_nginx": 0.239}),
                         {"postmsg_vs_nginx": "REGRESSED"})
        self.assertEqual(self.verdicts(recorded, {"postmsg_vs_nginx": 0.900}),
                         {"postmsg_vs_nginx": "ok"})

    def test_lower_is_better_fails_above_one_and_a_quarter(self):
        recorded = {"cross_relay_wake_p99_ms": 10.0, "instructions /receive": 100000}
        rows = guard.compare(recorded, {"cross_relay_wake_p99_ms": 12.5,
                                        "instructions /receive": 126000})
        self.assertEqual({r[0]: r[5] for r in rows},
                         {"cross_relay_wake_p99_ms": "ok", "instructions /receive": "REGRESSED"})
        # A fall of a lower-is-better figure is an improvement, however large.
        self.assertEqual(self.verdicts(recorded, {"cross_relay_wake_p99_ms": 1.0,
                                                  "instructions /receive": 10}),
                         {"cross_relay_wake_p99_ms": "ok", "instructions /receive": "ok"})

    def test_ratios_between_our_own_set_ups_are_shown_but_never_fail(self):
        # One relay on PostgreSQL got faster: two relays over one fell, which is no loss.
        recorded = {"pg2_receive_vs_pg": 1.571, "pg_postmsg_vs_sqlite": 0.699,
                    "pg2_receive_vs_nginx": 0.091}
        self.assertEqual(self.verdicts(recorded, {"pg2_receive_vs_pg": 1.076,
                                                  "pg_postmsg_vs_sqlite": 0.2,
                                                  "pg2_receive_vs_nginx": 0.05}),
                         {"pg2_receive_vs_pg": "not guarded",
                          "pg_postmsg_vs_sqlite": "not guarded",
                          "pg2_receive_vs_nginx": "REGRESSED"})

    def test_goodness_is_the_change_in_the_good_direction(self):
        rows = {r[0]: r for r in guard.compare({"a_vs_b": 2.0, "x_ms": 2.0},
                                              {"a_vs_b": 1.0, "x_ms": 4.0})}
        self.assertAlmostEqual(rows["a_vs_b"][4], 0.5)
        self.assertAlmostEqual(rows["x_ms"][4], 0.5)

    def test_new_and_unmeasured_figures_never_fail(self):
        self.assertEqual(self.verdicts({"gone_vs_nginx": 1.0}, {"fresh_vs_nginx": 0.01}),
                         {"gone_vs_nginx": "not measured", "fresh_vs_nginx": "new"})

    def test_a_zero_baseline_is_not_a_reference(self):
        self.assertEqual(self.verdicts({"a_vs_b": 0.0}, {"a_vs_b": 0.5}),
                         {"a_vs_b": "no baseline"})

    def test_a_lower_is_better_figure_measured_at_zero_is_fine(self):
        self.assertEqual(self.verdicts({"x_ms": 1.0}, {"x_ms": 0.0}), {"x_ms": "ok"})


class CheckTest(unittest.TestCase):
    def test_a_regression_prints_a_table_naming_it_and_returns_false(self):
        out = io.StringIO()
        ok = guard.check({"postmsg_vs_nginx": 0.30, "receive_vs_nginx": 0.50},
                         {"postmsg_vs_nginx": 0.15, "receive_vs_nginx": 0.51}, out=out)
        self.assertFalse(ok)
        text = out.getvalue()
        self.assertIn("postmsg_vs_nginx", text)
        self.assertIn("-50.0 %", text)
        self.assertIn("REGRESSED", text)
        self.assertIn("guard: FAILED, 1 figure(s)", text)
        # The regression is listed first, before the figures that are fine.
        lines = text.splitlines()
        self.assertLess(next(i for i, l in enumerate(lines) if "REGRESSED" in l),
                        next(i for i, l in enumerate(lines) if l.startswith("receive_vs")))

    def test_no_regression_passes(self):
        out = io.StringIO()
        self.assertTrue(guard.check({"postmsg_vs_nginx": 0.30}, {"postmsg_vs_nginx": 0.29},
                                    out=out))
        self.assertIn("guard: passed", out.getvalue())

    def test_nothing_recorded_passes(self):
        out = io.StringIO()
        self.assertTrue(guard.check({}, {}, out=out))
        self.assertIn("no recorded figures", out.getvalue())


if __name__ == "__main__":
    unittest.main()
