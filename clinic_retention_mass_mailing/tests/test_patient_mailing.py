from unittest.mock import patch

from odoo.addons.clinic_retention.tests.common import ClinicRetentionCase
from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged


@tagged("post_install", "-at_install")
class TestPatientMailing(ClinicRetentionCase, MockEmail, SMSCase):
    """A campaign to patients reaches only those who consented to marketing
    and can be reached; the others keep a cancelled trace with the reason,
    counted on the mailing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # e-mail campaigns are sent a chunk of patients at a time: chunks of
        # 3 here, so that every test's sending spans several of them
        cls.startClassPatcher(patch.object(type(cls.env["mailing.mailing"]), "_clinic_stream_chunk", 3))
        cls.patient_model = cls.env["ir.model"]._get("clinic.patient")
        consent = {"marketing_consent": True, "marketing_consent_source": "in_person"}
        p = cls._patient
        cls.reachable = p("Reachable", email="reachable@example.com", mobile="139 1234 5678", **consent)
        cls.no_consent = p("No consent", email="no.consent@example.com", mobile="139 1234 5679")
        cls.no_consent_no_email = p("No consent no email")
        cls.blacklisted = p("Blacklisted", email="blacklisted@example.com", mobile="137 1234 5678", **consent)
        cls.no_email = p("No email", phone="010 6552 9988", **consent)  # a Beijing landline only
        cls.deceased = p("Deceased", email="deceased@example.com", mobile="139 1234 5670", **consent)
        cls.complained = p("Complained", email="complained@example.com", mobile="139 1234 5671", **consent)
        cls.deceased.action_archive()
        cls.env["clinic.complaint"].create(
            {
                "name": "Rude",
                "description": "Rude at the desk",
                "patient_id": cls.complained.id,
                "department_id": cls.dental.id,
            }
        )
        cls.env["mail.blacklist"].sudo()._add("blacklisted@example.com")
        cls.env["phone.blacklist"].sudo()._add(["+8613712345678"])
        cls.patients = (
            cls.reachable
            | cls.no_consent
            | cls.no_consent_no_email
            | cls.blacklisted
            | cls.no_email
            | cls.deceased
            | cls.complained
        )
        cls.marketer = new_test_user(
            cls.env,
            login="clinic_agent_marketer",
            groups="clinic_retention.group_clinic_retention_user,mass_mailing.group_mass_mailing_user",
        )

    def _mailing(self, mailing_type="mail", user=None, **vals):
        Mailing = self.env["mailing.mailing"].with_user(user or self.manager)
        mailing = Mailing.create(
            dict(
                {
                    "name": "Spring check-up",
                    "subject": "Time for your spring check-up",
                    "body_html": "<p>Book your check-up</p>",
                    "body_plaintext": "Book your check-up",
                    "mailing_type": mailing_type,
                    "mailing_model_id": self.patient_model.id,
                },
                **vals,
            )
        )
        # the default domain (complaints left out) with this test's patients
        mailing.mailing_domain = repr([*mailing._parse_mailing_domain(), ("id", "in", self.patients.ids)])
        return mailing

    def _consenting(self, name, count, **contact):
        """``count`` more patients with marketing consent, added to the
        mailings' recipients; ``contact`` values are formatted with the
        patient's index (e.g. ``email="p{index}@example.com"``)."""
        extra = self.env["clinic.patient"]
        for index in range(count):
            extra |= self._patient(
                f"{name} {index}",
                marketing_consent=True,
                marketing_consent_source="web",
                **{field: value.format(index=index) for field, value in contact.items()},
            )
        self.patients |= extra
        return extra

    def _traces(self, mailing):
        return {
            trace.res_id: trace for trace in self.env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)])
        }

    def test_default_domain_leaves_out_recent_complaints(self):
        mailing = (
            self.env["mailing.mailing"]
            .with_user(self.manager)
            .create({"subject": "Hello", "mailing_model_id": self.patient_model.id})
        )
        self.assertIn("('segment_complained', '=', False)", mailing.mailing_domain)

    def test_email_reaches_only_consenting_reachable_patients(self):
        mailing = self._mailing()
        with self.mock_mail_gateway():
            mailing.with_user(self.manager).action_send_mail()
        traces = self._traces(mailing)
        self.assertNotIn(self.deceased.id, traces, "archived (deceased) patients are never targeted")
        self.assertNotIn(self.complained.id, traces, "recent complaints are left out by default")
        self.assertNotIn(self.blacklisted.id, traces, "blacklisted addresses are left out by the default domain")
        self.assertIn(traces[self.reachable.id].trace_status, ("outgoing", "sent"))
        expected = {
            self.no_consent: ("mail_optout", "no_consent"),
            self.no_consent_no_email: ("mail_optout", "no_consent"),
            self.no_email: ("mail_email_missing", False),
        }
        for patient, (failure_type, exclusion) in expected.items():
            with self.subTest(patient=patient.name):
                trace = traces[patient.id]
                self.assertEqual(trace.trace_status, "cancel")
                self.assertEqual(trace.failure_type, failure_type)
                self.assertEqual(trace.clinic_exclusion, exclusion)
        self.assertIn("consent", traces[self.no_consent.id].failure_reason)
        self.assertFalse(traces[self.no_consent.id].mail_mail_id_int, "left out before rendering: no e-mail made")
        self.assertEqual(len(self._mails), 1, "one e-mail leaves")
        self.assertIn("reachable@example.com", str(self._mails[0]["email_to"]))
        mailing.invalidate_recordset()
        self.assertEqual(mailing.clinic_excluded_no_consent_count, 2)
        action = mailing.action_view_clinic_excluded()
        self.assertEqual(self.env["mailing.trace"].search_count(action["domain"]), 2)

    def test_shared_address_is_opted_out_across_batches(self):
        """The opt-out list is built batch by batch (one per 50 records) but
        means the same as for the whole mailing: an address is opted out when
        any recipient behind it refused, even one sent in another batch; a
        mailing to contacts leaves out those whose patient refused."""
        self.env["ir.config_parameter"].sudo().set_param("mail.batch_size", 1)
        consent = {"marketing_consent": True, "marketing_consent_source": "in_person"}
        parent = self._patient("Family parent", email="family@example.com", **consent)
        child = self._patient("Family child", email="Family@example.com")
        self.patients |= parent | child
        mailing = self._mailing()
        # one patient per chunk too: the two behind the address are in different chunks
        with self.mock_mail_gateway(), patch.object(type(mailing), "_clinic_stream_chunk", 1):
            mailing.with_user(self.manager).action_send_mail()
        traces = self._traces(mailing)
        self.assertIn(traces[self.reachable.id].trace_status, ("outgoing", "sent"))
        for patient, exclusion in ((parent, False), (child, "no_consent")):
            with self.subTest(patient=patient.name):
                self.assertEqual(traces[patient.id].trace_status, "cancel")
                self.assertEqual(traces[patient.id].failure_type, "mail_optout")
                self.assertEqual(traces[patient.id].clinic_exclusion, exclusion)

        contacts = (self.reachable | self.no_consent).partner_id
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Newsletter",
                "body_html": "<p>News</p>",
                "mailing_model_id": self.env["ir.model"]._get("res.partner").id,
                "mailing_domain": repr([("id", "in", contacts.ids)]),
            }
        )
        with self.mock_mail_gateway():
            mailing.action_send_mail()
        traces = {trace.res_id: trace for trace in mailing.mailing_trace_ids}
        self.assertIn(traces[self.reachable.partner_id.id].trace_status, ("outgoing", "sent"))
        self.assertEqual(traces[self.no_consent.partner_id.id].failure_type, "mail_optout")

    def test_shared_address_is_mailed_once_across_batches(self):
        """Two consenting patients behind one address, rendered in different
        batches: one e-mail leaves, the other is cancelled as a duplicate
        (the addresses already reached are looked up among the batch's own)."""
        self.env["ir.config_parameter"].sudo().set_param("mail.batch_size", 1)
        consent = {"marketing_consent": True, "marketing_consent_source": "in_person"}
        first = self._patient("Twin one", email="twins@example.com", **consent)
        second = self._patient("Twin two", email="Twins <TWINS@example.com>", **consent)
        self.patients |= first | second
        mailing = self._mailing()
        # one patient per chunk too: the two behind the address are in different chunks
        with self.mock_mail_gateway(), patch.object(type(mailing), "_clinic_stream_chunk", 1):
            mailing.with_user(self.manager).action_send_mail()
        traces = self._traces(mailing)
        statuses = sorted((traces[first.id].trace_status, traces[second.id].trace_status))
        self.assertEqual(statuses[0], "cancel")
        self.assertIn(statuses[1], ("outgoing", "sent"))
        duplicate = traces[first.id] if traces[first.id].trace_status == "cancel" else traces[second.id]
        self.assertEqual(duplicate.failure_type, "mail_dup")
        to_twins = [mail for mail in self._mails if "twins@example.com" in str(mail["email_to"]).lower()]
        self.assertEqual(len(to_twins), 1, "one e-mail to the shared address")
        # what mass_mailing itself finds for the whole mailing agrees
        self.assertIn("twins@example.com", mailing._get_seen_list())

    def test_sms_reaches_only_consenting_mobiles(self):
        mailing = self._mailing("sms")
        with self.mockSMSGateway():
            mailing.with_user(self.manager).action_send_sms()
        traces = self._traces(mailing)
        self.assertIn(traces[self.reachable.id].trace_status, ("outgoing", "pending", "sent"))
        self.assertEqual(traces[self.reachable.id].sms_number, "+8613912345678")
        self.assertNotIn(self.blacklisted.id, traces, "blacklisted numbers are left out by the default domain")
        expected = {
            self.no_consent: ("sms_optout", "no_consent"),
            self.no_consent_no_email: ("sms_optout", "no_consent"),
            self.no_email: ("sms_number_format", "no_sms_number"),  # the landline is never texted
        }
        for patient, (failure_type, exclusion) in expected.items():
            with self.subTest(patient=patient.name):
                trace = traces[patient.id]
                self.assertEqual(trace.trace_status, "cancel")
                self.assertEqual(trace.failure_type, failure_type)
                self.assertEqual(trace.clinic_exclusion, exclusion)
        outgoing = self._new_sms.exists().filtered(lambda sms: sms.state != "canceled")
        self.assertEqual(outgoing.mapped("number"), ["+8613912345678"])
        mailing.invalidate_recordset()
        self.assertEqual(mailing.clinic_excluded_no_consent_count, 2)
        self.assertEqual(mailing.clinic_excluded_no_number_count, 1)

    def test_control_group_is_held_out_once(self):
        extra = self._consenting("Control candidate", 9, email="candidate{index}@example.com")
        mailing = self._mailing(clinic_control_percent=30)
        with self.mock_mail_gateway():
            mailing.with_user(self.manager).action_send_mail()
        consenting = extra | self.reachable | self.no_email  # 11 would get it (not the blacklisted)
        control = mailing.clinic_control_ids
        self.assertEqual(len(control), 3, "30% of the 11 consenting recipients, rounded")
        self.assertLessEqual(control.patient_id, consenting)
        traces = self._traces(mailing)
        self.assertFalse(set(control.patient_id.ids) & set(traces), "the control group gets no message")
        self.assertEqual(len(traces), len(self.patients) - 3 - 3, "everyone else has a trace")
        self.assertEqual(mailing._get_remaining_recipients(), [])
        self.assertEqual(mailing.clinic_control_ids, control, "drawn once")

    def test_sms_control_group(self):
        """SMS keep Odoo's sending (the whole list at once): the control
        group is drawn the same way, among the consenting recipients."""
        extra = self._consenting("SMS candidate", 3, mobile="139 1234 56{index}1")
        mailing = self._mailing("sms", clinic_control_percent=50)
        with self.mockSMSGateway():
            mailing.with_user(self.manager).action_send_sms()
        consenting = extra | self.reachable | self.no_email  # 5 would get it
        control = mailing.clinic_control_ids
        self.assertEqual(len(control), 2, "50% of the 5 consenting recipients, rounded")
        self.assertLessEqual(control.patient_id, consenting)
        self.assertFalse(set(control.patient_id.ids) & set(self._traces(mailing)), "the control group gets no SMS")

    def test_only_managers_send_campaigns_to_patients(self):
        with self.assertRaises(AccessError):
            self._mailing(user=self.marketer)
        partner_model = self.env["ir.model"]._get("res.partner")
        self.env["mailing.mailing"].with_user(self.marketer).create(
            {"subject": "Newsletter", "mailing_model_id": partner_model.id}
        )  # other mailings stay theirs
        mailing = self._mailing()
        with self.assertRaises(AccessError):
            mailing.with_user(self.marketer).action_send_mail()
        with self.assertRaises(AccessError):
            mailing.with_user(self.marketer).write({"subject": "Changed"})
        self.assertTrue(self.manager.has_group("mass_mailing.group_mass_mailing_user"))
        self.assertFalse(self.cs_user.has_group("mass_mailing.group_mass_mailing_user"))
        # agents use the segments
        self.env["clinic.patient"].with_user(self.cs_user).search([("segment_complained", "=", True)])

    # ------------------------------------------------------------------
    # Sending a chunk at a time
    # ------------------------------------------------------------------

    def _chunk_composers(self, mailing):
        return self.env["mail.compose.message"].search([("mass_mailing_id", "=", mailing.id)])

    def test_campaign_is_sent_by_chunks_without_listing_the_segment(self):
        """The sending never asks for the whole list of recipients: chunks
        of patients in id order, one composer each, and the same outcome."""
        mailing = self._mailing()
        Mailing = type(self.env["mailing.mailing"])

        def whole_segment(*args, **kwargs):
            raise AssertionError("the whole segment was listed")

        with (
            patch.object(Mailing, "_get_recipients", whole_segment),
            patch.object(Mailing, "_get_remaining_recipients", whole_segment),
            self.mock_mail_gateway(),
        ):
            mailing.with_user(self.manager).action_send_mail()
        traces = self._traces(mailing)
        recipients = self.reachable | self.no_consent | self.no_consent_no_email | self.no_email
        self.assertEqual(set(traces), set(recipients.ids))
        self.assertEqual(len(self._mails), 1, "only the consenting patient with an address gets it")
        # 4 recipients in chunks of 3 (+ the blacklisted and complained, left out by the domain)
        self.assertEqual(len(self._chunk_composers(mailing)), 2, "one composer per chunk with patients to render")
        self.assertEqual(mailing.state, "done")
        self.assertTrue(mailing.sent_date)
        self.assertTrue(mailing.kpi_mail_required, "first sending: the 24-hour statistics e-mail is due")

    def _open_recipient_cursors(self):
        self.env.cr.execute("SELECT COUNT(*) FROM pg_cursors WHERE name LIKE 'clinic_mailing_%'")
        return self.env.cr.fetchone()[0]

    def test_recipient_cursor_is_closed(self):
        """The database cursor the recipients are read from is closed at the
        end of a sending, and gone when a sending fails."""
        mailing = self._mailing()
        with self.mock_mail_gateway():
            mailing.with_user(self.manager).action_send_mail()
        self.assertEqual(self._open_recipient_cursors(), 0)

        def broken(*args, **kwargs):
            raise ValueError("rendering failed")

        mailing = self._mailing()
        with (
            patch.object(type(self.env["mailing.mailing"]), "_clinic_send_chunk", broken),
            self.assertRaises(ValueError),
        ):
            mailing.with_user(self.manager).action_send_mail()
        self.assertEqual(self._open_recipient_cursors(), 0)
        self.assertEqual(mailing.state, "draft", "the failed sending left nothing behind")

    def test_queued_campaign_resumes_where_it_stopped(self):
        """A sending that stopped half-way (some patients already have their
        trace) is finished by the scheduled action: the others are sent, no
        one twice."""
        extra = self._consenting("Resumed", 4, email="resumed{index}@example.com")
        mailing = self._mailing()
        with self.mock_mail_gateway():
            mailing.with_user(self.manager).action_send_mail(res_ids=(self.reachable | extra[:2]).ids)
        self.assertEqual(len(self._mails), 3)
        mailing.write({"state": "in_queue", "kpi_mail_required": False})
        with self.mock_mail_gateway():
            self.env["mailing.mailing"]._process_mass_mailing_queue()
        self.assertEqual(
            sorted(email for mail in self._mails for email in mail["email_to"]),
            ['"Resumed 2" <resumed2@example.com>', '"Resumed 3" <resumed3@example.com>'],
            "the two not yet mailed, and only them",
        )
        traces = self._traces(mailing)
        self.assertEqual(
            set(traces), set((extra | self.reachable | self.no_consent | self.no_consent_no_email | self.no_email).ids)
        )
        self.assertEqual(mailing.state, "done")
        self.assertFalse(mailing.kpi_mail_required, "not its first sending")
        # nothing left: a new sending says so, as Odoo does
        with self.assertRaises(UserError):
            mailing.with_user(self.manager).action_send_mail()

    def test_chunked_mails_are_the_ones_odoo_composes(self):
        """The composer of each chunk is built with the values mass_mailing
        gives its own: the e-mail is the same as Odoo's sending to chosen
        records."""
        attachment = (
            self.env["ir.attachment"].with_user(self.manager).create({"name": "offer.pdf", "datas": "JVBERi0="})
        )
        values = {
            "preview": "Your check-up is due",
            "reply_to_mode": "new",
            "reply_to": "desk@clinic.example.com",
            "email_from": "care@clinic.example.com",
            "keep_archives": True,
            "attachment_ids": [(6, 0, attachment.ids)],
        }
        mails = {}
        for how in ("odoo", "chunked"):
            mailing = self._mailing(**values)
            mailing.mailing_domain = repr([("id", "=", self.reachable.id)])
            res_ids = self.reachable.ids if how == "odoo" else None
            with self.mock_mail_gateway():
                mailing.with_user(self.manager).action_send_mail(res_ids=res_ids)
            self.assertEqual(len(self._new_mails), 1)
            mails[how] = self._new_mails
        fields = ("subject", "email_from", "reply_to", "auto_delete", "mail_server_id", "model", "res_id", "author_id")
        for field in fields:
            with self.subTest(field=field):
                self.assertEqual(mails["chunked"][field], mails["odoo"][field])
        self.assertEqual(mails["chunked"].attachment_ids.mapped("name"), ["offer.pdf"])
        self.assertEqual(len(mails["odoo"].attachment_ids), 1)
        self.assertIn("Your check-up is due", mails["chunked"].body_html)
        self.assertEqual(mails["chunked"].body_html, mails["odoo"].body_html)

    def test_bigger_campaign_goes_through_the_mail_queue(self):
        """As Odoo does for the whole mailing: up to the force-send limit of
        recipients the e-mails leave at once, above it every chunk (even a
        last one of a single patient) waits in the mail queue."""
        self._consenting("Queued", 3, email="queued{index}@example.com")
        self.env["ir.config_parameter"].sudo().set_param("mail.mail.force.send.limit", 6)
        mailing = self._mailing()  # 7 recipients: 4 consenting with an address, chunks of 3
        with self.mock_mail_gateway():
            mailing.with_user(self.manager).action_send_mail()
        self.assertFalse(self._mails, "nothing sent at once")
        queued = self._new_mails.filtered(lambda mail: mail.state == "outgoing")
        self.assertEqual(len(queued), 4, "all in the mail queue")
        self.env["ir.config_parameter"].sudo().set_param("mail.mail.force.send.limit", 7)
        mailing = self._mailing()
        with self.mock_mail_gateway():
            mailing.with_user(self.manager).action_send_mail()
        self.assertEqual(len(self._mails), 4, "a mailing within the limit is sent at once")

    def test_empty_segment(self):
        mailing = self._mailing()
        mailing.mailing_domain = repr([("id", "=", 0)])
        with self.assertRaises(UserError):
            mailing.with_user(self.manager).action_send_mail()
        mailing.write({"state": "in_queue"})
        self.env["mailing.mailing"]._process_mass_mailing_queue()
        self.assertEqual(mailing.state, "done", "the scheduled action closes it, as Odoo does")
