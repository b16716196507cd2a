"""Shared test base: a real Netvisor sandbox on loopback, and a company configured for it."""

import copy

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..netvisor_sandbox import start_sandbox

PARTNER_ID = "TESTPARTNER"
PARTNER_KEY = "partner-secret-key-0001"
CUSTOMER_ID = "TESTCUSTOMER"
CUSTOMER_KEY = "customer-secret-key-0002"
ORGANISATION_ID = "1572860-0"  # a valid Y-tunnus (check digit 0)

BASE_SEED = {
    "partners": [{"partner_id": PARTNER_ID, "partner_key": PARTNER_KEY}],
    "organisations": [{
        "organisation_id": ORGANISATION_ID,
        "name": "Testiyhtiö Oy",
        "customers": [{"customer_id": CUSTOMER_ID, "customer_key": CUSTOMER_KEY}],
        "data": {},
    }],
}


class NetvisorTestCommon(AccountTestInvoicingCommon):
    """``cls.sandbox``: the running sandbox; ``cls.org``: the company's organisation in it;
    ``cls.company``: configured for it (backoff 0, short timeouts)."""

    sandbox_data = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        seed = copy.deepcopy(BASE_SEED)
        seed["organisations"][0]["data"] = copy.deepcopy(cls.sandbox_data)
        cls.sandbox = start_sandbox(seed)
        cls.addClassCleanup(cls.sandbox.stop)
        cls.org = cls.sandbox.org(ORGANISATION_ID)
        cls.company = cls.company_data["company"]
        cls.company.write(cls.netvisor_company_values())
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("netvisor_integration.backoff", "0")
        params.set_param("netvisor_integration.read_timeout", "2")
        params.set_param("netvisor_integration.connect_timeout", "2")
        params.set_param("netvisor_integration.max_attempts", "3")

    @classmethod
    def netvisor_company_values(cls):
        return {
            "netvisor_partner_id": PARTNER_ID,
            "netvisor_partner_key": PARTNER_KEY,
            "netvisor_customer_id": CUSTOMER_ID,
            "netvisor_customer_key": CUSTOMER_KEY,
            "netvisor_organisation_id": ORGANISATION_ID,
            "netvisor_base_url": cls.sandbox.base_url,
        }

    def setUp(self):
        super().setUp()
        self.sandbox.faults.reset()
        self.sandbox.clock_offset = 0.0

    def netvisor_logs(self, **domain):
        return self.env["netvisor.log"].search(
            [("company_id", "=", self.company.id)] + [(k, "=", v) for k, v in domain.items()])

    def assert_no_secret(self, *texts):
        for text in texts:
            for secret in (PARTNER_KEY, CUSTOMER_KEY):
                self.assertNotIn(secret, text or "", "a Netvisor key leaked")
