from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CUSTOMER_KEY, ORGANISATION_ID, NetvisorTestCommon


@tagged("post_install", "-at_install")
class TestNetvisorConnection(NetvisorTestCommon):

    sandbox_data = {"purchase_invoices": []}

    def _test(self):
        settings = self.env["res.config.settings"].create({})
        return settings.action_netvisor_test_connection()["params"]

    def test_connection_ok(self):
        today = self.env.cr.now().date().isoformat()
        self.org.add("purchase_invoices", {
            "number": "T-1", "date": today, "amount": "12.40", "vendor": {"name": "Toimittaja Oy"}, "lines": []})
        params = self._test()
        self.assertEqual(params["type"], "success", params["message"])
        self.assertIn("1 purchase invoice", params["message"])
        log = self.netvisor_logs(flow="connection")
        self.assertEqual(len(log), 1)
        self.assertEqual(log.state, "success")
        self.assertEqual(log.resource, "purchaseinvoicelist.nv")
        self.assertIn("T-1", log.response_body)
        self.assertIn(f"begininvoicedate={today}", log.url)
        self.assert_no_secret(log.url, log.request_body, log.response_body, log.error_message)

    def test_wrong_keys(self):
        self.company.netvisor_customer_key = "not-the-key"
        params = self._test()
        self.assertEqual(params["type"], "danger")
        self.assertIn("refused the credentials", params["message"])
        self.assertIn("loses access", params["message"])  # keys die with their Netvisor user
        self.assertIn("isvapi.netvisor.fi", params["message"])  # wrong environment hint
        log = self.netvisor_logs(flow="connection")
        self.assertEqual(log.error_category, "AUTHENTICATION_FAILED")
        self.assertEqual(log.http_status, 401)
        self.assertEqual(len(log), 1, "authentication failures are not retried")
        self.assertNotIn("not-the-key", log.error_message + log.response_body + params["message"])
        self.assert_no_secret(log.url, log.request_body, log.response_body, log.error_message, params["message"])

    def test_wrong_organisation(self):
        self.company.netvisor_organisation_id = "0737546-2"
        params = self._test()
        self.assertEqual(params["type"], "danger")
        self.assertIn("Organisation ID", params["message"])

    def test_resource_not_enabled(self):
        self.org.disabled_resources.add("purchaseinvoicelist.nv")
        try:
            params = self._test()
        finally:
            self.org.disabled_resources.discard("purchaseinvoicelist.nv")
        self.assertEqual(params["type"], "danger")
        self.assertIn("Rights of interface resources", params["message"])
        self.assertEqual(self.netvisor_logs(flow="connection").error_category, "SERVICE_ACCESS_ERROR")

    def test_unreachable(self):
        self.company.netvisor_base_url = "http://127.0.0.1:9/"  # discard port: connection refused
        params = self._test()
        self.assertEqual(params["type"], "danger")
        self.assertIn("could not be reached", params["message"])
        self.assertEqual(len(self.netvisor_logs(flow="connection")), 3, "connection errors are retried")

    def test_timeout(self):
        self.sandbox.faults.configure(queue=["timeout"] * 3, hang_seconds=3)
        params = self._test()
        self.assertEqual(params["type"], "danger")
        self.assertIn("did not answer in time", params["message"])
        self.assertEqual(set(self.netvisor_logs(flow="connection").mapped("error_category")), {"TIMEOUT"})

    def test_transient_fault_retried(self):
        self.sandbox.faults.configure(queue=["http500", "malformed"])
        params = self._test()
        self.assertEqual(params["type"], "success", params["message"])
        logs = self.netvisor_logs(flow="connection")
        self.assertEqual(sorted(logs.mapped("attempt")), [1, 2, 3])
        self.assertEqual(len(set(logs.mapped("transaction_id"))), 3, "each attempt has its own transaction id")

    def test_wrong_environment_url(self):
        # the sandbox path answers HTML for unknown hosts: emulate a non-Netvisor server
        self.sandbox.faults.configure(queue=["http502"] * 3)
        params = self._test()
        self.assertEqual(params["type"], "danger")
        self.assertIn("did not answer like Netvisor", params["message"])

    def test_clock_skew(self):
        self.sandbox.clock_offset = 3600.0
        params = self._test()
        self.assertEqual(params["type"], "danger")
        self.assertIn("clock", params["message"])
        self.assertIn("NTP", params["message"])

    @mute_logger("odoo.addons.netvisor_integration")
    def test_log_rows_have_no_secrets(self):
        self.sandbox.faults.configure(queue=["http500"])
        self._test()
        self.company.netvisor_partner_key = "wrong-partner-key"
        self._test()
        for log in self.netvisor_logs():
            self.assert_no_secret(log.url, log.request_body, log.response_body, log.error_message)
            self.assertNotIn("wrong-partner-key", (log.response_body or "") + (log.error_message or ""))
        self.assertEqual(self.org.organisation_id, ORGANISATION_ID)
        self.assertNotIn(CUSTOMER_KEY, str(self.netvisor_logs().read()))
