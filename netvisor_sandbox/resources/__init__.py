"""Resource registry. Each module registers its handlers with :func:`resource` and
the normaliser of its state records (defaults, nested keys) with :func:`normalizer`;
import it at the bottom of this file."""

HANDLERS = {}  # (resource name, method) -> callable(Request) -> payload XML str
NORMALIZERS = {}  # collection name -> callable(Organisation, record dict), fills defaults in place


def resource(name, method="GET"):
    def register(func):
        HANDLERS[(name.lower(), method.upper())] = func
        return func

    return register


def normalizer(collection):
    def register(func):
        NORMALIZERS[collection] = func
        return func

    return register


from . import purchase_invoices  # noqa: E402,F401

# --- sales invoices (issue 4)
from . import sales_invoices  # noqa: E402,F401

# --- payments (issue 5)
from . import payments  # noqa: E402,F401

# --- customers and products (issue 6)
from . import customers  # noqa: E402,F401
from . import products  # noqa: E402,F401

# --- accounting vouchers and purchase invoice import (issue 7)
from . import accounting  # noqa: E402,F401
from . import purchase_invoice_import  # noqa: E402,F401
