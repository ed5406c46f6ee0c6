from . import test_patient_mailing
from . import test_campaign_roi
from . import test_campaign_roi_period
