from odoo import api, fields, models

LEAVE_REASONS = [
    ("price", "Price"),
    ("moved_away", "Moved away"),
    ("dissatisfied", "Dissatisfied"),
    ("other_clinic", "Went to another clinic"),
    ("deceased", "Deceased"),
    ("treatment_finished", "Treatment finished"),
    ("other", "Other"),
]
# Reasons that are no failure of the clinic: left out of churn and PRR when
# the company says so (res.company.clinic_churn_exclude_natural, default).
NATURAL_LEAVE_REASONS = ("deceased", "moved_away", "treatment_finished")


class ClinicPatient(models.Model):
    """Why a lost or lapsed patient left, given on the patient form or from
    their follow-up task. A deceased patient is archived at once: archived
    patients get no reminder, recall, campaign or greeting, and their future
    visits are cancelled."""

    # one concern per file: clinic_patient.py would pass the 600-line limit
    _inherit = "clinic.patient"  # pylint: disable=consider-merging-classes-inherited

    leave_reason = fields.Selection(
        LEAVE_REASONS,
        string="Reason for leaving",
        tracking=True,
        index="btree_not_null",
        help="Why the patient stopped coming. Deceased, moved away and treatment finished are natural "
        "attrition: left out of churn and PRR (a setting). A deceased patient is archived.",
    )
    leave_date = fields.Date(string="Left on", tracking=True)
    is_natural_attrition = fields.Boolean(compute="_compute_is_natural_attrition")

    @api.depends("leave_reason")
    def _compute_is_natural_attrition(self):
        for patient in self:
            patient.is_natural_attrition = patient.leave_reason in NATURAL_LEAVE_REASONS

    @api.onchange("leave_reason")
    def _onchange_leave_reason(self):
        if self.leave_reason and not self.leave_date:
            self.leave_date = fields.Date.context_today(self)

    def write(self, vals):
        if vals.get("leave_reason") and "leave_date" not in vals:
            vals = dict(vals, leave_date=fields.Date.context_today(self))
        result = super().write(vals)
        if vals.get("leave_reason") == "deceased":
            self.filtered("active").write({"active": False})
        return result

    @api.model_create_multi
    def create(self, vals_list):
        patients = super().create(vals_list)
        patients.filtered(lambda p: p.leave_reason == "deceased" and p.active).write({"active": False})
        return patients

    @api.model
    def _demo_generate_leave_reasons(self):
        """Demo data: reasons for leaving on a few lapsed and lost patients
        (reasons the clinic can act on: the retention KPIs of an existing
        demo database stay as they were). Running it twice changes nothing."""
        reasons = ["price", "other_clinic", "dissatisfied", "price", "other"]
        gone = self.search([("lifecycle_state", "in", ("lapsed", "lost"))], order="id", limit=len(reasons))
        for patient, reason in zip(gone.filtered(lambda p: not p.leave_reason), reasons, strict=False):
            patient.leave_reason = reason
