"""Two Odoo workers (two threads, each with its own database connection) running the same flow
for the same company at once (issue 8): no duplicate in Odoo or Netvisor, and Netvisor never
sees two requests of the company at the same time. The serialization is PostgreSQL's advisory
lock (seen in pg_locks while the workers run), not a lock of this process."""

import collections
import contextlib
import logging
import threading
import time
import traceback
from contextlib import closing
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.account_move_purchase import AccountMove as PurchaseMove
from ..models.res_company import ADVISORY_LOCK_CLASS, ResCompany
from . import test_purchase_import as purchase_tests
from .common import NetvisorTestCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestConcurrentWorkers(purchase_tests.NetvisorPurchaseCommon):

    def setUp(self):
        super().setUp()
        self.org.max_active = 0
        self.org.overlaps = 0
        self.sandbox.state.stats["overlaps"] = 0

    def committed_setup(self, count):
        setup = purchase_tests.TestNetvisorPurchaseConcurrency._committed_company_setup
        company_id, keys, cleanup = setup(self, count)
        self.addCleanup(cleanup)
        return company_id, keys

    def committed_param(self, name, value):
        """Set a system parameter for the other connections too (committed), restored after."""
        registry = self.env.registry
        with closing(registry.cursor()) as cr:
            params = api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"]
            old = params.get_param(name)
            params.set_param(name, value)
            cr.commit()

        def restore():
            with closing(registry.cursor()) as cr:
                api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"].set_param(name, old)
                cr.commit()

        self.addCleanup(restore)

    def count_bills(self, company_id, keys):
        return purchase_tests.TestNetvisorPurchaseConcurrency._count_bills(self, company_id, keys)

    def race(self, company_id, workers=2, targets=None):
        """Run the import in ``workers`` threads at once (or each of ``targets``: functions of
        (env, company) run in their own thread); returns their results and the most advisory
        locks of the company seen at once in pg_locks (polled from a third connection)."""
        registry = self.env.registry
        targets = targets or [lambda env, company: env["account.move"]._netvisor_import_purchase_invoices(company)
                              ] * workers
        workers = len(targets)
        results, barrier, done = [], threading.Barrier(workers), threading.Event()
        seen = []

        def worker(target):
            with closing(registry.cursor()) as cr:
                cr.execute("SET LOCAL lock_timeout = '20s'")
                # the test runner holds Registry._lock: hand the registry over instead of looking it up
                cr.transaction = api.Transaction(registry)
                env = api.Environment(cr, SUPERUSER_ID, {})
                barrier.wait(timeout=10)
                try:
                    summary = target(env, env["res.company"].browse(company_id))
                    cr.commit()
                    results.append(summary)
                except Exception as error:  # noqa: BLE001 - reported by the assertion below
                    results.append(error)

        def watcher():
            with closing(registry.cursor()) as cr:
                while not done.is_set():
                    cr.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                               "AND objid = %s AND granted", (ADVISORY_LOCK_CLASS, company_id))
                    seen.append(cr.fetchone()[0])
                    cr.rollback()
                    time.sleep(0.005)

        threads = [threading.Thread(target=worker, args=(target,)) for target in targets]
        spy = threading.Thread(target=watcher)
        with mute_logger("odoo.sql_db", "odoo.addons.netvisor_integration.models.account_move_purchase",
                         "odoo.addons.netvisor_integration.models.netvisor_run"):
            spy.start()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            done.set()
            spy.join(timeout=10)
        self.assertEqual(len(results), workers, results)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        return results, max(seen or [0])

    def assert_netvisor_serialized(self):
        stats = self.sandbox.state.stats
        self.assertEqual(self.org.overlaps, 0, "Netvisor saw overlapping requests of the company")
        self.assertEqual(stats["overlaps"], 0, "the sandbox refused an overlapping request")
        self.assertEqual(self.org.max_active, 1, "one request at a time for the company")

    def test_two_workers_same_import_request_lock_only(self):
        """The run-level lock bypassed: both workers really run the import at the same time, so
        every request races; only the per-company advisory lock keeps them apart, and the
        unique key with the savepoints keeps every invoice a single bill."""
        company_id, keys = self.committed_setup(12)
        self.committed_param("netvisor_integration.purchase_batch_size", "2")
        self.sandbox.faults.configure(latency_ms=20)  # each request holds the company a while

        @contextlib.contextmanager
        def no_run_lock(self, company):
            yield True

        with patch.object(PurchaseMove, "_netvisor_purchase_run_lock", no_run_lock):
            results, most_locks = self.race(company_id)
        self.assert_netvisor_serialized()
        self.assertEqual(self.count_bills(company_id, keys), dict.fromkeys(keys, 1), results)
        self.assertEqual(sorted(len(r["imported"]) + r["already_present"] for r in results), [12, 12], results)
        self.assertFalse([r["failed"] for r in results if r["failed"]], results)
        self.assertEqual(most_locks, 1, "the company's advisory lock was held in PostgreSQL during the requests")
        detail_requests = [r for r in self.sandbox.state.requests if r[0] == "getpurchaseinvoice.nv"]
        self.assertGreaterEqual(len(detail_requests), 2 * 6, "both workers did talk to Netvisor")
        _logger.info("two workers purchase_import (request lock only): invoices=12 requests=%s overlaps=%s "
                     "max_active=%s duplicates=0", len(self.sandbox.state.requests), self.org.overlaps,
                     self.org.max_active)

    def test_two_workers_same_import(self):
        """As deployed: the run lock lets one worker import, the other reports it is running."""
        company_id, keys = self.committed_setup(6)
        self.sandbox.faults.configure(latency_ms=20)
        results, _most = self.race(company_id)
        self.assert_netvisor_serialized()
        self.assertEqual(self.count_bills(company_id, keys), dict.fromkeys(keys, 1), results)
        self.assertEqual(sorted(len(r["imported"]) for r in results), [0, 6], results)
        loser = next(r for r in results if not r["imported"])
        self.assertTrue(loser["locked"] or loser["already_present"] == 6, results)

    def test_two_flows_at_once(self):
        """The purchase import and connection tests of the same company from two workers: one
        lock per company, whatever the flow."""
        company_id, keys = self.committed_setup(6)
        self.committed_param("netvisor_integration.purchase_batch_size", "1")
        self.sandbox.faults.configure(latency_ms=20)

        def import_(env, company):
            return env["account.move"]._netvisor_import_purchase_invoices(company)

        def connection_tests(env, company):
            return [company._netvisor_test_connection()[0] for _n in range(8)]

        results, most_locks = self.race(company_id, targets=[import_, connection_tests])
        self.assert_netvisor_serialized()
        self.assertEqual(self.count_bills(company_id, keys), dict.fromkeys(keys, 1), results)
        self.assertEqual(len(results[0]["imported"]) if isinstance(results[0], dict) else
                         len(results[1]["imported"]), 6, results)
        self.assertIn([True] * 8, results, "every connection test got its answer")
        self.assertEqual(most_locks, 1)

    def test_negative_control_without_the_lock(self):
        """The same race with the advisory lock removed: Netvisor does see overlapping requests,
        so the tests above would notice a missing lock."""
        company_id, _keys = self.committed_setup(6)
        self.committed_param("netvisor_integration.purchase_batch_size", "1")
        self.sandbox.faults.configure(latency_ms=30)

        @contextlib.contextmanager
        def no_lock(self, *args):
            yield True

        with patch.object(PurchaseMove, "_netvisor_purchase_run_lock", no_lock), \
                patch.object(ResCompany, "_netvisor_request_lock", no_lock), \
                mute_logger("odoo.addons.netvisor_integration.netvisor.transport"):
            self.race(company_id)
        self.assertGreater(self.org.overlaps, 0, "without the lock the two workers overlap")


@tagged("post_install", "-at_install")
class TestConcurrentSalesWorkers(NetvisorTestCommon):
    """Two workers sending the same invoices of one company at once (the cron and the button)."""

    def setUp(self):
        super().setUp()
        for name in ("sales_invoices", "customers", "products"):
            self.org.collections[name].clear()
        self.org.max_active = 0
        self.org.overlaps = 0
        self.sandbox.state.stats["overlaps"] = 0

    def committed_invoices(self, count):
        """``count`` posted invoices of the main company, committed (other connections see them)."""
        registry = self.env.registry
        with closing(registry.cursor()) as cr:
            cr.execute("SET LOCAL lock_timeout = '20s'")
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            fields_to_restore = ["netvisor_partner_id", "netvisor_partner_key", "netvisor_customer_id",
                                 "netvisor_customer_key", "netvisor_organisation_id", "netvisor_base_url"]
            old = {name: company[name] for name in fields_to_restore}
            company.write(self.netvisor_company_values())
            last = {}
            for table in ("netvisor_log", "netvisor_run", "netvisor_flow"):
                cr.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - constant names
                last[table] = cr.fetchone()[0]
            env["netvisor.flow"]._netvisor_ensure_rows(company)
            tax = env["account.tax"].create({"name": "ALV 25,5 % rinnakkais", "amount": 25.5,
                                             "type_tax_use": "sale", "company_id": company.id})
            product = env["product.product"].create({"name": "Rinnakkaistuote", "default_code": "RINN-1",
                                                     "list_price": 10.0, "taxes_id": [(6, 0, tax.ids)]})
            partner = env["res.partner"].create({
                "name": "Rinnakkaisasiakas Oy", "is_company": True, "company_registry": "0737546-2",
                "street": "Katu 1", "zip": "00100", "city": "Helsinki", "country_id": env.ref("base.fi").id})
            moves = env["account.move"].with_company(company).create([{
                "move_type": "out_invoice", "partner_id": partner.id, "company_id": company.id,
                "invoice_date": "2026-05-04",
                "invoice_line_ids": [(0, 0, {"product_id": product.id, "quantity": 1 + n, "price_unit": 10.0,
                                             "tax_ids": [(6, 0, tax.ids)]})],
            } for n in range(count)])
            moves.action_post()
            cr.commit()
            ids, names = moves.ids, moves.mapped("name")
            company_id, tax_id, product_id, partner_id = company.id, tax.id, product.id, partner.id

        def cleanup():
            with closing(registry.cursor()) as cr:
                cr.execute("SET LOCAL lock_timeout = '20s'")
                env = api.Environment(cr, SUPERUSER_ID, {})
                moves = env["account.move"].browse(ids)
                moves.button_draft()
                moves.with_context(force_delete=True).unlink()
                env["product.product"].browse(product_id).unlink()
                env["res.partner"].browse(partner_id).unlink()
                env["account.tax"].browse(tax_id).unlink()
                for table in ("netvisor_flow", "netvisor_run", "netvisor_log"):
                    cr.execute(f"DELETE FROM {table} WHERE id > %s AND company_id = %s",  # noqa: S608
                               (last[table], company_id))
                env["res.company"].browse(company_id).write(old)
                cr.commit()

        self.addCleanup(cleanup)
        return ids, names

    def test_two_workers_send_the_same_invoices(self):
        ids, names = self.committed_invoices(8)
        self.sandbox.faults.configure(latency_ms=15)
        registry = self.env.registry
        results, barrier = [], threading.Barrier(2)

        def worker(trigger):
            with closing(registry.cursor()) as cr:
                cr.execute("SET LOCAL lock_timeout = '20s'")
                cr.transaction = api.Transaction(registry)
                env = api.Environment(cr, SUPERUSER_ID, {})
                barrier.wait(timeout=10)
                try:
                    result = env["account.move"].browse(ids)._netvisor_send_invoices(trigger=trigger)
                    cr.commit()
                    results.append(result)
                except Exception as error:  # noqa: BLE001 - reported by the assertion below
                    _logger.info("worker failed: %s", traceback.format_exc())
                    results.append(error)

        threads = [threading.Thread(target=worker, args=(trigger,)) for trigger in ("auto", "manual")]
        with mute_logger("odoo.sql_db", "odoo.addons.netvisor_integration.models.account_move_sales",
                         "odoo.addons.netvisor_integration.models.netvisor_run"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.assertEqual(len(results), 2, results)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        self.assertEqual(self.org.overlaps, 0)
        self.assertEqual(self.sandbox.state.stats["overlaps"], 0)
        self.assertEqual(self.org.max_active, 1)
        counts = collections.Counter(r["number"] for r in self.org.collections["sales_invoices"].values())
        self.assertEqual({name: counts.get(name, 0) for name in names}, dict.fromkeys(names, 1),
                         f"each invoice once in Netvisor: {results}")
        self.assertEqual(len(self.org.collections["customers"]), 1)
        self.assertEqual(len(self.org.collections["products"]), 1)
        self.assertEqual(sum(r["done"] for r in results), 8, results)
        with closing(registry.cursor()) as cr:
            cr.execute("SELECT netvisor_state, COUNT(*) FROM account_move WHERE id = ANY(%s) GROUP BY 1", [ids])
            self.assertEqual(dict(cr.fetchall()), {"sent": 8})
