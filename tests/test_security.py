"""Access to the module's models, actions and keys: accounting users, two companies, portal/public."""

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import NetvisorTestCommon

KEY_FIELDS = ("netvisor_partner_key", "netvisor_customer_key")
SYSTEM_FIELDS = KEY_FIELDS + ("netvisor_partner_id", "netvisor_customer_id", "netvisor_base_url")

ORG_B = "1234567-1"
PARTNER_KEY_B = "pk-B-9f3Qz7LmX2vT"
CUSTOMER_KEY_B = "ck-B-4hR8wNs1KpY6"

# every concrete model of the module; a new model must be added here (and to the checks)
MODULE_MODELS = {
    "netvisor.log", "netvisor.run", "netvisor.flow", "netvisor.vat.mapping", "netvisor.link",
    "netvisor.payroll.mapping", "netvisor.dimension.mapping", "netvisor.xml.preview",
    "netvisor.import.summary", "netvisor.sync.wizard", "netvisor.sync.wizard.line",
}
# what a plain accounting user (account.group_account_invoice) may do on each model
INVOICE_USER_ACCESS = {
    "netvisor.log": "r",
    "netvisor.run": "r",
    "netvisor.flow": "r",
    "netvisor.vat.mapping": "r",
    "netvisor.link": "r",
    "netvisor.dimension.mapping": "r",
    "netvisor.payroll.mapping": "",
    "netvisor.xml.preview": "rwc",
    "netvisor.import.summary": "",
    "netvisor.sync.wizard": "",
    "netvisor.sync.wizard.line": "",
}
OPERATIONS = {"r": "read", "w": "write", "c": "create", "u": "unlink"}


@tagged("post_install", "-at_install")
class TestNetvisorSecurity(NetvisorTestCommon):

    sandbox_data = {"purchase_invoices": []}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        # company B: its own sandbox organisation and keys
        cls.company_b = cls.setup_other_company(name="Yhtiö B Oy")["company"]
        cls.sandbox.state.add_partner("PARTNER-B", PARTNER_KEY_B)
        cls.org_b = cls.sandbox.state.add_organisation(ORG_B, "CUSTOMER-B", CUSTOMER_KEY_B, name="Yhtiö B Oy")
        cls.company_b.write({
            "netvisor_partner_id": "PARTNER-B", "netvisor_partner_key": PARTNER_KEY_B,
            "netvisor_customer_id": "CUSTOMER-B", "netvisor_customer_key": CUSTOMER_KEY_B,
            "netvisor_organisation_id": ORG_B, "netvisor_base_url": cls.sandbox.base_url,
        })
        groups = "base.group_user,account.group_account_invoice,base.group_allow_export"
        cls.user_a = new_test_user(env, login="nv_invoice_a", groups=groups, company_id=cls.company.id,
                                   company_ids=[Command.set(cls.company.ids)])
        cls.user_b = new_test_user(env, login="nv_invoice_b", groups=groups, company_id=cls.company_b.id,
                                   company_ids=[Command.set(cls.company_b.ids)])
        manager_groups = "base.group_user,account.group_account_manager"
        cls.manager_b = new_test_user(env, login="nv_manager_b", groups=manager_groups, company_id=cls.company_b.id,
                                      company_ids=[Command.set(cls.company_b.ids)])
        cls.portal = new_test_user(env, login="nv_portal", groups="base.group_portal", company_id=cls.company.id)
        cls.public = env.ref("base.public_user").sudo()

        # sales data of company A
        tax_group = env["account.tax.group"].create({"name": "ALV", "company_id": cls.company.id})
        cls.tax = env["account.tax"].create({
            "name": "ALV 25,5 %", "amount": 25.5, "type_tax_use": "sale", "company_id": cls.company.id,
            "tax_group_id": tax_group.id})
        cls.product = env["product.product"].create({
            "name": "Tuote", "default_code": "TUOTE1", "list_price": 10.0, "taxes_id": [Command.set(cls.tax.ids)]})
        cls.company.netvisor_sales_default_product_id = cls.product
        cls.customer = env["res.partner"].create({
            "name": "Asiakas Oy", "is_company": True, "company_registry": "0737546-2", "ref": "ASIAKAS1",
            "street": "Katu 1", "zip": "00100", "city": "Helsinki", "country_id": env.ref("base.fi").id})

        # one record of every stored model for each company
        cls.records = {}
        env = env(su=True)
        linked_partner = env["res.partner"].create({"name": "Linkitetty Oy"})
        for company in (cls.company, cls.company_b):
            log = env["netvisor.log"].create({
                "company_id": company.id, "flow": "connection", "state": "error", "error_message": "x"})
            run = env["netvisor.run"]._netvisor_start(company, "connection")._netvisor_finish(done=1)
            env["netvisor.flow"]._netvisor_ensure_rows(company)
            flow = env["netvisor.flow"].search([("company_id", "=", company.id), ("flow", "=", "sales_send")])
            link = env["netvisor.link"].create({
                "company_id": company.id, "res_model": "res.partner", "res_id": linked_partner.id,
                "netvisor_key": "77"})
            vat = env["netvisor.vat.mapping"].create({
                "company_id": company.id, "netvisor_vat_code": "KOMY", "netvisor_vat_percent": 25.5,
                "tax_id": env["account.tax"].search([("company_id", "=", company.id),
                                                     ("type_tax_use", "=", "sale")], limit=1).id})
            analytic_plan = env["account.analytic.plan"].create({"name": f"Projektit {company.id}"})
            analytic = env["account.analytic.account"].create({
                "name": "P1", "plan_id": analytic_plan.id, "company_id": company.id})
            dimension = env["netvisor.dimension.mapping"].create({
                "company_id": company.id, "dimension_name": "Projekti", "dimension_item": "P1",
                "analytic_account_id": analytic.id})
            summary = env["netvisor.import.summary"].create({"company_id": company.id, "state": "done"})
            wizard = env["netvisor.sync.wizard"].with_company(company).create({"company_id": company.id})
            line = env["netvisor.sync.wizard.line"].create({
                "wizard_id": wizard.id, "action": "unchanged", "record_name": "x"})
            cls.records[company.id] = {
                "netvisor.log": log, "netvisor.run": run, "netvisor.flow": flow, "netvisor.link": link,
                "netvisor.vat.mapping": vat, "netvisor.dimension.mapping": dimension,
                "netvisor.import.summary": summary, "netvisor.sync.wizard": wizard,
                "netvisor.sync.wizard.line": line,
            }

    def setUp(self):
        super().setUp()
        self.sandbox.state.requests.clear()

    def invoice(self, company=None, user=None):
        company = company or self.company
        env = self.env(user=user) if user else self.env
        move = env["account.move"].with_company(company).create({
            "move_type": "out_invoice",
            "partner_id": self.customer.id,
            "invoice_date": fields.Date.from_string("2026-05-04"),
            "invoice_line_ids": [Command.create({"product_id": self.product.id, "quantity": 2, "price_unit": 10.0,
                                                "tax_ids": [Command.set(self.tax.ids)]})],
        })
        move.action_post()
        return move

    # ------------------------------------------------------------------ inventory

    def test_every_model_is_covered(self):
        models = {name for name, model in self.env.registry.items()
                  if name.startswith("netvisor.") and not model._abstract}
        self.assertEqual(models, MODULE_MODELS, "a model of the module has no access test: add it here")
        acl_models = set(self.env["ir.model.access"].search([
            ("model_id.model", "like", "netvisor.%")]).mapped("model_id.model"))
        self.assertEqual(acl_models, MODULE_MODELS, "every model has an access rule in ir.model.access.csv")

    def test_invoice_user_model_access(self):
        for model, allowed in INVOICE_USER_ACCESS.items():
            for letter, operation in OPERATIONS.items():
                with self.subTest(model=model, operation=operation):
                    self.assertEqual(self.env[model].with_user(self.user_a).has_access(operation), letter in allowed)

    # ------------------------------------------------------------------ keys

    def test_invoice_user_cannot_read_keys(self):
        company = self.company.with_user(self.user_a)
        Company = self.env["res.company"].with_user(self.user_a)
        description = Company.fields_get()
        for name in SYSTEM_FIELDS:
            with self.subTest(field=name):
                self.assertNotIn(name, description)
                with self.assertRaises(AccessError):
                    company.read([name])
                with self.assertRaises(AccessError):
                    Company.search_read([("id", "=", self.company.id)], [name])
                with self.assertRaises(AccessError):
                    Company.search([(name, "!=", False)])
                with self.assertRaises(AccessError):
                    company.export_data([name])
                self.env.invalidate_all()
                with self.assertRaises(AccessError):
                    company[name]  # noqa: B018
        # reading "everything" leaves the keys out
        for values in company.read() + Company.search_read([("id", "=", self.company.id)]):
            self.assertFalse(set(SYSTEM_FIELDS) & set(values))
            self.assert_no_secret(repr(values))
        self.assertTrue(company.netvisor_configured, "the user still knows that Netvisor is configured")
        # company B's keys neither
        self.assert_no_secret(repr(company.export_data(["name", "netvisor_organisation_id"])))

    def test_settings_admin_only(self):
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.user_a).create({})
        for name in SYSTEM_FIELDS:
            self.assertEqual(self.env["res.config.settings"]._fields[name].groups, "base.group_system")
            self.assertEqual(self.env["res.company"]._fields[name].groups, "base.group_system")
            self.assertFalse(getattr(self.env["res.company"]._fields[name], "tracking", False))
        # every Netvisor button of the settings, called on an admin's settings record
        settings = self.env["res.config.settings"].create({})
        buttons = [name for name in dir(type(settings)) if name.startswith("action_netvisor")]
        self.assertIn("action_netvisor_test_connection", buttons)
        for name in buttons:
            self.env.invalidate_all()  # as in an RPC call: nothing read by the admin in the cache
            if "_open_" in name:  # only opens a list: the target model's access rights apply there
                try:
                    with mute_logger("odoo.models"):
                        action = getattr(settings.with_user(self.user_a), name)()
                except AccessError:
                    continue
                self.assertEqual(action["type"], "ir.actions.act_window")
                if not self.env[action["res_model"]].with_user(self.user_a).has_access("read"):
                    continue
                self.assertEqual(self.env[action["res_model"]].with_user(self.user_a).search(
                    action.get("domain") or []).company_id, self.company)
                continue
            with self.subTest(button=name), self.assertRaises(AccessError), mute_logger("odoo.models"):
                getattr(settings.with_user(self.user_a), name)()
        self.assertFalse(self.sandbox.state.requests)
        view = self.env.ref("netvisor_integration.res_config_settings_view_form")
        arch = etree.fromstring(view.arch_db)
        app = arch.xpath("//app[@name='netvisor_integration']")
        self.assertEqual(app[0].get("groups"), "base.group_system")
        for name in KEY_FIELDS:
            nodes = arch.xpath(f"//field[@name='{name}']")
            self.assertTrue(nodes, name)
            for node in nodes:
                self.assertEqual(node.get("password"), "True", f"{name} must be a password field")
        # the combined settings form as an admin: the keys are still password fields
        combined = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        for name in KEY_FIELDS:
            for node in etree.fromstring(combined).xpath(f"//field[@name='{name}']"):
                self.assertEqual(node.get("password"), "True")

    def test_keys_not_in_tracking_or_messages(self):
        self.company.write({"netvisor_customer_key": "rotated-key-3Xq9"})
        self.company.write({"netvisor_customer_key": "customer-secret-key-0002"})
        self.env.flush_all()
        for secret in ("rotated-key-3Xq9", "customer-secret-key-0002", "partner-secret-key-0001",
                       PARTNER_KEY_B, CUSTOMER_KEY_B):
            self.assertFalse(self.env["mail.tracking.value"].sudo().search([
                "|", ("old_value_char", "ilike", secret), ("new_value_char", "ilike", secret)]))
            self.assertFalse(self.env["mail.message"].sudo().search([("body", "ilike", secret)]))

    # ------------------------------------------------------------------ what the accounting user does

    def test_invoice_user_sends_invoice(self):
        move = self.invoice(user=self.user_a)
        result = move.with_user(self.user_a).action_send_to_netvisor()
        self.assertEqual(move.netvisor_state, "sent", move.netvisor_error)
        self.assertTrue(move.netvisor_invoice_id)
        self.assertEqual(result["type"], "ir.actions.client")
        self.assert_no_secret(repr(result))
        # preview, log, runs, overview: readable by the user, for company A only
        preview = move.with_user(self.user_a).action_netvisor_preview_xml()
        wizard = self.env["netvisor.xml.preview"].with_user(self.user_a).browse(preview["res_id"])
        self.assertIn("<salesinvoice>", wizard.xml_content.lower())
        self.assert_no_secret(wizard.xml_content)
        logs = self.env["netvisor.log"].with_user(self.user_a).search([])
        self.assertTrue(logs)
        self.assertEqual(logs.company_id, self.company)
        self.assert_no_secret(*[repr(v) for v in logs.read()])
        overview = self.env["netvisor.flow"].with_user(self.user_a).action_open_overview()
        cards = self.env["netvisor.flow"].with_user(self.user_a).search(overview["domain"])
        self.assertEqual(cards.company_id, self.company)
        card = cards.filtered(lambda c: c.flow == "sales_send")
        self.assertEqual(card.last_run_state, "done")
        card.action_open_log()
        card.action_open_runs()
        card.action_open_attention()
        with self.assertRaises(AccessError):
            logs[:1].with_user(self.user_a).write({"error_message": "edited"})
        with self.assertRaises(AccessError):
            logs[:1].with_user(self.user_a).unlink()
        with self.assertRaises(AccessError):
            card.with_user(self.user_a).write({"last_success_date": False})

    def test_invoice_user_sends_expense_report_action_allowed(self):
        action = self.env.ref("netvisor_integration.hr_expense_sheet_action_netvisor_send")
        self.assertIn(self.env.ref("account.group_account_invoice"), action.groups_id)
        action = self.env.ref("netvisor_integration.action_account_move_send_to_netvisor")
        self.assertIn(self.env.ref("account.group_account_invoice"), action.groups_id)

    # ------------------------------------------------------------------ two companies

    def test_company_b_user_sees_nothing_of_company_a(self):
        records_a = self.records[self.company.id]
        records_b = self.records[self.company_b.id]
        for model, record in records_a.items():
            if not record:
                continue
            for user in (self.user_b, self.manager_b):
                if not self.env[model].with_user(user).has_access("read"):
                    continue
                with self.subTest(model=model, user=user.login):
                    found = self.env[model].with_user(user).search([])
                    self.assertNotIn(record, found)
                    if records_b[model]:
                        self.assertIn(records_b[model], found)
                    with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
                        record.with_user(user).read()

    def test_company_b_user_cannot_send_company_a_invoice(self):
        move = self.invoice()
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            move.with_user(self.user_b).action_send_to_netvisor()
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            move.with_user(self.user_b).action_netvisor_preview_xml()
        self.assertEqual(move.netvisor_state, "not_sent")
        self.assertFalse(self.sandbox.state.requests)
        # company A's preview wizard is not readable from company B
        preview = move.with_user(self.user_a).action_netvisor_preview_xml()
        wizard = self.env["netvisor.xml.preview"].browse(preview["res_id"])
        self.sandbox.state.requests.clear()  # the preview looked the customer up in Netvisor
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            wizard.with_user(self.user_b).read(["xml_content"])
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            wizard.with_user(self.user_b).action_send()
        self.assertFalse(self.sandbox.state.requests)
        # nor by switching to company A (not one of the user's companies)
        with self.assertRaises(AccessError):
            self.env["account.move"].with_user(self.manager_b).with_company(self.company).action_netvisor_send_queued()
        card_a = self.records[self.company.id]["netvisor.flow"]
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            card_a.with_user(self.manager_b).action_run_now()
        self.assertFalse(self.sandbox.state.requests)

    def test_each_company_uses_its_own_organisation(self):
        move_a = self.invoice()
        move_a.action_send_to_netvisor()
        self.assertEqual(move_a.netvisor_state, "sent", move_a.netvisor_error)
        orgs = {org for _resource, _method, org, _outcome in self.sandbox.state.requests}
        self.assertEqual(orgs, {self.org.organisation_id})
        self.sandbox.state.requests.clear()
        ok, message = self.company_b._netvisor_test_connection()
        self.assertTrue(ok, message)
        self.assertEqual({org for _r, _m, org, _o in self.sandbox.state.requests}, {ORG_B})
        self.assertEqual(self.env["netvisor.log"].search([("flow", "=", "connection"),
                                                          ("state", "=", "success")]).company_id, self.company_b)

    # ------------------------------------------------------------------ portal and public

    def menu_visible(self, menu, user):
        """ir.ui.menu's own rules (groups of the menu and of every ancestor, read access to
        the action's model), evaluated for ``user`` (who may not read ir.ui.menu at all)."""
        menu = menu.sudo()
        node = menu
        while node:
            if node.groups_id and not (node.groups_id & user.groups_id):
                return False
            node = node.parent_id
        action = menu.action
        model = action and action._name == "ir.actions.act_window" and action.res_model
        return not model or self.env["ir.model.access"].with_user(user).check(model, "read", False)

    def test_portal_and_public_get_nothing(self):
        menus = self.env["ir.model.data"].search([
            ("module", "=", "netvisor_integration"), ("model", "=", "ir.ui.menu")]).mapped("res_id")
        self.assertTrue(menus)
        records = self.records[self.company.id]
        for user in (self.portal, self.public):
            for model in sorted(MODULE_MODELS):
                Model = self.env[model].with_user(user)
                for operation in OPERATIONS.values():
                    with self.subTest(user=user.login, model=model, operation=operation):
                        self.assertFalse(Model.has_access(operation))
                with self.subTest(user=user.login, model=model), mute_logger("odoo.models"):
                    with self.assertRaises(AccessError):
                        Model.search([])
                    if records.get(model):
                        with self.assertRaises(AccessError):
                            records[model].with_user(user).read()
            self.assertFalse([menu.complete_name for menu in self.env["ir.ui.menu"].browse(menus)
                              if self.menu_visible(menu, user)], f"{user.login} sees a Netvisor menu")
            with self.assertRaises(AccessError):
                self.company.with_user(user).read(["netvisor_partner_key"])
            try:
                description = self.env["res.company"].with_user(user).fields_get()
            except AccessError:  # public users cannot even describe companies
                description = {}
            self.assertFalse(set(SYSTEM_FIELDS) & set(description))

    def test_portal_and_public_cannot_run_actions(self):
        """Public model-level actions are callable over RPC by any logged-in user: each refuses
        portal and public users before anything is written or sent to Netvisor."""
        move = self.invoice()
        calls = [
            ("account.move", "action_netvisor_import_purchase_invoices"),
            ("account.move", "action_netvisor_send_queued"),
            ("hr.expense.sheet", "action_netvisor_send_pending"),
            ("hr.payslip", "action_netvisor_send_pending"),
            ("netvisor.flow", "action_open_overview"),
        ]
        if hasattr(type(self.env["account.move"]), "action_netvisor_sync_payments"):  # payment sync merged
            calls.append(("account.move", "action_netvisor_sync_payments"))
        flows_before = self.env["netvisor.flow"].search_count([])
        runs_before = self.env["netvisor.run"].search_count([])
        for user in (self.portal, self.public):
            for model, method in calls:
                with self.subTest(user=user.login, method=method), mute_logger("odoo.models"):
                    with self.assertRaises(AccessError):
                        getattr(self.env[model].with_user(user), method)()
            for method in ("action_send_to_netvisor", "action_resend_to_netvisor", "action_netvisor_preview_xml"):
                with self.subTest(user=user.login, method=method), mute_logger("odoo.models",
                                                                                "odoo.addons.base.models.ir_rule"):
                    with self.assertRaises(AccessError):
                        getattr(move.with_user(user), method)()
            for xmlid in ("netvisor_integration.action_account_move_send_to_netvisor",
                          "netvisor_integration.hr_expense_sheet_action_netvisor_send",
                          "netvisor_integration.hr_payslip_action_netvisor_send",
                          "netvisor_integration.netvisor_overview_server_action"):
                action = self.env.ref(xmlid)
                with self.subTest(user=user.login, action=xmlid), mute_logger("odoo.models",
                                                                              "odoo.addons.base.models.ir_actions"):
                    with self.assertRaises(AccessError):
                        action.with_user(user).with_context(active_model=action.model_id.model,
                                                            active_ids=move.ids, active_id=move.id).run()
        self.assertFalse(self.sandbox.state.requests, "nothing was sent to Netvisor")
        self.assertEqual(self.env["netvisor.flow"].search_count([]), flows_before)
        self.assertEqual(self.env["netvisor.run"].search_count([]), runs_before)
        self.assertEqual(move.netvisor_state, "not_sent")
