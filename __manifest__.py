{
    "name": "Netvisor Integration",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Bridge Odoo and Visma Netvisor: bills, invoices, payments, customers, products, payroll, expenses",
    "description": """
Keep the books in Visma Netvisor while invoicing, payroll, expenses and inventory
run in Odoo: purchase invoices come in as draft vendor bills, posted customer
invoices go out, payment status comes back, customers and products are synced
both ways, payslips go out as accounting vouchers and expense reports as
purchase invoices. See README.md.
""",
    "author": "netvisor_integration developers",
    "website": "https://github.com/netvisor-integration/netvisor_integration",
    "license": "LGPL-3",
    "depends": ["account", "hr_expense", "payroll"],
    "external_dependencies": {"python": ["requests", "lxml"]},
    "data": [
        "security/netvisor_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "views/netvisor_log_views.xml",
        "views/res_config_settings_views.xml",
        "views/netvisor_vat_mapping_views.xml",
        "views/netvisor_menus.xml",
        # --- purchase invoices (issue 3)

        # --- sales invoices (issue 4)

        # --- payment status (issue 5)
        "data/payment_cron.xml",
        "views/netvisor_payment_settings_views.xml",

        # --- customers and products (issue 6)

        # --- payroll and expenses (issue 7)

        # --- overview (issue 8)
        "views/netvisor_overview_views.xml",

    ],
    "installable": True,
    "application": False,
}
