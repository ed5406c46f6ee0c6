from . import clinic_followup_task_reached
from . import clinic_retention_export
from . import clinic_retention_dashboard
from . import clinic_patient_anonymise
from . import privacy_lookup_wizard
from . import privacy_lookup_wizard_line
from . import clinic_survey_response_entry
from . import clinic_patient_bulk_task
