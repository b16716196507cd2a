"""Purchase invoices Netvisor -> Odoo: daily import as draft vendor bills (API.md 5.1).

One run per company:

1. a run-level lock (``pg_try_advisory_lock(0x4E50, company_id)`` on its own connection):
   the cron on two workers, or the cron and the button, never import at the same time;
   the second one reports that an import is already running;
2. ``purchaseinvoicelist.nv`` for everything modified since the watermark minus the overlap
   (the first run: dated from the configured start date), plus the keys that failed before;
3. keys already imported (``account_move.netvisor_key``, unique per company in SQL) and keys
   Odoo sent itself are skipped before any detail is fetched;
4. details in ``getpurchaseinvoice.nv?netvisorkeylist=...&version=2`` batches of 500;
   vendors, products, accounts, taxes, currencies and dimension mappings are looked up once
   per batch; missing vendors are created in one go; the bills in one ``create``;
5. a failure of one invoice is logged (Netvisor log, reason) and its key kept for the next
   run; it never rolls back the others (savepoints, and a per-invoice fallback when the
   batch create fails, e.g. on the unique key of a concurrent import);
6. the watermark (the start time of the run) moves only when every request succeeded.

The cron commits after each batch (``company._netvisor_commit``); the lock and the unique
constraint make a crash or a concurrent run harmless: what was committed is "already
present" the next time.
"""

import contextlib
import datetime
import logging
from decimal import ROUND_HALF_UP, Decimal

import psycopg2
import pytz

from odoo import _, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import float_compare, html_escape, plaintext2html

from ..netvisor import errors as nv_errors
from ..netvisor.resources import purchase_invoices as nv_purchase
from ..netvisor.validation import is_valid_business_id, normalize_business_id

_logger = logging.getLogger(__name__)

HELSINKI = pytz.timezone("Europe/Helsinki")
# first key of the run-level advisory lock: "NP" (Netvisor Purchase); the second is the company id.
# The per-request lock of res_company uses 0x4E56.
PURCHASE_RUN_LOCK = 0x4E50
UNIQUE_KEY_CONSTRAINT = "account_move_netvisor_key_company_uniq"
CENT = Decimal("0.01")


class NetvisorImportError(UserError):
    """One invoice cannot be imported (the message says why); the others go on."""


class AccountMove(models.Model):
    _inherit = "account.move"

    netvisor_imported_on = fields.Date(string="Imported from Netvisor On", copy=False, readonly=True)
    netvisor_import_marker = fields.Char(string="Netvisor", compute="_compute_netvisor_import_marker")
    netvisor_gross_amount = fields.Monetary(
        string="Netvisor Gross Amount", copy=False, readonly=True, currency_field="currency_id",
        help="Gross total of the purchase invoice in Netvisor, in the bill's currency.")
    netvisor_rounding_difference = fields.Monetary(
        string="Netvisor Rounding Difference", copy=False, readonly=True, currency_field="currency_id",
        help="Odoo's tax rounding gave a total that differs from Netvisor's gross amount by this much: a "
             "rounding line of this amount was added so that the bill equals Netvisor's total.")

    # ------------------------------------------------------------------ computes

    @api.depends("netvisor_imported_on")
    def _compute_netvisor_import_marker(self):
        for move in self:
            move.netvisor_import_marker = move.netvisor_imported_on and _(
                "From Netvisor: %(date)s", date=fields.Date.to_string(move.netvisor_imported_on))

    # ------------------------------------------------------------------ actions

    @api.model
    def action_netvisor_import_purchase_invoices(self):
        """Run the import now for the current company and show its summary (overview card, Settings)."""
        # callable over RPC by any user: only those who may see the summary talk to Netvisor
        self.env["netvisor.import.summary"].check_access("create")
        self.check_access("create")
        summary = self._netvisor_import_purchase_invoices(self.env.company, manual=True)
        return self.env["netvisor.import.summary"]._netvisor_open_summary(summary)

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_netvisor_import_purchase_invoices(self):
        for company in self.env["res.company"]._netvisor_configured_companies():
            try:
                summary = self._netvisor_import_purchase_invoices(company)
            except Exception:  # one company never stops the others
                _logger.exception("Netvisor purchase import of company %s failed", company.id)
                if not modules.module.current_test:
                    self.env.cr.rollback()  # what the run committed before stays
                continue
            _logger.info("Netvisor purchase import of company %s: %s", company.id,
                         self._netvisor_purchase_summary_text(summary))

    @api.model
    def _netvisor_purchase_align_cron(self):
        """Put the cron's next call on the next 06:00 Europe/Helsinki (called at install)."""
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_import_purchase_invoices", raise_if_not_found=False)
        if cron:
            cron.sudo().nextcall = self._netvisor_next_helsinki_time(datetime.datetime.utcnow())

    @api.model
    def _netvisor_next_helsinki_time(self, now_utc, hour=6):
        """The next ``hour``:00 in Europe/Helsinki after ``now_utc`` (naive UTC), as naive UTC."""
        local_now = pytz.utc.localize(now_utc).astimezone(HELSINKI)
        day = local_now.date()
        for offset in (0, 1, 2):
            candidate = HELSINKI.localize(datetime.datetime.combine(day + datetime.timedelta(days=offset),
                                                                    datetime.time(hour)))
            if candidate > local_now:
                return candidate.astimezone(pytz.utc).replace(tzinfo=None)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ business: run

    @api.model
    def _netvisor_purchase_keys_sent_from_odoo(self, company, keys):
        """Netvisor keys, among ``keys``, of purchase invoices that Odoo itself sent to Netvisor
        (e.g. expense reports): they must not come back as bills. Overridden by the flows that
        send purchase invoices."""
        return set()

    @api.model
    def _netvisor_purchase_new_summary(self, company):
        return {
            "company": company,
            "imported": self.env["account.move"],
            "already_present": 0,
            "sent_from_odoo": 0,
            "failed": [],  # dicts: key, number, vendor, reason
            "flagged": self.env["account.move"],  # bills with a rounding line
            "error": False,  # the run itself failed (watermark kept)
            "locked": False,
            "window": "",
        }

    @api.model
    def _netvisor_import_purchase_invoices(self, company, manual=False):
        """Import the company's new purchase invoices as draft bills. Returns a summary dict
        (see ``_netvisor_purchase_new_summary``). Never raises for a Netvisor or data error:
        the summary says what happened."""
        company.ensure_one()
        company._netvisor_check_configured()
        move_model = self.sudo().with_company(company).with_context(
            tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True, mail_notrack=True)
        summary = move_model._netvisor_purchase_new_summary(company)
        run = self.env["netvisor.run"]._netvisor_start(company, "purchase_import",
                                                        trigger="manual" if manual else "cron")
        with move_model._netvisor_purchase_run_lock(company) as acquired:
            if not acquired:
                summary["locked"] = True
                summary["error"] = _(
                    "A Netvisor purchase invoice import is already running for company %(company)s; "
                    "try again in a few minutes.", company=company.display_name)
            else:
                # a fresh snapshot: see what a run that just released the lock committed
                company._netvisor_commit()
                move_model._netvisor_purchase_run(company, summary)
        try:
            with self.env.cr.savepoint():
                run._netvisor_finish(
                    done=len(summary["imported"]),
                    skipped=summary["already_present"] + summary["sent_from_odoo"],
                    failed=len(summary["failed"]),
                    message=move_model._netvisor_purchase_summary_text(summary),
                    error=summary["error"] or None,
                )
        except (psycopg2.errors.UniqueViolation, psycopg2.errors.SerializationFailure,
                psycopg2.errors.LockNotAvailable):
            # a concurrent run created or updated the overview row of this flow in the meantime:
            # the import itself is done, only its overview card misses this run
            _logger.warning("Netvisor purchase import of company %s: run %s not recorded on the overview",
                            company.id, run.id)
        company._netvisor_commit()
        return summary

    @contextlib.contextmanager
    def _netvisor_purchase_run_lock(self, company):
        """Session-level advisory lock on a separate connection, held for the whole run (it
        survives the commits between batches; a crashed worker's connection releases it)."""
        cr = self.env.registry.cursor()
        try:
            cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (PURCHASE_RUN_LOCK, company.id))
            acquired = cr.fetchone()[0]
            try:
                yield acquired
            finally:
                if acquired:
                    cr.execute("SELECT pg_advisory_unlock(%s, %s)", (PURCHASE_RUN_LOCK, company.id))
        finally:
            cr.rollback()
            cr.close()

    def _netvisor_purchase_run(self, company, summary):
        started = fields.Datetime.now()
        company_sudo = company.sudo()
        retry_before = company_sudo._netvisor_purchase_retry_key_list()
        retry_after = []
        try:
            client = company._netvisor_client(flow="purchase_import")
            keys = self._netvisor_purchase_list_keys(company, client, summary)
            for key in retry_before:
                if key not in keys:
                    keys.append(key)
            existing = self._netvisor_purchase_existing_keys(company, keys)
            summary["already_present"] += len(existing)
            keys = [key for key in keys if key not in existing]
            sent = set(self._netvisor_purchase_keys_sent_from_odoo(company, keys) or ())
            summary["sent_from_odoo"] += len(sent)
            keys = [key for key in keys if key not in sent]
            cache = self._netvisor_purchase_run_cache(company)
            batch_size = int(self.env["ir.config_parameter"].sudo().get_param(
                "netvisor_integration.purchase_batch_size", nv_purchase.MAX_KEYS_PER_REQUEST))
            for chunk, invoices in nv_purchase.iter_purchase_invoice_batches(client, keys, batch_size=batch_size,
                                                                             version=2):
                found = {invoice.netvisor_key for invoice in invoices}
                for key in chunk:
                    if key in found:
                        continue
                    if key in retry_before:
                        _logger.info("Netvisor purchase invoice %s is no longer in Netvisor: not retried", key)
                        continue
                    self._netvisor_purchase_failure(company, summary, key, _(
                        "Netvisor listed the purchase invoice %(key)s but returned no details for it "
                        "(deleted meanwhile?).", key=key), retry=False)
                failed = self._netvisor_purchase_import_batch(company, invoices, summary, cache)
                retry_after.extend(failed)
                company._netvisor_commit()
        except nv_errors.NetvisorError as error:
            summary["error"] = company._netvisor_error_message(error)
            # the watermark stays; keep the old retry keys and add the new failures
            self._netvisor_purchase_save_state(company, {
                "netvisor_purchase_retry_keys": ",".join(dict.fromkeys(retry_before + retry_after)) or False,
            })
            return summary
        self._netvisor_purchase_save_state(company, {
            "netvisor_purchase_last_import": started,
            "netvisor_purchase_retry_keys": ",".join(dict.fromkeys(retry_after)) or False,
        })
        return summary

    def _netvisor_purchase_save_state(self, company, values):
        """Write the watermark / retry keys. When another run changed them concurrently (its
        transaction committed after this one began), keep its values: not moving the watermark
        only makes the next run look further back, which is always safe."""
        try:
            with self.env.cr.savepoint():
                company.sudo().write(values)
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable) as error:
            _logger.warning("Netvisor purchase import of company %s: state not saved, another run changed it "
                            "meanwhile (%s)", company.id, error)
            return
        company._netvisor_commit()

    def _netvisor_purchase_list_keys(self, company, client, summary):
        """Keys to import, in Netvisor's order: modified since the watermark minus the overlap
        (first run: dated from the start date), never dated before the start date."""
        company_sudo = company.sudo()
        floor = company_sudo.netvisor_purchase_import_start_date
        watermark = company_sudo.netvisor_purchase_last_import
        if watermark:
            since = watermark - datetime.timedelta(hours=max(0, company_sudo.netvisor_purchase_overlap_hours))
            since_local = pytz.utc.localize(since).astimezone(HELSINKI).replace(tzinfo=None, microsecond=0)
            summary["window"] = _("modified since %(since)s (Helsinki time)", since=since_local)
            items = nv_purchase.list_purchase_invoices(client, modified_start=since_local)
        else:
            today = pytz.utc.localize(fields.Datetime.now()).astimezone(HELSINKI).date()
            begin = floor or today - datetime.timedelta(days=1)
            summary["window"] = _("dated from %(date)s (first run)", date=begin)
            items = nv_purchase.list_purchase_invoices(client, begin_date=begin)
        keys = []
        for item in items:
            if item.netvisor_key and (not floor or not item.date or item.date >= floor):
                keys.append(item.netvisor_key)
        return list(dict.fromkeys(keys))

    def _netvisor_purchase_existing_keys(self, company, keys):
        if not keys:
            return set()
        self.env["account.move"].flush_model(["netvisor_key", "company_id"])
        self.env.cr.execute(
            "SELECT netvisor_key FROM account_move WHERE company_id = %s AND netvisor_key = ANY(%s)",
            (company.id, list(keys)))
        return {row[0] for row in self.env.cr.fetchall()}

    def _netvisor_purchase_failure(self, company, summary, key, message, invoice=None, retry=True):
        summary["failed"].append({
            "key": key,
            "number": invoice.number if invoice else "",
            "vendor": invoice.vendor.name if invoice else "",
            "reason": message,
            "retry": retry,
        })
        if invoice:
            message = _("Netvisor purchase invoice %(number)s of %(vendor)s (key %(key)s): %(reason)s",
                        number=invoice.number or "-", vendor=invoice.vendor.name or "-", key=key, reason=message)
        self.env["netvisor.log"]._log_record_error(company, "purchase_import", None, message, category="IMPORT",
                                                   direction="in")

    # ------------------------------------------------------------------ business: batch

    def _netvisor_purchase_run_cache(self, company):
        """Per-run lookups that do not depend on the batch."""
        company_sudo = company.sudo()
        return {
            "journal": company_sudo._netvisor_purchase_journal(),
            "dimensions": self.env["netvisor.dimension.mapping"]._netvisor_mapping_table(company),
            "taxes": {},
            "price_digits": self.env["decimal.precision"].precision_get("Product Price"),
            "tolerance": Decimal(self.env["ir.config_parameter"].sudo().get_param(
                "netvisor_integration.purchase_max_rounding", "1.00")),
            "today": pytz.utc.localize(fields.Datetime.now()).astimezone(HELSINKI).date(),
            "user": company_sudo.netvisor_purchase_user_id,
        }

    def _netvisor_purchase_import_batch(self, company, invoices, summary, cache):
        """Create the bills of one detail batch. Returns the keys that failed (to retry)."""
        failed = []
        if not cache["journal"]:
            for invoice in invoices:
                self._netvisor_purchase_failure(company, summary, invoice.netvisor_key, _(
                    "Company %(company)s has no purchase journal: create one or choose it in Settings > "
                    "Netvisor Integration.", company=company.display_name), invoice=invoice)
                failed.append(invoice.netvisor_key)
            return failed
        self._netvisor_purchase_prefetch(company, invoices, cache)
        vendors = self._netvisor_purchase_vendors(company, invoices, cache)
        prepared = []  # (invoice, vals, attachments, expected gross)
        for invoice in invoices:
            try:
                vendor = vendors[invoice.netvisor_key]
                if isinstance(vendor, Exception):
                    raise vendor
                vals, expected = self._netvisor_purchase_bill_vals(company, invoice, vendor, cache)
                attachments = self._netvisor_purchase_attachment_vals(company, invoice)
            except (NetvisorImportError, UserError, ValueError) as error:
                self._netvisor_purchase_failure(company, summary, invoice.netvisor_key, _message(error),
                                                invoice=invoice)
                failed.append(invoice.netvisor_key)
                continue
            prepared.append((invoice, vals, attachments, expected))
        moves = self._netvisor_purchase_create_bills(company, prepared, summary, failed)
        if moves:
            self._netvisor_purchase_check_totals(company, prepared, moves, summary, failed, cache)
            self._netvisor_purchase_attach(company, prepared, moves)
        return failed

    def _netvisor_purchase_prefetch(self, company, invoices, cache):
        """Products, accounts and currencies of the batch, in one query each."""
        product_codes = {line.product_code for inv in invoices for line in inv.lines if line.product_code}
        account_codes = {line.account_number for inv in invoices for line in inv.lines if line.account_number}
        currency_names = {inv.currency for inv in invoices if inv.currency}
        products = {}
        if product_codes:
            for product in self.env["product.product"].sudo().search([
                *self.env["product.product"]._check_company_domain(company),
                ("default_code", "in", list(product_codes)),
            ]):
                products.setdefault(product.default_code, []).append(product)
        cache["products"] = {
            code: (found[0] if len(found) == 1 else next((p for p in found if p.company_id == company), None))
            for code, found in products.items()
        }
        accounts = {}
        if account_codes:
            account_model = self.env["account.account"].sudo().with_company(company)
            for account in account_model.search([
                *account_model._check_company_domain(company),
                ("code", "in", list(account_codes)),
                ("deprecated", "=", False),
            ]):
                accounts[account.code] = account
        cache["accounts"] = accounts
        cache["currencies"] = {
            currency.name: currency
            for currency in self.env["res.currency"].sudo().with_context(active_test=False).search(
                [("name", "in", list(currency_names))])
        } if currency_names else {}

    # ------------------------------------------------------------------ business: vendors

    def _netvisor_purchase_vendors(self, company, invoices, cache):
        """{invoice key: res.partner or NetvisorImportError}. Matches by business ID, then vendor
        code, then exact name, among companies (contacts without a parent); creates the
        missing ones in one go when the setting allows it."""
        partner_model = self.env["res.partner"].sudo().with_context(active_test=True)
        base_domain = [*partner_model._check_company_domain(company), ("parent_id", "=", False)]
        bids = {normalize_business_id(inv.vendor.business_id) for inv in invoices if inv.vendor.business_id}
        codes = {inv.vendor.code for inv in invoices if inv.vendor.code}
        names = {inv.vendor.name for inv in invoices if inv.vendor.name}
        by_bid, by_code, by_name = {}, {}, {}
        if bids:
            variants = set()
            for bid in bids:
                digits = bid.replace("-", "")
                variants.update((bid, digits, f"FI{digits}", f"FI {digits}"))
            for partner in partner_model.search(base_domain + [
                    "|", ("company_registry", "in", list(variants)), ("vat", "in", list(variants))]):
                for value in {partner.company_registry, partner.vat} - {False, None, ""}:
                    by_bid.setdefault(normalize_business_id(value), partner_model)
                    by_bid[normalize_business_id(value)] |= partner
        if codes:
            for partner in partner_model.search(base_domain + [("ref", "in", list(codes))]):
                by_code.setdefault(partner.ref, partner_model)
                by_code[partner.ref] |= partner
        if names:
            for partner in partner_model.search(base_domain + [("name", "in", list(names))]):
                by_name.setdefault(partner.name, partner_model)
                by_name[partner.name] |= partner

        result, to_create = {}, {}
        for invoice in invoices:
            vendor = invoice.vendor
            bid = normalize_business_id(vendor.business_id) if vendor.business_id else ""
            try:
                partner = self._netvisor_purchase_match_vendor(company, vendor, bid, by_bid, by_code, by_name)
            except NetvisorImportError as error:
                result[invoice.netvisor_key] = error
                continue
            if partner:
                result[invoice.netvisor_key] = partner
                continue
            if not company.sudo().netvisor_purchase_create_vendors:
                result[invoice.netvisor_key] = NetvisorImportError(_(
                    "No contact matches the vendor %(vendor)s (business ID %(bid)s, vendor code %(code)s) and "
                    "creating vendors is off in Settings > Netvisor Integration: create the vendor in Odoo.",
                    vendor=vendor.name or "-", bid=bid or "-", code=vendor.code or "-"))
                continue
            if not vendor.name:
                result[invoice.netvisor_key] = NetvisorImportError(_(
                    "The vendor has no name in Netvisor and no contact matches its business ID %(bid)s or "
                    "vendor code %(code)s.", bid=bid or "-", code=vendor.code or "-"))
                continue
            identity = bid or (f"code:{vendor.code}" if vendor.code else f"name:{vendor.name}")
            to_create.setdefault(identity, (vendor, bid, []))[2].append(invoice.netvisor_key)
        if to_create:
            created = self._netvisor_purchase_create_vendors(company, list(to_create.values()))
            for (_vendor, _bid, keys), partner in zip(to_create.values(), created, strict=True):
                for key in keys:
                    result[key] = partner
        return result

    def _netvisor_purchase_match_vendor(self, company, vendor, bid, by_bid, by_code, by_name):
        def other_business_id(partner):
            values = {normalize_business_id(v) for v in (partner.company_registry, partner.vat) if v}
            return bool(bid and values and bid not in values)

        steps = []
        if bid:
            steps.append((_("business ID %(value)s", value=bid), by_bid.get(bid)))
        if vendor.code:
            steps.append((_("vendor code %(value)s", value=vendor.code), by_code.get(vendor.code)))
        if vendor.name:
            steps.append((_("name %(value)s", value=vendor.name), by_name.get(vendor.name)))
        for label, candidates in steps:
            if not candidates:
                continue
            # a contact with another business ID is another company, whatever its name or code
            candidates = candidates.filtered(lambda p: not other_business_id(p))
            if len(candidates) == 1:
                return candidates
            if len(candidates) > 1:
                raise NetvisorImportError(_(
                    "The vendor %(vendor)s matches %(count)s contacts by %(what)s (%(names)s): merge or archive "
                    "the duplicates, or give the right one the business ID or vendor code used in Netvisor.",
                    vendor=vendor.name or "-", count=len(candidates), what=label,
                    names=", ".join(f"{p.display_name} (#{p.id})" for p in candidates[:5])))
        return None

    def _netvisor_purchase_create_vendors(self, company, specs):
        """Create the vendors of ``specs`` [(vendor, business id, keys)]; one create, or one
        per vendor when that fails. Returns partners or NetvisorImportError, in order."""
        countries = {
            country.code: country
            for country in self.env["res.country"].sudo().search(
                [("code", "in", list({(v.country or "FI").upper() for v, _b, _k in specs}))])
        }
        vals_list = [self._netvisor_purchase_vendor_vals(vendor, bid, countries) for vendor, bid, _keys in specs]
        partner_model = self.env["res.partner"].sudo()
        try:
            with self.env.cr.savepoint():
                return list(partner_model.create(vals_list))
        except Exception:  # noqa: BLE001 - isolate the faulty vendor below
            _logger.info("Netvisor: creating %s vendors at once failed, creating them one by one", len(vals_list))
        result = []
        for (vendor, _bid, _keys), vals in zip(specs, vals_list, strict=True):
            try:
                with self.env.cr.savepoint():
                    result.append(partner_model.create(vals))
            except Exception as error:  # noqa: BLE001
                result.append(NetvisorImportError(_("The vendor %(vendor)s could not be created: %(error)s",
                                                    vendor=vendor.name, error=_message(error))))
        return result

    @api.model
    def _netvisor_purchase_vendor_vals(self, vendor, bid, countries):
        country = countries.get((vendor.country or "FI").upper())
        vals = {
            "name": vendor.name,
            "is_company": True,
            "supplier_rank": 1,
            "company_registry": bid or False,
            "ref": vendor.code or False,
            "street": vendor.address or False,
            "zip": vendor.postcode or False,
            "city": vendor.town or False,
            "country_id": country.id if country else False,
        }
        if bid and is_valid_business_id(bid) and (not country or country.code == "FI"):
            vals["vat"] = "FI" + bid.replace("-", "")
        if vendor.bank_account:
            vals["bank_ids"] = [Command.create({"acc_number": vendor.bank_account})]
        return vals

    # ------------------------------------------------------------------ business: bill values

    def _netvisor_purchase_bill_vals(self, company, invoice, partner, cache):
        """(create values, expected gross total in the bill's currency) of one invoice."""
        currency, factor = self._netvisor_purchase_currency(company, invoice, cache)
        gross_home = invoice.amount
        lines_gross = sum((line.line_sum for line in invoice.lines), Decimal(0))
        if invoice.lines and abs(lines_gross - gross_home) > cache["tolerance"]:
            raise NetvisorImportError(_(
                "Its lines add up to %(lines)s but its gross amount is %(amount)s: correct the invoice in "
                "Netvisor.", lines=lines_gross, amount=gross_home))
        sign = Decimal(-1) if gross_home < 0 else Decimal(1)
        if currency == company.currency_id:
            expected = abs(gross_home)
        else:
            expected = abs(invoice.foreign_amount)
        line_commands = []
        for index, line in enumerate(invoice.lines, start=1):
            line_commands.append(Command.create(
                self._netvisor_purchase_line_vals(company, invoice, line, index, factor, sign, cache)))
        if not line_commands:
            # no lines (not yet suggested in Netvisor): one line with the gross amount, no tax
            line_commands.append(Command.create({
                "name": invoice.description or _("Netvisor purchase invoice %(number)s", number=invoice.number),
                "quantity": 1,
                "price_unit": float(expected),
                "tax_ids": [Command.clear()],
            }))
        vals = {
            "move_type": "in_refund" if sign < 0 else "in_invoice",
            "company_id": company.id,
            "journal_id": cache["journal"].id,
            "partner_id": partner.id,
            "ref": invoice.number or False,
            "invoice_date": invoice.date or False,
            "invoice_date_due": invoice.due_date or invoice.date or False,
            "invoice_payment_term_id": False,
            "payment_reference": invoice.reference or False,
            "currency_id": currency.id,
            "narration": plaintext2html(invoice.description) if invoice.description else False,
            "netvisor_key": invoice.netvisor_key,
            "netvisor_imported_on": cache["today"],
            "netvisor_gross_amount": float(expected),
            "invoice_line_ids": line_commands,
        }
        if currency != company.currency_id:
            vals["invoice_currency_rate"] = float(factor)
        if cache["user"]:
            vals["invoice_user_id"] = cache["user"].id
        return vals, expected

    def _netvisor_purchase_currency(self, company, invoice, cache):
        """(currency, factor from Netvisor's home-currency amounts to the bill's currency)."""
        name = invoice.currency or company.currency_id.name
        if name == company.currency_id.name:
            return company.currency_id, Decimal(1)
        currency = cache["currencies"].get(name)
        if not currency:
            raise NetvisorImportError(_("Its currency %(currency)s does not exist in Odoo.", currency=name))
        if not currency.active:
            raise NetvisorImportError(_(
                "Its currency %(currency)s is not active in Odoo: activate it in Accounting > Configuration > "
                "Currencies.", currency=name))
        if not invoice.foreign_amount or not invoice.amount:
            raise NetvisorImportError(_(
                "It is in %(currency)s but Netvisor gave no amount in that currency.", currency=name))
        return currency, invoice.foreign_amount / invoice.amount

    def _netvisor_purchase_line_vals(self, company, invoice, line, index, factor, sign, cache):
        tax = self._netvisor_purchase_tax(company, line, cache)
        vals = {
            "name": line.description or line.product_name or _("Line %(index)s", index=index),
            "tax_ids": [Command.set(tax.ids)],
        }
        quantity, price_unit, discount, exact = self._netvisor_purchase_line_amounts(line, factor, sign, cache)
        if not exact:
            vals["name"] += f" ({line.quantity.normalize():f} × {line.unit_price.normalize():f})"
        vals.update(quantity=float(quantity), price_unit=float(price_unit), discount=float(discount))
        product = cache["products"].get(line.product_code) if line.product_code else None
        if product:
            vals["product_id"] = product.id
        if line.account_number:
            account = cache["accounts"].get(line.account_number)
            if not account:
                raise NetvisorImportError(_(
                    "Line %(index)s is booked in Netvisor on account %(number)s %(name)s, and company %(company)s "
                    "has no active Odoo account with the code %(number)s: create it (or map the number) and the "
                    "invoice is imported on the next run.", index=index, number=line.account_number,
                    name=line.account_name, company=company.display_name))
            vals["account_id"] = account.id
        distribution = self._netvisor_purchase_analytic(invoice, line, cache)
        if distribution:
            vals["analytic_distribution"] = distribution
        return vals

    def _netvisor_purchase_line_amounts(self, line, factor, sign, cache):
        """(quantity, unit price, discount, exact) reproducing the line's net amount to the cent;
        when no quantity/price pair does (prices have limited decimals), quantity 1 and the net."""
        net = (line.line_net_sum * factor * sign).quantize(CENT, rounding=ROUND_HALF_UP)
        quantity = abs(line.quantity) or Decimal(1)
        quantum = Decimal(1).scaleb(-cache["price_digits"])
        candidates = []
        if factor == 1 and line.unit_price and 0 <= line.discount < 100:
            price = abs(line.unit_price).copy_sign(net or Decimal(1)).quantize(quantum, rounding=ROUND_HALF_UP)
            candidates.append((quantity, price, line.discount))
        candidates.append((quantity, (net / quantity).quantize(quantum, rounding=ROUND_HALF_UP), Decimal(0)))
        for qty, price, discount in candidates:
            subtotal = (qty * price * (1 - discount / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
            if subtotal == net:
                return qty, price, discount, True
        return Decimal(1), net, Decimal(0), False

    def _netvisor_purchase_tax(self, company, line, cache):
        code = line.vat_code or ("NONE" if not line.vat_percent else "KOOS")
        key = (code, line.vat_percent)
        if key not in cache["taxes"]:
            try:
                cache["taxes"][key] = self.env["netvisor.vat.mapping"]._netvisor_tax_for_vat(
                    company, code, float(line.vat_percent), "purchase")
            except UserError as error:
                cache["taxes"][key] = NetvisorImportError(_message(error))
        tax = cache["taxes"][key]
        if isinstance(tax, Exception):
            raise tax
        return tax

    def _netvisor_purchase_analytic(self, invoice, line, cache):
        """{analytic account id: percent} from the line's dimensions that have a mapping; accounts
        of one plan share 100 %."""
        mapping = cache["dimensions"]
        if not mapping:
            return False
        accounts = []
        for dimension in line.dimensions + invoice.unassigned_dimensions:
            account = mapping.get(self.env["netvisor.dimension.mapping"]._netvisor_key(dimension.name, dimension.item))
            if account and account not in accounts:
                accounts.append(account)
        if not accounts:
            return False
        per_plan = {}
        for account in accounts:
            per_plan.setdefault(account.root_plan_id.id, []).append(account)
        return {
            str(account.id): 100.0 / len(plan_accounts)
            for plan_accounts in per_plan.values() for account in plan_accounts
        }

    def _netvisor_purchase_attachment_vals(self, company, invoice):
        """ir.attachment values (without res_id) of the invoice's files; corrupt ones fail the invoice."""
        vals_list = []
        for attachment in invoice.attachments:
            try:
                raw = attachment.content
            except ValueError:
                raise NetvisorImportError(_(
                    "Its attachment %(name)s is not valid Base64 data.", name=attachment.filename)) from None
            vals = {
                "name": attachment.filename,
                "raw": raw,
                "res_model": "account.move",
                "company_id": company.id,
                "description": attachment.comment or False,
            }
            if attachment.content_type:
                vals["mimetype"] = attachment.content_type
            vals_list.append(vals)
        return vals_list

    # ------------------------------------------------------------------ business: create

    def _netvisor_purchase_create_bills(self, company, prepared, summary, failed):
        """{key: bill}. One create for the batch; when it fails (a concurrent import created one of
        them, or one bill is refused), each bill in its own savepoint."""
        if not prepared:
            return {}
        move_model = self.env["account.move"]
        try:
            with self.env.cr.savepoint():
                moves = move_model.create([vals for _inv, vals, _att, _exp in prepared])
            result = dict(zip((inv.netvisor_key for inv, _v, _a, _e in prepared), moves, strict=True))
            summary["imported"] |= moves
            self._netvisor_purchase_set_rates(prepared, result)
            return result
        except Exception as error:  # noqa: BLE001 - isolated per bill below
            _logger.info("Netvisor: batch create of %s bills failed (%s); creating them one by one",
                         len(prepared), error)
        result = {}
        for invoice, vals, _att, _exp in prepared:
            try:
                with self.env.cr.savepoint():
                    move = move_model.create(vals)
            except psycopg2.errors.UniqueViolation as error:
                if error.diag.constraint_name != UNIQUE_KEY_CONSTRAINT:
                    self._netvisor_purchase_failure(company, summary, invoice.netvisor_key, _message(error),
                                                    invoice=invoice)
                    failed.append(invoice.netvisor_key)
                    continue
                summary["already_present"] += 1  # imported meanwhile by a concurrent run
                continue
            except Exception as error:  # noqa: BLE001
                self._netvisor_purchase_failure(company, summary, invoice.netvisor_key, _message(error),
                                                invoice=invoice)
                failed.append(invoice.netvisor_key)
                continue
            result[invoice.netvisor_key] = move
            summary["imported"] |= move
        self._netvisor_purchase_set_rates(prepared, result)
        return result

    def _netvisor_purchase_set_rates(self, prepared, moves):
        """Foreign-currency bills take Netvisor's own rate (its euro amount / the invoice amount), so
        that the bill's company-currency total is Netvisor's. The rate is a computed field that create
        recomputes from the currency rates: it is written afterwards."""
        for invoice, vals, _att, _exp in prepared:
            move = moves.get(invoice.netvisor_key)
            rate = vals.get("invoice_currency_rate")
            if move and rate and float_compare(move.invoice_currency_rate, rate, precision_digits=10):
                move.invoice_currency_rate = rate

    def _netvisor_purchase_attach(self, company, prepared, moves):
        """Attach the invoice files to the bills (one create) and make the PDF the main attachment,
        so that the reviewer sees it beside the bill."""
        vals_list, owners = [], []
        for invoice, _vals, attachments, _exp in prepared:
            move = moves.get(invoice.netvisor_key)
            if not move:
                continue
            for vals in attachments:
                vals_list.append(dict(vals, res_id=move.id))
                owners.append(move)
        if not vals_list:
            return
        records = self.env["ir.attachment"].sudo().create(vals_list)
        main = {}
        for move, attachment in zip(owners, records, strict=True):
            best = main.get(move)
            if not best or (attachment.mimetype == "application/pdf" and best.mimetype != "application/pdf"):
                main[move] = attachment
        for move, attachment in main.items():
            move.message_main_attachment_id = attachment

    def _netvisor_purchase_check_totals(self, company, prepared, moves, summary, failed, cache):
        """The bill's total must be Netvisor's gross amount to the cent. A difference within the
        tolerance (Odoo's tax rounding) gets a visible rounding line, the difference in a field and
        an activity; a larger one means a wrong tax mapping: the bill is removed and the invoice
        fails with the reason."""
        rounding_account = company.sudo().netvisor_purchase_rounding_account_id
        for invoice, _vals, _att, expected in prepared:
            move = moves.get(invoice.netvisor_key)
            if not move:
                continue
            currency = move.currency_id
            difference = currency.round(float(expected) - move.amount_total)
            if currency.is_zero(difference):
                continue
            if float_compare(abs(difference), float(cache["tolerance"]), precision_digits=2) > 0:
                message = _(
                    "Odoo computes a total of %(odoo)s %(currency)s with the mapped taxes (%(taxes)s) but Netvisor's "
                    "gross amount is %(netvisor)s: check the Netvisor VAT mapping.",
                    odoo=move.amount_total, currency=currency.name, netvisor=expected,
                    taxes=", ".join(move.invoice_line_ids.tax_ids.mapped("name")) or "-")
                with self.env.cr.savepoint():
                    move.unlink()
                del moves[invoice.netvisor_key]
                summary["imported"] -= move
                self._netvisor_purchase_failure(company, summary, invoice.netvisor_key, message, invoice=invoice)
                failed.append(invoice.netvisor_key)
                continue
            product_lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
            account = rounding_account or product_lines[:1].account_id
            move.write({
                "netvisor_rounding_difference": difference,
                "invoice_line_ids": [Command.create({
                    "name": _("Rounding difference to Netvisor's gross amount"),
                    "account_id": account.id,
                    "quantity": 1,
                    "price_unit": difference,
                    "tax_ids": [Command.clear()],
                })],
            })
            move._netvisor_purchase_flag_rounding(difference, expected)
            summary["flagged"] |= move

    def _netvisor_purchase_flag_rounding(self, difference, expected):
        self.ensure_one()
        user = self.company_id.sudo().netvisor_purchase_user_id or self._netvisor_responsible_user()
        note = _(
            "Odoo's tax rounding gave a total that differs from Netvisor's gross amount %(expected)s by "
            "%(difference)s %(currency)s: a rounding line was added. Check it before posting.",
            expected=expected, difference=difference, currency=self.currency_id.name)
        self.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=_("Netvisor rounding difference"),
            note=html_escape(note),
            user_id=user.id,
        )

    # ------------------------------------------------------------------ business: summary

    @api.model
    def _netvisor_purchase_summary_text(self, summary):
        parts = [
            _("%(count)s imported", count=len(summary["imported"])),
            _("%(count)s already present", count=summary["already_present"]),
            _("%(count)s failed", count=len(summary["failed"])),
        ]
        if summary["sent_from_odoo"]:
            parts.append(_("%(count)s sent from Odoo", count=summary["sent_from_odoo"]))
        if summary["flagged"]:
            parts.append(_("%(count)s with a rounding line", count=len(summary["flagged"])))
        text = ", ".join(parts)
        if summary["error"]:
            text = f"{summary['error']} ({text})"
        return text


class NetvisorFlow(models.Model):
    _inherit = "netvisor.flow"

    @api.model
    def _netvisor_flow_specs(self):
        specs = super()._netvisor_flow_specs()
        specs["purchase_import"] = {
            "sequence": 10,
            "description": _("Netvisor purchase invoices become draft vendor bills every day at 06:00 (Helsinki) "
                             "and with Run import now."),
            "model": "account.move",
            "attention_domain": [("netvisor_key", "!=", False), ("state", "=", "draft"),
                                 ("netvisor_rounding_difference", "!=", 0)],
            "run_method": ("account.move", "action_netvisor_import_purchase_invoices"),
        }
        return specs


def _message(error):
    """The human text of an exception (UserError args[0], psycopg2 primary message ...)."""
    if isinstance(error, UserError):
        return error.args[0]
    diag = getattr(error, "diag", None)
    if diag is not None and getattr(diag, "message_primary", None):
        return diag.message_primary
    return str(error) or type(error).__name__
