from odoo import fields, models


class NetvisorXmlPreview(models.TransientModel):
    """Shows the salesinvoice.nv document that "Send to Netvisor" would post for an invoice."""

    _name = "netvisor.xml.preview"
    _description = "Netvisor XML Preview"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, readonly=True, ondelete="cascade")
    xml_content = fields.Text(string="XML", readonly=True)
    notes = fields.Text(readonly=True)
    error = fields.Text(readonly=True)

    def action_send(self):
        self.ensure_one()
        return self.move_id.action_send_to_netvisor()
