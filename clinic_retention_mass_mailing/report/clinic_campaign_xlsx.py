from odoo import api, models

MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"


class ClinicConversionReport(models.Model):
    """The manager's workbook gets a "Campaigns" sheet: the campaign report's
    figures, and its control group's, for each campaign with a mailing sent
    in the export's period. Managers only, as the report."""

    _inherit = "clinic.conversion.report"

    @api.model
    def _xlsx_sheets(self, builder, workbook, context):
        res = super()._xlsx_sheets(builder, workbook, context)
        if self.env.user.has_group(MANAGER_GROUP):
            self._xlsx_sheet_campaigns(builder, workbook, context)
        return res

    def _xlsx_campaign_columns(self):
        return [
            (self.env._("Campaign"), "text", 30),
            (self.env._("Recipients"), "int", 11),
            (self.env._("Excluded"), "int", 10),
            (self.env._("Delivered"), "int", 10),
            (self.env._("Clicked"), "int", 10),
            (self.env._("Visits booked"), "int", 10),
            (self.env._("Visits done"), "int", 10),
            (self.env._("Revenue"), "money", 12),
            (self.env._("Cost"), "money", 12),
            (self.env._("ROI"), "dec", 9),
            (self.env._("Booked per 100 recipients"), "dec", 11),
            (self.env._("Control group"), "int", 10),
            (self.env._("Control: visits booked"), "int", 11),
            (self.env._("Control: visits done"), "int", 11),
            (self.env._("Control: revenue"), "money", 12),
            (self.env._("Control: booked per 100"), "dec", 11),
        ]

    def _xlsx_campaign_row(self, row):
        return (
            row.campaign_id.display_name,
            row.recipient_count,
            row.excluded_count,
            row.delivered_count,
            row.clicked_count,
            row.booked_count,
            row.done_count,
            row.revenue,
            row.cost,
            # no cost, no ROI; no control group, no control rate
            row.roi if row.cost > 0 else None,
            row.booked_rate if row.recipient_count else None,
            row.control_count,
            row.control_booked_count,
            row.control_done_count,
            row.control_revenue,
            row.control_booked_rate if row.control_count else None,
        )

    def _xlsx_sheet_campaigns(self, builder, workbook, context):
        sheet = workbook.add_worksheet(self.env._("Campaigns"))
        builder._title(sheet, context, self.env._("Campaigns sent in the period: results and control groups"))
        rows = self.env["clinic.campaign.report"]._period_rows(context["date_from"], context["date_to"])
        builder._write_table(
            sheet,
            context["styles"],
            self._xlsx_campaign_columns(),
            (self._xlsx_campaign_row(row) for row in rows),
        )
