"""Purchase invoice import benchmark: 1,000 invoices of 3 lines (each with a small PDF) from the
sandbox in its own process, into a fresh database ``nv_bench_purchase``.

Measured in one run:
* the import (list + batched details + bills + attachments, commits per batch included);
* the floor: the same 1,000 bills created by ONE ``account.move.create`` call with values
  prepared beforehand (rolled back afterwards), with the same context as the import;
* a second import where every invoice is already present.
"""

import base64
import datetime
import time
from decimal import ROUND_HALF_UP, Decimal

from bench.common import Sandbox, configure_company, measure, odoo_env

COUNT = 1000
VENDORS = 50
PRODUCTS = 20
ACCOUNTS = ("4000 Ostot", "4010 Ostot EU", "4020 Tarvikkeet")
RATES = ("25.5", "14", "10")
PDF = b"%PDF-1.4\n" + b"% benchmark invoice image\n" * 40 + b"%%EOF\n"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def business_ids(count):
    result, body = [], 2000000
    while len(result) < count:
        body += 1
        digits = f"{body:07d}"
        remainder = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
        if remainder != 1:
            result.append(f"{digits}-{0 if remainder == 0 else 11 - remainder}")
    return result


def seed(invoice_date):
    """Invoices modified an hour ago (Netvisor's time): the second run lists them all again."""
    import pytz

    modified = (datetime.datetime.now(pytz.timezone("Europe/Helsinki")) - datetime.timedelta(hours=1)).replace(
        tzinfo=None, microsecond=0).isoformat()
    bids = business_ids(VENDORS)
    pdf = base64.b64encode(PDF).decode()
    invoices = []
    for n in range(1, COUNT + 1):
        lines = []
        for i in range(3):
            net = Decimal(10 + (n * 7 + i * 13) % 400) + Decimal((n + i) % 100) / 100
            rate = RATES[(n + i) % 3]
            gross = net + (net * Decimal(rate) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            lines.append({
                "description": f"Rivi {i + 1}", "quantity": "1", "unit_price": str(net), "vat_percent": rate,
                "vat_code": "KOOS", "line_sum": str(gross), "line_net_sum": str(net),
                "account": ACCOUNTS[i % 3], "product_code": f"P-{(n + i) % PRODUCTS + 1}" if i == 0 else "",
            })
        vendor = n % VENDORS
        invoices.append({
            "netvisor_key": 100000 + n, "number": f"B-{n}", "date": invoice_date.isoformat(), "modified": modified,
            "due_date": (invoice_date + datetime.timedelta(days=14)).isoformat(), "reference": f"{1000 + n}",
            "amount": str(sum(Decimal(line["line_sum"]) for line in lines)),
            "vendor": {"name": f"Toimittaja {vendor} Oy", "business_id": bids[vendor], "code": f"V{vendor}"},
            "lines": lines,
            "attachments": [{"filename": f"B-{n}.pdf", "content_type": "application/pdf", "base64": pdf}],
        })
    return invoices, bids


def setup_company(env, sandbox, bids, invoice_date):
    company = configure_company(env, sandbox)
    eur = env.ref("base.EUR")
    eur.active = True
    if company.currency_id != eur:
        company.currency_id = eur  # a Finnish company keeps its books in euro, as Netvisor
    for rate in RATES:
        env["account.tax"].create({"name": f"{rate}% purchase", "amount": float(rate), "type_tax_use": "purchase",
                                   "company_id": company.id})
    for account in ACCOUNTS:
        code, name = account.split(" ", 1)
        env["account.account"].with_company(company).create({"code": code, "name": name, "account_type": "expense"})
    env["product.product"].create([{"name": f"Tuote {n}", "default_code": f"P-{n}"} for n in range(1, PRODUCTS + 1)])
    env["res.partner"].create([{"name": f"Toimittaja {n} Oy", "company_registry": bid, "ref": f"V{n}",
                                "is_company": True} for n, bid in enumerate(bids)])
    company.write({"netvisor_purchase_import_start_date": invoice_date, "netvisor_purchase_last_import": False})
    env.cr.commit()
    return company


def floor_seconds(env, company):
    """One ORM create of the same 1,000 bills (values prepared beforehand), rolled back."""
    from odoo.addons.netvisor_integration.netvisor.resources import purchase_invoices as nv_purchase

    move_model = env["account.move"].sudo().with_company(company).with_context(
        tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True, mail_notrack=True)
    client = company._netvisor_client(flow="purchase_import")
    keys = [str(100000 + n) for n in range(1, COUNT + 1)]
    invoices = [inv for _chunk, batch in nv_purchase.iter_purchase_invoice_batches(client, keys, version=2)
                for inv in batch]
    cache = move_model._netvisor_purchase_run_cache(company)
    move_model._netvisor_purchase_prefetch(company, invoices, cache)
    vendors = move_model._netvisor_purchase_vendors(company, invoices, cache)
    vals_list = [move_model._netvisor_purchase_bill_vals(company, inv, vendors[inv.netvisor_key], cache)[0]
                 for inv in invoices]
    env.cr.commit()
    env.cr.execute("SAVEPOINT bench_floor")
    started = time.perf_counter()
    moves = move_model.create(vals_list)
    env.flush_all()
    seconds = time.perf_counter() - started
    assert len(moves) == COUNT
    env.cr.execute("ROLLBACK TO SAVEPOINT bench_floor")
    env.invalidate_all()
    return seconds


def run():
    invoice_date = datetime.date.today() - datetime.timedelta(days=1)
    invoices, bids = seed(invoice_date)
    sandbox = Sandbox({"purchase_invoices": invoices})
    try:
        with odoo_env(db="nv_bench_purchase") as env:
            company = setup_company(env, sandbox, bids, invoice_date)
            floor = floor_seconds(env, company)
            move_model = env["account.move"]

            stats = sandbox.control("GET", "stats")["stats"]
            requests, details = stats.get("requests", 0), stats.get("resource:getpurchaseinvoice.nv", 0)
            with measure(env) as first:
                summary = move_model._netvisor_import_purchase_invoices(company)
            stats = sandbox.control("GET", "stats")["stats"]
            first_requests = stats.get("requests", 0) - requests
            first_details = stats.get("resource:getpurchaseinvoice.nv", 0) - details
            imported = len(summary["imported"])
            assert not summary["error"] and not summary["failed"], (summary["error"], summary["failed"][:3])
            assert imported == COUNT, imported
            bills = env["account.move"].search_count([("company_id", "=", company.id), ("netvisor_key", "!=", False)])
            attachments = env["ir.attachment"].search_count([("res_model", "=", "account.move")])

            requests = sandbox.requests()
            with measure(env) as second:
                again = move_model._netvisor_import_purchase_invoices(company)
            second_requests = sandbox.requests() - requests
            assert again["already_present"] == COUNT and not again["imported"], again
            assert second_requests == 1, second_requests  # the list only
    finally:
        sandbox.stop()
    ratio = first["seconds"] / floor
    return [
        ("invoices imported (3 lines + PDF each)", f"{imported} ({bills} bills, {attachments} PDFs)", COUNT),
        ("import wall time (s)", f"{first['seconds']:.2f}", "-"),
        ("floor: one ORM create of the 1,000 bills (s)", f"{floor:.2f}", "-"),
        ("import / floor", f"{ratio:.2f}x", "<= 1.5x"),
        ("HTTP requests", first_requests, "-"),
        ("detail requests per 500 invoices", f"{first_details / (COUNT / 500):.1f}", "<= 3"),
        ("SQL queries per invoice", f"{first['queries'] / COUNT:.1f}", "-"),
        ("second run, all present (s)", f"{second['seconds']:.3f}", "-"),
        ("second run / first run", f"{second['seconds'] / first['seconds'] * 100:.2f} %", "< 5 %"),
        ("second run HTTP requests / SQL queries", f"{second_requests} / {second['queries']}", "-"),
    ]
