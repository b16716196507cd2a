from . import test_settings
from . import test_connection
from . import test_overview

# --- purchase invoices (issue 3)

# --- sales invoices (issue 4)

# --- payment status (issue 5)
from . import test_payment_sync

# --- customers and products (issue 6)

# --- payroll and expenses (issue 7)

# --- overview, faults, security (issue 8)
