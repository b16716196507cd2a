import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

ACCOUNT_NUMBER_RE = re.compile(r"^\d{1,10}$")


class NetvisorPayrollMapping(models.Model):
    """Which Netvisor accounts a salary rule (or a whole rule category) is booked to.

    A payslip line of total T is booked as +T on the debit account and -T on the credit
    account (a negative total, e.g. a deduction computed as -200, therefore credits its
    debit account: the convention of Odoo's payroll accounting). A rule's own row wins over
    its category's, a category's over its parent category's."""

    _name = "netvisor.payroll.mapping"
    _description = "Netvisor Payroll Account Mapping"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    rule_id = fields.Many2one(
        "hr.salary.rule", string="Salary Rule", ondelete="cascade", index=True,
        domain="[('company_id', 'in', (company_id, False))]",
        help="Map this salary rule. Leave empty to map a whole category instead.")
    category_id = fields.Many2one(
        "hr.salary.rule.category", string="Rule Category", ondelete="cascade", index=True,
        domain="[('company_id', 'in', (company_id, False))]",
        help="Map every rule of this category (and of its sub-categories) that has no row of its own.")
    debit_account = fields.Char(string="Debit Account", help="Netvisor account number booked with +total.")
    credit_account = fields.Char(string="Credit Account", help="Netvisor account number booked with -total.")
    employee_dimension = fields.Boolean(
        string="Employee Dimension",
        help="Put the employee as an item of the employee dimension (set in Settings) on these voucher lines.")
    not_booked = fields.Boolean(
        string="Not Booked", default=False,
        help="The rule is known but not booked, e.g. a subtotal such as GROSS that other rules already book.")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("rule_or_category", "CHECK((rule_id IS NULL) != (category_id IS NULL))",
         "A payroll mapping row maps either a salary rule or a rule category, not both."),
        ("rule_company_uniq", "unique(company_id, rule_id)", "A salary rule can be mapped only once per company."),
        ("category_company_uniq", "unique(company_id, category_id)",
         "A rule category can be mapped only once per company."),
    ]

    @api.depends("rule_id", "category_id")
    def _compute_display_name(self):
        for row in self:
            target = row.rule_id or row.category_id
            row.display_name = f"{target.code or ''} {target.name or ''}".strip() if target else _("New")

    @api.constrains("debit_account", "credit_account", "not_booked")
    def _check_accounts(self):
        for row in self:
            for field_name in ("debit_account", "credit_account"):
                value = (row[field_name] or "").strip()
                if value and not ACCOUNT_NUMBER_RE.match(value):
                    raise ValidationError(_(
                        "Netvisor payroll mapping %(row)s: the %(field)s %(value)s is not a Netvisor account number "
                        "(digits only, e.g. 5000).",
                        row=row.display_name, field=row._fields[field_name].string, value=value))
            if not row.not_booked and not (row.debit_account or row.credit_account):
                raise ValidationError(_(
                    "Netvisor payroll mapping %(row)s: set a Debit Account, a Credit Account or both, or tick "
                    "Not Booked.", row=row.display_name))

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._netvisor_strip(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._netvisor_strip(vals))

    @api.model
    def _netvisor_strip(self, vals):
        for name in ("debit_account", "credit_account"):
            if isinstance(vals.get(name), str):
                vals = dict(vals, **{name: vals[name].strip() or False})
        return vals

    # ------------------------------------------------------------------ business

    @api.model
    def _netvisor_mappings(self, company, rules):
        """{rule id: row} for ``rules`` in ``company``: a rule's own row, else its category's,
        else the nearest parent category's. Rules without a row are left out."""
        rows = self.sudo().search([("company_id", "=", company.id)])
        by_rule = {row.rule_id.id: row for row in rows if row.rule_id}
        by_category = {row.category_id.id: row for row in rows if row.category_id}
        result = {}
        for rule in rules:
            row = by_rule.get(rule.id)
            category = rule.category_id
            seen = set()
            while not row and category and category.id not in seen:
                seen.add(category.id)
                row = by_category.get(category.id)
                category = category.parent_id
            if row:
                result[rule.id] = row
        return result
