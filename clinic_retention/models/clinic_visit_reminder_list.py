from odoo import fields, models


class ClinicVisitReminder(models.Model):
    """Messages sent to a patient list (Patients > Actions > Send a message)
    go through the care-message ledger like reminders: consent, opt-outs,
    quiet hours, delivery states and retries. Each is about the patient's
    last completed visit in the department, so the ledger's key sends it once
    per patient, last visit and channel: sending again to the same list
    (before they come back) sends nothing twice."""

    _inherit = "clinic.visit.reminder"

    kind = fields.Selection(
        selection_add=[("list_message", "Message to a patient list")],
        ondelete={"list_message": "cascade"},
    )
