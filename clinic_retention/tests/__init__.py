from . import test_access_rights
from . import test_calendar_booking
from . import test_followup_task
from . import test_patient
from . import test_patient_phone
from . import test_recall_concurrency
from . import test_recall_engine
from . import test_ui
