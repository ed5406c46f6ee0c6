from odoo import api, models

MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"


class ClinicRetentionDashboard(models.TransientModel):
    """The "Campaign ROI %" tile: the ROI of the campaigns sent in the
    period (``clinic.campaign.report._period_roi``), its drill-down the
    campaign report of those campaigns. Managers only, as the report."""

    _inherit = "clinic.retention.dashboard"

    def _campaign_roi(self, which):
        roi = self.env["clinic.campaign.report"]._period_roi(*self._bounds(which))
        return None if roi is None else 100 * roi

    @api.model
    def get_dashboard_data(self, period="month", date_from=None, date_to=None, department_ids=None):
        data = super().get_dashboard_data(period, date_from, date_to, department_ids)
        if self.env.user.has_group(MANAGER_GROUP):
            dashboard = self._dashboard_create(period, date_from, date_to, department_ids)
            data["tiles"].append(
                {
                    "key": "campaign_roi",
                    "label": self.env._("Campaign ROI %"),
                    "format": "percent",
                    "value": dashboard._campaign_roi("current"),
                    "previous": dashboard._campaign_roi("previous"),
                    "kpi": "campaign_roi",
                    "method": "action_drill_crm",
                }
            )
        return data

    def action_drill_crm(self):
        if self.env.context.get("kpi") != "campaign_roi":
            return super().action_drill_crm()
        self.ensure_one()
        date_from, date_to = self._bounds(self.env.context.get("which", "current"))
        campaigns = self.env["clinic.campaign.report"]._period_campaigns(date_from, date_to)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_retention_mass_mailing.clinic_campaign_report_action"
        )
        action["domain"] = [("campaign_id", "in", campaigns.ids)]
        period = f"{date_from} — {date_to}"
        action["display_name"] = self.env._("%(what)s (%(period)s)", what=action["name"], period=period)
        return action
