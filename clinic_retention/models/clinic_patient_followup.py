from odoo import fields, models


class ClinicPatient(models.Model):
    """What the follow-up board tells about a patient: a number reported
    wrong on a call, and complaints recorded from the patient's form."""

    _inherit = "clinic.patient"  # pylint: disable=consider-merging-classes-inherited

    phone_wrong_reported = fields.Boolean(
        string="Wrong number reported",
        tracking=True,
        copy=False,
        help="An agent reached someone else at this patient's number. Cleared when the phone or mobile changes.",
    )

    def write(self, vals):
        if ("phone" in vals or "mobile" in vals) and "phone_wrong_reported" not in vals:
            vals = dict(vals, phone_wrong_reported=False)
        return super().write(vals)

    def action_new_complaint(self):
        """Record a complaint of this patient, even their first one."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New complaint"),
            "res_model": "clinic.complaint",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_patient_id": self.id, "default_channel": "phone"},
        }
