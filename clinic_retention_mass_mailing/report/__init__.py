from . import clinic_campaign_report
from . import clinic_campaign_xlsx
