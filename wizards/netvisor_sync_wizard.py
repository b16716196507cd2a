import datetime
import logging
from collections import defaultdict
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from ..models.product import SYNCED_PRODUCT_FIELDS
from ..models.res_partner import SYNCED_CUSTOMER_FIELDS, customer_field_equal, normalize_text, normalize_zip
from ..netvisor import errors as nv_errors
from ..netvisor.resources import customers as nv_customers
from ..netvisor.resources import products as nv_products

_logger = logging.getLogger(__name__)

SYNC_TYPES = [("customer", "Customers"), ("product", "Products")]


class NetvisorSyncReadError(UserError):
    """Netvisor could not be read for the preview (the Netvisor log rows explain why)."""
DIRECTIONS = [
    ("both", "Both ways"),
    ("import", "Netvisor → Odoo"),
    ("export", "Odoo → Netvisor"),
]
ACTIONS = [
    ("create", "Create"),
    ("update", "Update"),
    ("unchanged", "Unchanged"),
    ("conflict", "Conflict"),
    ("error", "Error"),
]
TARGETS = [("odoo", "Odoo"), ("netvisor", "Netvisor"), ("both", "Both")]
# changedsince is asked a little before the last run started: clock differences between this
# server and Netvisor, and Netvisor possibly reading it in Finnish time, only widen the window
CHANGED_SINCE_MARGIN = datetime.timedelta(minutes=10)
CREATE_BATCH = 200
DECIMAL_FIELDS = ("unit_price", "unit_gross_price", "purchase_price", "vat_percent")


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


class NetvisorSyncWizard(models.TransientModel):
    _name = "netvisor.sync.wizard"
    _description = "Sync Customers or Products with Netvisor"

    sync_type = fields.Selection(SYNC_TYPES, string="Sync", required=True, default="customer")
    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    direction = fields.Selection(DIRECTIONS, required=True, default="both")
    full_sync = fields.Boolean(
        string="Full Sync", default=lambda self: self._default_full_sync(),
        help="Compare every record on both sides instead of only those changed since the last sync. "
             "The first sync of a company is always full.")
    conflict_policy = fields.Selection(related="company_id.netvisor_sync_conflict_policy")
    last_import_date = fields.Datetime(string="Last Imported", compute="_compute_last_dates")
    last_export_date = fields.Datetime(string="Last Exported", compute="_compute_last_dates")
    state = fields.Selection([("draft", "Options"), ("preview", "Preview"), ("done", "Done")],
                             default="draft", required=True, readonly=True)
    started_at = fields.Datetime(readonly=True, help="When the preview read both sides.")
    line_ids = fields.One2many("netvisor.sync.wizard.line", "wizard_id", string="Lines", readonly=True)
    create_count = fields.Integer(compute="_compute_counts")
    update_count = fields.Integer(compute="_compute_counts")
    unchanged_count = fields.Integer(compute="_compute_counts")
    conflict_count = fields.Integer(compute="_compute_counts")
    error_count = fields.Integer(compute="_compute_counts")
    failed_count = fields.Integer(compute="_compute_counts")
    summary = fields.Text(readonly=True)

    @api.model
    def _default_full_sync(self):
        sync_type = self.env.context.get("default_sync_type") or "customer"
        company = self.env.company
        return not company[f"netvisor_{sync_type}_import_date"] and not company[f"netvisor_{sync_type}_export_date"]

    # ------------------------------------------------------------------ computes

    @api.depends("sync_type", "company_id")
    def _compute_last_dates(self):
        for wizard in self:
            prefix = f"netvisor_{wizard.sync_type or 'customer'}"
            wizard.last_import_date = wizard.company_id[f"{prefix}_import_date"]
            wizard.last_export_date = wizard.company_id[f"{prefix}_export_date"]

    @api.depends("line_ids.action", "line_ids.result")
    def _compute_counts(self):
        for wizard in self:
            counts = defaultdict(int)
            failed = 0
            for action, result, count in self.env["netvisor.sync.wizard.line"]._read_group(
                    [("wizard_id", "=", wizard.id)], ["action", "result"], ["__count"]):
                counts[action] += count
                if result == "failed":
                    failed += count
            wizard.create_count = counts["create"]
            wizard.update_count = counts["update"]
            wizard.unchanged_count = counts["unchanged"]
            wizard.conflict_count = counts["conflict"]
            wizard.error_count = counts["error"]
            wizard.failed_count = failed

    # ------------------------------------------------------------------ actions

    def action_preview(self):
        """Read both sides and list what Apply would do. Writes nothing to Odoo's records
        nor to Netvisor."""
        self.ensure_one()
        try:
            self._netvisor_preview()
        except NetvisorSyncReadError as error:
            # shown rather than raised: raising would roll back the Netvisor log rows of the failure
            self.write({"state": "draft", "summary": False})
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "title": self.env._("Netvisor sync preview failed"),
                    "message": error.args[0],
                    "type": "danger",
                    "sticky": True,
                },
            }
        return self._netvisor_reopen()

    def action_apply(self):
        self.ensure_one()
        if self.state != "preview":
            raise UserError(self.env._("Preview the sync before applying it."))
        self._netvisor_apply()
        return self._netvisor_reopen()

    def action_back(self):
        self.ensure_one()
        self.line_ids.unlink()
        self.write({"state": "draft", "summary": False})
        return self._netvisor_reopen()

    def action_open_lines(self):
        self.ensure_one()
        action = {
            "type": "ir.actions.act_window",
            "name": self.env._("Netvisor sync lines"),
            "res_model": "netvisor.sync.wizard.line",
            "view_mode": "list",
            "domain": [("wizard_id", "=", self.id)],
            "context": {"search_default_group_action": 1},
        }
        if self.env.context.get("netvisor_action"):
            action["domain"] += [("action", "=", self.env.context["netvisor_action"])]
        return action

    @api.model
    def action_netvisor_open_customer_sync(self):
        return self._netvisor_open("customer")

    @api.model
    def action_netvisor_open_product_sync(self):
        return self._netvisor_open("product")

    # ------------------------------------------------------------------ business: entry points

    @api.model
    def _netvisor_open(self, sync_type):
        """Window action opening a new wizard of ``sync_type`` for the current company."""
        self.env.company._netvisor_check_configured()
        wizard = self.with_context(default_sync_type=sync_type).create({
            "sync_type": sync_type, "company_id": self.env.company.id})
        return wizard._netvisor_reopen()

    def _netvisor_reopen(self):
        self.ensure_one()
        title = self.env._("Sync customers with Netvisor") if self.sync_type == "customer" else self.env._(
            "Sync products with Netvisor")
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "context": dict(self.env.context, default_sync_type=self.sync_type),
        }

    @api.model
    def _cron_netvisor_sync(self):
        """Monthly cron: customers, then products, both ways, for every configured company."""
        for company in self.env["res.company"]._netvisor_configured_companies():
            for sync_type in ("customer", "product"):
                wizard = self.sudo().with_company(company).create({
                    "sync_type": sync_type, "company_id": company.id, "direction": "both"})
                wizard = wizard.with_context(netvisor_trigger="cron")
                try:
                    wizard._netvisor_preview()
                    company._netvisor_commit()
                    wizard._netvisor_apply()
                except (UserError, nv_errors.NetvisorError) as error:
                    message = error.args[0] if isinstance(error, UserError) else company._netvisor_error_message(error)
                    self.env["netvisor.log"]._log_record_error(
                        company, wizard._netvisor_flow(), None, message, category="SYNC", direction="in")
                    self.env["netvisor.run"]._netvisor_start(company, wizard._netvisor_flow(), trigger="cron")\
                        ._netvisor_finish(error=message)
                    _logger.warning("Netvisor %s sync of company %s failed: %s", sync_type, company.id, message)
                company._netvisor_commit()

    # ------------------------------------------------------------------ business: preview

    def _netvisor_flow(self):
        self.ensure_one()
        return "customer_sync" if self.sync_type == "customer" else "product_sync"

    def _netvisor_client(self):
        self.ensure_one()
        return self.company_id._netvisor_client(self._netvisor_flow())

    def _netvisor_imports(self):
        return self.direction in ("import", "both")

    def _netvisor_exports(self):
        return self.direction in ("export", "both")

    def _netvisor_dates(self):
        """(import date, export date) to run incrementally from, (False, False) for a full sync."""
        self.ensure_one()
        if self.full_sync:
            return False, False
        prefix = f"netvisor_{self.sync_type}"
        return self.company_id[f"{prefix}_import_date"], self.company_id[f"{prefix}_export_date"]

    def _netvisor_pending_keys(self):
        value = self.company_id[f"netvisor_{self.sync_type}_pending_keys"] or ""
        return [key for key in value.split(",") if key]

    def _netvisor_preview(self):
        self.ensure_one()
        company = self.company_id
        company._netvisor_check_configured()
        client = self._netvisor_client()
        started = fields.Datetime.now()
        self.line_ids.unlink()
        try:
            if self.sync_type == "customer":
                lines = self._netvisor_plan_customers(client)
            else:
                lines = self._netvisor_plan_products(client)
        except nv_errors.NetvisorError as error:
            raise NetvisorSyncReadError(company._netvisor_error_message(error)) from None
        self.env["netvisor.sync.wizard.line"].create([dict(vals, wizard_id=self.id) for vals in lines])
        self.write({"state": "preview", "started_at": started, "summary": False})

    def _netvisor_live_links(self, model):
        """{res_id: link} of this company, without links whose Odoo record is gone."""
        links = self.env["netvisor.link"]._netvisor_links(self.company_id, model)
        alive = set(self.env[model].with_context(active_test=False).browse(list(links)).exists().ids)
        return {res_id: link for res_id, link in links.items() if res_id in alive}

    # ------------------------------------------------------------------ customers: plan

    @api.model
    def _netvisor_commercial_domain(self, company):
        return [
            "|", ("is_company", "=", True), ("parent_id", "=", False),
            ("company_id", "in", [False, company.id]),
        ]

    def _netvisor_plan_customers(self, client):
        """Pair Netvisor customers with Odoo partners and return the preview lines' values."""
        company = self.company_id
        Partner = self.env["res.partner"]
        import_date, export_date = self._netvisor_dates()
        links = self._netvisor_live_links("res.partner")  # res_id -> link
        key_links = {link.netvisor_key: link for link in links.values()}

        # Netvisor side: what changed (everything on a full sync), plus what was left pending
        if import_date:
            rows = nv_customers.list_customers(client, changed_since=import_date - CHANGED_SINCE_MARGIN)
            all_rows = None
        else:
            rows = all_rows = nv_customers.list_customers(client)
        changed_keys = {row.netvisor_key for row in rows}
        wanted = list(changed_keys) + [key for key in self._netvisor_pending_keys() if key not in changed_keys]
        details = {c.netvisor_key: c for c in nv_customers.get_customers(client, wanted)}

        # Odoo side: partners changed since the last export (all on a full sync), unlinked ones
        # and the linked ones left pending
        scope = Partner.search(self._netvisor_commercial_domain(company) + [("customer_rank", ">", 0)])
        pending = {key_links[k].res_id for k in self._netvisor_pending_keys() if k in key_links}
        if export_date:
            changed = set(Partner.search([("id", "in", scope.ids), ("write_date", ">", export_date)]).ids)
            odoo_ids = [pid for pid in scope.ids if pid not in links or pid in changed or pid in pending]
        else:
            odoo_ids = scope.ids

        pairs = []  # dicts: partner, key, link, conflict
        paired_partners = {}
        paired_keys = set()

        # 1. Netvisor records, linked or matched to an Odoo partner
        unlinked = []
        for key in wanted:
            if key not in details:
                continue  # deleted in Netvisor between the list and the details
            link = key_links.get(key)
            if link:
                partner = Partner.browse(link.res_id).exists()
                if partner:
                    pairs.append({"partner": partner, "key": key, "link": link})
                    paired_partners[partner.id] = pairs[-1]
                    paired_keys.add(key)
                    continue
            unlinked.append(key)
        if unlinked:
            index = self._netvisor_partner_index(company)
            claims = defaultdict(list)
            for key in unlinked:
                candidates = index.candidates(details[key])
                pair = {"partner": Partner, "key": key, "link": None}
                if len(candidates) > 1:
                    pair["conflict"] = self.env._(
                        "Matches %(count)s Odoo partners (%(names)s); the right one is not guessed.",
                        count=len(candidates), names=", ".join(candidates.mapped("display_name")))
                    for candidate in candidates:
                        paired_partners[candidate.id] = pair  # listed here, not again on their own
                elif candidates:
                    pair["partner"] = candidates
                    other = links.get(candidates.id)
                    if other and other.netvisor_key != key:
                        pair["conflict"] = self.env._(
                            "Matches %(partner)s, which is already linked to Netvisor customer %(other)s.",
                            partner=candidates.display_name, other=other.netvisor_key)
                    else:
                        claims[candidates.id].append(pair)
                pairs.append(pair)
                paired_keys.add(key)
            for partner_id, claimed in claims.items():
                if len(claimed) > 1:
                    keys = ", ".join(p["key"] for p in claimed)
                    for pair in claimed:
                        pair["conflict"] = self.env._(
                            "Netvisor customers %(keys)s all match %(partner)s; the right one is not guessed.",
                            keys=keys, partner=pair["partner"].display_name)
                paired_partners[partner_id] = claimed[0]

        # 2. Odoo partners not seen yet: linked (fetch their Netvisor record) or to match
        rest = Partner.browse([pid for pid in odoo_ids if pid not in paired_partners])
        to_match = rest.filtered(lambda p: p.id not in links)
        for partner in rest - to_match:
            pair = {"partner": partner, "key": links[partner.id].netvisor_key, "link": links[partner.id]}
            pairs.append(pair)
            paired_partners[partner.id] = pair
        if to_match:
            if all_rows is None:
                all_rows = nv_customers.list_customers(client)
            self._netvisor_match_partners(client, to_match, all_rows, details, key_links, paired_keys, pairs)
        missing = [p["key"] for p in pairs if p["key"] and p["key"] not in details]
        for customer in nv_customers.get_customers(client, missing):
            details[customer.netvisor_key] = customer

        countries = {c.code: c for c in self.env["res.country"].search([])}
        return [self._netvisor_customer_line(pair, details, changed_keys, countries) for pair in pairs]

    def _netvisor_partner_index(self, company):
        """Odoo's commercial partners by business ID and by name + address, for matching."""
        partners = self.env["res.partner"].search(self._netvisor_commercial_domain(company))
        by_business_id = defaultdict(list)
        by_address = defaultdict(list)
        for partner in partners:
            business_id, _source = partner._netvisor_business_id()
            if business_id:
                by_business_id[normalize_zip(business_id)].append(partner.id)
            else:
                by_address[address_key(partner.name, partner.street, partner.zip)].append(partner.id)
        return PartnerIndex(self.env["res.partner"], by_business_id, by_address)

    def _netvisor_match_partners(self, client, partners, rows, details, key_links, paired_keys, pairs):
        """Pair unlinked Odoo partners with Netvisor customers: business ID, else name + address."""
        by_business_id = defaultdict(list)
        by_name = defaultdict(list)
        for row in rows:
            if row.business_id:
                by_business_id[normalize_zip(row.business_id)].append(row.netvisor_key)
            else:
                by_name[normalize_text(row.name)].append(row.netvisor_key)
        wanted = {}
        for partner in partners:
            business_id, _source = partner._netvisor_business_id()
            keys = by_business_id.get(normalize_zip(business_id), []) if business_id else []
            if not keys:
                # name + address: the address is in the details only
                keys = by_name.get(normalize_text(partner.name), [])
                wanted[partner.id] = ("address", keys)
            else:
                wanted[partner.id] = ("business_id", keys)
        need = {key for _how, keys in wanted.values() for key in keys if key not in details}
        for customer in nv_customers.get_customers(client, need):
            details[customer.netvisor_key] = customer
        claims = defaultdict(list)
        for partner in partners:
            how, keys = wanted[partner.id]
            keys = [k for k in keys if k in details]
            if how == "address":
                own = address_key(partner.name, partner.street, partner.zip)
                keys = [k for k in keys if address_key(details[k].name, details[k].street, details[k].zip) == own]
            pair = {"partner": partner, "key": False, "link": None}
            if len(keys) > 1:
                pair["conflict"] = self.env._(
                    "Matches %(count)s Netvisor customers (%(keys)s); the right one is not guessed.",
                    count=len(keys), keys=", ".join(keys))
            elif keys:
                pair["key"] = keys[0]
                if keys[0] in key_links or keys[0] in paired_keys:
                    pair["conflict"] = self.env._(
                        "Matches Netvisor customer %(key)s, which is already paired with another Odoo partner.",
                        key=keys[0])
                else:
                    claims[keys[0]].append(pair)
            pairs.append(pair)
        for key, claimed in claims.items():
            if len(claimed) > 1:
                names = ", ".join(p["partner"].display_name for p in claimed)
                for pair in claimed:
                    pair["conflict"] = self.env._(
                        "Odoo partners %(names)s all match Netvisor customer %(key)s; the right one is not guessed.",
                        names=names, key=key)

    def _netvisor_customer_line(self, pair, details, changed_keys, countries):
        company = self.company_id
        Partner = self.env["res.partner"]
        partner, key, link = pair["partner"], pair["key"], pair["link"]
        customer = details.get(key) if key else None
        vals = {
            "partner_id": partner.id,
            "netvisor_key": key or False,
            "netvisor_name": customer.name if customer else False,
            "netvisor_code": customer.code if customer else False,
            "record_name": partner.display_name if partner else (customer.name if customer else False),
            "link_needed": bool(partner and customer and not link),
        }
        if pair.get("conflict"):
            return dict(vals, action="conflict", message=pair["conflict"], link_needed=False)
        if not partner:
            if not self._netvisor_imports():
                return dict(vals, action="unchanged",
                            message=self.env._("Only in Netvisor; not imported in this direction."))
            # created for this company only: another company's Netvisor must not receive it
            odoo_values = dict(Partner._netvisor_new_partner_values(customer, countries=countries),
                               company_id=company.id)
            return dict(vals, action="create", target="odoo", fields_changed=self.env._("new partner"),
                        odoo_values=odoo_values)
        data = partner._netvisor_customer_data(company, check=False)
        if not customer:
            note = self.env._("Linked Netvisor customer %(key)s no longer exists; ", key=key) if key else ""
            if not self._netvisor_exports():
                return dict(vals, action="unchanged", netvisor_key=False,
                            message=note + self.env._("Only in Odoo; not sent in this direction."))
            problem = partner._netvisor_customer_problem(data)
            if problem:
                return dict(vals, action="error", message=problem, netvisor_key=False)
            return dict(vals, action="create", target="netvisor", netvisor_key=False,
                        fields_changed=self.env._("new customer"), message=note or False,
                        netvisor_values=dict(data, automatic_code=not data["code"]))
        odoo_changed = not link or not link.sync_date or partner.write_date > link.sync_date
        nv_changed = key in changed_keys
        plan = self._netvisor_compare(
            SYNCED_CUSTOMER_FIELDS, data, customer.as_dict(), customer_field_equal, odoo_changed, nv_changed)
        return self._netvisor_pair_line(vals, plan, partner._netvisor_field_label, lambda pull, push: (
            Partner._netvisor_partner_values(customer, pull, countries=countries),
            {name: data[name] for name in push},
            partner._netvisor_customer_problem(data, names=push, new=False) if push else None,
        ), extra_odoo=lambda values: self._netvisor_partner_extra(partner, customer, values))

    @api.model
    def _netvisor_partner_extra(self, partner, customer, values):
        """A Finnish business ID pulled into Odoo also fills an empty VAT number."""
        if "company_registry" in values and partner.is_company and not partner.vat:
            business_id = values["company_registry"]
            if customer.country in ("", "FI") and len(business_id) == 9 and business_id[7] == "-":
                values["vat"] = "FI" + business_id.replace("-", "")
        return values

    # ------------------------------------------------------------------ shared: compare

    def _netvisor_compare(self, names, odoo, netvisor, equal, odoo_changed, nv_changed):
        """Decide per field. Returns dict(pull=[names], push=[names], conflict=[names], held=[names]).

        A value missing on one side is filled from the other (an empty value never wipes a
        filled one). Values filled on both sides and different go the way of the side that
        changed since the last sync; when both (or neither) did, the company's conflict
        policy decides. ``held``: fields that would go a way this run's direction excludes."""
        pull, push, differ = [], [], []
        for name in names:
            left, right = odoo.get(name), netvisor.get(name)
            if equal(name, left, right):
                continue
            if is_empty(right):
                push.append(name)
            elif is_empty(left):
                pull.append(name)
            else:
                differ.append(name)
        conflict = []
        if differ:
            if nv_changed and not odoo_changed:
                way = "pull"
            elif odoo_changed and not nv_changed:
                way = "push"
            else:
                way = {"odoo": "push", "netvisor": "pull"}.get(self.company_id.netvisor_sync_conflict_policy, "skip")
            if way == "pull":
                pull += differ
            elif way == "push":
                push += differ
            else:
                conflict = differ
        held = []
        if not self._netvisor_imports():
            held += pull
            pull = []
        if not self._netvisor_exports():
            held += push
            push = []
        return {"pull": pull, "push": push, "conflict": conflict, "held": held, "odoo": odoo, "netvisor": netvisor}

    def _netvisor_pair_line(self, vals, plan, label, build, extra_odoo=None):
        """Line values of a pair found on both sides from its ``plan``. ``build(pull, push)``
        returns (Odoo values for the fields pulled, Netvisor values for the fields pushed, why
        Netvisor would refuse them or None)."""
        def show(value):
            return "∅" if is_empty(value) else str(value)

        if plan["conflict"]:
            details = "; ".join(
                self.env._("%(field)s: Odoo %(odoo)s / Netvisor %(netvisor)s", field=label(name),
                  odoo=show(plan["odoo"].get(name)), netvisor=show(plan["netvisor"].get(name)))
                for name in plan["conflict"])
            return dict(vals, action="conflict", link_needed=False, message=self.env._(
                "Changed on both sides since the last sync (policy: skip and report): %(details)s",
                details=details))
        odoo_values, netvisor_values, problem = build(plan["pull"], plan["push"])
        if extra_odoo and odoo_values:
            odoo_values = extra_odoo(odoo_values)
        netvisor_values = {name: _json_value(value) for name, value in netvisor_values.items()
                           if name in plan["push"]}
        notes = []
        vals = dict(vals, held=bool(plan["held"]))
        if plan["held"]:
            notes.append(self.env._("Not synced in this direction: %(fields)s.",
                           fields=", ".join(label(n) for n in plan["held"])))
        if problem and plan["push"]:
            return dict(vals, action="error", link_needed=False, message=problem)
        unusable = [name for name in plan["pull"] if not self._netvisor_value_usable(name, odoo_values)]
        if unusable:
            notes.append(self.env._("No Odoo value found for %(fields)s; left as it is.",
                           fields=", ".join(label(n) for n in unusable)))
        pulled = [name for name in plan["pull"] if name not in unusable]
        if not pulled and not netvisor_values:
            return dict(vals, action="unchanged", message=" ".join(notes) or False)
        changes = []
        if pulled:
            changes.append(self.env._("Odoo ← Netvisor: %(fields)s", fields=", ".join(
                f"{label(n)} ({show(plan['odoo'].get(n))} → {show(plan['netvisor'].get(n))})" for n in pulled)))
        if netvisor_values:
            changes.append(self.env._("Netvisor ← Odoo: %(fields)s", fields=", ".join(
                f"{label(n)} ({show(plan['netvisor'].get(n))} → {show(plan['odoo'].get(n))})"
                for n in plan["push"])))
        target = "both" if pulled and netvisor_values else ("odoo" if pulled else "netvisor")
        return dict(vals, action="update", target=target, fields_changed="; ".join(changes),
                    odoo_values=odoo_values if pulled else False,
                    netvisor_values=netvisor_values or False, message=" ".join(notes) or False)

    @api.model
    def _netvisor_value_usable(self, name, odoo_values):
        """Whether a pulled field found an Odoo value (a country, a tax, a unit of measure)."""
        target = {"country": "country_id", "unit": "uom_id", "vat_percent": "taxes_id"}.get(name)
        return target is None or target in odoo_values

    # ------------------------------------------------------------------ products: plan

    def _netvisor_product_scope(self, company, links):
        Product = self.env["product.product"].with_context(active_test=False)
        return Product.search([
            ("company_id", "in", [False, company.id]),
            "|", "&", "&", ("sale_ok", "=", True), ("active", "=", True), ("product_tmpl_id.active", "=", True),
            ("id", "in", list(links)),
        ])

    def _netvisor_plan_products(self, client):
        company = self.company_id
        Product = self.env["product.product"].with_context(active_test=False)
        import_date, export_date = self._netvisor_dates()
        links = self._netvisor_live_links("product.product")
        key_links = {link.netvisor_key: link for link in links.values()}

        if import_date:
            rows = nv_products.list_products(client, changed_since=import_date - CHANGED_SINCE_MARGIN)
            all_rows = None
        else:
            rows = all_rows = nv_products.list_products(client)
        changed_keys = {row.netvisor_key for row in rows}
        pending_keys = self._netvisor_pending_keys()
        wanted = list(changed_keys) + [key for key in pending_keys if key not in changed_keys]
        details = {p.netvisor_key: p for p in nv_products.get_products(client, keys=wanted)}

        scope = self._netvisor_product_scope(company, links)
        pending = {key_links[k].res_id for k in pending_keys if k in key_links}
        if export_date:
            changed = set(Product.search([
                ("id", "in", scope.ids), "|", ("write_date", ">", export_date),
                ("product_tmpl_id.write_date", ">", export_date)]).ids)
            odoo_ids = [pid for pid in scope.ids if pid not in links or pid in changed or pid in pending]
        else:
            odoo_ids = scope.ids

        pairs = []
        paired_products = set()
        paired_keys = set()
        by_code = None
        unlinked = []
        for key in wanted:
            if key not in details:
                continue
            link = key_links.get(key)
            product = Product.browse(link.res_id).exists() if link else Product
            if product:
                pairs.append({"product": product, "key": key, "link": link})
                paired_products.add(product.id)
                paired_keys.add(key)
            else:
                unlinked.append(key)
        if unlinked:
            by_code = self._netvisor_product_index(company)
            claims = defaultdict(list)
            for key in unlinked:
                code = details[key].code
                candidates = Product.browse(by_code.get(code, [])) if code else Product
                pair = {"product": Product, "key": key, "link": None}
                if len(candidates) > 1:
                    pair["conflict"] = self.env._(
                        "Product code %(code)s is used by %(count)s Odoo products (%(names)s); the right one is "
                        "not guessed.", code=code, count=len(candidates),
                        names=", ".join(candidates.mapped("display_name")))
                    paired_products.update(candidates.ids)  # listed here, not again on their own
                elif candidates:
                    pair["product"] = candidates
                    if candidates.id in links and links[candidates.id].netvisor_key != key:
                        pair["conflict"] = self.env._(
                            "Matches %(product)s, which is already linked to Netvisor product %(other)s.",
                            product=candidates.display_name, other=links[candidates.id].netvisor_key)
                    else:
                        claims[candidates.id].append(pair)
                pairs.append(pair)
                paired_keys.add(key)
            for product_id, claimed in claims.items():
                if len(claimed) > 1:
                    for pair in claimed:
                        pair["conflict"] = self.env._(
                            "Netvisor products %(keys)s all match %(product)s; the right one is not guessed.",
                            keys=", ".join(p["key"] for p in claimed), product=pair["product"].display_name)
                paired_products.add(product_id)

        rest = Product.browse([pid for pid in odoo_ids if pid not in paired_products])
        to_match = rest.filtered(lambda p: p.id not in links)
        for product in rest - to_match:
            pairs.append({"product": product, "key": links[product.id].netvisor_key, "link": links[product.id]})
        if to_match:
            if all_rows is None:
                all_rows = nv_products.list_products(client)
            nv_by_code = defaultdict(list)
            for row in all_rows:
                if row.code:
                    nv_by_code[row.code].append(row.netvisor_key)
            claims = defaultdict(list)
            for product in to_match:
                code = (product.default_code or "").strip()
                keys = nv_by_code.get(code, []) if code else []
                pair = {"product": product, "key": False, "link": None}
                if len(keys) > 1:
                    pair["conflict"] = self.env._(
                        "Product code %(code)s is used by %(count)s Netvisor products (%(keys)s); the right one is "
                        "not guessed.", code=code, count=len(keys), keys=", ".join(keys))
                elif keys:
                    pair["key"] = keys[0]
                    if keys[0] in key_links or keys[0] in paired_keys:
                        pair["conflict"] = self.env._(
                            "Matches Netvisor product %(key)s, which is already paired with another Odoo product.",
                            key=keys[0])
                    else:
                        claims[keys[0]].append(pair)
                pairs.append(pair)
            for key, claimed in claims.items():
                if len(claimed) > 1:
                    for pair in claimed:
                        pair["conflict"] = self.env._(
                            "Odoo products %(names)s all have the code of Netvisor product %(key)s.",
                            names=", ".join(p["product"].display_name for p in claimed), key=key)
        missing = [p["key"] for p in pairs if p["key"] and p["key"] not in details]
        for product in nv_products.get_products(client, keys=missing):
            details[product.netvisor_key] = product

        context = ProductContext(self.env, company)
        return [self._netvisor_product_line(pair, details, changed_keys, context) for pair in pairs]

    def _netvisor_product_index(self, company):
        products = self.env["product.product"].with_context(active_test=False).search([
            ("default_code", "!=", False), ("company_id", "in", [False, company.id])])
        by_code = defaultdict(list)
        for product in products:
            by_code[product.default_code.strip()].append(product.id)
        return by_code

    def _netvisor_product_line(self, pair, details, changed_keys, context):
        company = self.company_id
        product, key, link = pair["product"], pair["key"], pair["link"]
        nv = details.get(key) if key else None
        vals = {
            "product_id": product.id,
            "netvisor_key": key or False,
            "netvisor_name": nv.name if nv else False,
            "netvisor_code": nv.code if nv else False,
            "record_name": product.display_name if product else (nv.name if nv else False),
            "link_needed": bool(product and nv and not link),
        }
        if pair.get("conflict"):
            return dict(vals, action="conflict", message=pair["conflict"], link_needed=False)
        if not product:
            if not self._netvisor_imports():
                return dict(vals, action="unchanged",
                            message=self.env._("Only in Netvisor; not imported in this direction."))
            if not nv.is_active:
                return dict(vals, action="unchanged", message=self.env._("Inactive in Netvisor; not imported."))
            values, notes = context.new_product_values(nv)
            values["company_id"] = company.id  # this company's product: not sent to another company's Netvisor
            return dict(vals, action="create", target="odoo", fields_changed=self.env._("new product"),
                        odoo_values=values, message=" ".join(notes) or False)
        data = product._netvisor_product_data(company, check=False, group=nv.group if nv else None,
                                              vat_cache=context.vat_cache)
        if not nv:
            note = self.env._("Linked Netvisor product %(key)s no longer exists; ", key=key) if key else ""
            if not self._netvisor_exports():
                return dict(vals, action="unchanged", netvisor_key=False,
                            message=note + self.env._("Only in Odoo; not sent in this direction."))
            try:
                product._netvisor_product_data(company, check=True, vat_cache=context.vat_cache)
            except UserError as error:
                return dict(vals, action="error", netvisor_key=False, message=error.args[0])
            return dict(vals, action="create", target="netvisor", netvisor_key=False,
                        fields_changed=self.env._("new product"), message=note or False,
                        netvisor_values={k: _json_value(v) for k, v in data.items()})
        netvisor = context.comparable(nv, data["price_type"])
        odoo = dict(data, unit_price=context.round_price(data["unit_price"]))
        write_date = max(product.write_date, product.product_tmpl_id.write_date)
        odoo_changed = not link or not link.sync_date or write_date > link.sync_date
        plan = self._netvisor_compare(SYNCED_PRODUCT_FIELDS, odoo, netvisor, product_field_equal, odoo_changed,
                                      key in changed_keys)

        def build(pull, push):
            odoo_values = context.product_values(product, nv, netvisor, pull)
            # an edit carries Netvisor's required elements again: its own values, Odoo's where pushed
            edit = {
                "code": nv.code, "group": nv.group or data["group"], "name": nv.name,
                "unit_price": netvisor["unit_price"] if netvisor["unit_price"] is not None else data["unit_price"],
                "price_type": data["price_type"] if netvisor["unit_price"] is not None else data["price_type"],
                "is_active": nv.is_active, "is_sales_product": nv.is_sales_product,
            }
            for name in push:
                edit[name] = data[name]
            problem = product._netvisor_product_problem(edit, names=push) if push else None
            return odoo_values, edit, problem

        line = self._netvisor_pair_line(vals, plan, product._netvisor_field_label, build)
        if line.get("netvisor_values"):
            # the whole edit document, not only the pushed fields
            _odoo_values, edit, _problem = build([], plan["push"])
            line["netvisor_values"] = {k: _json_value(v) for k, v in edit.items()}
        return line

    # ------------------------------------------------------------------ business: apply

    def _netvisor_apply(self):
        """Carry out the preview: Odoo creates (batched) and updates, then Netvisor creates and
        edits, one record at a time; a failure is recorded on its line and in the Netvisor log
        and never stops the others. Records created in Odoo here are not sent back.

        The lines are read once into plain rows: the commits between records empty the ORM
        cache, and re-reading thousands of lines after each one would make the run quadratic."""
        self.ensure_one()
        company = self.company_id
        client = self._netvisor_client()
        run = self.env["netvisor.run"]._netvisor_start(
            company, self._netvisor_flow(), trigger=self.env.context.get("netvisor_trigger", "manual"))
        model = "res.partner" if self.sync_type == "customer" else "product.product"
        record_field = "partner_id" if self.sync_type == "customer" else "product_id"
        rows = self.line_ids.read([
            "action", "target", "netvisor_key", "netvisor_code", "netvisor_name", "record_name", record_field,
            "odoo_values", "netvisor_values", "link_needed", "held"], load=None)
        for row in rows:
            row.update(record_id=row[record_field] or False, result=False, result_message=False, changed=False)
        Model = self.env[model].with_context(active_test=False)

        self._netvisor_apply_odoo_creates(
            [r for r in rows if r["action"] == "create" and r["target"] == "odoo"], Model)
        company._netvisor_commit()
        for row in rows:
            if row["action"] != "update" or row["target"] not in ("odoo", "both"):
                continue
            try:
                with self.env.cr.savepoint():
                    self._netvisor_write_odoo(Model.browse(row["record_id"]), row["odoo_values"] or {})
                row["result"] = "done" if row["target"] == "odoo" else False
            except Exception as error:  # noqa: BLE001 - any failure stays on its line
                self._netvisor_fail(row, error, model, direction="in")
        company._netvisor_commit()
        Link = self.env["netvisor.link"]
        for row in rows:
            if (row["target"] not in ("netvisor", "both") or row["action"] not in ("create", "update")
                    or row["result"] == "failed"):
                continue
            client.context = {"res_model": model, "res_id": row["record_id"]}
            try:
                key = self._netvisor_send(client, row)
                if row["action"] == "create":
                    with self.env.cr.savepoint():
                        Link._netvisor_set_link(company, Model.browse(row["record_id"]), key,
                                                code=(row["netvisor_values"] or {}).get("code") or None,
                                                sync_date=fields.Datetime.now())
                    row.update(netvisor_key=key, changed=True)
                row["result"] = "done"
            except Exception as error:  # noqa: BLE001
                self._netvisor_fail(row, error, model, direction="out")
            company._netvisor_commit()
        self._netvisor_apply_links(rows, model)
        if self.sync_type == "customer":
            self._netvisor_fetch_automatic_codes(client, rows)
        self._netvisor_store_results(rows, record_field)
        self._netvisor_finish(rows)
        run._netvisor_finish(
            done=len([r for r in rows if r["result"] == "done"]),
            skipped=len([r for r in rows if r["action"] == "unchanged"]),
            failed=len([r for r in rows if r["action"] in ("conflict", "error") or r["result"] == "failed"]),
            message=self.summary)

    def _netvisor_apply_odoo_creates(self, rows, Model):
        for start in range(0, len(rows), CREATE_BATCH):
            chunk = rows[start:start + CREATE_BATCH]
            try:
                with self.env.cr.savepoint():
                    records = Model.create([row["odoo_values"] for row in chunk])
                for row, record in zip(chunk, records, strict=True):
                    row.update(record_id=record.id, result="done", changed=True)
            except Exception:  # noqa: BLE001 - fall back to one at a time to find the culprit
                for row in chunk:
                    try:
                        with self.env.cr.savepoint():
                            record = Model.create(row["odoo_values"])
                        row.update(record_id=record.id, result="done", changed=True)
                    except Exception as error:  # noqa: BLE001
                        self._netvisor_fail(row, error, Model._name, direction="in")
            self.company_id._netvisor_commit()

    @api.model
    def _netvisor_write_odoo(self, record, values):
        values = dict(values)
        if record._name == "product.product" and "active" in values and record.product_variant_count == 1:
            record.product_tmpl_id.active = values.pop("active")
        if record._name == "product.product" and "uom_id" in values:
            values["uom_po_id"] = values["uom_id"]
        if values:
            record.write(values)

    def _netvisor_send(self, client, row):
        """Create or edit the Netvisor record of a row; returns its key."""
        values = dict(row["netvisor_values"] or {})
        for name in DECIMAL_FIELDS:
            if values.get(name) not in (None, ""):
                values[name] = Decimal(str(values[name]))
        if self.sync_type == "customer":
            if row["action"] == "create":
                return nv_customers.add_customer(client, values)
            return nv_customers.edit_customer(client, row["netvisor_key"], values)
        if row["action"] == "create":
            return nv_products.add_product(client, values)
        return nv_products.edit_product(client, row["netvisor_key"], values)

    def _netvisor_fail(self, row, error, model, direction="out"):
        company = self.company_id
        if isinstance(error, nv_errors.NetvisorError):
            message = company._netvisor_error_message(error)
            category = error.category
        elif isinstance(error, UserError):
            message, category = error.args[0], "VALIDATION"
        else:
            message, category = str(error), "ERROR"
        name = row["record_name"] or row["netvisor_name"] or row["netvisor_key"]
        message = self.env._("%(record)s: %(message)s", record=name, message=message)
        row.update(result="failed", result_message=message)
        record = self.env[model].browse(row["record_id"]) if row["record_id"] else None
        self.env["netvisor.log"]._log_record_error(
            company, self._netvisor_flow(), record, message, category=category, direction=direction)

    def _netvisor_fetch_automatic_codes(self, client, rows):
        """Customers created without a code got Netvisor's next free one: bring it into Odoo."""
        created = [r for r in rows if r["action"] == "create" and r["target"] == "netvisor" and r["result"] == "done"
                   and (r["netvisor_values"] or {}).get("automatic_code")]
        if not created:
            return
        client.context = {}
        try:
            codes = {c.netvisor_key: c.code for c in nv_customers.get_customers(
                client, [r["netvisor_key"] for r in created])}
        except nv_errors.NetvisorError:
            return  # the next sync fills them in
        partners = self.env["res.partner"].browse([r["record_id"] for r in created])
        links = self.env["netvisor.link"]._netvisor_links(self.company_id, "res.partner", partners.ids)
        for row in created:
            partner = partners.browse(row["record_id"])
            code = codes.get(row["netvisor_key"])
            if code and not partner.ref:
                with self.env.cr.savepoint():
                    partner.ref = code
                    links[partner.id].netvisor_code = code

    def _netvisor_apply_links(self, rows, model):
        """Store the links of new and newly matched pairs and date the synced ones."""
        company = self.company_id
        Link = self.env["netvisor.link"].sudo()
        now = fields.Datetime.now()
        to_create = [r for r in rows if r["result"] != "failed" and r["record_id"] and r["netvisor_key"] and (
            r["link_needed"] and r["action"] in ("update", "unchanged")
            or r["action"] == "create" and r["target"] == "odoo")]
        # links left behind by records deleted outside the ORM would block their key
        keys = [r["netvisor_key"] for r in to_create]
        if keys:
            stale = Link.search([("company_id", "=", company.id), ("res_model", "=", model),
                                 ("netvisor_key", "in", keys)])
            existing = set(self.env[model].with_context(active_test=False).browse(stale.mapped("res_id")).exists().ids)
            stale.filtered(lambda link: link.res_id not in existing).unlink()
        # a pair is dated "synced" unless this run's direction held some of its changes back
        values = [{
            "company_id": company.id, "res_model": model, "res_id": r["record_id"], "netvisor_key": r["netvisor_key"],
            "netvisor_code": r["netvisor_code"] or False, "sync_date": False if r["held"] else now,
        } for r in to_create]
        for start in range(0, len(values), CREATE_BATCH):
            chunk = values[start:start + CREATE_BATCH]
            try:
                with self.env.cr.savepoint():
                    Link.create(chunk)
            except Exception:  # noqa: BLE001
                for vals, row in zip(chunk, to_create[start:start + CREATE_BATCH], strict=True):
                    try:
                        with self.env.cr.savepoint():
                            Link.create(vals)
                    except Exception as error:  # noqa: BLE001
                        self._netvisor_fail(row, error, model, direction="in")
        record_ids = [r["record_id"] for r in rows if r["action"] in ("update", "unchanged") and r["result"] != "failed"
                      and r["netvisor_key"] and r["record_id"] and not r["link_needed"] and not r["held"]]
        for start in range(0, len(record_ids), 5000):
            Link.search([("company_id", "=", company.id), ("res_model", "=", model),
                         ("res_id", "in", record_ids[start:start + 5000])]).write({"sync_date": now})
        company._netvisor_commit()

    def _netvisor_store_results(self, rows, record_field):
        Line = self.env["netvisor.sync.wizard.line"]
        done = []
        for row in rows:
            if row["result"] == "failed" or row["changed"]:
                Line.browse(row["id"]).write({
                    "result": row["result"], "result_message": row["result_message"],
                    record_field: row["record_id"], "netvisor_key": row["netvisor_key"]})
            elif row["result"] == "done":
                done.append(row["id"])
        Line.browse(done).write({"result": "done"})

    def _netvisor_finish(self, rows):
        company = self.company_id
        prefix = f"netvisor_{self.sync_type}"
        problems = {r["netvisor_key"] for r in rows
                    if r["netvisor_key"] and (r["action"] in ("conflict", "error") or r["result"] == "failed")}
        values = {f"{prefix}_pending_keys": ",".join(sorted(problems)) or False}
        if self._netvisor_imports():
            values[f"{prefix}_import_date"] = self.started_at
        if self._netvisor_exports():
            values[f"{prefix}_export_date"] = self.started_at
        company.sudo().write(values)
        self.write({"state": "done", "summary": self._netvisor_summary()})

    def _netvisor_summary(self):
        self.ensure_one()
        lines = self.line_ids
        done = lines.filtered(lambda ln: ln.result == "done")
        failed = lines.filtered(lambda ln: ln.result == "failed")

        def count(action, target=None):
            return len(done.filtered(lambda ln: ln.action == action and (not target or ln.target in target)))

        return self.env._(
            "Created in Odoo: %(odoo_new)s, created in Netvisor: %(nv_new)s, updated in Odoo: %(odoo_upd)s, "
            "updated in Netvisor: %(nv_upd)s, unchanged: %(unchanged)s, conflicts: %(conflicts)s, "
            "errors: %(errors)s, failed: %(failed)s.",
            odoo_new=count("create", ("odoo",)), nv_new=count("create", ("netvisor",)),
            odoo_upd=count("update", ("odoo", "both")), nv_upd=count("update", ("netvisor", "both")),
            unchanged=len(lines.filtered(lambda ln: ln.action == "unchanged")),
            conflicts=len(lines.filtered(lambda ln: ln.action == "conflict")),
            errors=len(lines.filtered(lambda ln: ln.action == "error")), failed=len(failed))


# ---------------------------------------------------------------------- helpers


def is_empty(value):
    """Empty for the sync: None, blank text, a zero price. A boolean is never empty."""
    if isinstance(value, bool):
        return False
    if value is None:
        return True
    if isinstance(value, Decimal):
        return value == 0
    return not str(value).strip()


def address_key(name, street, zip_code):
    return normalize_text(name), normalize_text(street), normalize_zip(zip_code)


def product_field_equal(name, left, right):
    if name in ("unit_price", "vat_percent"):
        if left is None or right is None:
            return left is None and right is None
        return Decimal(str(left)) == Decimal(str(right))
    if name == "is_active":
        return bool(left) == bool(right)
    if name == "unit":
        return normalize_text(left) == normalize_text(right)
    if name == "code":
        return (left or "").strip() == (right or "").strip()
    return normalize_text(left) == normalize_text(right)


class PartnerIndex:
    def __init__(self, partners, by_business_id, by_address):
        self.partners = partners
        self.by_business_id = by_business_id
        self.by_address = by_address

    def candidates(self, customer):
        """Odoo partners that could be this Netvisor customer: same business ID, else (no
        partner with it) same name + address among partners without business ID."""
        ids = []
        if customer.business_id:
            ids = self.by_business_id.get(normalize_zip(customer.business_id), [])
        if not ids:
            ids = self.by_address.get(address_key(customer.name, customer.street, customer.zip), [])
        return self.partners.browse(ids)


class ProductContext:
    """Caches of one product sync: price rounding, VAT percent <-> tax, units by name."""

    def __init__(self, env, company):
        self.env = env
        self.company = company
        self.digits = env["decimal.precision"].precision_get("Product Price")
        self.vat_cache = {}
        self._taxes = {}
        self._uoms = None
        sale_tax = company.account_sale_tax_id
        self.default_gross = bool(sale_tax and sale_tax.price_include)

    def round_price(self, value):
        if value is None:
            return None
        return Decimal(str(float_round(float(value), precision_digits=self.digits)))

    def comparable(self, nv, price_type):
        """The Netvisor product as the sync compares it: the price of Odoo's kind (net/gross)."""
        net = nv.unit_price if nv.price_type == "net" else None
        gross = nv.unit_gross_price if nv.price_type == "net" else nv.unit_price
        price = gross if price_type == "gross" else net
        if price is None and price_type == "net" and nv.unit_gross_price is None and nv.vat_percent is not None:
            price = nv.unit_price / (1 + nv.vat_percent / 100)
        return {
            "code": nv.code, "name": nv.name, "unit_price": self.round_price(price), "unit": nv.unit,
            "vat_percent": nv.vat_percent.normalize() if nv.vat_percent is not None else None,
            "primary_ean": nv.primary_ean, "is_active": nv.is_active,
        }

    def tax(self, percent):
        key = Decimal(str(percent)).normalize()
        if key not in self._taxes:
            try:
                self._taxes[key] = self.env["netvisor.vat.mapping"]._netvisor_tax_for_vat(
                    self.company, "KOMY", float(key), "sale")
            except UserError:
                self._taxes[key] = self.env["account.tax"]
        return self._taxes[key]

    def uom(self, name):
        if self._uoms is None:
            self._uoms = {}
            for uom in self.env["uom.uom"].search([]):
                self._uoms.setdefault(normalize_text(uom.name), uom)
        return self._uoms.get(normalize_text(name))

    def product_values(self, product, nv, netvisor, names):
        values = {}
        for name in names:
            if name == "code":
                values["default_code"] = nv.code
            elif name == "name":
                values["name"] = nv.name
            elif name == "unit_price":
                values["lst_price"] = float(netvisor["unit_price"])
            elif name == "primary_ean":
                values["barcode"] = nv.primary_ean
            elif name == "is_active":
                values["active"] = nv.is_active
            elif name == "unit":
                uom = self.uom(nv.unit)
                if uom:
                    values["uom_id"] = uom.id
            elif name == "vat_percent":
                tax = self.tax(nv.vat_percent)
                if tax:
                    others = product.taxes_id - product.taxes_id._filter_taxes_by_company(self.company)
                    values["taxes_id"] = [(6, 0, (others | tax).ids)]
        return values

    def new_product_values(self, nv):
        notes = []
        tax = self.tax(nv.vat_percent) if nv.vat_percent is not None else self.env["account.tax"]
        gross = bool(tax.price_include) if tax else self.default_gross
        price = nv.unit_gross_price if gross and nv.price_type == "net" else nv.unit_price
        if gross and nv.price_type == "net" and price is None:
            price = nv.unit_price
        values = {
            "name": nv.name,
            "default_code": nv.code or False,
            "list_price": float(self.round_price(price or 0)),
            "barcode": nv.primary_ean or False,
            "sale_ok": nv.is_sales_product,
        }
        if tax:
            values["taxes_id"] = [(6, 0, tax.ids)]
        elif nv.vat_percent is not None:
            notes.append(self.env._("No Odoo sales tax for VAT %(percent)s %%; the default tax is used.",
                           percent=nv.vat_percent))
        uom = self.uom(nv.unit) if nv.unit else None
        if uom:
            values["uom_id"] = uom.id
            values["uom_po_id"] = uom.id
        elif nv.unit:
            notes.append(self.env._("No Odoo unit of measure called %(unit)s; the default unit is used.", unit=nv.unit))
        return values, notes


class NetvisorSyncWizardLine(models.TransientModel):
    _name = "netvisor.sync.wizard.line"
    _description = "Netvisor Sync Preview Line"
    _order = "sequence_action, id"

    wizard_id = fields.Many2one("netvisor.sync.wizard", required=True, ondelete="cascade", index=True)
    action = fields.Selection(ACTIONS, required=True)
    sequence_action = fields.Integer(compute="_compute_sequence_action", store=True)
    target = fields.Selection(TARGETS, string="Written In")
    partner_id = fields.Many2one("res.partner", string="Odoo Partner", ondelete="cascade")
    product_id = fields.Many2one("product.product", string="Odoo Product", ondelete="cascade")
    record_name = fields.Char(string="Record")
    netvisor_key = fields.Char(string="Netvisor Key")
    netvisor_code = fields.Char(string="Netvisor Code")
    netvisor_name = fields.Char(string="Netvisor Name")
    fields_changed = fields.Text(string="Changes")
    message = fields.Text()
    odoo_values = fields.Json(prefetch=False)
    netvisor_values = fields.Json(prefetch=False)
    link_needed = fields.Boolean()
    held = fields.Boolean(help="Some changes of this pair go the way this run's direction excludes.")
    result = fields.Selection([("done", "Done"), ("failed", "Failed")], readonly=True)
    result_message = fields.Text(readonly=True)

    @api.depends("action")
    def _compute_sequence_action(self):
        order = {"error": 0, "conflict": 1, "create": 2, "update": 3, "unchanged": 4}
        for line in self:
            line.sequence_action = order.get(line.action, 9)

    # ------------------------------------------------------------------ business

    def _netvisor_record(self):
        self.ensure_one()
        return self.partner_id if self.wizard_id.sync_type == "customer" else self.product_id.with_context(
            active_test=False)
