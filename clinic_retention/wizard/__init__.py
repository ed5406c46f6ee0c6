from . import clinic_followup_task_reached
