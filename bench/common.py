"""Benchmark harness: a fresh Odoo database with the module, a sandbox in its own
process, SQL query and HTTP request counters. Used by ``bench/run.py``."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import dev  # noqa: E402

PARTNER_ID, PARTNER_KEY = "BENCHPARTNER", "bench-partner-key"
CUSTOMER_ID, CUSTOMER_KEY = "BENCHCUSTOMER", "bench-customer-key"
ORGANISATION_ID = "1572860-0"
_CONFIGURED = False


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sandbox:
    """The sandbox in a subprocess (so its CPU time is not charged to Odoo), driven
    through its ``/_sandbox/`` control API."""

    def __init__(self, data=None, latency_ms=0):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self.proc = subprocess.Popen([sys.executable, "-m", "netvisor_sandbox", "--port", str(self.port),
                                      "--latency-ms", str(latency_ms)], cwd=ROOT)
        deadline = time.time() + 20
        while True:
            try:
                self.control("GET", "stats")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.seed(data or {})

    def control(self, method, action, payload=None):
        body = json.dumps(payload).encode() if payload is not None else (b"{}" if method == "POST" else None)
        request = urllib.request.Request(f"{self.base_url}_sandbox/{action}", data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())

    def seed(self, data):
        self.control("POST", "seed", {
            "partners": [{"partner_id": PARTNER_ID, "partner_key": PARTNER_KEY}],
            "organisations": [{"organisation_id": ORGANISATION_ID,
                               "customers": [{"customer_id": CUSTOMER_ID, "customer_key": CUSTOMER_KEY}],
                               "data": data}],
        })

    def requests(self):
        return self.control("GET", "stats")["stats"].get("requests", 0)

    def state(self):
        return self.control("GET", "state")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


@contextlib.contextmanager
def odoo_env(db="nv_bench"):
    """A fresh database with the module installed, and an Environment on it (superuser).
    Set NETVISOR_BENCH_TEMPLATE to a database with account, hr_expense and payroll
    installed to skip most of the installation."""
    import odoo
    from odoo import SUPERUSER_ID, api

    python = sys.executable
    paths = dev.ensure_payroll(python, dev.odoo_addons_paths(python))
    subprocess.run(["dropdb", "--if-exists", "--force", db], check=True)
    template = os.environ.get("NETVISOR_BENCH_TEMPLATE")
    if template:
        subprocess.run(["createdb", "-T", template, db], check=True)
    cmd = dev.odoo_command(python, paths, "-d", db, "-i", dev.MODULE, "--stop-after-init", "--no-http",
                           "--without-demo=all", "--log-level=warn")
    subprocess.run(cmd, check=True, cwd=ROOT)
    addons = ",".join(paths + [dev.module_link_dir()])
    global _CONFIGURED
    if not _CONFIGURED:  # Odoo's configuration can be parsed once per process
        odoo.tools.config.parse_config([f"--addons-path={addons}", "--log-level=warn"])
        _CONFIGURED = True
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        yield env


def configure_company(env, sandbox, company=None):
    company = company or env.company
    company.write({
        "netvisor_partner_id": PARTNER_ID,
        "netvisor_partner_key": PARTNER_KEY,
        "netvisor_customer_id": CUSTOMER_ID,
        "netvisor_customer_key": CUSTOMER_KEY,
        "netvisor_organisation_id": ORGANISATION_ID,
        "netvisor_base_url": sandbox.base_url,
    })
    params = env["ir.config_parameter"].sudo()
    params.set_param("netvisor_integration.backoff", "0")
    return company


@contextlib.contextmanager
def measure(env):
    """Yields a dict filled on exit with seconds and SQL queries."""
    result = {}
    cr = env.cr
    queries = cr.sql_log_count
    started = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - started
    result["queries"] = cr.sql_log_count - queries
