# --- purchase invoices (issue 3)
from . import netvisor_import_summary

# --- sales invoices (issue 4)
from . import netvisor_xml_preview

# --- payment status (issue 5)

# --- customers and products (issue 6)
from . import netvisor_sync_wizard

# --- payroll and expenses (issue 7)
