import io
import json
import zipfile
from datetime import date, datetime, timedelta

import openpyxl
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import ClinicRetentionCase

NAME = "Zbigniew Quetzalcoatl"
MOBILE = "139 1234 5678"
EMAIL = "zq.patient@example.org"
# what must be left nowhere once the patient is anonymised
# the mobile as typed and as stored; "1234 5678" alone would also match Odoo's
# own event demo contact (+86 21 1234 5678) once the events bridge is installed
TRACES = ["Zbigniew", "Quetzalcoatl", "13912345678", MOBILE, "zq.patient@example.org"]
PERIOD = (date(2026, 1, 1), date(2026, 6, 30))


@tagged("post_install", "-at_install")
class TestPatientRights(ClinicRetentionCase):
    """Right of access (the export holds every record the addon keeps about
    the patient) and right to erasure (anonymisation: statistics unchanged,
    no trace of the name, phone or e-mail in any table, checked with SQL)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.env.company.clinic_complaint_threshold = 2
        cls.patient = cls._patient(
            NAME,
            mobile=MOBILE,
            email=EMAIL,
            street="12 Rue des Tilleuls",
            birthdate=date(1980, 5, 17),
            insurance_number="INS-445566",
            care_consent=True,
            care_consent_source="paper_form",
            notes=f"<p>{NAME} prefers mornings</p>",
        )
        cls.patient.with_user(cls.manager).write({"allergies": "Penicillin"})
        cls.patient.write({"marketing_consent": True, "marketing_consent_source": "web"})
        cls.visits = cls.env["clinic.visit"]
        with freeze_time("2026-02-01 10:00:00"):
            for day, department, amount in (
                (5, cls.dental, 100.0),
                (20, cls.dental, 250.0),
                (25, cls.cardiology, 80.0),
            ):
                cls.visits |= cls._visit(
                    cls.patient,
                    datetime(2026, 1, day, 9),
                    department=department,
                    amount=amount,
                    doctor_id=cls.doctor.id,
                    notes=f"<p>Seen {NAME}, call {MOBILE}</p>",
                )
        cls.future = cls._visit(cls.patient, datetime.now() + timedelta(days=10), state="scheduled")
        cls.survey = cls.env["clinic.survey.response"].create({"visit_id": cls.visits[0].id})
        cls.survey._submit({"score": 2, "comment": f"{NAME} here: I waited an hour"})
        cls.task = cls.env["clinic.followup.task"].create(
            {
                "name": f"Call {NAME} back",
                "patient_id": cls.patient.id,
                "department_id": cls.dental.id,
                "notes": f"<p>Reach on {MOBILE}</p>",
                "health_guidance": "<p>Rinse twice a day</p>",
                "satisfaction_score": 4,
            }
        )
        cls.env["clinic.followup.recovery.score"].create(
            {"task_id": cls.task.id, "name": "Pain", "score": 4, "note": f"{NAME} feels better"}
        )
        cls.web_complaint = cls.env["clinic.complaint"]._create_from_public_form(
            cls.company,
            {
                "contact_name": NAME,
                "contact_phone": MOBILE,
                "contact_email": EMAIL,
                "department_id": str(cls.dental.id),
                "description": f"My name is {NAME}, nobody called me back on {MOBILE}.",
                "privacy_notice": "We use your data to handle your complaint.",
            },
        )
        cls.env["clinic.visit.reminder"]._claim(
            [
                {
                    "visit_id": cls.future.id,
                    "patient_id": cls.patient.id,
                    "company_id": cls.company.id,
                    "kind": "day_before",
                    "channel": "sms",
                    "visit_start": cls.future.start,
                    "sent_date": datetime.now(),
                    "state": "sent",
                    "skip_reason": False,
                    "automation_id": False,
                    "destination": "+8613912345678",
                }
            ]
        )
        partner = cls.patient.partner_id
        cls.env["mail.mail"].create(
            {
                "subject": f"Your visit, {NAME}",
                "body_html": f"<p>Dear {NAME}</p>",
                "model": "clinic.visit",
                "res_id": cls.future.id,
                "recipient_ids": [(4, partner.id)],
                "email_to": EMAIL,
            }
        )
        cls.env["sms.sms"].create({"number": "+8613912345678", "partner_id": partner.id, "body": f"{NAME}: tomorrow"})
        cls.patient.message_post(
            body=f"Spoke with {NAME} on {MOBILE}", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        cls.patient.message_post(
            body="Your results are ready",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=partner.ids,
        )
        # tracked changes (the chatter keeps old values): made after a "commit"
        cls.env.flush_all()
        cls.env.cr.precommit.run()
        cls.patient.write({"insurance_number": "INS-999"})
        cls.web_complaint.write({"name": f"{NAME} was not called back"})
        cls.env.flush_all()
        cls.env.cr.precommit.run()
        cls.env["ir.attachment"].create(
            {"name": f"{NAME} x-ray.png", "res_model": "clinic.patient", "res_id": cls.patient.id, "raw": b"x"}
        )
        cls.visits[0].activity_schedule("mail.mail_activity_data_todo", summary=f"Call {NAME}", user_id=cls.manager.id)
        cls.event = (
            cls.env["calendar.event"]
            .with_context(no_mail_to_attendees=True)
            .create(
                {
                    "name": f"{NAME} check-up",
                    "start": datetime.now() + timedelta(days=20),
                    "stop": datetime.now() + timedelta(days=20, minutes=30),
                    "partner_ids": [(4, partner.id)],
                }
            )
        )
        cls.env["crm.lead"].create(
            {"name": f"{NAME} implants", "partner_id": partner.id, "email_from": EMAIL, "phone": MOBILE}
        )
        cls.env["clinic.audit.log"]._log(
            "clinical_change", patient=cls.patient, details={"old": f"{NAME} allergic", "new": "none"}
        )

    # ------------------------------------------------------------------
    # Right of access
    # ------------------------------------------------------------------

    def _export(self, user=None):
        filename, content = self.patient.with_user(user or self.manager)._export_personal_data()
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            data = json.loads(archive.read(next(n for n in names if n.endswith(".json"))))
            book = openpyxl.load_workbook(io.BytesIO(archive.read(next(n for n in names if n.endswith(".xlsx")))))
        return filename, data, book

    def test_export_holds_everything_about_the_patient(self):
        filename, data, book = self._export()
        self.assertTrue(filename.endswith(".zip"))
        patient = data["patient"]
        self.assertEqual((patient["name"], patient["mobile"], patient["email"]), (NAME, "+8613912345678", EMAIL))
        self.assertEqual(patient["allergies"], "Penicillin")
        self.assertEqual(patient["birthdate"], "1980-05-17")
        self.assertIn("prefers mornings", patient["notes"])
        self.assertEqual(
            [(c["kind"], c["given"], c["source"]) for c in sorted(data["consents"], key=lambda c: c["id"])],
            [("Care messages", True, "Paper form"), ("Marketing", True, "Web form")],
        )
        self.assertEqual(len(data["visits"]), 4)
        self.assertEqual(sorted(v["amount"] for v in data["visits"]), [0.0, 80.0, 100.0, 250.0])
        self.assertTrue(any("call" in (v["notes"] or "") for v in data["visits"]), "clinical notes included")
        self.assertEqual([m["destination"] for m in data["messages_sent"]], ["+8613912345678"])
        self.assertTrue(any("results are ready" in (m["body"] or "") for m in data["messages"]))
        self.assertEqual([m["subject"] for m in data["emails"]], [f"Your visit, {NAME}"], "queued e-mails too")
        follow_ups = {t["name"]: t for t in data["follow_ups"]}
        self.assertIn(f"Call {NAME} back", follow_ups)
        self.assertIn("Rinse twice", follow_ups[f"Call {NAME} back"]["health_guidance"])
        self.assertEqual([s["note"] for s in data["recovery_scores"]], [f"{NAME} feels better"])
        self.assertEqual([(s["score"], s["comment"]) for s in data["surveys"]], [(2, f"{NAME} here: I waited an hour")])
        self.assertEqual(len(data["complaints"]), 1, "the complaint opened by the low score")
        self.assertIn("waited an hour", data["complaints"][0]["description"])
        # the readable workbook holds the same
        self.assertEqual(
            book.sheetnames,
            [
                "Patient",
                "Consents",
                "Visits",
                "Messages sent",
                "Messages",
                "E-mails queued",
                "Follow-ups",
                "Recovery scores",
                "Satisfaction surveys",
                "Complaints",
                "Recall intervals",
            ],
        )
        card = {row[0]: row[1] for row in book["Patient"].iter_rows(min_row=3, values_only=True)}
        self.assertEqual(card["Name"], NAME)
        self.assertEqual(book["Visits"].max_row, 1 + 4)
        # logged, and for managers only
        log = self.env["clinic.audit.log"].search([("event", "=", "patient_export")])
        self.assertRecordValues(log, [{"patient_id": self.patient.id, "user_id": self.manager.id}])
        self.assertIn('"visits": 4', log.details)
        with self.assertRaises(AccessError):
            self._export(self.cs_user)

    # ------------------------------------------------------------------
    # Right to erasure
    # ------------------------------------------------------------------

    def _statistics(self):
        Kpi = self.env["clinic.retention.kpi"].with_user(self.manager).with_company(self.company)
        kpis = Kpi._compute(*PERIOD, by_department=True)
        satisfaction = self.env["clinic.satisfaction.report"]._read_group(
            [("department_id", "in", (self.dental | self.cardiology).ids)], ["department_id"], ["score:avg", "__count"]
        )
        followups = (
            self.env["clinic.followup.task"]
            .with_context(active_test=False)
            ._read_group([("patient_id", "=", self.patient.id)], ["outcome"], ["satisfaction_score:avg", "__count"])
        )
        visits = self.env["clinic.visit"]._read_group(
            [("patient_id", "=", self.patient.id), ("state", "=", "done")],
            ["department_id"],
            ["amount:sum", "__count"],
        )
        scores = self.env["clinic.survey.response"]._read_group(
            [("patient_id", "=", self.patient.id)], [], ["score:avg", "__count"]
        )
        self.env["clinic.retention.report"].invalidate_model()
        retention = self.env["clinic.retention.report"].search_read(
            [("department_id", "=", self.dental.id)], ["date", "patients_start", "patients_end", "revenue"]
        )
        return kpis, satisfaction, followups, visits, scores, retention

    def _traces(self):
        """Every (table, column) of the database whose text holds the
        patient's name, phone or e-mail."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """
            SELECT c.table_name, array_agg(c.column_name::text)
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_name = c.table_name AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE'
             WHERE c.table_schema = 'public' AND c.data_type IN ('text', 'character varying', 'jsonb')
             GROUP BY c.table_name
            """
        )
        patterns = [f"%{trace}%" for trace in TRACES]
        found = []
        for table, columns in cr.fetchall():
            for column in columns:
                cr.execute(
                    f'SELECT COUNT(*) FROM "{table}" WHERE "{column}"::text ILIKE ANY(%s)',
                    [patterns],
                )
                if cr.fetchone()[0]:
                    found.append(f"{table}.{column}")
        return found

    def test_anonymise_keeps_statistics_and_leaves_no_trace(self):
        before = self._statistics()
        self.assertIn("res_partner.name", self._traces(), "the check finds what is there")
        wizard = (
            self.env["clinic.patient.anonymise"]
            .with_user(self.manager)
            .create({"patient_id": self.patient.id, "reason": "request", "note": "Letter 2026-07-01"})
        )
        with self.assertRaises(UserError):
            wizard.action_anonymise()  # not confirmed
        wizard.confirm = True
        wizard.action_anonymise()
        self.assertEqual(self._statistics(), before, "statistics are unchanged")
        self.assertEqual(self._traces(), [], "no trace of the name, phone or e-mail in any table")
        patient = self.patient.with_context(active_test=False)
        self.assertRecordValues(
            patient,
            [{"is_anonymised": True, "active": False, "birthdate": False, "care_consent": False, "notes": False}],
        )
        self.assertFalse(patient.sudo().medical_allergies)
        self.assertEqual(self.future.state, "cancelled", "no more reminders")
        self.assertEqual(len(self.visits.filtered(lambda v: v.state == "done")), 3, "the visits stay")
        self.assertEqual(self.survey.score, 2, "the scores stay")
        log = self.env["clinic.audit.log"].search([("event", "=", "anonymisation")])
        self.assertRecordValues(log, [{"patient_id": self.patient.id, "user_id": self.manager.id}])
        self.assertIn("Letter 2026-07-01", log.description)
        privacy_log = self.env["privacy.log"].search([], order="id desc", limit=1)
        self.assertEqual(privacy_log.anonymized_name, self.env["privacy.log"]._anonymize_name(NAME))
        self.assertNotIn("Zbigniew", privacy_log.anonymized_name)
        # irreversible: nobody edits it back, nothing left to export
        with self.assertRaises(UserError):
            patient.with_user(self.manager).write({"name": NAME})
        with self.assertRaises(UserError):
            patient.with_user(self.manager)._export_personal_data()
        with self.assertRaises(AccessError):
            self.env["clinic.patient.anonymise"].with_user(self.cs_user).create({"patient_id": self.patient.id})

    def test_retention_lists_then_anonymises(self):
        self.company.write({"clinic_anonymise_after_years": 3, "clinic_anonymise_notice_days": 30})
        kept = self._patient("Kept Patient", retention_hold=True)
        recent = self._patient("Recent Patient")
        self.env.cr.execute(
            "UPDATE clinic_patient SET create_date = %s WHERE id IN %s",
            [datetime(2020, 1, 1), tuple((self.patient | kept | recent).ids)],
        )
        self._visit(recent, datetime(2029, 6, 1, 9))
        complaint = self.survey.complaint_id
        complaint.write({"root_cause": "Overbooked", "corrective_action": "Fewer slots"})
        complaint.write({"stage_id": self.env.ref("clinic_retention.complaint_stage_closed").id})
        Patient = self.env["clinic.patient"]
        with freeze_time("2030-03-01 03:00:00"):
            mine = self.patient | kept | recent
            self.assertEqual(Patient._retention_candidates(self.company) & mine, self.patient, "the dry run")
            action = self.env["res.config.settings"].create({}).action_clinic_retention_preview()
            self.assertEqual(Patient.search(action["domain"]) & mine, self.patient)
            self.assertFalse(self.patient.anonymise_due_date, "the preview writes nothing")
            Patient._cron_retention()
        self.assertEqual(self.patient.anonymise_due_date, date(2030, 3, 31))
        self.assertFalse(self.patient.is_anonymised, "listed first, not anonymised")
        self.assertEqual(self.env["clinic.audit.log"].search_count([("event", "=", "retention_listed")]), 1)
        with freeze_time("2030-03-31 03:00:00"):
            Patient._cron_retention()
        self.assertTrue(self.patient.is_anonymised)
        self.assertFalse(kept.is_anonymised)
        self.assertFalse(recent.is_anonymised)

    def test_privacy_lookup_finds_and_anonymises(self):
        """Odoo's Privacy Lookup (privacy_lookup) finds the patient, their
        web complaint and their message ledger, and offers the anonymisation."""
        wizard = self.env["privacy.lookup.wizard"].create({"name": NAME, "email": EMAIL})
        wizard.action_lookup()
        found = {(line.res_model, line.res_id) for line in wizard.line_ids}
        self.assertIn(("clinic.patient", self.patient.id), found)
        self.assertIn(("clinic.complaint", self.web_complaint.id), found)
        self.assertTrue(any(model == "clinic.visit.reminder" for model, _id in found))
        line = wizard.line_ids.filtered(lambda line: line.res_model == "clinic.patient")
        action = line.with_user(self.env.ref("base.user_admin")).action_clinic_anonymise()
        self.assertEqual(action["res_model"], "clinic.patient.anonymise")


@tagged("post_install", "-at_install")
class TestPatientRightsUi(HttpCase):
    """The downloads are built on request and streamed to their author; a
    manager exports a patient's data and anonymises a test patient (tour)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="privacy_manager",
            password="privacy_manager_pw",
            name="Privacy Manager",
            groups="clinic_retention.group_clinic_retention_manager",
            tz="UTC",
        )
        cls.manager.tour_enabled = False
        cls.agent = new_test_user(
            cls.env,
            login="privacy_agent",
            password="privacy_agent_pw",
            groups="clinic_retention.group_clinic_retention_user",
        )
        department = cls.env["clinic.department"].create({"name": "Privacy Dental"})
        cls.patient = cls.env["clinic.patient"].create(
            {"name": "Tour Forget Me", "email": "forget.me@example.com", "mobile": "+8613900001111"}
        )
        start = datetime(2026, 1, 10, 9)
        cls.env["clinic.visit"].create(
            {
                "patient_id": cls.patient.id,
                "department_id": department.id,
                "start": start,
                "stop": start + timedelta(minutes=30),
                "state": "done",
                "amount": 90,
            }
        )

    def test_downloads_reach_their_author_only(self):
        self.authenticate("privacy_manager", "privacy_manager_pw")
        response = self.url_open(f"/clinic_retention/patient/{self.patient.id}/data")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/zip")
        self.assertIn("no-store", response.headers["Cache-Control"])
        export = self.env["clinic.retention.export"].with_user(self.manager).create({})
        response = self.url_open(f"/clinic_retention/export/{export.id}")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"PK"))
        self.authenticate("privacy_agent", "privacy_agent_pw")
        with mute_logger("odoo.http"):
            self.assertEqual(self.url_open(f"/clinic_retention/export/{export.id}").status_code, 404)
            self.assertEqual(self.url_open(f"/clinic_retention/patient/{self.patient.id}/data").status_code, 403)
        self.assertEqual(self.env["clinic.audit.log"].search_count([("user_id", "=", self.manager.id)]), 2)

    def test_manager_exports_and_anonymises_a_patient(self):
        self.start_tour(
            f"/odoo/action-clinic_retention.clinic_patient_action/{self.patient.id}",
            "clinic_patient_privacy",
            login="privacy_manager",
        )
        patient = self.patient.with_context(active_test=False)
        self.assertTrue(patient.is_anonymised)
        self.assertNotIn("Forget", patient.name)
        self.assertFalse(patient.partner_id.email)
        events = self.env["clinic.audit.log"].search([("patient_id", "=", patient.id)]).mapped("event")
        self.assertIn("patient_export", events, "the download was made and logged")
        self.assertIn("anonymisation", events)
