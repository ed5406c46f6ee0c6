from . import res_company
from . import res_config_settings
from . import res_partner
from . import clinic_department
from . import clinic_service
from . import clinic_patient
from . import clinic_visit
from . import calendar_event
