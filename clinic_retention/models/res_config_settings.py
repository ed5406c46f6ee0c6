from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    clinic_new_days = fields.Integer(related="company_id.clinic_new_days", readonly=False)
    clinic_lapse_days = fields.Integer(related="company_id.clinic_lapse_days", readonly=False)
    clinic_active_days = fields.Integer(related="company_id.clinic_active_days", readonly=False)
    clinic_churn_exclude_natural = fields.Boolean(related="company_id.clinic_churn_exclude_natural", readonly=False)
    clinic_complaint_threshold = fields.Integer(related="company_id.clinic_complaint_threshold", readonly=False)
    clinic_survey_edit_days = fields.Integer(related="company_id.clinic_survey_edit_days", readonly=False)
    clinic_sla_low_hours = fields.Integer(related="company_id.clinic_sla_low_hours", readonly=False)
    clinic_sla_medium_hours = fields.Integer(related="company_id.clinic_sla_medium_hours", readonly=False)
    clinic_sla_high_hours = fields.Integer(related="company_id.clinic_sla_high_hours", readonly=False)
    clinic_sla_critical_hours = fields.Integer(related="company_id.clinic_sla_critical_hours", readonly=False)
    clinic_escalation_hours = fields.Integer(related="company_id.clinic_escalation_hours", readonly=False)
    clinic_complaints_manager_id = fields.Many2one(related="company_id.clinic_complaints_manager_id", readonly=False)
    clinic_general_manager_id = fields.Many2one(related="company_id.clinic_general_manager_id", readonly=False)
    clinic_tz = fields.Selection(related="company_id.clinic_tz", readonly=False)
    clinic_quiet_start = fields.Float(related="company_id.clinic_quiet_start", readonly=False)
    clinic_quiet_end = fields.Float(related="company_id.clinic_quiet_end", readonly=False)
    clinic_daily_cap = fields.Integer(related="company_id.clinic_daily_cap", readonly=False)
    clinic_message_max_attempts = fields.Integer(related="company_id.clinic_message_max_attempts", readonly=False)
    clinic_message_retry_minutes = fields.Integer(related="company_id.clinic_message_retry_minutes", readonly=False)
    # Personal data (issue 12)
    group_clinic_agents_see_clinical = fields.Boolean(
        string="Agents see clinical fields",
        implied_group="clinic_retention.group_clinic_retention_clinical",
        group="clinic_retention.group_clinic_retention_user",
        help="Customer-service agents read the clinical data (allergies, conditions, visit notes, amounts) "
        "of the patients of their departments. Off: only doctors, clinical staff and managers do.",
    )
    clinic_privacy_notice = fields.Html(related="company_id.clinic_privacy_notice", readonly=False)
    clinic_anonymise_after_years = fields.Integer(related="company_id.clinic_anonymise_after_years", readonly=False)
    clinic_anonymise_notice_days = fields.Integer(related="company_id.clinic_anonymise_notice_days", readonly=False)

    def action_clinic_retention_preview(self):
        """The dry run of the retention period: who would be listed for
        anonymisation now (nothing is written)."""
        self.ensure_one()
        self.execute()
        patients = self.env["clinic.patient"]._retention_candidates(self.company_id)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Patients past the retention period"),
            "res_model": "clinic.patient",
            "view_mode": "list,form",
            "domain": [("id", "in", patients.ids)],
            "context": {"active_test": False},
        }
