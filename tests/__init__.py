from . import test_settings
from . import test_connection
from . import test_overview

# --- purchase invoices (issue 3)
from . import test_purchase_import

# --- sales invoices (issue 4)
from . import test_sales_send

# --- payment status (issue 5)
from . import test_payment_sync

# --- customers and products (issue 6)
from . import test_sync_customers
from . import test_sync_products

# --- payroll and expenses (issue 7)
from . import test_payroll
from . import test_expenses

# --- overview, faults, security (issue 8)
from . import test_faults
from . import test_concurrency
from . import test_bad_input
from . import test_security
from . import test_secrets_audit
