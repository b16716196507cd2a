from . import netvisor_log
from . import netvisor_mixin
from . import netvisor_vat_mapping
from . import res_company
from . import res_config_settings
from . import account_move

# --- purchase invoices (issue 3)
from . import netvisor_purchase_settings
from . import netvisor_dimension_mapping
from . import netvisor_vat_mapping_purchase
from . import account_move_purchase

# --- sales invoices (issue 4)

# --- payment status (issue 5)

# --- customers and products (issue 6)

# --- payroll and expenses (issue 7)

# --- overview (issue 8)
