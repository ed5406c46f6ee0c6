from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase
from odoo.tests import new_test_user, tagged

from .common import CareMessageCase

# 10:00 in Shanghai (UTC+8)
SHANGHAI_10AM = datetime(2026, 6, 11, 2, 0)


@tagged("post_install", "-at_install")
class TestCareMessageLocalTime(CareMessageCase, MockEmail, SMSCase):
    """Visit times are what the clinic's clock says, whoever created the
    patient and the visit, in every message; quiet hours and the daily cap
    count the patient's local day; late bookings are reminded at once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.brussels_admin = new_test_user(
            cls.env,
            login="clinic_brussels_admin",
            groups="base.group_system,clinic_retention.group_clinic_retention_manager",
            tz="Europe/Brussels",
        )

    def _rpc_patient(self, name, **vals):
        """As created over XML-RPC/JSON-RPC: no time zone in the context."""
        Patient = self.env["clinic.patient"].with_context(tz=False)
        return Patient.create(dict(vals, name=name, care_consent=True, country_id=self.china.id))

    def test_shanghai_clinic_10am_everywhere(self):
        rpc_patient = self._rpc_patient("Rpc Patient", mobile="138 0013 8001", email="rpc@example.com")
        self.assertFalse(rpc_patient.tz, "no zone from the RPC call")
        admin_env = self.env(user=self.brussels_admin, context={"tz": "Europe/Brussels"})
        brussels_patient = (
            self.env["clinic.patient"]
            .with_env(admin_env)
            .create(
                {
                    "name": "Booked In Brussels",
                    "mobile": "138 0013 8002",
                    "email": "brussels@example.com",
                    "care_consent": True,
                    "care_consent_source": "paper_form",
                    "country_id": self.china.id,
                }
            )
        )
        self.assertEqual(brussels_patient.tz, "Europe/Brussels", "core gives the creating user's zone")
        visits = self._book(rpc_patient, SHANGHAI_10AM)
        visits |= (
            self.env["clinic.visit"]
            .with_env(admin_env)
            .create(
                {
                    "patient_id": brussels_patient.id,
                    "department_id": self.dental.id,
                    "start": SHANGHAI_10AM,
                    "stop": SHANGHAI_10AM + timedelta(minutes=30),
                }
            )
        )
        mails, sms = self._pass("2026-06-10 02:01:00")
        self.assertEqual((len(mails), len(sms)), (2, 2))
        for message in sms:
            self.assertIn("10:00", message.body)
            self.assertNotIn("2:00", message.body.replace("12:00", ""))
            self.assertNotIn("4:00", message.body, "not Brussels time")
        for mail in mails:
            self.assertIn("10:00", mail.body_html)
            # the clinic's clock, as the patient's language writes it, no seconds
            self.assertIn("June 11, 2026 at 10:00 AM", mail.body_html)
        for visit in visits:
            self.assertEqual(visit.with_env(admin_env).start_local_time, "10:00")
        # the calendar invitation of the appointment
        event = self.env["calendar.event"].create(
            {
                "name": "Dental check-up",
                "start": SHANGHAI_10AM,
                "stop": SHANGHAI_10AM + timedelta(minutes=30),
                "partner_ids": [(6, 0, brussels_patient.partner_id.ids)],
                "clinic_patient_id": brussels_patient.id,
                "clinic_department_id": self.dental.id,
            }
        )
        attendee = event.attendee_ids.filtered(lambda a: a.partner_id == brussels_patient.partner_id)
        self.assertEqual(attendee.mail_tz, "Asia/Shanghai")
        invitation = self.env.ref("calendar.calendar_template_meeting_invitation")
        body = invitation._render_field("body_html", attendee.ids, compute_lang=True)[attendee.id]
        self.assertIn("10:00", body)
        self.assertIn("Asia/Shanghai", body)
        self.assertEqual(event.with_env(admin_env)._get_mail_tz(), "Asia/Shanghai")

    def test_department_zone_and_remote_consultations(self):
        patient = self._rpc_patient("Traveller", mobile="138 0013 8003", tz="Europe/Moscow")
        self.cardiology.tz = "Asia/Urumqi"  # a site two hours behind Beijing time
        site_visit = self._book(patient, SHANGHAI_10AM, department=self.cardiology)
        self.assertEqual(site_visit.start_local_time, "08:00")
        self.cardiology.use_patient_tz = True  # remote consultations
        self.assertEqual(site_visit.start_local_time, "05:00", "in the patient's own zone, on request only")
        self.assertEqual(self._book(patient, SHANGHAI_10AM).start_local_time, "10:00")

    def test_daylight_saving_switch_berlin(self):
        self.company.clinic_tz = "Europe/Berlin"
        patient = self._rpc_patient("Berliner", mobile="138 0013 8004", email="berlin@example.com")
        # 29 March 2026: clocks go from 02:00 to 03:00; the visit is 10:00 CEST (08:00 UTC)
        spring = self._book(patient, datetime(2026, 3, 29, 8, 0))
        _mails, sms = self._pass("2026-03-28 08:01:00")  # 09:01 CET the day before
        self.assertEqual(len(sms), 1)
        self.assertIn("10:00", sms.body)
        # quiet hours follow the local clock after the switch: 21:30 CEST = 19:30 UTC
        evening = self._book(patient, datetime(2026, 3, 30, 19, 30), department=self.cardiology)
        _mails, sms = self._pass("2026-03-29 19:31:00")
        self.assertFalse(sms)
        waiting = self._ledger(evening).filtered(lambda r: r.channel == "sms")
        self.assertEqual(waiting.scheduled_date, datetime(2026, 3, 30, 6, 0), "08:00 CEST")
        # 25 October 2026: clocks go back from 03:00 to 02:00; the visit is 10:00 CET (09:00 UTC)
        autumn = self._book(patient, datetime(2026, 10, 25, 9, 0), department=self.cardiology)
        _mails, sms = self._pass("2026-10-24 09:01:00")
        self.assertEqual(len(sms.filtered(lambda s: "Oct 25, 2026" in s.body)), 1)
        self.assertIn("10:00", sms.filtered(lambda s: "Oct 25, 2026" in s.body).body)
        self.assertEqual((spring.start_local_time, autumn.start_local_time), ("10:00", "10:00"))

    def test_quiet_hours_defer_not_drop(self):
        patient = self._rpc_patient("Early Bird", mobile="138 0013 8005", email="early@example.com")
        # 07:30 in Shanghai: the day-before SMS is due at 07:30, in the quiet hours (21:00-08:00)
        visit = self._book(patient, datetime(2026, 6, 10, 23, 30))
        mails, sms = self._pass("2026-06-09 23:31:00")
        self.assertEqual((len(mails), len(sms)), (1, 0), "the email goes at once; the SMS waits")
        waiting = self._ledger(visit).filtered(lambda r: r.channel == "sms")
        self.assertRecordValues(
            waiting,
            [
                {
                    "state": "queued",
                    "scheduled_date": datetime(2026, 6, 10, 0, 0),
                    "local_date": datetime(2026, 6, 10).date(),
                }
            ],
        )
        _mails, sms = self._pass("2026-06-09 23:50:00")
        self.assertFalse(sms)
        _mails, sms = self._pass("2026-06-10 00:01:00")
        self.assertEqual(len(sms), 1, "sent at 08:00 local")
        self.assertIn("7:30", sms.body)
        # quiet hours that would last until the visit: not sent, and why
        self.rule_soon.active = True
        soon = self._book(patient, datetime(2026, 6, 11, 23, 30), department=self.cardiology)  # 07:30 local
        self._pass("2026-06-11 21:31:00")  # two hours before: 05:31 local
        skipped = self._ledger(soon).filtered(lambda r: r.kind == "two_hours")
        self.assertEqual((skipped.state, skipped.skip_reason), ("skipped", "quiet_hours"))

    def test_cap_counts_the_local_day_and_defers(self):
        self.rule_sms.active = False
        patient = self._rpc_patient("Two Visits", email="two@example.com")
        # Both day-before emails are due on 10 June in Shanghai, but on two UTC days.
        first = self._book(patient, datetime(2026, 6, 10, 16, 30))  # 00:30 local on the 11th
        second = self._book(patient, datetime(2026, 6, 11, 3, 0), department=self.cardiology)  # 11:00 local
        mails, _sms = self._pass("2026-06-09 16:31:00")  # 00:31 local, 10 June
        self.assertEqual(len(mails), 1)
        mails, _sms = self._pass("2026-06-10 03:01:00")  # 11:01 local, 10 June (another UTC day)
        self.assertFalse(mails, "one reminder a local day")
        deferred = self._ledger(second)
        self.assertRecordValues(
            deferred,
            [{"state": "queued", "deferred_reason": "daily_cap", "scheduled_date": datetime(2026, 6, 11, 0, 0)}],
        )
        mails, _sms = self._pass("2026-06-11 00:01:00")
        self.assertEqual(len(mails), 1, "the overflow goes at the next allowed slot")
        self.assertEqual(mails.res_id, second.id)
        self.assertEqual(len(self._ledger(first)), 1)

    def test_late_bookings(self):
        patient = self._rpc_patient("Last Minute", mobile="138 0013 8006", email="late@example.com")
        rules = self.rule_email | self.rule_sms
        rules.last_run = datetime(2026, 6, 10, 1, 55)
        with freeze_time("2026-06-10 02:00:00"):  # 10:00 in Shanghai
            in_20_hours = self._book(patient, datetime(2026, 6, 10, 22, 0))
            in_an_hour = self._book(patient, datetime(2026, 6, 10, 3, 0), department=self.cardiology)
        trigger = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", self.env.ref("clinic_retention.ir_cron_precise_automation").id)]
        )
        self.assertIn(datetime(2026, 6, 10, 2, 0), trigger.mapped("call_at"), "the booking wakes the rules at once")
        mails, sms = self._pass("2026-06-10 02:01:00")
        self.assertEqual((len(mails), len(sms)), (1, 1), "reminded within one pass")
        self.assertEqual((mails.res_id, sms.partner_id), (in_20_hours.id, patient.partner_id))
        self.assertEqual(
            sorted(self._ledger(in_an_hour).mapped(lambda r: (r.channel, r.state, r.skip_reason))),
            [("email", "skipped", "too_late"), ("sms", "skipped", "too_late")],
        )


@tagged("post_install", "-at_install")
class TestClinicTimeZoneDefault(CareMessageCase):
    """Each clinic gets a sensible zone at install; while it has none,
    Settings and the dashboard say so."""

    def test_default_zone(self):
        Company = self.env["res.company"]
        shanghai_user = new_test_user(self.env, login="clinic_tz_user", tz="Asia/Shanghai")
        self.assertEqual(Company.with_user(shanghai_user)._clinic_default_tz(), "Asia/Shanghai", "the user's zone")
        self.env.ref("base.user_admin").tz = False
        iran = Company._clinic_default_tz(self.iran)
        self.assertEqual(iran, "Asia/Tehran", "else the main zone of the country")
        self.env.ref("base.user_admin").tz = "Europe/Moscow"
        self.assertEqual(Company._clinic_default_tz(self.iran), "Europe/Moscow", "the administrator's zone first")
        clinic = Company.create({"name": "New Clinic", "country_id": self.iran.id})
        clinic.clinic_tz = False
        self.env.ref("base.user_admin").tz = False
        Company._clinic_init_tz()
        self.assertEqual(clinic.clinic_tz, "Asia/Tehran")

    def test_missing_zone_is_flagged(self):
        self.company.clinic_tz = False
        dashboard = self.env["clinic.retention.dashboard"].with_user(self.manager).create({"period": "month"})
        self.assertTrue(dashboard.clinic_tz_missing)
        visit = self._book(self._patient("Somewhere"), SHANGHAI_10AM)
        self.assertEqual((visit.local_tz, visit.start_local_time), ("UTC", "02:00"), "UTC until it is set")
        self.company.clinic_tz = "Asia/Shanghai"
        dashboard.invalidate_recordset()
        self.assertFalse(dashboard.clinic_tz_missing)
