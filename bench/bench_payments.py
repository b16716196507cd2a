"""Payment status sync: 5,000 invoices in the window (3,000 customer invoices sent to
Netvisor, 2,000 vendor bills imported from it), 2,000 of them paid in the sandbox
(1,200 customer invoices, 800 bills; one in ten of those in two partial payments).

Measures one sync run (requests, wall time, SQL queries per paid invoice), then a second
run that must register nothing (idempotency). Sizes: NV_BENCH_PAYMENTS_SCALE (default 1.0)."""

import datetime
import os
import time

from bench.common import Sandbox, configure_company, measure, odoo_env

SCALE = float(os.environ.get("NV_BENCH_PAYMENTS_SCALE", "1"))
N_SALES, N_BILLS = int(3000 * SCALE), int(2000 * SCALE)
PAID_SALES, PAID_BILLS = int(1200 * SCALE), int(800 * SCALE)
DB = "nv_bench_payments"


def _create_moves(env, move_type, count, today, key_start, field):
    from odoo import Command

    partners = env["res.partner"].create([{"name": f"Bench {move_type} partner {i}"} for i in range(20)])
    vals, meta = [], []
    for i in range(count):
        date = today - datetime.timedelta(days=1 + i % 85)
        amount = 100 + (i % 50)
        vals.append({
            "move_type": move_type,
            "partner_id": partners[i % 20].id,
            "invoice_date": date,
            "date": date,
            "ref": f"B{key_start + i}" if move_type == "in_invoice" else False,
            "invoice_line_ids": [Command.create({"name": "Bench", "quantity": 1, "price_unit": amount,
                                                 "tax_ids": []})],
        })
        meta.append((key_start + i, date, amount))
    moves = env["account.move"]
    for chunk in range(0, count, 500):
        batch = env["account.move"].create(vals[chunk:chunk + 500])
        batch.action_post()
        moves |= batch
    env.cr.execute(f"UPDATE account_move SET {field} = (%s + idx - 1)::text FROM "  # noqa: S608 - field is ours
                   "unnest(%s::int[]) WITH ORDINALITY AS t(id, idx) WHERE account_move.id = t.id",
                   (key_start, moves.ids))
    env.invalidate_all()
    return meta


def _sandbox_data(today, sales, bills):
    data = {"sales_invoices": [], "purchase_invoices": [], "payments": []}
    for key, date, amount in sales:
        data["sales_invoices"].append({"netvisor_key": key, "number": str(key), "date": date.isoformat(),
                                       "amount": f"{amount:.2f}", "customer_name": "Bench"})
    for key, date, amount in bills:
        data["purchase_invoices"].append({"netvisor_key": key, "number": f"B{key}", "date": date.isoformat(),
                                          "amount": f"{amount:.2f}", "vendor": {"name": "Bench"}})
    paid_date = (today - datetime.timedelta(days=1)).isoformat()
    for kind, rows, paid in (("sales", sales, PAID_SALES), ("purchase", bills, PAID_BILLS)):
        for i, (key, _date, amount) in enumerate(rows[:paid]):
            if i % 10 == 0:  # two partial payments that add up
                data["payments"].append({"type": kind, "invoice_key": key, "sum": f"{amount - 30:.2f}",
                                         "date": paid_date})
                data["payments"].append({"type": kind, "invoice_key": key, "sum": "30.00", "date": paid_date})
            else:
                data["payments"].append({"type": kind, "invoice_key": key, "sum": f"{amount:.2f}",
                                         "date": paid_date})
    return data


def run():
    rows = []
    with odoo_env(db=DB) as env:
        from odoo import fields

        today = fields.Date.context_today(env["account.move"])
        started = time.perf_counter()
        sales = _create_moves(env, "out_invoice", N_SALES, today, 100000, "netvisor_invoice_id")
        bills = _create_moves(env, "in_invoice", N_BILLS, today, 500000, "netvisor_key")
        env.cr.commit()
        setup_seconds = time.perf_counter() - started
        sandbox = Sandbox(_sandbox_data(today, sales, bills))
        try:
            company = configure_company(env, sandbox)
            env.cr.commit()
            moves = env["account.move"]
            candidates = moves._netvisor_payment_candidates(company, today - datetime.timedelta(days=90))
            before = sandbox.requests()
            cpu = time.process_time()
            with measure(env) as first:
                run_record = moves._netvisor_sync_payments(company, trigger="cron")
            cpu = time.process_time() - cpu
            requests = sandbox.requests() - before
            paid = env["account.move"].search_count([("netvisor_payment_synced", "=", True)])
            payments = env["account.payment"].search_count([("netvisor_payment_key", "!=", False)])
            before = sandbox.requests()
            with measure(env) as second:
                rerun = moves._netvisor_sync_payments(company, trigger="cron")
            rerun_requests = sandbox.requests() - before
            payments_after = env["account.payment"].search_count([("netvisor_payment_key", "!=", False)])
            rerun_state = rerun.state
        finally:
            sandbox.stop()
        paid_invoices = max(run_record.count_done, 1)
        rows += [
            ("invoices in the window (Odoo candidates)", len(candidates), N_SALES + N_BILLS),
            ("invoices paid in the sandbox", PAID_SALES + PAID_BILLS, "-"),
            ("setup: invoices created and posted (s)", f"{setup_seconds:.0f}", "-"),
            ("run 1: requests", requests, "<= 5"),
            ("run 1: invoices that got payments", run_record.count_done, PAID_SALES + PAID_BILLS),
            ("run 1: invoices fully paid (netvisor_payment_synced)", paid, PAID_SALES + PAID_BILLS),
            ("run 1: payments registered", payments, int((PAID_SALES + PAID_BILLS) * 1.1)),
            ("run 1: failed", run_record.count_failed, 0),
            ("run 1: wall time (s)", f"{first['seconds']:.1f}", "-"),
            ("run 1: ms per paid invoice", f"{first['seconds'] * 1000 / paid_invoices:.0f}", "-"),
            ("run 1: Odoo process CPU time (s)", f"{cpu:.1f}", "-"),
            ("run 1: SQL queries per paid invoice", f"{first['queries'] / paid_invoices:.0f}", "-"),
            ("run 2 (nothing new): requests", rerun_requests, "<= 5"),
            ("run 2: payments registered", payments_after - payments, 0),
            ("run 2: wall time (s)", f"{second['seconds']:.1f}", "-"),
            ("run 2: SQL queries", second["queries"], "-"),
            ("run 2: state", rerun_state, "done"),
        ]
    return rows
