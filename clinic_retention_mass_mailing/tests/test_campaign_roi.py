from odoo.addons.clinic_retention.tests.common import ClinicRetentionCase
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL


class CampaignRoiCase(ClinicRetentionCase):
    """Two campaigns, a control group, visits inside and outside the 30-day
    window, on hand-written traces: the report equals the answers worked
    out by hand below.

    Campaign A (cost 100), mailing sent on 1 March to a1..a4 (a5 excluded):
      a1 books on 5 March (done, 300)                      -> A
      a2 clicks on 5 March, books on 2 April (scheduled)    -> A (28 days after the click)
      a3 books on 15 April                                  -> outside the window
      a4 booked on 20 February                              -> before the message
      control c1 (held out on 1 March) books on 20 March (done, 200), c2 does not book
    Campaign B (no cost), mailing sent on 8 March to a1, b1 (bounced), b2 (opened):
      a1 books again on 12 March (done, 100)                -> B, the last touch
      b1 books on 9 March                                   -> nothing: the e-mail bounced
      b2 books on 9 March, then cancels                     -> not counted
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Patient = cls.env["clinic.patient"]
        names = ("a1", "a2", "a3", "a4", "a5", "b1", "b2", "c1", "c2")
        cls.p = {name: Patient.create({"name": f"ROI {name}", "email": f"{name}@example.com"}) for name in names}
        Campaign = cls.env["utm.campaign"]
        cls.campaign_a = Campaign.create({"title": "Spring check-up (ROI test)", "clinic_cost": 100})
        cls.campaign_b = Campaign.create({"title": "We miss you (ROI test)"})
        model = cls.env["ir.model"]._get("clinic.patient")
        Mailing = cls.env["mailing.mailing"]
        cls.mailing_a = Mailing.create(
            {"subject": "Spring", "mailing_model_id": model.id, "campaign_id": cls.campaign_a.id}
        )
        cls.mailing_b = Mailing.create(
            {"subject": "We miss you", "mailing_model_id": model.id, "campaign_id": cls.campaign_b.id}
        )
        cls._trace(cls.mailing_a, "a1", "sent", "2026-03-01 10:00:00")
        cls._trace(cls.mailing_a, "a2", "open", "2026-03-01 10:00:00", clicked="2026-03-05 12:00:00")
        cls._trace(cls.mailing_a, "a3", "sent", "2026-03-01 10:00:00")
        cls._trace(cls.mailing_a, "a4", "sent", "2026-03-01 10:00:00")
        cls._trace(cls.mailing_a, "a5", "cancel", None, failure_type="mail_optout")
        cls._trace(cls.mailing_b, "a1", "sent", "2026-03-08 10:00:00")
        cls._trace(cls.mailing_b, "b1", "bounce", "2026-03-08 10:00:00")
        cls._trace(cls.mailing_b, "b2", "open", "2026-03-08 10:00:00")
        Control = cls.env["clinic.mailing.control"]
        for name in ("c1", "c2"):
            Control.create(
                {"mailing_id": cls.mailing_a.id, "patient_id": cls.p[name].id, "date": "2026-03-01 10:00:00"}
            )
        cls._booking("a1", "2026-03-05 09:00:00", "done", 300)
        cls._booking("a2", "2026-04-02 09:00:00", "scheduled", 0)
        cls._booking("a3", "2026-04-15 09:00:00", "done", 500)
        cls._booking("a4", "2026-02-20 09:00:00", "done", 700)
        cls._booking("c1", "2026-03-20 09:00:00", "done", 200)
        cls._booking("a1", "2026-03-12 09:00:00", "done", 100)
        cls._booking("b1", "2026-03-09 09:00:00", "done", 900)
        cls._booking("b2", "2026-03-09 09:00:00", "cancelled", 400)

    @classmethod
    def _trace(cls, mailing, name, status, sent, clicked=None, failure_type=None):
        cls.env["mailing.trace"].create(
            {
                "mass_mailing_id": mailing.id,
                "model": "clinic.patient",
                "res_id": cls.p[name].id,
                "email": f"{name}@example.com",
                "trace_type": "mail",
                "trace_status": status,
                "sent_datetime": sent,
                "links_click_datetime": clicked,
                "failure_type": failure_type,
            }
        )

    @classmethod
    def _booking(cls, name, booked, state, amount):
        """A visit booked (created) at ``booked``, a week later."""
        visit = cls._visit(cls.p[name], "2026-05-01 09:00:00", state=state, amount=amount)
        visit.flush_recordset()
        cls.env.cr.execute(SQL("UPDATE clinic_visit SET create_date = %s WHERE id = %s", booked, visit.id))
        return visit

    def _row(self, campaign):
        return self.env["clinic.campaign.report"].search([("campaign_id", "=", campaign.id)])


@tagged("post_install", "-at_install")
class TestCampaignRoi(CampaignRoiCase):
    """The report against the answers worked out by hand (see CampaignRoiCase)."""

    def test_campaign_results_equal_the_hand_worked_answers(self):
        self.assertRecordValues(
            self._row(self.campaign_a),
            [
                {
                    "recipient_count": 4,
                    "excluded_count": 1,
                    "delivered_count": 4,
                    "clicked_count": 1,
                    "booked_count": 2,
                    "done_count": 1,
                    "revenue": 300.0,
                    "cost": 100.0,
                    "roi": 2.0,
                    "booked_rate": 50.0,
                    "control_count": 2,
                    "control_booked_count": 1,
                    "control_done_count": 1,
                    "control_revenue": 200.0,
                    "control_booked_rate": 50.0,
                },
            ],
        )
        row_b = self._row(self.campaign_b)
        self.assertAlmostEqual(row_b.booked_rate, 100 / 3, places=2)
        self.assertRecordValues(
            row_b,
            [
                {
                    "recipient_count": 3,
                    "excluded_count": 0,
                    "delivered_count": 2,
                    "clicked_count": 0,
                    "booked_count": 1,
                    "done_count": 1,
                    "revenue": 100.0,
                    "cost": 0.0,
                    "roi": 0.0,  # no cost: no ROI (empty)
                    "control_count": 0,
                    "control_booked_count": 0,
                },
            ],
        )

    def test_window_is_a_setting(self):
        # a3 booked 44 days and 23 hours after the message
        self.company.clinic_campaign_window_days = 44
        self.env.flush_all()
        self.assertEqual(self._row(self.campaign_a).booked_count, 2)
        self.company.clinic_campaign_window_days = 45
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(self._row(self.campaign_a).booked_count, 3, "a3 is inside a 45-day window")

    def test_only_managers_read_the_results(self):
        self.assertTrue(self._row(self.campaign_a).with_user(self.manager).read(["roi"]))
        with self.assertRaises(AccessError):
            self.env["clinic.campaign.report"].with_user(self.cs_user).search([])
        control = self.env["clinic.mailing.control"].search([("mailing_id", "=", self.mailing_a.id)])
        self.assertEqual(len(control.with_user(self.manager).read(["patient_id"])), 2)
        with self.assertRaises(AccessError):
            control.with_user(self.manager).write({"date": "2026-03-02 10:00:00"})
        with self.assertRaises(AccessError):
            control.with_user(self.cs_user).read(["patient_id"])
        with self.assertRaises(AccessError):
            self.env["clinic.mailing.control"].with_user(self.other_company_user).browse(control.ids).read(["date"])
