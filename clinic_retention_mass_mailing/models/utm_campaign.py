from odoo import api, fields, models


class UtmCampaign(models.Model):
    _inherit = "utm.campaign"

    clinic_cost = fields.Float(
        string="Cost",
        digits="Account",
        help="What the campaign cost (design, SMS credit, offers...), in the company's currency: "
        "its ROI is (revenue of the visits it brought - cost) / cost.",
    )

    @api.model
    def _clinic_demo_generate(self):
        """Demo data (see ``demo/campaign_demo.py``); creates nothing twice."""
        from ..demo.campaign_demo import generate

        generate(self.env)
