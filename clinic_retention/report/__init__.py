from . import clinic_satisfaction_report
from . import clinic_followup_report
from . import clinic_followed_report
from . import clinic_retention_report
from . import clinic_retention_kpi
from . import clinic_retention_xlsx
from . import clinic_conversion_report
from . import clinic_referral_report
