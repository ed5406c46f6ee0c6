from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import TransactionCase, new_test_user


class ClinicRetentionCase(TransactionCase):
    """Two companies, departments with their teams, users of every kind and
    a helper to make patients and visits. Independent of demo data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, no_reset_password=True))
        cls.company = cls.env.company
        cls.company.country_id = cls.env.ref("base.cn")
        cls.other_company = cls.env["res.company"].create(
            {"name": "Other Clinic", "country_id": cls.env.ref("base.ru").id}
        )
        cls.china = cls.env.ref("base.cn")
        cls.iran = cls.env.ref("base.ir")
        cls.russia = cls.env.ref("base.ru")
        cls.usa = cls.env.ref("base.us")

        cls.manager = new_test_user(
            cls.env,
            login="clinic_manager",
            name="Clinic Manager",
            groups="clinic_retention.group_clinic_retention_manager",
        )
        cls.cs_user = new_test_user(
            cls.env,
            login="clinic_cs",
            name="Customer Service Agent",
            groups="clinic_retention.group_clinic_retention_user",
        )
        cls.cs_user_2 = new_test_user(
            cls.env,
            login="clinic_cs2",
            name="Second Agent",
            groups="clinic_retention.group_clinic_retention_user",
        )
        cls.other_company_user = new_test_user(
            cls.env,
            login="clinic_other_company",
            name="Other Company Agent",
            groups="clinic_retention.group_clinic_retention_manager",
            company_id=cls.other_company.id,
            company_ids=[(6, 0, cls.other_company.ids)],
        )
        cls.portal_user = new_test_user(cls.env, login="clinic_portal", groups="base.group_portal")
        cls.internal_user = new_test_user(cls.env, login="clinic_plain_internal", groups="base.group_user")
        cls.doctor = new_test_user(cls.env, login="clinic_doctor", name="Dr. Test", groups="base.group_user")

        Department = cls.env["clinic.department"]
        cls.dental = Department.create(
            {
                "name": "Dental (test)",
                "code": "TDENT",
                "manager_id": cls.manager.id,
                "member_ids": [(6, 0, cls.cs_user.ids)],
            }
        )
        cls.cardiology = Department.create(
            {
                "name": "Cardiology (test)",
                "code": "TCARD",
                "manager_id": cls.manager.id,
                "member_ids": [(6, 0, cls.cs_user_2.ids)],
            }
        )
        cls.other_department = Department.create(
            {"name": "Other clinic dental", "code": "ODENT", "company_id": cls.other_company.id}
        )
        Service = cls.env["clinic.service"]
        cls.checkup = Service.create({"name": "Check-up (test)", "department_id": cls.dental.id})
        cls.extraction = Service.create({"name": "Extraction (test)", "department_id": cls.dental.id})
        cls.hypertension = Service.create(
            {
                "name": "Hypertension (test)",
                "kind": "condition",
                "is_chronic": True,
                "department_id": cls.cardiology.id,
            }
        )

    @classmethod
    def _patient(cls, name="Test Patient", **vals):
        vals.setdefault("country_id", cls.china.id)
        return cls.env["clinic.patient"].create(dict(vals, name=name))

    @classmethod
    def _visit(cls, patient, start, department=None, state="done", **vals):
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        return cls.env["clinic.visit"].create(
            dict(
                vals,
                patient_id=patient.id,
                department_id=(department or cls.dental).id,
                start=start,
                stop=start + timedelta(minutes=30),
                state=state,
            )
        )


class CareMessageCase(ClinicRetentionCase):
    """Care messages: the shipped rules, a clinic in Shanghai, and a pass of
    the precise rules + the dispatcher at a frozen time, with Odoo's mail
    and SMS gateways mocked (mix in ``MockEmail`` and ``SMSCase``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"email": "care@clinic.example.com", "name": "Test Clinic", "clinic_tz": "Asia/Shanghai"})
        cls.Automation = cls.env["base.automation"]
        cls.Ledger = cls.env["clinic.visit.reminder"]
        cls.rule_email = cls.env.ref("clinic_retention.automation_visit_reminder_email")
        cls.rule_sms = cls.env.ref("clinic_retention.automation_visit_reminder_sms")
        cls.rule_soon = cls.env.ref("clinic_retention.automation_visit_reminder_sms_soon")
        cls.rule_thank_you = cls.env.ref("clinic_retention.automation_visit_thank_you")
        # Only these tests' visits in the due windows
        cls.env["clinic.visit"].search([("state", "=", "scheduled")]).write({"state": "cancelled"})

    def _book(self, patient, start, **vals):
        return self._visit(patient, start, state="scheduled", **vals)

    def _pass(self, when, send=False):
        """One pass of the precise rules (which queue) and the dispatcher
        (which renders and queues the mails and SMS) at ``when``. With
        ``send``, Odoo's mail and SMS queues then send them (mocked).
        Returns the mails and SMS created."""
        with freeze_time(when), self.mock_mail_gateway(), self.mockSMSGateway():
            self.Automation._precise_check(automatic=False)
            mails, sms = self._new_mails, self._new_sms
            if send:
                mails.send()
                sms.send()
        return mails, sms

    def _ledger(self, visit):
        return self.Ledger.search([("visit_id", "in", visit.ids)])
