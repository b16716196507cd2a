"""Send 1,000 posted customer invoices to the sandbox (own process, zero latency).

Reports Netvisor requests per invoice (target exactly 1 once the customer and the
product exist in Netvisor) and Odoo-side milliseconds per invoice: the wall time of
the send minus the time spent waiting on HTTP (target <= 15 ms)."""

import time

import requests

from .common import Sandbox, configure_company, measure, odoo_env

INVOICES = 1000


class _HttpTimer:
    """Sums the time spent inside requests' Session.send (the wait on the sandbox)."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0
        self._original = requests.Session.send

    def __enter__(self):
        timer = self
        original = self._original

        def send(session, request, **kwargs):
            started = time.perf_counter()
            try:
                return original(session, request, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - started
                timer.calls += 1

        requests.Session.send = send
        return self

    def __exit__(self, *exc):
        requests.Session.send = self._original


def _setup(env, sandbox):
    from odoo import Command

    company = configure_company(env, sandbox)
    tax = env["account.tax"].create({"name": "ALV 25,5 % (bench)", "amount": 25.5, "type_tax_use": "sale",
                                     "company_id": company.id})
    product = env["product.product"].create({"name": "Bench product", "default_code": "BENCH1",
                                             "list_price": 10.0, "taxes_id": [Command.set(tax.ids)]})
    company.netvisor_sales_default_product_id = product
    partner = env["res.partner"].create({"name": "Bench Asiakas Oy", "is_company": True,
                                         "company_registry": "0737546-2", "street": "Katu 1", "zip": "00100",
                                         "city": "Helsinki", "country_id": env.ref("base.fi").id})
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
    return company, tax, product, partner, journal


def _invoices(env, count, partner, product, tax, journal):
    from odoo import Command, fields

    vals = [{
        "move_type": "out_invoice",
        "partner_id": partner.id,
        "journal_id": journal.id,
        "invoice_date": fields.Date.today(),
        "invoice_line_ids": [
            Command.create({"product_id": product.id, "quantity": 1 + i % 7, "price_unit": 9.99 + i % 13,
                            "tax_ids": [Command.set(tax.ids)]}),
            Command.create({"name": f"Palvelu {i}", "quantity": 1, "price_unit": 0.35 * (1 + i % 5),
                            "tax_ids": [Command.set(tax.ids)]}),
        ],
    } for i in range(count)]
    moves = env["account.move"].create(vals)
    moves.action_post()
    return moves


def run():
    sandbox = Sandbox({})
    try:
        with odoo_env(db="nv_bench_sales") as env:
            company, tax, product, partner, journal = _setup(env, sandbox)
            warmup = _invoices(env, 1, partner, product, tax, journal)
            warmup._netvisor_send_invoices(trigger="manual")  # creates the customer and the product
            assert warmup.netvisor_state == "sent", warmup.netvisor_error
            moves = _invoices(env, INVOICES, partner, product, tax, journal)
            moves.write({"netvisor_state": "queued"})
            env.cr.commit()
            env.invalidate_all()
            before = sandbox.requests()
            with _HttpTimer() as http, measure(env) as result:
                env["account.move"]._cron_netvisor_send_invoices(batch_size=INVOICES)
            after = sandbox.requests()
            moves.invalidate_recordset()
            sent = len(moves.filtered(lambda m: m.netvisor_state == "sent"))
            stored = len(sandbox.state()["organisations"][0]["data"].get("sales_invoices", []))
            odoo_ms = (result["seconds"] - http.seconds) * 1000 / INVOICES
            return [
                ("invoices sent", f"{sent}/{INVOICES}", f"{INVOICES}/{INVOICES}"),
                ("invoices stored in the sandbox (incl. warm-up)", stored, INVOICES + 1),
                ("requests per invoice", f"{(after - before) / INVOICES:.3f}", "exactly 1"),
                ("Odoo-side ms per invoice (excl. HTTP wait)", f"{odoo_ms:.2f}", "<= 15"),
                ("wall ms per invoice (incl. sandbox)", f"{result['seconds'] * 1000 / INVOICES:.2f}", "-"),
                ("SQL queries per invoice", f"{result['queries'] / INVOICES:.1f}", "-"),
            ]
    finally:
        sandbox.stop()
