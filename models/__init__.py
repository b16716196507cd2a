from . import netvisor_log
from . import netvisor_mixin
from . import netvisor_vat_mapping
from . import res_company
from . import res_config_settings
from . import account_move
from . import netvisor_run
from . import netvisor_flow

# --- purchase invoices (issue 3)
from . import netvisor_purchase_settings
from . import netvisor_dimension_mapping
from . import netvisor_vat_mapping_purchase
from . import account_move_purchase

# --- sales invoices (issue 4)
from . import netvisor_sales_settings
from . import account_move_sales

# --- payment status (issue 5)
from . import netvisor_payment_settings
from . import account_move_payment

# --- customers and products (issue 6)
from . import netvisor_link
from . import netvisor_sync_settings
from . import res_partner
from . import product

# --- payroll and expenses (issue 7)
from . import netvisor_payroll_settings
from . import netvisor_payroll_mapping
from . import hr_payslip
from . import hr_expense_sheet

# --- overview (issue 8)
