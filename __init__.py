# The Odoo part of the addon. Outside Odoo (pytest of the pure-Python `netvisor`
# library and `netvisor_sandbox`), this folder is a plain package: skip the models.
if __name__.startswith("odoo.addons."):
    from . import models
    from . import wizards
