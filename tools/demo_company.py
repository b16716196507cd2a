# Run by `tools/dev.py run` inside `odoo shell` on a fresh database, before the module is
# installed: make the main company Finnish so that installing `account` loads the Finnish
# chart of accounts and taxes (l10n_fi).
company = env.ref("base.main_company")  # noqa: F821 (odoo shell provides env)
company.write({
    "name": "Pohjolan Puutarhatuote Oy",
    "country_id": env.ref("base.fi").id,  # noqa: F821
    "currency_id": env.ref("base.EUR").id,  # noqa: F821
    "street": "Kasvihuoneentie 1",
    "zip": "04400",
    "city": "Järvenpää",
    "company_registry": "2650316-7",
    "vat": "FI26503167",
})
env.cr.commit()  # noqa: F821
