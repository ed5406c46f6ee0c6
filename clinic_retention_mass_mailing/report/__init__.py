from . import clinic_campaign_report
