from odoo.tests import tagged

from .common import NetvisorTestCommon


@tagged("post_install", "-at_install")
class TestNetvisorOverview(NetvisorTestCommon):

    def test_overview_rows_and_last_run(self):
        action = self.env["netvisor.flow"].with_company(self.company).action_open_overview()
        rows = self.env["netvisor.flow"].search(action["domain"])
        self.assertIn("connection", rows.mapped("flow"))
        self.company._netvisor_test_connection()
        row = rows.filtered(lambda r: r.flow == "connection" and r.company_id == self.company)
        self.assertEqual(row.last_run_state, "done")
        self.assertTrue(row.last_success_date)
        self.company.netvisor_customer_key = "wrong"
        self.company._netvisor_test_connection()
        self.assertEqual(row.last_run_state, "failed")
        self.assertIn("credentials", row.last_run_message)
        self.assertEqual(row.error_log_count, 1)
        log_action = row.action_open_log()
        self.assertEqual(log_action["context"], {"search_default_errors": 1})
        logs = self.env["netvisor.log"].search(log_action["domain"])
        self.assertEqual(sorted(logs.mapped("state")), ["error", "success"])

    def test_run_counts(self):
        run = self.env["netvisor.run"]._netvisor_start(self.company, "purchase_import", trigger="cron")
        run._netvisor_finish(done=3, skipped=2, failed=1)
        self.assertEqual(run.state, "partial")
        self.assertIn("3 done", run._netvisor_summary())
        row = self.env["netvisor.flow"].search([("company_id", "=", self.company.id),
                                                 ("flow", "=", "purchase_import")])
        self.assertEqual(row.last_run_id, run)
