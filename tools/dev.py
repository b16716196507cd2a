#!/usr/bin/env python3
"""The two commands of the README.

    python3 tools/dev.py test   # every test: library + sandbox (always), Odoo (when Odoo 18 is importable)
    python3 tools/dev.py run    # the sandbox with a seeded Finnish demo company + Odoo with the module

Odoo is looked for in this order: $ODOO_PYTHON (a python that imports odoo 18),
the ``odoo`` command on PATH, then ``python3 -c 'import odoo'``. Odoo is never
downloaded or built by this script: install Odoo 18 yourself (see README.md).
"""

import argparse
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = "netvisor_integration"
PAYROLL_REQ = "odoo-addon-payroll>=18.0,<18.1"
LIB_REQS = ["requests", "lxml", "pytest"]


def say(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- discovery


def python_imports_odoo18(python):
    try:
        out = subprocess.run(
            [python, "-c", "import odoo.release as r; print(r.version_info[0])"],
            capture_output=True, text=True, timeout=60, cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "18"


def find_odoo_python():
    """Return (python, reason)."""
    candidates = []
    if os.environ.get("ODOO_PYTHON"):
        candidates.append(os.environ["ODOO_PYTHON"])
    for cmd in ("odoo", "odoo-bin"):
        path = shutil.which(cmd)
        if path:
            try:
                with open(os.path.realpath(path), "rb") as handle:
                    first = handle.readline().decode("utf-8", "replace").strip()
                if first.startswith("#!"):
                    candidates.append(first[2:].strip().split()[0])
            except OSError:
                pass
    candidates.append(sys.executable)
    candidates.append(shutil.which("python3") or "python3")
    tried = []
    for python in candidates:
        if python in tried:
            continue
        tried.append(python)
        if python_imports_odoo18(python):
            return python, ""
    return None, "no Python among %s imports Odoo 18 (set ODOO_PYTHON, or put `odoo` on PATH)" % ", ".join(tried)


def odoo_addons_paths(python):
    code = (
        "import os, odoo, odoo.addons as a;"
        "src = os.path.dirname(os.path.dirname(odoo.__file__));"
        "paths = [p for p in [os.path.join(src, 'addons')] + list(a.__path__) if os.path.isdir(p)];"
        "print(os.pathsep.join(dict.fromkeys(paths)))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    return [p for p in out.stdout.strip().split(os.pathsep) if p]


def ensure_payroll(python, paths):
    if any(os.path.isfile(os.path.join(p, "payroll", "__manifest__.py")) for p in paths):
        return paths
    say(f"OCA payroll is missing: pip install --no-deps '{PAYROLL_REQ}'")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", PAYROLL_REQ], check=True)
    return odoo_addons_paths(python)


def module_link_dir():
    """Odoo loads an addon from a folder named after it: link the checkout as such."""
    if os.path.basename(ROOT) == MODULE:
        return os.path.dirname(ROOT)
    base = os.path.join(tempfile.gettempdir(), f"{MODULE}-addons-{uuid.uuid5(uuid.NAMESPACE_URL, ROOT).hex[:8]}")
    os.makedirs(base, exist_ok=True)
    link = os.path.join(base, MODULE)
    if os.path.islink(link) and os.readlink(link) != ROOT:
        os.unlink(link)
    if not os.path.exists(link):
        os.symlink(ROOT, link)
    return base


def odoo_command(python, paths, *args):
    addons = ",".join(paths + [module_link_dir()])
    return [python, "-c", "import sys, odoo.cli; sys.argv[0] = 'odoo'; odoo.cli.main()",
            f"--addons-path={addons}", *args]


# ---------------------------------------------------------------- test


def ensure_lib_deps(python):
    missing = []
    for name in LIB_REQS:
        probe = subprocess.run([python, "-c", f"import {name}"], capture_output=True, cwd="/")
        if probe.returncode:
            missing.append(name)
    if missing:
        say(f"installing test requirements: {' '.join(missing)}")
        subprocess.run([python, "-m", "pip", "install", "-q", *missing], check=True)


def run_pytest(python):
    say("=== library and sandbox tests (pytest)")
    proc = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "netvisor", "netvisor_sandbox"],
                          cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    counts = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    tail = proc.stdout.strip().splitlines()[-1:] or [""]
    for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", tail[0]):
        counts["error" if word.startswith("error") else word] += int(number)
    if proc.returncode not in (0, 5) and not counts["failed"] and not counts["error"]:
        counts["error"] = 1
    return counts


def count_odoo_tests():
    total = 0
    for path in glob.glob(os.path.join(ROOT, "tests", "test_*.py")):
        with open(path, encoding="utf-8") as handle:
            total += len(re.findall(r"^\s+def test_\w+", handle.read(), re.M))
    return total


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql_exists():
    return shutil.which("psql") is not None


def run_odoo_tests(python, keep_db=False, tags=None):
    say("=== Odoo tests (real Odoo 18)")
    paths = ensure_payroll(python, odoo_addons_paths(python))
    db = os.environ.get("NETVISOR_TEST_DB") or f"nv_test_{os.getpid()}"
    template = os.environ.get("NETVISOR_TEST_DB_TEMPLATE")
    if template and psql_exists():
        subprocess.run(["dropdb", "--if-exists", db], capture_output=True)
        subprocess.run(["createdb", "-T", template, db], check=True)
    tags = tags or f"/{MODULE}"
    cmd = odoo_command(python, paths, "-d", db, "-i", MODULE, "--test-enable", f"--test-tags={tags}",
                       "--stop-after-init", "--without-demo=all", "--log-level=test",
                       # test mode opens the HTTP server anyway: a free port lets runs go in parallel
                       "--http-interface=127.0.0.1", f"--http-port={free_port()}",
                       "--max-cron-threads=0")
    started = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if re.search(r" (ERROR|CRITICAL|WARNING) .*netvisor|FAIL:|ERROR:|Ran \d+ tests|tests\.(stats|result)|"
                     r"odoo\.modules\.loading: (loading|Modules loaded)|Starting (Test|\w+Case)", line):
            sys.stdout.write(line)
    code = proc.wait()
    if not keep_db and not os.environ.get("NETVISOR_TEST_DB"):
        subprocess.run(["dropdb", "--if-exists", db], capture_output=True)
    log = "".join(lines)
    with open(os.path.join(tempfile.gettempdir(), "netvisor_odoo_tests.log"), "w", encoding="utf-8") as handle:
        handle.write(log)
    result = re.findall(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests", log)
    errors_in_log = len(re.findall(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", log, re.M))
    if not result:
        say(f"Odoo did not report test results (exit {code}); log: {handle.name}")
        return {"passed": 0, "failed": 0, "error": 1, "skipped": 0}
    failed, errors, total = (int(x) for x in result[-1])
    failures = failed + errors
    if code and not failures:
        failures = 1  # install or load error outside the tests
    if errors_in_log and not failures:
        say(f"{errors_in_log} ERROR line(s) in the Odoo log ({handle.name})")
        failures = 1
    say(f"Odoo tests took {time.time() - started:.0f} s (log: {handle.name})")
    return {"passed": total - failed - errors, "failed": failures, "skipped": 0, "error": 0}


def cmd_test(args):
    odoo_python, reason = find_odoo_python()
    python = odoo_python or sys.executable
    ensure_lib_deps(python)
    total = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    lib = run_pytest(python) if not args.odoo_only else {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    say(f"library+sandbox: {lib['passed']} passed, {lib['failed'] + lib['error']} failed, {lib['skipped']} skipped")
    for key in total:
        total[key] += lib[key]
    if args.lib_only:
        odoo_python = None
        reason = "--lib-only"
    if odoo_python:
        res = run_odoo_tests(odoo_python, keep_db=args.keep_db, tags=args.tags)
        say(f"odoo: {res['passed']} passed, {res['failed'] + res['error']} failed, 0 skipped")
        for key in total:
            total[key] += res[key]
    else:
        skipped = count_odoo_tests()
        bar = "!" * 78
        say(f"\n{bar}\n!!! ODOO TESTS SKIPPED ({skipped} tests): {reason}\n"
            f"!!! Install Odoo 18 to run them (README.md, 'Odoo 18 for development').\n{bar}\n")
        total["skipped"] += skipped
    failed = total["failed"] + total["error"]
    say(f"total: {total['passed']} passed, {failed} failed, {total['skipped']} skipped")
    return 1 if failed else 0


# ---------------------------------------------------------------- run


def run_shell_script(python, paths, db, script, env=None):
    with open(os.path.join(ROOT, "tools", script), encoding="utf-8") as handle:
        subprocess.run(odoo_command(python, paths, "shell", "-d", db, "--no-http", "--log-level=warn"),
                       stdin=handle, check=True, cwd=ROOT, env=dict(os.environ, **(env or {})))


def cmd_run(args):
    python, reason = find_odoo_python()
    if not python:
        say(f"Cannot start Odoo: {reason}.\nInstall Odoo 18 (README.md, 'Odoo 18 for development'). "
            f"The sandbox alone starts with:\n  python3 tools/demo_seed.py > /tmp/seed.json && "
            f"python3 -m netvisor_sandbox --seed /tmp/seed.json")
        return 2
    paths = ensure_payroll(python, odoo_addons_paths(python))
    seed = os.path.join(tempfile.gettempdir(), "netvisor_demo_seed.json")
    with open(seed, "w", encoding="utf-8") as handle:
        subprocess.run([python, os.path.join(ROOT, "tools", "demo_seed.py")], stdout=handle, check=True)
    sandbox_url = f"http://127.0.0.1:{args.sandbox_port}/"
    # the sandbox keeps its state next to the database's, so Odoo and "Netvisor" stay consistent
    state_file = os.path.join(tempfile.gettempdir(), f"netvisor_sandbox_{args.db}.json")
    listing = subprocess.run(["psql", "-lqt"], capture_output=True, text=True).stdout
    db_exists = any(line.split("|")[0].strip() == args.db for line in listing.splitlines())
    if not db_exists and os.path.exists(state_file):
        os.unlink(state_file)
    sandbox = subprocess.Popen([python, "-m", "netvisor_sandbox", "--host", "127.0.0.1",
                                "--port", str(args.sandbox_port), "--seed", seed, "--state-file", state_file],
                               cwd=ROOT)
    try:
        db = args.db
        if not db_exists:
            say(f"creating database {db}: a Finnish company (l10n_fi) with {MODULE} and demo records "
                f"(a few minutes the first time)")
            subprocess.run(odoo_command(python, paths, "-d", db, "-i", "base", "--stop-after-init", "--no-http",
                                        "--without-demo=all", "--log-level=warn"), check=True, cwd=ROOT)
            run_shell_script(python, paths, db, "demo_company.py")
            subprocess.run(odoo_command(python, paths, "-d", db, "-i", f"{MODULE},l10n_fi", "--stop-after-init",
                                        "--no-http", "--without-demo=all", "--load-language=fi_FI",
                                        "--log-level=warn"), check=True, cwd=ROOT)
        run_shell_script(python, paths, db, "demo_setup.py", env={"NETVISOR_SANDBOX_URL": sandbox_url})
        say(f"\nOdoo: http://127.0.0.1:{args.port}  (database {db}, login admin / admin)\n"
            f"Netvisor sandbox: {sandbox_url}  (state: {sandbox_url}_sandbox/state)\n"
            f"Try: Accounting > Netvisor > Overview; Settings > Netvisor Integration > Test Connection / "
            f"Run import now; send the posted customer invoices, the payslips and the expense report.\n")
        if args.setup_only:
            return 0
        odoo = subprocess.Popen(odoo_command(python, paths, "-d", db, "--http-port", str(args.port),
                                             "--http-interface", "127.0.0.1"), cwd=ROOT)
        try:
            return odoo.wait()
        except KeyboardInterrupt:
            odoo.send_signal(signal.SIGINT)
            return odoo.wait()
    finally:
        sandbox.terminate()
        sandbox.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    test = sub.add_parser("test", help="run every test")
    test.add_argument("--lib-only", action="store_true", help="library and sandbox tests only")
    test.add_argument("--odoo-only", action="store_true", help="Odoo tests only")
    test.add_argument("--keep-db", action="store_true", help="keep the Odoo test database")
    test.add_argument("--tags", help="Odoo --test-tags (default /netvisor_integration)")
    run = sub.add_parser("run", help="start the sandbox and Odoo with the module")
    run.add_argument("--db", default="netvisor_demo")
    run.add_argument("--port", type=int, default=8069)
    run.add_argument("--sandbox-port", type=int, default=8765)
    run.add_argument("--setup-only", action="store_true", help="prepare the database and stop")
    args = parser.parse_args()
    return cmd_test(args) if args.command == "test" else cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
