from . import netvisor_log
from . import netvisor_mixin
from . import res_company
from . import res_config_settings
