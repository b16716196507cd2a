#!/usr/bin/env python3
"""Run the flow benchmarks and print one table.

    python3 bench/run.py                 # every bench/bench_*.py
    python3 bench/run.py purchase sales  # some of them

Each ``bench/bench_<name>.py`` has ``run() -> list of (metric, value, target)`` rows
and sets up what it needs through bench/common.py. Needs Odoo 18 (see README.md).
"""

import glob
import importlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, ROOT)


def main():
    import dev

    python, reason = dev.find_odoo_python()
    if not python:
        print(f"benchmarks need Odoo 18: {reason}")
        return 2
    try:
        import odoo.release  # noqa: F401  (this interpreter has Odoo: run here)
        has_odoo = True
    except ImportError:
        has_odoo = False
    if not has_odoo and not os.environ.get("NV_BENCH_CHILD"):
        os.environ["NV_BENCH_CHILD"] = "1"
        os.execv(python, [python, *sys.argv])
    names = sys.argv[1:] or sorted(
        os.path.basename(p)[6:-3] for p in glob.glob(os.path.join(ROOT, "bench", "bench_*.py")))
    rows = []
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"=== {name}", flush=True)
        for row in module.run():
            rows.append((name, *row))
            print("  %-48s %14s   target %s" % row, flush=True)
    print("\n%-10s %-48s %14s   %s" % ("flow", "metric", "value", "target"))
    print("-" * 100)
    for row in rows:
        print("%-10s %-48s %14s   %s" % row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
