from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    clinic_new_days = fields.Integer(related="company_id.clinic_new_days", readonly=False)
    clinic_lapse_days = fields.Integer(related="company_id.clinic_lapse_days", readonly=False)
    clinic_active_days = fields.Integer(related="company_id.clinic_active_days", readonly=False)
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
