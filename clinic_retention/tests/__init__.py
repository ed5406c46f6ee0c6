from . import test_access_rights
from . import test_calendar_booking
from . import test_patient
from . import test_patient_phone
from . import test_ui
