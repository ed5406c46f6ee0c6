from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    clinic_new_days = fields.Integer(related="company_id.clinic_new_days", readonly=False)
    clinic_lapse_days = fields.Integer(related="company_id.clinic_lapse_days", readonly=False)
    clinic_active_days = fields.Integer(related="company_id.clinic_active_days", readonly=False)
