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
        "data/purchase_cron.xml",
        "views/account_move_purchase_views.xml",
        "views/netvisor_dimension_mapping_views.xml",
        "views/netvisor_purchase_settings_views.xml",
        "wizards/netvisor_import_summary_views.xml",

        # --- sales invoices (issue 4)
        "data/sales_cron.xml",
        "views/account_move_sales_views.xml",
        "views/netvisor_sales_settings_views.xml",
        "wizards/netvisor_xml_preview_views.xml",

        # --- payment status (issue 5)
        "data/payment_cron.xml",
        "views/netvisor_payment_settings_views.xml",

        # --- customers and products (issue 6)
        "views/res_partner_views.xml",
        "views/product_views.xml",
        "views/netvisor_sync_wizard_views.xml",
        "views/netvisor_sync_settings_views.xml",
        "data/sync_cron.xml",

        # --- payroll and expenses (issue 7)
        "data/payroll_cron.xml",
        "views/netvisor_payroll_mapping_views.xml",
        "views/netvisor_payroll_settings_views.xml",
        "views/hr_payslip_views.xml",
        "views/hr_expense_sheet_views.xml",

        # --- overview (issue 8)
        "views/netvisor_overview_views.xml",

    ],
    "installable": True,
    "application": False,
}
