# Run by `tools/dev.py run` inside `odoo shell` (env is provided): point the company at the
# sandbox and create demo records for every flow. Idempotent: runs once per database.
import datetime
import os
import sys

from odoo import Command

sys.path.insert(0, os.path.join(os.getcwd(), "tools"))
import demo_seed  # noqa: E402

env = env  # noqa: F821,PLW0127 (odoo shell provides env)
company = env.ref("base.main_company")
params = env["ir.config_parameter"].sudo()
company.write({
    "netvisor_partner_id": demo_seed.PARTNER_ID,
    "netvisor_partner_key": demo_seed.PARTNER_KEY,
    "netvisor_customer_id": demo_seed.CUSTOMER_ID,
    "netvisor_customer_key": demo_seed.CUSTOMER_KEY,
    "netvisor_organisation_id": demo_seed.ORGANISATION_ID,
    "netvisor_base_url": os.environ.get("NETVISOR_SANDBOX_URL", "http://127.0.0.1:8765/"),
    "netvisor_language": "FI",
})
params.set_param("netvisor_integration.backoff", "1")

if params.get_param("netvisor_integration.demo_data"):
    env.cr.commit()
    print("demo data already there")
else:
    today = datetime.date.today()
    company.write({
        "netvisor_purchase_import_start_date": today - datetime.timedelta(days=7),
        "netvisor_payslip_voucher_class": "Palkka",
        "netvisor_payslip_dimension_name": "Henkilöstö",
    })
    env.user.groups_id |= env.ref("hr_expense.group_hr_expense_manager") | env.ref("payroll.group_payroll_manager")
    Partner = env["res.partner"]
    fi = env.ref("base.fi")
    # customers: one also exists in Netvisor (same business ID), two only in Odoo
    customers = Partner.create([
        {"name": "Kukkakauppa Orvokki Oy", "is_company": True,
         "company_registry": demo_seed.CUSTOMERS[0]["business_id"],
         "vat": "FI" + demo_seed.CUSTOMERS[0]["business_id"].replace("-", ""), "street": "Aleksanterinkatu 9",
         "zip": "00100", "city": "Helsinki", "country_id": fi.id, "email": "laskut@orvokki.example"},
        {"name": "Rautakauppa Nieminen Oy", "is_company": True, "company_registry": demo_seed.business_id(2218305),
         "street": "Kauppakatu 15", "zip": "40100", "city": "Jyväskylä", "country_id": fi.id},
        {"name": "Liisa Lehtonen", "street": "Vaahterakuja 3", "zip": "90100", "city": "Oulu", "country_id": fi.id},
    ])
    sale_taxes = env["account.tax"].search([("company_id", "=", company.id), ("type_tax_use", "=", "sale"),
                                            ("amount", "in", (25.5, 14.0))])
    tax_255 = sale_taxes.filtered(lambda t: t.amount == 25.5)[:1]
    tax_14 = sale_taxes.filtered(lambda t: t.amount == 14.0)[:1] or tax_255
    Product = env["product.product"]
    products = Product.create([
        {"name": "Puutarhalannoite 25 kg", "default_code": "LAN25", "list_price": 32.0, "barcode": "6412345678903",
         "taxes_id": [Command.set(tax_255.ids)]},
        {"name": "Ruukku 30 cm", "default_code": "RUU30", "list_price": 12.5, "taxes_id": [Command.set(tax_255.ids)]},
        {"name": "Siemenpussi, 10 lajia", "default_code": "SIE10", "list_price": 14.9,
         "taxes_id": [Command.set(tax_14.ids)]},
    ])
    invoices = env["account.move"].create([{
        "move_type": "out_invoice", "partner_id": partner.id, "invoice_date": today,
        "invoice_line_ids": [Command.create({"product_id": product.id, "quantity": qty})
                             for product, qty in lines],
    } for partner, lines in (
        (customers[0], [(products[0], 10), (products[1], 24)]),
        (customers[1], [(products[1], 50), (products[2], 30)]),
        (customers[2], [(products[2], 2)]),
    )])
    invoices.action_post()

    # payroll: a small Finnish monthly salary structure and its Netvisor mapping
    category = env["hr.salary.rule.category"]
    cats = {code: category.create({"name": name, "code": code}) for code, name in (
        ("BASIC", "Peruspalkka"), ("GROSS", "Bruttopalkka"), ("DED", "Vähennykset"), ("NET", "Nettopalkka"))}

    def rule(code, name, sequence, cat, python):
        return env["hr.salary.rule"].create({
            "name": name, "code": code, "sequence": sequence, "category_id": cats[cat].id,
            "condition_select": "none", "amount_select": "code", "amount_python_compute": python})

    rules = (rule("BASIC", "Peruspalkka", 1, "BASIC", "result = contract.wage")
             | rule("GROSS", "Bruttopalkka", 100, "GROSS", "result = categories.BASIC")
             | rule("ENNAKKO", "Ennakonpidätys", 150, "DED", "result = -round(categories.GROSS * 0.22, 2)")
             | rule("TYEL", "Työeläkemaksu (työntekijä)", 160, "DED", "result = -round(categories.GROSS * 0.0715, 2)")
             | rule("NET", "Nettopalkka", 200, "NET", "result = categories.BASIC + categories.DED"))
    structure = env["hr.payroll.structure"].create({
        "name": "Kuukausipalkka", "code": "KK", "company_id": company.id, "rule_ids": [Command.set(rules.ids)]})
    mapping = env["netvisor.payroll.mapping"]
    by_code = {r.code: r for r in rules}
    mapping.create([
        {"company_id": company.id, "rule_id": by_code["BASIC"].id, "debit_account": "5000", "employee_dimension": True},
        {"company_id": company.id, "rule_id": by_code["GROSS"].id, "not_booked": True},
        {"company_id": company.id, "rule_id": by_code["ENNAKKO"].id, "debit_account": "2930"},
        {"company_id": company.id, "rule_id": by_code["TYEL"].id, "debit_account": "2931"},
        {"company_id": company.id, "rule_id": by_code["NET"].id, "credit_account": "2940"},
    ])
    first = today.replace(day=1)
    last_month_end = first - datetime.timedelta(days=1)
    last_month_start = last_month_end.replace(day=1)
    for name, wage in (("Aino Korhonen", 3400.0), ("Juha Mäkinen", 2950.0)):
        employee = env["hr.employee"].create({"name": name, "company_id": company.id,
                                             "work_email": name.split()[0].lower() + "@puutarhatuote.example",
                                             "private_street": "Kotikatu 1", "private_city": "Järvenpää",
                                             "private_zip": "04400", "private_country_id": fi.id})
        contract = env["hr.contract"].create({
            "name": f"Työsopimus {name}", "employee_id": employee.id, "company_id": company.id, "wage": wage,
            "struct_id": structure.id, "date_start": today.replace(month=1, day=1), "state": "open"})
        payslip = env["hr.payslip"].create({
            "employee_id": employee.id, "contract_id": contract.id, "struct_id": structure.id,
            "date_from": last_month_start, "date_to": last_month_end, "company_id": company.id,
            "name": f"Palkka {last_month_end:%m/%Y} {name}"})
        payslip.compute_sheet()
        payslip.action_payslip_done()

    # an approved expense report with a receipt
    expense_product = env["product.product"].search([("can_be_expensed", "=", True)], limit=1)
    employee = env["hr.employee"].search([("name", "=", "Aino Korhonen")], limit=1)
    sheet = env["hr.expense.sheet"].create({
        "name": "Messumatka Tampere", "employee_id": employee.id, "company_id": company.id,
        "expense_line_ids": [Command.create({
            "name": "Junalippu Helsinki-Tampere", "employee_id": employee.id, "product_id": expense_product.id,
            "total_amount_currency": 38.90, "date": today, "company_id": company.id})],
    })
    env["ir.attachment"].create({
        "name": "junalippu.pdf", "res_model": "hr.expense", "res_id": sheet.expense_line_ids.id,
        "mimetype": "application/pdf",
        "raw": demo_seed.pdf(["VR Junalippu", "Helsinki - Tampere", "38,90 EUR (sis. ALV 10 %)"]),
    })
    sheet.action_submit_sheet()
    sheet.action_approve_expense_sheets()
    params.set_param("netvisor_integration.demo_data", "1")
    env.cr.commit()
    print("demo data created")
