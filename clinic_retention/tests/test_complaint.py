from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import ClinicRetentionCase

RECEIVED = datetime(2026, 3, 2, 10, 0)


@tagged("post_install", "-at_install")
class TestComplaint(ClinicRetentionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.complaints_manager = new_test_user(
            cls.env,
            login="clinic_complaints_mgr",
            name="Complaints Manager",
            groups="clinic_retention.group_clinic_retention_manager",
        )
        cls.general_manager = new_test_user(
            cls.env,
            login="clinic_general_mgr",
            name="General Manager",
            groups="clinic_retention.group_clinic_retention_manager",
        )
        cls.company.write(
            {
                "clinic_complaints_manager_id": cls.complaints_manager.id,
                "clinic_general_manager_id": cls.general_manager.id,
            }
        )
        cls.anna = cls._patient("Anna", mobile="138 0013 8000", email="Anna.Li@Example.com")
        cls.Complaint = cls.env["clinic.complaint"]

    def _complaint(self, department=None, **vals):
        vals.setdefault("name", "Waited two hours")
        vals.setdefault("description", "Nobody told me why.")
        vals.setdefault("patient_id", self.anna.id)
        return self.Complaint.create(dict(vals, department_id=(department or self.dental).id))

    def _escalation_activities(self, complaint):
        activity_type = self.env.ref("clinic_retention.mail_activity_type_complaint_escalation")
        return complaint.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)

    def test_deadline_follows_the_severity_sla(self):
        expected = {"low": 120, "medium": 72, "high": 24, "critical": 4}
        with freeze_time(RECEIVED):
            for severity, hours in expected.items():
                complaint = self._complaint(severity=severity)
                self.assertEqual(complaint.received_date, RECEIVED)
                self.assertEqual(complaint.deadline, RECEIVED + timedelta(hours=hours), severity)
                self.assertEqual(complaint.second_deadline, RECEIVED + timedelta(hours=hours + 24), severity)
            self.company.clinic_sla_high_hours = 8
            complaint = self._complaint(severity="high")
            self.assertEqual(complaint.deadline, RECEIVED + timedelta(hours=8), "the SLA is a setting")
            complaint.severity = "critical"
            self.assertEqual(complaint.deadline, RECEIVED + timedelta(hours=4), "raising the severity shortens it")
            self.assertEqual(complaint.priority, "1")
        self.assertEqual(complaint.reference[:9], "CMP/2026/")

    def test_overdue_complaints_escalate_twice(self):
        with freeze_time(RECEIVED):
            complaint = self._complaint(severity="high")  # 24 h, then 24 h more
            resolved = self._complaint(severity="high", corrective_action="Apologised")
            resolved.action_resolve()
        with freeze_time(RECEIVED + timedelta(hours=23)):
            self.Complaint._cron_escalate()
            self.assertFalse(complaint.is_overdue)
            self.assertEqual(complaint.escalation_level, 0)
        with freeze_time(RECEIVED + timedelta(hours=25)):
            complaint.invalidate_recordset(["is_overdue"])
            self.assertTrue(complaint.is_overdue)
            self.assertIn(complaint, self.Complaint.search([("is_overdue", "=", True)]))
            self.Complaint._cron_escalate()
            self.Complaint._cron_escalate()  # a second run adds nothing
        self.assertEqual(complaint.escalation_level, 1)
        self.assertEqual(self._escalation_activities(complaint).user_id, self.manager | self.complaints_manager)
        self.assertEqual(resolved.escalation_level, 0, "resolved complaints are not escalated")
        self.assertFalse(self._escalation_activities(resolved))
        with freeze_time(RECEIVED + timedelta(hours=49)):
            self.Complaint._cron_escalate()
            self.Complaint._cron_escalate()
        self.assertEqual(complaint.escalation_level, 2)
        activities = self._escalation_activities(complaint)
        self.assertEqual(len(activities), 3)
        self.assertEqual(activities.user_id, self.manager | self.complaints_manager | self.general_manager)

    def test_stages_and_closing(self):
        complaint = self._complaint()
        self.assertEqual(complaint.state, "new")
        self.assertEqual(complaint.user_id, self.manager, "the department's manager is responsible")
        complaint.action_investigate()
        self.assertEqual(complaint.state, "investigating")
        with self.assertRaises(UserError):
            complaint.action_resolve()
        complaint.write({"corrective_action": "Call patients when a doctor runs late", "resolution": "Apologised"})
        complaint.action_resolve()
        self.assertTrue(complaint.resolved_date)
        self.assertFalse(complaint.is_open)
        with self.assertRaises(UserError):
            complaint.with_user(self.manager).action_close()  # no root cause yet
        complaint.root_cause = "Two doctors off sick"
        complaint.with_user(self.manager).action_close()
        self.assertEqual(complaint.state, "closed")
        complaint.action_reopen()
        self.assertEqual((complaint.state, complaint.closed_date), ("investigating", False))

    def test_access_rights(self):
        own = self._complaint()
        other_department = self._complaint(self.cardiology)
        other_company = self.Complaint.create(
            {
                "name": "Elsewhere",
                "description": "Other clinic",
                "department_id": self.other_department.id,
                "company_id": self.other_company.id,
            }
        )
        # a customer-service user creates and reads complaints of their departments
        agent = self.Complaint.with_user(self.cs_user)
        created = agent.create({"name": "At the desk", "description": "Rude", "department_id": self.dental.id})
        self.assertEqual(agent.search([("id", "in", (own | other_department | created).ids)]), own | created)
        created.with_user(self.cs_user).write({"root_cause": "Busy morning"})
        own.with_user(self.cs_user).action_investigate()
        with self.assertRaises(AccessError):
            other_department.with_user(self.cs_user).read(["name"])
        with self.assertRaises(AccessError):
            agent.create({"name": "Not mine", "description": "x", "department_id": self.cardiology.id})
        # only managers close and delete
        own.write({"root_cause": "Busy", "corrective_action": "Second receptionist"})
        own.action_resolve()
        with self.assertRaises(AccessError):
            own.with_user(self.cs_user).action_close()
        closed = self.env.ref("clinic_retention.complaint_stage_closed")
        with self.assertRaises(AccessError):
            own.with_user(self.cs_user).write({"stage_id": closed.id})
        with self.assertRaises(AccessError):
            own.with_user(self.cs_user).unlink()
        own.with_user(self.manager).action_close()
        self.assertEqual(own.state, "closed")
        # managers see every department of their company, not other companies
        manager_sees = self.Complaint.with_user(self.manager).search([])
        self.assertTrue((own | other_department | created) <= manager_sees)
        self.assertNotIn(other_company, manager_sees)
        self.assertEqual(
            self.Complaint.with_user(self.other_company_user).search([("id", "in", (own | other_company).ids)]),
            other_company,
        )
        # portal users and plain employees: no access at all
        for user in (self.portal_user, self.internal_user):
            with self.assertRaises(AccessError):
                self.Complaint.with_user(user).search([])
            with self.assertRaises(AccessError):
                self.env["clinic.survey.response"].with_user(user).search([])

    def test_survey_response_access(self):
        Response = self.env["clinic.survey.response"]
        mine = Response.create({"patient_id": self.anna.id, "department_id": self.dental.id, "score": 4})
        theirs = Response.create({"patient_id": self.anna.id, "department_id": self.cardiology.id, "score": 5})
        self.assertEqual(Response.with_user(self.cs_user).search([("id", "in", (mine | theirs).ids)]), mine)
        with self.assertRaises(AccessError):
            mine.with_user(self.cs_user).write({"score": 5})
        self.assertEqual(Response.with_user(self.manager).search([("id", "in", (mine | theirs).ids)]), mine | theirs)

    def test_public_form_matches_the_patient(self):
        Complaint = self.Complaint.sudo()
        self.assertEqual(Complaint._match_patient(self.company, phone="+86 138-0013-8000"), self.anna)
        self.assertEqual(Complaint._match_patient(self.company, phone="13800138000"), self.anna)
        self.assertEqual(Complaint._match_patient(self.company, email="anna.li@example.COM"), self.anna)
        self.assertFalse(Complaint._match_patient(self.company, phone="139 9999 0000", email="x@example.com"))
        self.assertFalse(Complaint._match_patient(self.other_company, phone="13800138000"), "per company")
        values = {
            "contact_name": "Anna",
            "contact_phone": "138 0013 8000",
            "contact_email": "",
            "department_id": str(self.dental.id),
            "description": "The receptionist was rude to my mother.",
            "privacy_consent": "1",
        }
        self.assertIsNone(Complaint._check_public_values(self.company, values))
        complaint = Complaint._create_from_public_form(self.company, values)
        self.assertRecordValues(
            complaint,
            [
                {
                    "patient_id": False,  # anyone can type a phone number: proposed, not linked
                    "patient_match_id": self.anna.id,
                    "channel": "web_form",
                    "contact_phone": "+8613800138000",
                    "department_id": self.dental.id,
                    "user_id": self.manager.id,
                }
            ],
        )
        for bad in (
            dict(values, contact_phone="12345"),
            dict(values, contact_phone="", contact_email="not-an-email"),
            dict(values, contact_phone="", contact_email=""),
            dict(values, description="short"),
            dict(values, department_id=str(self.other_department.id)),
            dict(values, department_id="1 OR 1=1"),
            dict(values, privacy_consent=""),
        ):
            self.assertTrue(Complaint._check_public_values(self.company, bad), bad)
