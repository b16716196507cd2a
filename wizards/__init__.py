# --- purchase invoices (issue 3)
from . import netvisor_import_summary

# --- sales invoices (issue 4)

# --- payment status (issue 5)

# --- customers and products (issue 6)

# --- payroll and expenses (issue 7)
