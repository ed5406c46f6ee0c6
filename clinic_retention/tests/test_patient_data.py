import importlib.util
from datetime import datetime
from pathlib import Path

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import ClinicRetentionCase

MIGRATIONS = Path(__file__).parent.parent / "migrations" / "18.0.2.0.0"


def load_migration(name):
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PatientDataCase(ClinicRetentionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.doctor_user = new_test_user(
            cls.env,
            login="clinic_data_doctor",
            name="Dr. Data",
            groups="clinic_retention.group_clinic_retention_doctor",
        )
        cls.patient = cls._patient("Clinical Patient", doctor_id=cls.doctor_user.id)
        cls.visit = cls._visit(cls.patient, datetime(2026, 1, 5, 9), notes="<p>Gum inflammation</p>", amount=120)
        cls.patient.with_user(cls.manager).write(
            {"allergies": "Penicillin", "chronic_condition_ids": [(4, cls.hypertension.id)]}
        )
        cls.stranger = cls._patient("Cardiology Patient")
        cls._visit(cls.stranger, datetime(2026, 1, 6, 9), department=cls.cardiology)
        cls.stranger.with_user(cls.manager).write({"allergies": "Latex"})

    def _agents_see_clinical(self, on=True):
        self.env["res.config.settings"].create({"group_clinic_agents_see_clinical": on}).execute()


@tagged("post_install", "-at_install")
class TestClinicalData(PatientDataCase):
    """Finding 8: clinical fields per department, configurable; always for
    managers and the patient's doctors."""

    def test_agents_see_no_clinical_data_by_default(self):
        as_agent = self.patient.with_user(self.cs_user)
        self.assertFalse(as_agent.has_clinical_access)
        for fname in ("allergies", "chronic_condition_ids", "hereditary_conditions"):
            self.assertNotIn(fname, self.env["clinic.patient"].with_user(self.cs_user).fields_get())
            with self.assertRaises(AccessError), mute_logger("odoo.models"):
                as_agent.read([fname])
        self.assertFalse(
            self.env["clinic.patient"].with_user(self.cs_user).search([("allergies", "ilike", "Peni")]),
            "a search does not tell what the form hides",
        )
        visit = self.visit.with_user(self.cs_user)
        for fname in ("notes", "amount"):
            with self.assertRaises(AccessError), mute_logger("odoo.models"):
                visit.read([fname])
        # the visit itself: read by its department's agents only
        self.assertEqual(visit.read(["department_id"])[0]["department_id"][0], self.dental.id)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self.visit.with_user(self.cs_user_2).read(["department_id"])
        self.assertEqual(self.patient.with_user(self.manager).allergies, "Penicillin")

    def test_setting_shows_clinical_data_to_the_departments_agents(self):
        self._agents_see_clinical()
        self.assertTrue(self.cs_user.has_group("clinic_retention.group_clinic_retention_clinical"))
        self.assertEqual(self.patient.with_user(self.cs_user).read(["allergies"])[0]["allergies"], "Penicillin")
        self.assertEqual(self.visit.with_user(self.cs_user).read(["notes"])[0]["notes"], "<p>Gum inflammation</p>")
        # a patient of another department: nothing, and a search does not tell either
        self.assertFalse(self.stranger.with_user(self.cs_user).read(["allergies"])[0]["allergies"])
        self.assertFalse(self.stranger.with_user(self.cs_user).has_clinical_access)
        Patient = self.env["clinic.patient"].with_user(self.cs_user)
        self.assertEqual(Patient.search([("allergies", "ilike", "Latex")]), Patient.browse())
        self.assertEqual(Patient.search([("allergies", "ilike", "Penicillin")]), self.patient)
        # the agent of Cardiology, for the Dental patient, until a follow-up of theirs opens
        self.assertFalse(self.patient.with_user(self.cs_user_2).allergies)
        self.env["clinic.followup.task"].create(
            {"name": "Check", "patient_id": self.patient.id, "department_id": self.cardiology.id}
        )
        self.patient.invalidate_recordset()
        self.assertEqual(self.patient.with_user(self.cs_user_2).allergies, "Penicillin")
        # agents read, they never change it
        with self.assertRaises(AccessError):
            self.patient.with_user(self.cs_user).write({"allergies": "None"})
        self._agents_see_clinical(False)
        self.assertFalse(self.cs_user.has_group("clinic_retention.group_clinic_retention_clinical"))

    def test_doctors_read_and_change_their_patients_only(self):
        as_doctor = self.patient.with_user(self.doctor_user)
        self.assertTrue(as_doctor.has_clinical_access)
        self.assertTrue(as_doctor.can_edit_medical)
        as_doctor.write({"allergies": "Penicillin, ibuprofen"})
        self.assertEqual(self.patient.allergies, "Penicillin, ibuprofen")
        other = self.stranger.with_user(self.doctor_user)
        self.assertFalse(other.allergies)
        with self.assertRaises(AccessError):
            other.write({"allergies": "Nothing"})
        # the doctor of one of the patient's visits treats them too
        self._visit(self.stranger, datetime(2026, 2, 1, 9), department=self.cardiology, doctor_id=self.doctor_user.id)
        self.stranger.invalidate_recordset()
        self.assertEqual(self.stranger.with_user(self.doctor_user).allergies, "Latex")
        # the doctor's visits: notes readable and writable
        self.visit.with_user(self.doctor_user).write({"notes": "<p>Healed</p>"})

    def test_tracked_changes_hidden_from_those_who_may_not_see(self):
        self._agents_see_clinical()
        patient = self.patient.with_context(tracking_disable=False)
        # records made in this transaction are not tracked until it "commits"
        self.env.flush_all()
        self.env.cr.precommit.run()
        patient.with_user(self.manager).write({"allergies": "Aspirin"})
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking is written when the transaction commits
        tracking = patient.message_ids.sudo().tracking_value_ids.filtered(lambda t: t.field_id.name == "allergies")
        self.assertEqual(tracking[:1].new_value_text, "Aspirin", "the change is tracked")
        self.assertEqual(tracking._filter_has_field_access(self.env(user=self.internal_user)), tracking.browse())
        shown_a = patient.with_user(self.cs_user)._track_filter_for_display(tracking)
        shown_b = patient.with_user(self.cs_user_2)._track_filter_for_display(tracking)
        self.assertEqual(shown_a, tracking, "the department's agent sees the change")
        self.assertFalse(shown_b, "another department's agent does not")

    def test_views_and_changes_of_clinical_data_are_logged(self):
        Log = self.env["clinic.audit.log"]
        spec = {"name": {}, "allergies": {}}
        self.patient.with_user(self.manager).web_read(spec)
        self.patient.with_user(self.manager).web_read(spec)
        self.patient.with_user(self.cs_user).web_read({"name": {}})
        reads = Log.search([("event", "=", "clinical_read"), ("res_model", "=", "clinic.patient")])
        self.assertEqual(len(reads), 1, "once a day per user and patient")
        self.assertRecordValues(reads, [{"user_id": self.manager.id, "patient_id": self.patient.id}])
        self.visit.with_user(self.doctor_user).web_read({"notes": {}})
        self.assertEqual(Log.search_count([("event", "=", "clinical_read"), ("res_model", "=", "clinic.visit")]), 1)
        # a change of the visit's clinical notes: old and new text in the log, not in the chatter
        self.visit.with_user(self.doctor_user).write({"notes": "<p>Healed well</p>"})
        change = Log.search([("event", "=", "clinical_change")])
        self.assertEqual(len(change), 1)
        self.assertIn("Gum inflammation", change.details)
        self.assertIn("Healed well", change.details)
        self.assertNotIn("Healed", self.visit.message_ids[0].body)
        # managers read the log; nobody changes or deletes it
        self.assertEqual(Log.with_user(self.manager).search([("id", "=", change.id)]), change)
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            Log.with_user(self.cs_user).search([])
        for operation in (lambda r: r.write({"description": "x"}), lambda r: r.unlink()):
            with self.assertRaises(AccessError), mute_logger("odoo.models", "odoo.models.unlink"):
                operation(change.with_user(self.manager))

    def test_existing_clinical_data_moved_by_the_migration(self):
        """pre-12-clinical-storage renames the columns: nothing is lost."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("ALTER TABLE clinic_patient RENAME COLUMN medical_allergies TO allergies")
        load_migration("pre-12-clinical-storage").migrate(cr, "18.0.1.0.0")
        cr.execute("SELECT medical_allergies FROM clinic_patient WHERE id = %s", [self.patient.id])
        self.assertEqual(cr.fetchone()[0], "Penicillin")


@tagged("post_install", "-at_install")
class TestPatientContact(PatientDataCase):
    """Finding 3 (who is a patient, patient notes), finding 23 (contact
    rights) and the re-homed contact of finding 24."""

    def test_employees_cannot_tell_who_is_a_patient(self):
        partner = self.patient.partner_id
        Partner = self.env["res.partner"].with_user(self.internal_user)
        partner.with_user(self.internal_user).read(["name"])  # an ordinary contact for them
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            partner.with_user(self.internal_user).read(["is_patient"])
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            Partner.search([("is_patient", "=", True)])
        arch = Partner.get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertNotIn("filter_patients", arch)
        self.assertIn(
            "filter_patients",
            self.env["res.partner"].with_user(self.cs_user).get_views([(False, "search")])["views"]["search"]["arch"],
        )
        self.assertTrue(partner.with_user(self.cs_user).read(["is_patient"])[0]["is_patient"])

    def test_patient_notes_live_on_the_patient(self):
        self.patient.with_user(self.cs_user).write({"notes": "<p>Anxious about needles</p>"})
        self.assertFalse(self.patient.partner_id.comment)
        self.assertIn("needles", self.patient.notes)
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self.patient.with_user(self.internal_user).read(["notes"])
        # the migration moves the notes written on the contact before
        self.patient.partner_id.comment = "<p>Old note on the contact</p>"
        self.patient.notes = False
        self.env.flush_all()
        load_migration("post-12-patient-notes").migrate(self.env.cr, "18.0.1.0.0")
        self.patient.invalidate_recordset()
        self.patient.partner_id.invalidate_recordset()
        self.assertIn("Old note on the contact", self.patient.notes)
        self.assertFalse(self.patient.partner_id.comment)

    def test_agents_work_on_patients_not_on_every_contact(self):
        self.assertFalse(self.cs_user.has_group("base.group_partner_manager"))
        agent = self.env["clinic.patient"].with_user(self.cs_user)
        patient = agent.create({"name": "Registered by agent", "mobile": "138 0013 8111", "country_id": self.china.id})
        self.assertEqual(patient.partner_id.mobile, "+8613800138111")
        self.assertEqual(patient.partner_id.company_id, self.company)
        patient.write({"email": "agent.registered@example.com", "phone": "138 0013 8112"})
        self.assertEqual(patient.partner_id.phone, "+8613800138112")
        supplier = self.env["res.partner"].create({"name": "Supplier"})
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            supplier.with_user(self.cs_user).write({"name": "Renamed"})
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            patient.partner_id.with_user(self.cs_user).unlink()
        # an employee's own contact is not written through a patient
        employee_partner = self.internal_user.partner_id
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            agent.create({"name": "Employee patient", "partner_id": employee_partner.id, "phone": "13800138113"})

    def test_a_shared_contact_stays_shared(self):
        shared = self.env["res.partner"].create({"name": "Shared contact", "company_id": False})
        patient = self._patient("Shared contact", partner_id=shared.id)
        self.assertFalse(shared.company_id, "other companies keep their invoices and leads on it")
        self.assertEqual(patient.company_id, self.company)
        elsewhere = self.env["res.partner"].create({"name": "Other clinic's", "company_id": self.other_company.id})
        with self.assertRaises(ValidationError):
            self._patient("Other clinic's", partner_id=elsewhere.id)


@tagged("post_install", "-at_install")
class TestConsent(PatientDataCase):
    """Finding 15 (consent dates and sources) and consent enforced everywhere."""

    def test_staff_say_how_consent_was_given(self):
        patient = self.patient.with_user(self.cs_user)
        with self.assertRaises(ValidationError):
            patient.write({"care_consent": True})
        with freeze_time("2026-03-01 10:00:00"):
            patient.write({"care_consent": True, "care_consent_source": "paper_form"})
        self.assertEqual(self.patient.care_consent_date, datetime(2026, 3, 1, 10))
        with self.assertRaises(AccessError):
            patient.write({"care_consent_date": "2020-01-01 00:00:00"})
        with self.assertRaises(ValidationError):
            patient.write({"care_consent": False})
        patient.write({"care_consent": False, "care_consent_source": "phone"})
        history = self.patient.consent_ids.sorted("id")
        self.assertRecordValues(
            history,
            [
                {"kind": "care", "given": True, "source": "paper_form", "user_id": self.cs_user.id},
                {"kind": "care", "given": False, "source": "phone", "user_id": self.cs_user.id},
            ],
        )
        with self.assertRaises(AccessError):
            history[0].with_user(self.manager).write({"source": "email"})
        # an import is its own source
        imported = (
            self.env["clinic.patient"]
            .with_user(self.manager)
            .with_context(import_file=True)
            .create({"name": "Imported", "care_consent": True})
        )
        self.assertEqual(imported.care_consent_source, "import")

    def test_withdrawn_consent_cancels_queued_messages(self):
        patient = self.patient
        patient.write({"care_consent": True, "care_consent_source": "in_person"})
        partner = patient.partner_id
        reminder = self.env["mail.mail"].create(
            {
                "body_html": "Reminder",
                "model": "clinic.visit",
                "res_id": self.visit.id,
                "recipient_ids": [(4, partner.id)],
                "state": "outgoing",
            }
        )
        sms = self.env["sms.sms"].create({"number": "+8613800138000", "partner_id": partner.id, "body": "Tomorrow"})
        invoice_mail = self.env["mail.mail"].create(
            {
                "body_html": "Invoice",
                "model": "res.partner",
                "res_id": partner.id,
                "recipient_ids": [(4, partner.id)],
                "state": "outgoing",
            }
        )
        patient.with_user(self.cs_user).write({"care_consent": False, "care_consent_source": "phone"})
        self.assertEqual(reminder.state, "cancel")
        self.assertEqual(sms.state, "canceled")
        self.assertEqual(invoice_mail.state, "outgoing", "other apps' e-mails are not care messages")

    def test_no_care_message_without_care_consent(self):
        patient = self.patient.with_user(self.cs_user)
        with self.assertRaises(UserError):
            patient.message_post(
                body="Your results",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=self.patient.partner_id.ids,
            )
        with self.assertRaises(UserError):
            self.visit.with_user(self.cs_user).message_post(
                body="See you",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=self.patient.partner_id.ids,
            )
        patient.message_post(body="Called, no answer", message_type="comment", subtype_xmlid="mail.mt_note")
        self.patient.write({"care_consent": True, "care_consent_source": "in_person"})
        patient.message_post(
            body="Your results",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.patient.partner_id.ids,
        )

    def test_campaigns_need_marketing_consent(self):
        self.patient.partner_id.email = "clinical@example.com"
        self.stranger.partner_id.email = "stranger@example.com"
        self.stranger.write({"marketing_consent": True, "marketing_consent_source": "web"})

        class Mailing:
            def __init__(self, ids):
                self.ids = ids

            def _get_recipients(self):
                return self.ids

        partners = (self.patient | self.stranger).partner_id
        opt_out = self.env["res.partner"]._mailing_get_opt_out_list(Mailing(partners.ids))
        self.assertEqual(opt_out, {"clinical@example.com"})
        Patient = self.env["clinic.patient"]
        self.assertEqual(
            Patient._mailing_get_opt_out_list(Mailing((self.patient | self.stranger).ids)), {"clinical@example.com"}
        )
        self.assertEqual(
            Patient._mailing_get_opt_out_list_sms(Mailing((self.patient | self.stranger).ids)), self.patient.ids
        )
        self.assertIn(
            self.patient.partner_id.id, self.env["res.partner"]._mailing_get_opt_out_list_sms(Mailing(partners.ids))
        )

    def test_bulk_copies_are_for_managers(self):
        """Finding 21 (export) and 22 (import, as far as access goes)."""
        self.env.ref("base.group_allow_export").users |= self.cs_user | self.manager
        with self.assertRaises(AccessError):
            self.env["clinic.patient"].with_user(self.cs_user).search([]).export_data(["name", "mobile"])
        rows = self.env["clinic.patient"].with_user(self.manager).search([]).export_data(["name"])
        self.assertTrue(rows["datas"])
        log = self.env["clinic.audit.log"].search([("event", "=", "list_export")])
        self.assertEqual(log.user_id, self.manager)
        self.assertEqual(log.record_count, len(rows["datas"]))
        with self.assertRaises(AccessError):
            self.env["clinic.patient"].with_user(self.cs_user).load(["name"], [["Imported by agent"]])
