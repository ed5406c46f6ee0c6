import io

import openpyxl

from odoo.tests import tagged

from .test_campaign_roi import CampaignRoiCase

MARCH = ("2026-03-01", "2026-03-31")


@tagged("post_install", "-at_install")
class TestCampaignRoiPeriod(CampaignRoiCase):
    """The campaigns sent in a period, in the Excel export's "Campaigns"
    sheet and the dashboard's "Campaign ROI %" tile.

    On CampaignRoiCase's data, with the mailings sent: A on 1 March, B on
    8 March; campaign D (cost 100, nothing attributed) sent on 2 March, and
    campaign C (cost 50) sent on 10 May, outside March.
    March: A, B and D; ROI of those with a cost (A, D) = (300 + 0 - 200) / 200
    = 50 %; B, without a cost, is left out of the ROI."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailing_a.sent_date = "2026-03-01 10:00:00"
        cls.mailing_b.sent_date = "2026-03-08 10:00:00"
        Campaign = cls.env["utm.campaign"]
        cls.campaign_c = Campaign.create({"title": "May newsletter (ROI test)", "clinic_cost": 50})
        cls.campaign_d = Campaign.create({"title": "Flu shots (ROI test)", "clinic_cost": 100})
        model = cls.env["ir.model"]._get("clinic.patient")
        Mailing = cls.env["mailing.mailing"]
        cls.mailing_c = Mailing.create(
            {"subject": "May", "mailing_model_id": model.id, "campaign_id": cls.campaign_c.id}
        )
        cls.mailing_d = Mailing.create(
            {"subject": "Flu", "mailing_model_id": model.id, "campaign_id": cls.campaign_d.id}
        )
        cls.mailing_c.sent_date = "2026-05-10 10:00:00"
        cls.mailing_d.sent_date = "2026-03-02 10:00:00"
        cls._trace(cls.mailing_c, "a5", "sent", "2026-05-10 10:00:00")
        cls._trace(cls.mailing_d, "a5", "sent", "2026-03-02 10:00:00")
        cls.env.flush_all()

    def _book(self, user):
        wizard = (
            self.env["clinic.retention.export"]
            .with_user(user)
            .with_company(self.company)
            .create({"date_from": MARCH[0], "date_to": MARCH[1]})
        )
        return openpyxl.load_workbook(io.BytesIO(wizard._export_file()[1]))

    def _dashboard(self, user, date_from=MARCH[0], date_to=MARCH[1]):
        Dashboard = self.env["clinic.retention.dashboard"].with_user(user).with_company(self.company)
        data = Dashboard.get_dashboard_data("custom", date_from, date_to)
        return {tile["key"]: tile for tile in data["tiles"]}

    def test_campaigns_sheet_equals_the_report(self):
        book = self._book(self.manager)
        rows = list(book["Campaigns"].iter_rows(values_only=True))
        header = rows[2]
        sheet = {row[0]: dict(zip(header, row, strict=True)) for row in rows[3:]}
        self.assertEqual(
            set(sheet), {self.campaign_a.name, self.campaign_b.name, self.campaign_d.name}, "C was sent in May"
        )
        Report = self.env["clinic.campaign.report"].with_user(self.manager)
        for campaign in (self.campaign_a, self.campaign_b, self.campaign_d):
            report = Report.search([("campaign_id", "=", campaign.id)])
            line = sheet[campaign.name]
            for field, column in (
                ("recipient_count", "Recipients"),
                ("excluded_count", "Excluded"),
                ("delivered_count", "Delivered"),
                ("clicked_count", "Clicked"),
                ("booked_count", "Visits booked"),
                ("done_count", "Visits done"),
                ("control_count", "Control group"),
                ("control_booked_count", "Control: visits booked"),
                ("control_done_count", "Control: visits done"),
            ):
                self.assertEqual(line[column], report[field], f"{campaign.name}: {column}")
            for field, column in (
                ("revenue", "Revenue"),
                ("cost", "Cost"),
                ("booked_rate", "Booked per 100 recipients"),
                ("control_revenue", "Control: revenue"),
            ):
                self.assertAlmostEqual(line[column] or 0.0, report[field], places=6, msg=f"{campaign.name}: {column}")
        # the hand-worked answers (CampaignRoiCase), control group included
        a = sheet[self.campaign_a.name]
        self.assertEqual((a["Revenue"], a["Cost"], a["ROI"]), (300, 100, 2))
        self.assertEqual((a["Control group"], a["Control: revenue"], a["Control: booked per 100"]), (2, 200, 50))
        self.assertIsNone(sheet[self.campaign_b.name]["ROI"], "no cost: no ROI")
        self.assertIsNone(sheet[self.campaign_b.name]["Control: booked per 100"], "no control group")
        self.assertEqual(sheet[self.campaign_d.name]["ROI"], -1)

    def test_campaigns_sheet_is_for_managers(self):
        self.assertNotIn("Campaigns", self._book(self.cs_user).sheetnames)

    def test_dashboard_tile_is_the_roi_of_the_period(self):
        tile = self._dashboard(self.manager)["campaign_roi"]
        self.assertAlmostEqual(tile["value"], 50.0)
        self.assertIsNone(tile["previous"], "nothing sent in February")
        self.assertEqual((tile["format"], tile["method"]), ("percent", "action_drill_crm"))
        may = self._dashboard(self.manager, "2026-05-01", "2026-05-31")["campaign_roi"]
        self.assertAlmostEqual(may["value"], -100.0, msg="C: cost 50, nothing back")
        self.assertIsNone(self._dashboard(self.manager, "2026-06-01", "2026-06-30")["campaign_roi"]["value"])

    def test_dashboard_tile_drills_to_the_campaign_report(self):
        Dashboard = self.env["clinic.retention.dashboard"].with_user(self.manager).with_company(self.company)
        action = Dashboard.action_dashboard_drill(
            {"kpi": "campaign_roi", "method": "action_drill_crm", "which": "current"}, "custom", *MARCH
        )
        self.assertEqual(action["res_model"], "clinic.campaign.report")
        rows = self.env["clinic.campaign.report"].with_user(self.manager).search(action["domain"])
        self.assertEqual(rows.campaign_id, self.campaign_a | self.campaign_b | self.campaign_d)

    def test_dashboard_tile_is_for_managers(self):
        tiles = self._dashboard(self.cs_user)
        self.assertNotIn("campaign_roi", tiles)
        self.assertIn("revenue", tiles, "the rest of the dashboard stays")
