from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    clinic_campaign_window_days = fields.Integer(related="company_id.clinic_campaign_window_days", readonly=False)
