from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

DEFAULT_VOUCHER_CLASS = "Palkka"


class ResCompany(models.Model):
    _inherit = "res.company"

    netvisor_payslip_voucher_class = fields.Char(
        string="Netvisor Payslip Voucher Class", default=DEFAULT_VOUCHER_CLASS,
        help="Full name of the Netvisor voucher type (tositelaji) of payroll vouchers, exactly as Netvisor "
             "shows it in this company (e.g. Palkka, or Pay with an English interface). Netvisor refuses an "
             "unknown name.")
    netvisor_payslip_dimension_name = fields.Char(
        string="Netvisor Employee Dimension",
        help="Name of the Netvisor dimension (laskentakohde) whose items are the employees. Used on the voucher "
             "lines of the salary rules whose mapping asks for the employee dimension; the item is the "
             "employee's name.")
    netvisor_payslip_send_from = fields.Date(
        string="Send Payslips Dated From",
        help="The scheduled sending ignores payslips whose period ends before this date (payslips already "
             "booked in Netvisor before the integration started). Empty: no limit.")
    netvisor_expense_vendor_prefix = fields.Char(
        string="Netvisor Employee Vendor Code Prefix", default="EMP-",
        help="Employees are vendors in Netvisor under the code <prefix><employee ID> (e.g. EMP-42): stable, "
             "never reused, and without personal data. Netvisor matches the vendor by this code and creates it "
             "on the first expense report.")
    netvisor_expense_invoice_prefix = fields.Char(
        string="Netvisor Expense Invoice Number Prefix", default="EXP-",
        help="Expense reports become Netvisor purchase invoices numbered <prefix><report ID> (e.g. EXP-17).")
    netvisor_expense_due_days = fields.Integer(
        string="Expense Reimbursement Days", default=14,
        help="Due date of the purchase invoice of an expense report: its date plus this many days.")
    netvisor_expense_send_from = fields.Date(
        string="Send Expense Reports Dated From",
        help="The scheduled sending ignores expense reports dated before this date. Empty: no limit.")

    @api.constrains("netvisor_expense_due_days")
    def _check_netvisor_expense_due_days(self):
        for company in self:
            if company.netvisor_expense_due_days < 0:
                raise ValidationError(_(
                    "Company %(company)s: the expense reimbursement days cannot be negative.",
                    company=company.display_name))


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    netvisor_payslip_voucher_class = fields.Char(related="company_id.netvisor_payslip_voucher_class", readonly=False)
    netvisor_payslip_dimension_name = fields.Char(related="company_id.netvisor_payslip_dimension_name",
                                                  readonly=False)
    netvisor_payslip_send_from = fields.Date(related="company_id.netvisor_payslip_send_from", readonly=False)
    netvisor_expense_vendor_prefix = fields.Char(related="company_id.netvisor_expense_vendor_prefix", readonly=False)
    netvisor_expense_invoice_prefix = fields.Char(related="company_id.netvisor_expense_invoice_prefix",
                                                  readonly=False)
    netvisor_expense_due_days = fields.Integer(related="company_id.netvisor_expense_due_days", readonly=False)
    netvisor_expense_send_from = fields.Date(related="company_id.netvisor_expense_send_from", readonly=False)

    def action_netvisor_open_payroll_mapping(self):
        return self.env["ir.actions.act_window"]._for_xml_id("netvisor_integration.netvisor_payroll_mapping_action")


class NetvisorFlow(models.Model):
    _inherit = "netvisor.flow"

    @api.model
    def _netvisor_flow_specs(self):
        specs = super()._netvisor_flow_specs()
        specs["payslip_send"] = {
            "sequence": 60,
            "description": _("Confirmed payslips go to Netvisor as balanced accounting vouchers."),
            "model": "hr.payslip",
            "attention_domain": [("state", "=", "done"), ("netvisor_state", "in", ("error", "unknown"))],
            "run_method": ("hr.payslip", "action_netvisor_send_pending"),
        }
        specs["expense_send"] = {
            "sequence": 70,
            "description": _("Approved expense reports go to Netvisor as purchase invoices of the employee."),
            "model": "hr.expense.sheet",
            "attention_domain": [("netvisor_state", "in", ("error", "unknown"))],
            "run_method": ("hr.expense.sheet", "action_netvisor_send_pending"),
        }
        return specs
