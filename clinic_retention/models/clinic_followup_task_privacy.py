from odoo import models

from .clinic_patient_privacy import check_care_consent


class ClinicFollowupTask(models.Model):
    """Patient data on follow-ups: a message (or SMS) written to the patient
    is refused when they have not consented to care messages, and a
    reassigned task stops notifying its former assignee (who may have
    moved to another department)."""

    _inherit = "clinic.followup.task"

    def write(self, vals):
        if "user_id" not in vals:
            return super().write(vals)
        former = {task: task.user_id for task in self}
        result = super().write(vals)
        for task, user in former.items():
            if user and user != task.user_id and user != task.department_id.manager_id:
                task.message_unsubscribe(partner_ids=user.partner_id.ids)
        return result

    def message_post(self, **kwargs):
        check_care_consent(self.patient_id, kwargs)
        return super().message_post(**kwargs)
