from . import netvisor_log
from . import netvisor_mixin
from . import netvisor_vat_mapping
from . import res_company
from . import res_config_settings
from . import account_move

# --- purchase invoices (issue 3)

# --- sales invoices (issue 4)

# --- payment status (issue 5)
from . import netvisor_payment_settings
from . import account_move_payment

# --- customers and products (issue 6)

# --- payroll and expenses (issue 7)

# --- overview (issue 8)
from . import netvisor_run
from . import netvisor_flow
