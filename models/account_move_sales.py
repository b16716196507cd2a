import contextlib
import logging
import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import psycopg2.errors
from lxml import etree

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import split_every

from ..netvisor import errors as nv_errors
from ..netvisor import xmlutil
from ..netvisor.resources import sales_invoices as nv_sales

_logger = logging.getLogger(__name__)

SALES_MOVE_TYPES = ("out_invoice", "out_refund")
FLOW = "sales_send"
CENT = Decimal("0.01")
PLACEHOLDER = "NEW"
PREPARE_CHUNK = 50  # invoices whose documents are prepared together (one read per model)
# writing the Netvisor fields of a posted invoice changes nothing of the invoice itself:
# skip account.move's line synchronisation, balance check and "manually modified" flag
WRITE_CONTEXT = {
    "skip_invoice_sync": True,
    "check_move_validity": False,
    "skip_is_manually_modified": True,
    "skip_account_move_synchronization": True,
}


class _RecordBusy(Exception):
    """Another transaction holds the invoice: it is being sent right now."""


class _WouldCreate(Exception):
    """Preview only: sending would first create this in Netvisor."""


class _PreviewDone(Exception):
    """Preview only: leaves the savepoint (rolling back what the preview wrote)."""

    def __init__(self, result):
        super().__init__("preview")
        self.result = result


class _PreviewClient:
    """Lets a preview read Netvisor but never write: a POST raises _WouldCreate."""

    def __init__(self, client):
        self._client = client
        self.context = {}

    def get(self, resource, params=None):
        if self._client is None:
            raise _WouldCreate(resource)
        self._client.context = self.context
        return self._client.get(resource, params)

    def post(self, resource, root, params=None):
        raise _WouldCreate(resource)


class _SalesBatch:
    """What one run of sends for one company shares: the client and lookup caches."""

    def __init__(self, env, company, client, preview=False):
        self.env = env
        self.company = company
        self.client = client
        self.preview = preview
        self.token = uuid.uuid4().hex
        self.vat = {}  # account.tax id -> (code, Decimal percent)
        self.products = {}  # product.product id -> (identifier type, value)
        self.customers = {}  # res.partner id -> key
        self.notes = []  # preview: what sending would create first

    def vat_for(self, tax):
        if tax.id not in self.vat:
            code, percent = self.env["netvisor.vat.mapping"]._netvisor_vat_for_tax(tax)
            self.vat[tax.id] = (code, Decimal(str(percent)).quantize(Decimal("0.01")))
        return self.vat[tax.id]


def _decimal(value):
    return Decimal(repr(float(value or 0.0)))


def _money(value):
    return _decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class AccountMove(models.Model):
    _inherit = "account.move"

    netvisor_outcome_unknown = fields.Boolean(
        string="Netvisor Outcome Unknown", copy=False, readonly=True,
        help="The last send got no answer from Netvisor: before anything is sent again, the invoice is looked "
             "up in Netvisor by its number, so that it is never created twice.")
    netvisor_credit_note_matched = fields.Boolean(
        string="Matched in Netvisor", copy=False, readonly=True,
        help="This credit note is linked in Netvisor to the invoice it credits (matchcreditnote.nv).")
    netvisor_send_attempts = fields.Integer(copy=False, readonly=True)
    netvisor_send_token = fields.Char(
        copy=False, readonly=True,
        help="Set (and committed) by a send run before it posts a new invoice to Netvisor. Found by another run, "
             "it means that run stopped half-way: the invoice is looked up in Netvisor before it is sent again.")
    netvisor_is_sales_document = fields.Boolean(compute="_compute_netvisor_is_sales_document")

    # ------------------------------------------------------------------ computes

    @api.depends("move_type", "state")
    def _compute_netvisor_is_sales_document(self):
        for move in self:
            move.netvisor_is_sales_document = move.move_type in SALES_MOVE_TYPES and move.state == "posted"

    # ------------------------------------------------------------------ CRUD / workflow

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._netvisor_after_post()
        return posted

    def button_draft(self):
        queued = self.filtered(lambda m: m.netvisor_state == "queued")
        res = super().button_draft()
        if queued:
            queued.with_context(**WRITE_CONTEXT).write({"netvisor_state": "not_sent"})
        return res

    # ------------------------------------------------------------------ actions

    def action_send_to_netvisor(self):
        """Action menu / form button: send the selected posted customer invoices and credit
        notes. Large selections are queued for the background send instead."""
        moves = self._netvisor_sales_selection()
        limit = int(self.env["ir.config_parameter"].sudo().get_param(
            "netvisor_integration.sales_send_sync_limit", 20))
        if len(moves) > limit:
            moves._netvisor_queue()
            return self._netvisor_notify(_(
                "%(count)s invoices are queued and will be sent to Netvisor in the background.",
                count=len(moves)), "info")
        return self._netvisor_notify_result(moves._netvisor_send_invoices(trigger="manual"))

    def action_resend_to_netvisor(self):
        """Send again even when the payment sync marked the invoice paid in Netvisor: clears
        netvisor_payment_synced. An invoice Netvisor already has is edited, never created twice."""
        moves = self._netvisor_sales_selection()
        moves.filtered("netvisor_payment_synced").with_context(**WRITE_CONTEXT).write(
            {"netvisor_payment_synced": False})
        return self._netvisor_notify_result(moves._netvisor_send_invoices(trigger="manual", resend=True))

    def action_netvisor_preview_xml(self):
        self.ensure_one()
        move = self._netvisor_sales_selection()
        content, notes, error = move._netvisor_preview()
        wizard = self.env["netvisor.xml.preview"].create({
            "move_id": move.id,
            "xml_content": content,
            "notes": "\n".join(notes) or False,
            "error": error or False,
        })
        return {
            "type": "ir.actions.act_window",
            "name": _("Netvisor XML: %(invoice)s", invoice=move.name),
            "res_model": "netvisor.xml.preview",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    @api.model
    def action_netvisor_send_queued(self):
        """Overview "Run now": send what is queued for the current company."""
        self.check_access("write")  # callable over RPC by any user (portal users can read invoices)
        moves = self.search(self._netvisor_queued_domain() + [("company_id", "=", self.env.company.id)])
        if not moves:
            return self._netvisor_notify(_("No invoice is waiting to be sent to Netvisor."), "info")
        return self._netvisor_notify_result(moves._netvisor_send_invoices(trigger="manual"))

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_netvisor_send_invoices(self, batch_size=200):
        """Send the queued invoices (auto-send on confirm); commits after each chunk."""
        moves = self.search(self._netvisor_queued_domain(), order="id", limit=batch_size + 1)
        more = len(moves) > batch_size
        moves = moves[:batch_size]
        if moves:
            moves._netvisor_send_invoices(trigger="auto")
        if more:
            self._netvisor_trigger_cron()

    # ------------------------------------------------------------------ business: queue

    @api.model
    def _netvisor_queued_domain(self):
        return [("netvisor_state", "=", "queued"), ("state", "=", "posted"),
                ("move_type", "in", list(SALES_MOVE_TYPES))]

    def _netvisor_sales_selection(self):
        moves = self.filtered(lambda m: m.move_type in SALES_MOVE_TYPES and m.state == "posted")
        if not moves:
            raise UserError(_("Only posted customer invoices and credit notes can be sent to Netvisor."))
        return moves

    def _netvisor_after_post(self):
        """Posting never talks to Netvisor: with auto-send on, the invoice is queued and the
        send cron is triggered (it runs after this transaction commits)."""
        invoices = self.filtered(lambda m: m.move_type in SALES_MOVE_TYPES)
        if not invoices:
            return
        auto = invoices.filtered(lambda m: m.company_id.netvisor_auto_send_invoice)
        # re-posted after a send: Netvisor has the old version until it is sent again
        stale = (invoices - auto).filtered(lambda m: m.netvisor_invoice_id and m.netvisor_state != "not_sent")
        if stale:
            stale.with_context(**WRITE_CONTEXT).write({"netvisor_state": "not_sent"})
        if auto:
            auto._netvisor_queue()

    def _netvisor_queue(self):
        self.with_context(**WRITE_CONTEXT).write(
            {"netvisor_state": "queued", "netvisor_error": False, "netvisor_send_attempts": 0})
        self._netvisor_trigger_cron()

    @api.model
    def _netvisor_trigger_cron(self, at=None):
        cron = self.env.ref("netvisor_integration.ir_cron_netvisor_send_invoices", raise_if_not_found=False)
        if cron:
            cron._trigger(at=at)
        else:
            _logger.warning("Netvisor: the invoice send cron is missing; queued invoices wait for a manual send")

    # ------------------------------------------------------------------ business: send

    def _netvisor_send_invoices(self, trigger="manual", resend=False):
        """Send the invoices company by company, in chunks (see _netvisor_send_chunk); a
        failure of one invoice never stops the others.
        Returns {"done", "skipped", "failed": counts, "messages": [...]}."""
        self = self.with_context(**WRITE_CONTEXT)
        result = {"done": 0, "skipped": 0, "failed": 0, "messages": []}
        for company, moves in self.grouped("company_id").items():
            run = self.env["netvisor.run"]._netvisor_start(company, FLOW, trigger=trigger)
            try:
                client = company._netvisor_client(flow=FLOW)
            except UserError as error:
                message = str(error.args[0])
                for move in moves:
                    move._netvisor_set_error(message, FLOW, category="CONFIGURATION")
                result["failed"] += len(moves)
                result["messages"].append(message)
                run._netvisor_finish(failed=len(moves), error=message)
                company._netvisor_commit()
                continue
            batch = _SalesBatch(self.env, company, client)
            counts = {"done": 0, "skipped": 0, "failed": 0}
            for chunk_ids in split_every(PREPARE_CHUNK, moves.ids):
                chunk = moves.browse(chunk_ids)
                for outcome, message in chunk._netvisor_send_chunk(batch, trigger, resend):
                    counts[outcome] += 1
                    if message:
                        result["messages"].append(message)
            run._netvisor_finish(**counts)
            company._netvisor_commit()
            for key, value in counts.items():
                result[key] += value
        return result

    def _netvisor_send_chunk(self, batch, trigger, resend):
        """Send a few invoices in one transaction, committed at the end; returns their
        (outcome, message). Before anything is posted, the invoices that Netvisor does not
        have yet get this run's token, committed: when the run dies before its own commit,
        the next run finds a foreign token and looks those invoices up in Netvisor first, so
        nothing is created twice. Netvisor's company lock is held for the whole chunk."""
        company = batch.company
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute("SELECT id FROM account_move WHERE id IN %s FOR UPDATE SKIP LOCKED",
                                    [tuple(self.ids)])
                free = {row[0] for row in self.env.cr.fetchall()}
        except psycopg2.errors.SerializationFailure:
            free = set()  # changed meanwhile by another transaction: each is locked again below
        new = self.filtered(lambda m: m.id in free and not m.netvisor_invoice_id
                            and (not m.netvisor_send_token or m.netvisor_send_token == batch.token))
        if new:
            new.write({"netvisor_send_token": batch.token})
        company._netvisor_commit()
        results = []
        try:
            with self._netvisor_company_lock(batch):
                prepared = self._netvisor_prepare(batch)
                for move in self:
                    results.append(move._netvisor_send_guarded(
                        batch, trigger=trigger, resend=resend, prepared=prepared.get(move.id)))
        except nv_errors.NetvisorTransientError as error:  # the company lock was not obtained
            message = company._netvisor_error_message(error)
            for move in self[len(results):]:
                move._netvisor_fail(_("%(invoice)s was not sent to Netvisor: %(reason)s", invoice=move.name,
                                      reason=message), error.category, trigger, retry=True)
                results.append(("failed", message))
        company._netvisor_commit()
        return results

    @contextlib.contextmanager
    def _netvisor_company_lock(self, batch):
        """Hold the client's per-company lock (one request at a time per Netvisor company,
        across workers) around a whole chunk rather than around each request."""
        client = batch.client
        lock = getattr(client, "lock", None)
        if lock is None:
            yield
            return
        with lock():
            client.lock = None
            try:
                yield
            finally:
                client.lock = lock

    def _netvisor_prepare(self, batch):
        """Read and check the documents of several invoices at once (nothing is locked or
        written): {move id: {"write_date", "invoice" or "error", "refunded"}}."""
        refunded = set(self.search([("reversed_entry_id", "in", self.ids), ("move_type", "=", "out_refund"),
                                    ("state", "=", "posted")]).reversed_entry_id.ids)
        prepared = {}
        for move in self:
            entry = {"write_date": move.write_date, "refunded": move.id in refunded}
            try:
                entry["invoice"] = move._netvisor_invoice_data(batch)
            except (UserError, ValidationError) as error:
                entry["error"] = error
            prepared[move.id] = entry
        return prepared

    def _netvisor_send_guarded(self, batch, trigger="manual", resend=False, prepared=None):
        """Send one invoice; never raises for this invoice's own failures.
        Returns (outcome, message) with outcome done / skipped / failed."""
        self.ensure_one()
        try:
            skipped = self._netvisor_send_one(batch, resend=resend, prepared=prepared)
        except _RecordBusy:
            return "skipped", _("%(invoice)s is being sent by another process.", invoice=self.name)
        except (UserError, ValidationError) as error:
            message = _("%(invoice)s was not sent to Netvisor: %(reason)s", invoice=self.name,
                        reason=error.args[0])
            self._netvisor_release_token(batch)
            self._netvisor_fail(message, "VALIDATION", trigger, retry=False)
            return "failed", message
        except nv_errors.NetvisorError as error:
            message = _("%(invoice)s was not sent to Netvisor: %(reason)s", invoice=self.name,
                        reason=batch.company._netvisor_error_message(error))
            self._netvisor_release_token(batch, unknown=isinstance(error, nv_errors.NetvisorOutcomeUnknownError))
            retry = isinstance(error, (nv_errors.NetvisorTransientError, nv_errors.NetvisorOutcomeUnknownError))
            self._netvisor_fail(message, error.category, trigger, retry=retry)
            return "failed", message
        except Exception as error:  # a bug must not stop the other invoices
            _logger.exception("Netvisor: sending %s failed unexpectedly", self.name)
            message = _("%(invoice)s was not sent to Netvisor: unexpected error %(error)s", invoice=self.name,
                        error=repr(error))
            with contextlib.suppress(Exception), self.env.cr.savepoint():
                self._netvisor_set_error(message, FLOW, category="ERROR")
            return "failed", message
        if skipped:
            return "skipped", skipped
        return "done", None

    def _netvisor_release_token(self, batch, unknown=False):
        """After a failed send: this run's token goes (Netvisor answered, nothing was stored),
        unless the outcome is unknown, which is kept as netvisor_outcome_unknown. A token
        of an interrupted run stays until that run's invoice is found or sent."""
        self.invalidate_recordset(["netvisor_send_token"])
        values = {}
        if unknown:
            values["netvisor_outcome_unknown"] = True
        if self.netvisor_send_token and (unknown or self.netvisor_send_token == batch.token):
            values["netvisor_send_token"] = False
        if values:
            self.write(values)

    def _netvisor_fail(self, message, category, trigger, retry):
        """Record a failure. The background send keeps a transient failure queued and tries
        again later (a few times); everything else goes to error with chatter and activity."""
        self.ensure_one()
        max_attempts = int(self.env["ir.config_parameter"].sudo().get_param(
            "netvisor_integration.sales_send_max_attempts", 5))
        if retry and trigger == "auto" and self.netvisor_send_attempts + 1 < max_attempts:
            attempts = self.netvisor_send_attempts + 1
            self.write({"netvisor_state": "queued", "netvisor_error": message,
                        "netvisor_send_attempts": attempts})
            self.env["netvisor.log"]._log_record_error(self.company_id, FLOW, self, message, category=category)
            self._netvisor_trigger_cron(at=fields.Datetime.now() + timedelta(minutes=5 * attempts))
            return
        self._netvisor_set_error(message, FLOW, category=category)

    @contextlib.contextmanager
    def _netvisor_step(self, batch):
        """A savepoint around one step. When it rolls back, the Netvisor log rows written
        inside it go too: write them again so the HTTP exchanges stay visible."""
        client = batch.client
        hook = getattr(client, "on_exchange", None)
        seen = []
        if hook is not None:
            def collect(exchange):
                seen.append(exchange)
                hook(exchange)

            client.on_exchange = collect
        try:
            with self.env.cr.savepoint():
                yield
        except Exception:
            for exchange in seen:
                with contextlib.suppress(Exception), self.env.cr.savepoint():
                    hook(exchange)
            raise
        finally:
            if hook is not None:
                client.on_exchange = hook

    def _netvisor_lock(self):
        """Lock this invoice's row for the transaction, so that two workers never send it
        at once; raise _RecordBusy when another transaction holds or changed it."""
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute("SELECT id FROM account_move WHERE id = %s FOR UPDATE SKIP LOCKED", [self.id])
                locked = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            raise _RecordBusy() from None
        if not locked:
            raise _RecordBusy()

    def _netvisor_send_one(self, batch, resend=False, prepared=None):
        """Validate, make sure the customer and products exist in Netvisor, then add (or
        edit) the invoice and match a credit note. Returns a text when skipped.
        ``prepared``: this invoice's entry of _netvisor_prepare, used when the invoice did
        not change since."""
        self.ensure_one()
        client = batch.client
        self._netvisor_lock()
        self.invalidate_recordset(["netvisor_state", "netvisor_invoice_id", "netvisor_outcome_unknown",
                                   "netvisor_payment_synced", "netvisor_send_token", "state", "write_date"])
        if self.state != "posted":
            self._netvisor_release_token(batch)
            return _("%(invoice)s is no longer posted.", invoice=self.name)
        if self.netvisor_payment_synced and self.netvisor_invoice_id and not resend:
            if self.netvisor_state == "sent":
                self._netvisor_release_token(batch)
                return _("%(invoice)s is paid in Netvisor, so it is not sent again; use \"Resend to Netvisor\" "
                         "to overwrite it anyway.", invoice=self.name)
            raise UserError(_(
                "it is paid in Netvisor (payment sync), so it is not sent again. Use \"Resend to Netvisor\" "
                "to overwrite it anyway."))
        # everything that needs no Netvisor first: bad data never creates anything there
        if prepared and prepared["write_date"] == self.write_date:
            if prepared.get("error"):
                raise prepared["error"]
            invoice = prepared["invoice"]
        else:
            invoice = self._netvisor_invoice_data(batch)
        self._netvisor_resolve_references(batch, invoice)
        try:
            root = nv_sales.build_sales_invoice(invoice)
        except nv_sales.SalesInvoiceDataError as error:
            raise UserError(str(error)) from None
        client.context = {"res_model": self._name, "res_id": self.id}
        key = self.netvisor_invoice_id
        interrupted = self.netvisor_send_token and self.netvisor_send_token != batch.token
        if not key and (self.netvisor_outcome_unknown or interrupted):
            key = self._netvisor_find_in_netvisor(batch)
        if key:
            nv_sales.edit_sales_invoice(client, key, root)
        else:
            try:
                key = nv_sales.add_sales_invoice(client, root)
            except nv_errors.NetvisorDuplicateDataError:
                key = self._netvisor_find_in_netvisor(batch)
                if not key:
                    raise
                nv_sales.edit_sales_invoice(client, key, root)
        # Netvisor has it now: record the key whatever happens next
        with self.env.cr.savepoint():
            self._netvisor_set_sent({"netvisor_invoice_id": key, "netvisor_outcome_unknown": False,
                                     "netvisor_send_attempts": 0, "netvisor_send_token": False})
        if self.move_type == "out_refund" or not prepared or prepared["refunded"]:
            self._netvisor_match_credit_notes(batch)
        return None

    def _netvisor_find_in_netvisor(self, batch):
        """After an unknown outcome: the key of the Netvisor invoice with this number, or
        False when Netvisor has none. Several candidates are never guessed between."""
        self.ensure_one()
        batch.client.context = {"res_model": self._name, "res_id": self.id, "direction": "in"}
        found = nv_sales.list_sales_invoices(batch.client, invoice_number=self.name)
        if len(found) > 1:
            raise UserError(_(
                "Netvisor has %(count)s invoices numbered %(number)s (keys %(keys)s): link the right one by hand "
                "before sending again.", count=len(found), number=self.name,
                keys=", ".join(item.netvisor_key for item in found)))
        if found and self.search_count([("company_id", "=", self.company_id.id), ("id", "!=", self.id),
                                        ("netvisor_invoice_id", "=", found[0].netvisor_key)]):
            raise UserError(_(
                "Netvisor's invoice numbered %(number)s (key %(key)s) is already linked to another Odoo invoice: "
                "check both before sending again.", number=self.name, key=found[0].netvisor_key))
        if found:
            self.message_post(body=_(
                "Netvisor: the earlier send had reached Netvisor (invoice key %(key)s); it is updated, not created "
                "again.", key=found[0].netvisor_key))
            return found[0].netvisor_key
        return False

    def _netvisor_match_credit_notes(self, batch):
        """Link sent credit notes to their sent originals (this one, or this invoice's)."""
        self.ensure_one()
        if self.move_type == "out_refund":
            pairs = [(self, self.reversed_entry_id)]
        else:
            pairs = [(credit, self) for credit in self.reversal_move_ids.filtered(
                lambda m: m.move_type == "out_refund" and m.state == "posted" and m.netvisor_invoice_id
                and not m.netvisor_credit_note_matched)]
        for credit, origin in pairs:
            if credit.netvisor_credit_note_matched or not origin:
                continue
            if not origin.netvisor_invoice_id:
                credit.message_post(body=_(
                    "Netvisor: this credit note is not linked to %(invoice)s in Netvisor yet, because that invoice "
                    "has not been sent; it is linked when %(invoice)s is sent.", invoice=origin.name))
                continue
            batch.client.context = {"res_model": credit._name, "res_id": credit.id}
            try:
                with self._netvisor_step(batch):
                    nv_sales.match_credit_note(batch.client, credit.netvisor_invoice_id, origin.netvisor_invoice_id)
                    credit.write({"netvisor_credit_note_matched": True})
            except nv_errors.NetvisorError as error:
                message = _("Netvisor: credit note %(credit)s could not be linked to %(invoice)s: %(reason)s",
                            credit=credit.name, invoice=origin.name,
                            reason=batch.company._netvisor_error_message(error))
                credit.env["netvisor.log"]._log_record_error(credit.company_id, FLOW, credit, message,
                                                              category=error.category)
                credit.message_post(body=message)
                credit.activity_schedule(
                    "mail.mail_activity_data_warning", summary=_("Netvisor sending failed"), note=message,
                    user_id=credit._netvisor_responsible_user().id)

    # ------------------------------------------------------------------ business: the document

    def _netvisor_resolve_references(self, batch, invoice):
        """Customer and product identifiers, creating what Netvisor lacks (each in its own
        savepoint: what was created stays linked even when a later step fails)."""
        self.ensure_one()
        company = batch.company
        partner = self.commercial_partner_id
        if partner.id not in batch.customers:
            with self._netvisor_step(batch):
                try:
                    batch.customers[partner.id] = partner._netvisor_ensure_customer(batch.client, company)
                except _WouldCreate:
                    batch.notes.append(_("Customer %(partner)s is not in Netvisor yet: sending creates it first "
                                         "(shown here as %(placeholder)s).",
                                         partner=partner.display_name, placeholder=PLACEHOLDER))
                    batch.customers[partner.id] = PLACEHOLDER
        invoice.customer_identifier = str(batch.customers[partner.id])
        invoice.customer_identifier_type = "netvisor"
        for line, product in invoice.extra["products"]:
            if product.id not in batch.products:
                with self._netvisor_step(batch):
                    try:
                        batch.products[product.id] = product._netvisor_ensure_product(batch.client, company)
                    except _WouldCreate:
                        batch.notes.append(_("Product %(product)s is not in Netvisor yet: sending creates it "
                                             "first.", product=product.display_name))
                        code = (product.default_code or "").strip()
                        batch.products[product.id] = ("customer", code) if code else ("netvisor", PLACEHOLDER)
            line.product_identifier_type, line.product_identifier = batch.products[product.id]
            line.product_identifier = str(line.product_identifier)

    def _netvisor_invoice_data(self, batch):
        """The nv_sales.SalesInvoice of this invoice (customer and products still to be
        resolved). Raises UserError, naming the line and field, for what Netvisor would refuse."""
        self.ensure_one()
        company = self.company_id
        partner = self.commercial_partner_id
        address = self.partner_id or partner
        currency = self.currency_id
        if partner.is_company and not (partner.company_registry or partner.vat):
            raise UserError(_(
                "the customer %(partner)s is a company without a business ID: fill in its %(field)s (or Tax ID).",
                partner=partner.display_name, field=partner._fields["company_registry"]._description_string(self.env)))
        if currency.name not in nv_sales.ISO_4217:
            raise UserError(_("its currency %(currency)s is not an ISO 4217 currency that Netvisor knows.",
                              currency=currency.name))
        if currency.is_zero(self.amount_total):
            raise UserError(_("its total is zero; Netvisor does not take an invoice without an amount."))
        sign = Decimal(-1) if self.move_type == "out_refund" else Decimal(1)
        default_product = company.netvisor_sales_default_product_id
        lines = []
        products = []
        taxed = []
        for index, line in enumerate(self.invoice_line_ids, 1):
            label = xmlutil.clean_text(line.name or "").strip()
            if line.display_type in ("line_section", "line_note"):
                if label:
                    lines.append(nv_sales.CommentLine(label))
                continue
            if line.display_type != "product":
                continue
            taxes = line.tax_ids
            if len(taxes) != 1:
                raise UserError(_(
                    "line %(number)s (%(label)s) has %(count)s taxes; Netvisor needs exactly one VAT code per line. "
                    "Give the line one tax.", number=index, label=label or "-", count=len(taxes)))
            code, percent = batch.vat_for(taxes)
            product = line.product_id or default_product
            if not product:
                raise UserError(_(
                    "line %(number)s (%(label)s) has no product and no Netvisor default product is set: choose one "
                    "in Settings > Netvisor Integration.", number=index, label=label or "-"))
            first, _sep, rest = label.partition("\n")
            name = first.strip() or product.name
            net = -_money(line.amount_currency)
            product_line = nv_sales.ProductLine(
                product_identifier="?", name=name, unit_price=_decimal(line.price_unit),
                unit_price_type="gross" if taxes.price_include else "net",
                vat_percent=percent, vat_code=code, quantity=_decimal(line.quantity) * sign,
                discount=_decimal(line.discount), free_text=rest.strip(),
                vat_sum=(net * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP), line_sum=Decimal(0))
            product_line.extra_net = net
            product_line.extra_index = index
            lines.append(product_line)
            products.append((product_line, product))
            if percent:
                taxed.append(product_line)
        for line in self.line_ids.filtered(lambda aml: aml.display_type == "rounding"):
            if not default_product:
                raise UserError(_("its cash rounding line needs a Netvisor default product: choose one in "
                                  "Settings > Netvisor Integration."))
            net = -_money(line.amount_currency)
            product_line = nv_sales.ProductLine(
                product_identifier="?", name=xmlutil.clean_text(line.name or "").strip() or _("Rounding"),
                unit_price=abs(net), vat_percent=Decimal(0), vat_code="NONE",
                quantity=Decimal(1 if net >= 0 else -1), vat_sum=Decimal(0), line_sum=Decimal(0))
            product_line.extra_net = net
            product_line.extra_index = len(lines) + 1
            lines.append(product_line)
            products.append((product_line, default_product))
        if not products:
            raise UserError(_("it has no invoice line with an amount."))
        total = _money(self.amount_total_in_currency_signed)
        self._netvisor_spread_rounding(total, [line for line, _product in products], taxed)
        for line, _product in products:
            line.line_sum = line.extra_net + line.vat_sum
        reference = nv_sales.normalize_reference(self.payment_reference)
        invoice = nv_sales.SalesInvoice(
            date=self.invoice_date,
            due_date=self.invoice_date_due or self.invoice_date,
            delivery_date=self.delivery_date if "delivery_date" in self._fields else None,
            amount=total,
            customer_identifier="?",
            lines=lines,
            number=self.name,
            reference=reference if reference and nv_sales.is_valid_reference(reference) else None,
            currency=currency.name,
            currency_rate=Decimal(repr(self.invoice_currency_rate)).quantize(Decimal("0.000001"))
            if currency != company.currency_id and self.invoice_currency_rate else None,
            status=company.netvisor_sales_invoice_status or "open",
            your_reference=xmlutil.clean_text(self.ref or "").strip(),
            customer_name=xmlutil.clean_text(partner.name or "").strip(),
            customer_address=xmlutil.clean_text(address.street or "").strip(),
            customer_additional_address=xmlutil.clean_text(address.street2 or "").strip(),
            customer_post_number=xmlutil.clean_text(address.zip or "").strip(),
            customer_town=xmlutil.clean_text(address.city or "").strip(),
            customer_country=address.country_id.code or "",
            extra={"products": products},
        )
        problems = nv_sales.length_problems(invoice)
        if problems:
            raise UserError(self._netvisor_length_message(problems[0], partner, address))
        return invoice

    def _netvisor_spread_rounding(self, total, lines, taxed):
        """Make the line sums add up to Odoo's total to the cent: the difference (Odoo rounds
        its taxes per tax, Netvisor per line) goes cent by cent onto the VAT of the lines with
        the largest VAT. More than a cent per line means the VAT mapping is wrong."""
        diff = total - sum((line.extra_net + line.vat_sum for line in lines), Decimal(0))
        if not diff:
            return
        cents = int((diff / CENT).to_integral_value())
        if not taxed or abs(cents) > len(taxed):
            computed = sum((line.vat_sum for line in lines), Decimal(0))
            booked = total - sum((line.extra_net for line in lines), Decimal(0))
            raise UserError(_(
                "Odoo's VAT (%(odoo)s) differs from the VAT Netvisor computes from the VAT codes and percentages "
                "(%(netvisor)s). Check the Netvisor VAT mapping of the taxes on its lines.",
                odoo=xmlutil.format_decimal(booked), netvisor=xmlutil.format_decimal(computed)))
        step = CENT if cents > 0 else -CENT
        for line in sorted(taxed, key=lambda item: abs(item.vat_sum), reverse=True)[:abs(cents)]:
            line.vat_sum += step

    def _netvisor_length_message(self, problem, partner, address):
        element, line_number, length, limit = problem
        labels = {
            "salesinvoicenumber": (_("Number"), _("the invoice")),
            "salesinvoicereferencenumber": (_("Payment Reference"), _("the invoice")),
            "salesinvoiceyourreference": (_("Customer Reference"), _("the invoice")),
            "invoicingcustomername": (_("Name"), partner.display_name),
            "invoicingcustomeraddressline": (_("Street"), address.display_name),
            "invoicingcustomeradditionaladdressline": (_("Street 2"), address.display_name),
            "invoicingcustomerpostnumber": (_("ZIP"), address.display_name),
            "invoicingcustomertown": (_("City"), address.display_name),
            "productname": (_("Label (first line)"), None),
            "salesinvoiceproductlinefreetext": (_("Label (further lines)"), None),
            "comment": (_("Label"), None),
            "productunitname": (_("Unit of Measure"), None),
            "productidentifier": (_("Internal Reference"), None),
        }
        field_label, where = labels.get(element, (element, _("the invoice")))
        if line_number:
            where = _("line %(number)s", number=line_number)
        return _(
            "the %(field)s of %(where)s is %(length)s characters long; Netvisor accepts at most %(limit)s. "
            "Shorten it and send again.", field=field_label, where=where, length=length, limit=limit)

    # ------------------------------------------------------------------ business: preview

    def _netvisor_preview(self):
        """(xml text, notes, error) of the document a send would post now. Nothing is written
        to Netvisor, and what the preview computed in Odoo is rolled back."""
        self.ensure_one()
        company = self.company_id
        notes = []
        try:
            client = company._netvisor_client(flow=FLOW)
        except UserError:
            client = None
            notes.append(_("Netvisor is not configured for %(company)s: customers and products are not looked up.",
                           company=company.display_name))
        batch = _SalesBatch(self.env, company, _PreviewClient(client), preview=True)
        try:
            with self.env.cr.savepoint():
                invoice = self._netvisor_invoice_data(batch)
                self._netvisor_resolve_references(batch, invoice)
                raise _PreviewDone(nv_sales.build_sales_invoice(invoice))
        except _PreviewDone as done:
            root = done.result
        except (UserError, ValidationError) as error:
            return "", notes + batch.notes, _("%(invoice)s cannot be sent: %(reason)s", invoice=self.name,
                                              reason=error.args[0])
        except nv_sales.SalesInvoiceDataError as error:
            return "", notes + batch.notes, str(error)
        except nv_errors.NetvisorError as error:
            return "", notes + batch.notes, company._netvisor_error_message(error)
        if self.netvisor_invoice_id:
            notes.append(_("Netvisor already has this invoice (key %(key)s): sending edits it "
                           "(salesinvoice.nv?method=edit&id=%(key)s).", key=self.netvisor_invoice_id))
        else:
            notes.append(_("Sending creates the invoice (salesinvoice.nv?method=add)."))
        text = etree.tostring(root, pretty_print=True, encoding="unicode")
        return text, notes + batch.notes, None

    # ------------------------------------------------------------------ business: notifications

    @api.model
    def _netvisor_notify(self, message, kind="info", title=None, sticky=False):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title or _("Netvisor"),
                "message": message,
                "type": kind,
                "sticky": sticky,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _netvisor_notify_result(self, result):
        summary = _("Sent to Netvisor: %(done)s, failed: %(failed)s, skipped: %(skipped)s.",
                    done=result["done"], failed=result["failed"], skipped=result["skipped"])
        messages = result["messages"][:5]
        message = "\n".join([summary, *messages])
        kind = "danger" if result["failed"] else ("warning" if result["skipped"] else "success")
        return self._netvisor_notify(message, kind, sticky=bool(result["failed"]))


class NetvisorFlow(models.Model):
    _inherit = "netvisor.flow"

    @api.model
    def _netvisor_flow_specs(self):
        specs = super()._netvisor_flow_specs()
        specs[FLOW] = {
            "sequence": 20,
            "description": _("Posted customer invoices and credit notes go to Netvisor (Send to Netvisor, "
                             "auto-send on confirm)."),
            "model": "account.move",
            "attention_domain": [("move_type", "in", list(SALES_MOVE_TYPES)), ("state", "=", "posted"),
                                 ("netvisor_state", "=", "error")],
            "run_method": ("account.move", "action_netvisor_send_queued"),
        }
        return specs

