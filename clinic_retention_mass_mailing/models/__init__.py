from . import res_company
from . import res_config_settings
from . import clinic_patient
from . import clinic_mailing_control
from . import mailing_mailing
from . import mailing_trace
from . import utm_campaign
