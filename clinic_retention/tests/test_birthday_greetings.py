from datetime import date, datetime

from freezegun import freeze_time

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase
from odoo.tests import tagged

from .common import CareMessageCase


@tagged("post_install", "-at_install")
class TestBirthdayGreetings(CareMessageCase, MockEmail, SMSCase):
    """The birthday rule in a Shanghai clinic (UTC+8): 09:00 local on
    1 January is 01:00 UTC, across the year boundary."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.env.ref("clinic_retention.automation_patient_birthday")
        consent = {"marketing_consent": True, "marketing_consent_source": "in_person"}
        with freeze_time("2026-12-30 12:00:00"):
            cls.happy = cls._patient("New Year Baby", birthdate=date(1990, 1, 1), email="baby@example.com", **consent)
            cls.texter = cls._patient(
                "Texter",
                birthdate=date(1985, 1, 1),
                mobile="139 1234 5678",
                preferred_channel="sms",
                **consent,
            )
            cls.refused = cls._patient("No Consent", birthdate=date(1991, 1, 1), email="refused@example.com")
            cls.deceased = cls._patient("Deceased", birthdate=date(1950, 1, 1), email="deceased@example.com", **consent)
            cls.deceased.action_archive()
        cls.ours = cls.happy | cls.texter | cls.refused | cls.deceased

    def _greetings(self):
        return self.Ledger.with_context(active_test=False).search(
            [("kind", "=", "birthday"), ("patient_id", "in", self.ours.ids)]
        )

    def test_shipped_disabled(self):
        self.assertFalse(self.rule.active)
        self.assertEqual(self.happy.birthday_greeting_date, datetime(2027, 1, 1, 1, 0))

    def test_once_a_year_at_nine_local_across_the_year_boundary(self):
        self.rule.active = True
        mails, sms = self._pass("2027-01-01 00:30:00")  # 08:30 in Shanghai
        self.assertFalse(self._greetings(), "not before 09:00 local")
        mails, sms = self._pass("2027-01-01 01:05:00")
        greetings = self._greetings()
        self.assertRecordValues(
            greetings.sorted(lambda m: m.patient_id.id),
            [
                {
                    "patient_id": self.happy.id,
                    "message_key": f"birthday:{self.happy.id}:2027",
                    "channel": "email",
                    "state": "queued",
                    "destination": "baby@example.com",
                    "visit_id": False,
                },
                {
                    "patient_id": self.texter.id,
                    "message_key": f"birthday:{self.texter.id}:2027",
                    "channel": "sms",
                    "state": "queued",
                    "destination": "+8613912345678",
                    "visit_id": False,
                },
            ],
        )
        ours_mails = mails.filtered(lambda mail: mail.recipient_ids & self.ours.partner_id)
        self.assertEqual(ours_mails.recipient_ids, self.happy.partner_id)
        self.assertIn("happy birthday", ours_mails.body_html)
        self.assertEqual(greetings.filtered(lambda m: m.channel == "email").mail_mail_id, ours_mails)
        ours_sms = sms.filtered(lambda s: s.partner_id == self.texter.partner_id)
        self.assertEqual(len(ours_sms), 1)
        self.assertIn("happy birthday", ours_sms.body)

        # later runs, even forced, send nothing more this year
        mails, sms = self._pass("2027-01-01 03:00:00")
        with freeze_time("2027-01-01 05:00:00"):
            self.assertFalse((self.happy | self.texter)._send_birthday_greeting())
        self.assertEqual(self._greetings(), greetings)

        # the nightly refresh moves the greeting to next year's birthday
        with freeze_time("2027-01-02 18:00:00"):
            self.env["clinic.patient"]._cron_refresh_birthday_greeting_date()
        self.assertEqual(self.happy.birthday_greeting_date, datetime(2028, 1, 1, 1, 0))
        self._pass("2027-12-31 23:00:00")  # 07:00 local on 1 January 2028
        self.assertEqual(self._greetings(), greetings)
        self._pass("2028-01-01 01:05:00")
        self.assertEqual(
            sorted(self._greetings().mapped("message_key")),
            sorted(
                [
                    f"birthday:{self.happy.id}:2027",
                    f"birthday:{self.texter.id}:2027",
                    f"birthday:{self.happy.id}:2028",
                    f"birthday:{self.texter.id}:2028",
                ]
            ),
        )

    def test_never_without_consent_nor_to_the_deceased(self):
        with freeze_time("2027-01-01 02:00:00"):
            claimed = self.ours._send_birthday_greeting()
        by_patient = {message.patient_id: message for message in claimed}
        self.assertEqual(by_patient[self.refused].state, "skipped")
        self.assertEqual(by_patient[self.refused].skip_reason, "no_marketing_consent")
        self.assertEqual(by_patient[self.deceased].skip_reason, "inactive")
        # consent withdrawn after queueing: not sent either
        self.assertEqual(by_patient[self.happy].state, "queued")
        self.happy.write({"marketing_consent": False, "marketing_consent_source": "phone"})
        with freeze_time("2027-01-01 02:01:00"), self.mock_mail_gateway():
            self.env["clinic.care.message"]._dispatch_due()
            self.assertFalse(self._new_mails.filtered(lambda mail: mail.recipient_ids & self.happy.partner_id))
        self.assertEqual(by_patient[self.happy].state, "cancelled")
        self.assertEqual(by_patient[self.happy].skip_reason, "no_marketing_consent")

    def test_not_on_another_day_and_offer_code(self):
        with freeze_time("2027-01-02 02:00:00"):
            self.assertFalse(self.happy._send_birthday_greeting(), "a late run the next day greets nobody")
        with freeze_time("2027-01-01 02:00:00"), self.mock_mail_gateway():
            message = self.happy._send_birthday_greeting(with_offer=True)
            self.env["clinic.care.message"]._dispatch_due()
        self.assertTrue(self.happy.birthday_offer_code.startswith("BDAY27-"))
        self.assertIn(self.happy.birthday_offer_code, message.mail_mail_id.body_html)
