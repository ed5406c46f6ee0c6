from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import ClinicRetentionCase

Y, N = True, False
USERS = ("agent_a", "agent_b", "manager", "doctor", "other_company", "employee", "portal", "public")
OPERATIONS = ("read", "write", "create", "unlink")


def everyone(*ops):
    """The same answer for every user kind."""
    return dict.fromkeys(USERS, ops)


def staff(agent_a, agent_b, manager, doctor, other_company=(N, N, N, N)):
    """Patient Care staff as given; plain employees, portal and public: nothing."""
    return {
        "agent_a": agent_a,
        "agent_b": agent_b,
        "manager": manager,
        "doctor": doctor,
        "other_company": other_company,
        "employee": (N, N, N, N),
        "portal": (N, N, N, N),
        "public": (N, N, N, N),
    }


R = (Y, N, N, N)
ALL = (Y, Y, Y, Y)
NONE = (N, N, N, N)
# configuration read by staff, changed by managers, of one company
CONFIG = staff(R, R, ALL, R)
# configuration shared by every company (stages, categories): no company, no patient data
SHARED_CONFIG = staff(R, R, ALL, R, other_company=ALL)
# SQL-view reports: read by the department's agents and the managers, never written
REPORT = staff(R, NONE, R, NONE)
# a wizard of another user: nobody reads, changes or deletes it; each user makes their own
WIZARD = staff((N, N, Y, N), (N, N, Y, N), (N, N, Y, N), (N, N, Y, N), other_company=(N, N, Y, N))

# Who may read, write, create and delete a record of department A (Dental)
# of the main company. One line per model: a new model adds one line (the
# last test fails while a model of the addon has none).
#   agent_a: customer service, member of Dental; agent_b: of Cardiology;
#   doctor: Doctor group, in no department, the doctor of the patient and visit;
#   other_company: a Patient Care manager of another company only.
EXPECTED = {
    "clinic.department": CONFIG,
    "clinic.service": CONFIG,
    "clinic.patient": staff((Y, Y, Y, N), (Y, Y, Y, N), ALL, (Y, Y, Y, N)),
    "clinic.visit": staff((Y, Y, Y, N), (N, N, Y, N), ALL, (Y, Y, Y, N)),
    "clinic.followup.stage": SHARED_CONFIG,
    "clinic.followup.task": staff((Y, Y, Y, N), (N, N, Y, N), ALL, (N, N, Y, N)),
    "clinic.followup.recovery.score": staff(ALL, NONE, ALL, NONE),
    "clinic.recall.rule": CONFIG,
    "clinic.recall.rule.step": CONFIG,
    "clinic.recall.override": CONFIG,
    "clinic.recovery.template": CONFIG,
    "clinic.recovery.criterion": CONFIG,
    "clinic.followup.task.reached": staff((N, N, Y, N), (N, N, N, N), (N, N, Y, N), (N, N, N, N)),
    "clinic.followup.task.reached.line": staff((N, N, Y, N), (N, N, N, N), (N, N, Y, N), (N, N, N, N)),
    # issue 17: "call back at..." on a task, like the reached wizard
    "clinic.followup.task.callback": staff((N, N, Y, N), (N, N, N, N), (N, N, Y, N), (N, N, N, N)),
    # CRM (issue 13): need grades are shared configuration like stages; treatment
    # plans follow their department (agents of other departments may record one
    # as its consultant); the funnel and referral reports are SQL views
    "clinic.need.grade": SHARED_CONFIG,
    "clinic.treatment.plan": staff((Y, Y, Y, N), (N, N, Y, N), ALL, (N, N, Y, N)),
    "clinic.treatment.plan.line": staff(ALL, (N, N, N, N), ALL, (N, N, N, N)),
    "clinic.conversion.report": REPORT,
    "clinic.referral.report": REPORT,
    # the ledger: nobody changes or deletes it, managers included
    "clinic.visit.reminder": staff(R, NONE, R, R),
    "clinic.survey.response": staff(R, NONE, ALL, NONE),
    "clinic.complaint.stage": SHARED_CONFIG,
    "clinic.complaint.category": SHARED_CONFIG,
    "clinic.complaint": staff((Y, Y, Y, N), NONE, ALL, NONE),
    # rate-limit counters (hashes only): the server's, administrators alone
    "clinic.public.submission": everyone(N, N, N, N),
    "clinic.satisfaction.report": REPORT,
    "clinic.followup.report": REPORT,
    "clinic.followed.report": REPORT,
    "clinic.retention.report": REPORT,
    "clinic.retention.dashboard": WIZARD,
    "clinic.retention.export": WIZARD,
    # the audit log: managers read it, nobody changes it
    "clinic.audit.log": staff(NONE, NONE, R, NONE),
    "clinic.patient.consent": staff(R, R, R, R),
    "clinic.patient.anonymise": staff(NONE, NONE, (N, N, Y, N), NONE),
    # issue 17: front-desk satisfaction forms and bulk follow-ups are staff
    # wizards (what they may do is checked when they run); activating recall
    # templates is the managers'
    "clinic.survey.response.entry": WIZARD,
    "clinic.patient.bulk.task": WIZARD,
    "clinic.patient.bulk.message": WIZARD,
    "clinic.recall.rule.activate": staff(NONE, NONE, (N, N, Y, N), NONE, other_company=(N, N, Y, N)),
}


@tagged("post_install", "-at_install")
class TestAccessRights(ClinicRetentionCase):
    """Who may read, write, create and delete what, as a table over every
    model of the addon and every kind of user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.doctor_user = new_test_user(
            cls.env,
            login="clinic_matrix_doctor",
            name="Dr. Matrix",
            groups="clinic_retention.group_clinic_retention_doctor",
        )
        cls.author = new_test_user(
            cls.env, login="clinic_matrix_author", groups="clinic_retention.group_clinic_retention_manager"
        )
        cls.dental.member_ids |= cls.author
        cls.users = {
            "agent_a": cls.cs_user,
            "agent_b": cls.cs_user_2,
            "manager": cls.manager,
            "doctor": cls.doctor_user,
            "other_company": cls.other_company_user,
            "employee": cls.internal_user,
            "portal": cls.portal_user,
            "public": cls.env.ref("base.public_user"),
        }
        # the department's history, behind the report rows
        cls.history_patient = cls._patient("Matrix history", doctor_id=cls.doctor_user.id)
        done = cls._visit(
            cls.history_patient, datetime.now() - timedelta(days=40), doctor_id=cls.doctor_user.id, amount=80
        )
        cls.env["clinic.survey.response"].create(
            {"visit_id": done.id, "state": "answered", "score": 4, "submitted_date": datetime.now()}
        )
        cls.rule = cls.env["clinic.recall.rule"].create(
            {"name": "Matrix rule", "department_id": cls.dental.id, "interval_number": 6, "interval_unit": "months"}
        )
        # a prospect and a referral of Dental, behind the CRM report rows
        referrer = cls._patient("Matrix referrer")
        cls.history_patient.referred_by_id = referrer.partner_id
        cls.env["crm.lead"].create(
            {"name": "Matrix prospect", "type": "opportunity", "clinic_department_id": cls.dental.id}
        )
        task = cls._task(reason="recall", rule_id=cls.rule.id, due_date=datetime.now().date())
        task.write({"outcome": "reached", "stage_id": cls.env.ref("clinic_retention.followup_stage_done").id})

    @classmethod
    def _scored_task(cls):
        template = cls.env["clinic.recovery.template"].create(
            {"name": "Matrix recovery", "criterion_ids": [(0, 0, {"name": "Pain"})]}
        )
        return cls._task(recovery_template_id=template.id)

    @classmethod
    def _task(cls, **vals):
        return cls.env["clinic.followup.task"].create(
            dict(
                {"name": "Matrix task", "patient_id": cls.history_patient.id, "department_id": cls.dental.id},
                user_id=False,
                **vals,
            )
        )

    @classmethod
    def _plan(cls):
        return cls.env["clinic.treatment.plan"].create(
            {
                "name": "Crown",
                "patient_id": cls.history_patient.id,
                "department_id": cls.dental.id,
                "user_id": cls.author.id,
                "line_ids": [(0, 0, {"name": "Crown", "amount": 400})],
            }
        )

    # ------------------------------------------------------------------
    # Targets: a record of Dental, main company, made by someone else
    # ------------------------------------------------------------------

    def _as_author(self, model):
        return self.env[model].with_user(self.author)

    def _report_row(self, model):
        if model == "clinic.retention.report":
            self.env[model]._refresh()  # a materialized view: refreshed nightly
        row = self.env[model].search([("department_id", "=", self.dental.id)], limit=1)
        self.assertTrue(row, f"{model}: a row of Dental")
        return row

    def _target(self, model):
        env = self.env
        patient = self.history_patient
        if model == "clinic.department":
            return env[model].create({"name": "Matrix department", "company_id": self.company.id})
        if model == "clinic.service":
            return env[model].create({"name": "Matrix service", "department_id": self.dental.id})
        if model == "clinic.patient":
            return self._patient("Matrix target", doctor_id=self.doctor_user.id)
        if model == "clinic.visit":
            return self._visit(
                patient, datetime.now() + timedelta(days=30), state="scheduled", doctor_id=self.doctor_user.id
            )
        if model == "clinic.followup.stage":
            return env[model].create({"name": "Matrix stage"})
        if model == "clinic.followup.task":
            return self._task()
        if model == "clinic.followup.recovery.score":
            return env[model].create({"task_id": self._task().id, "name": "Pain", "score": 3})
        if model == "clinic.recall.rule":
            return env[model].create({"name": "Matrix rule 2", "department_id": self.dental.id})
        if model == "clinic.recall.rule.step":
            return env[model].create({"rule_id": self.rule.id, "name": "Step"})
        if model == "clinic.recall.override":
            return env[model].create({"rule_id": self.rule.id, "patient_id": self._patient("Override").id})
        if model == "clinic.recovery.template":
            return env[model].create({"name": "Matrix template"})
        if model == "clinic.recovery.criterion":
            template = env["clinic.recovery.template"].create({"name": "Matrix template"})
            return env[model].create({"template_id": template.id, "name": "Pain"})
        if model == "clinic.followup.task.reached":
            return self._as_author(model).create({"task_id": self._task().id, "note": "Chest pain"})
        if model == "clinic.followup.task.callback":
            return self._as_author(model).create({"task_id": self._task().id, "note": "After work"})
        if model == "clinic.followup.task.reached.line":
            wizard = self._as_author("clinic.followup.task.reached").create({"task_id": self._scored_task().id})
            self.assertTrue(wizard.recovery_line_ids)
            return wizard.recovery_line_ids
        if model == "clinic.visit.reminder":
            visit = self._visit(
                patient, datetime.now() + timedelta(days=2), state="scheduled", doctor_id=self.doctor_user.id
            )
            return env[model]._claim(
                [
                    {
                        "visit_id": visit.id,
                        "patient_id": patient.id,
                        "company_id": self.company.id,
                        "department_id": visit.department_id.id,
                        "kind": "day_before",
                        "channel": "sms",
                        "visit_start": visit.start,
                        "sent_date": datetime.now(),
                        "state": "sent",
                        "skip_reason": False,
                        "automation_id": False,
                        "destination": "+8613800138000",
                    }
                ]
            )
        if model == "clinic.survey.response":
            return env[model].create({"patient_id": patient.id, "department_id": self.dental.id, "score": 4})
        if model == "clinic.complaint.stage":
            return env[model].create({"name": "Matrix stage"})
        if model == "clinic.complaint.category":
            return env[model].create({"name": "Matrix category"})
        if model == "clinic.complaint":
            return env[model].create(
                {"name": "Rude", "description": "Rude at the desk", "department_id": self.dental.id}
            )
        if model == "clinic.public.submission":
            env[model]._count("complaint:address", "203.0.113.7", 60)
            return env[model].search([], limit=1)
        if model.endswith(".report"):
            return self._report_row(model)
        if model == "clinic.need.grade":
            # one record per grade: an operation allowed to an earlier user (a
            # manager's delete) is kept, so make the grade again when it is gone
            return env[model].search([("code", "=", "C")]) or env[model].create({"code": "C", "name": "Matrix C"})
        if model == "clinic.treatment.plan":
            return self._plan()
        if model == "clinic.treatment.plan.line":
            return self._plan().line_ids
        if model in ("clinic.retention.dashboard", "clinic.retention.export"):
            return self._as_author(model).create({})
        if model == "clinic.audit.log":
            return env[model]._log("excel_export", description="Matrix")
        if model == "clinic.patient.consent":
            target = self._patient("Consenting", care_consent=True, care_consent_source="paper_form")
            return target.consent_ids
        if model == "clinic.patient.anonymise":
            return self._as_author(model).create({"patient_id": self._patient("To forget").id})
        if model == "clinic.survey.response.entry":
            return self._as_author(model).create({"visit_id": patient.visit_ids[:1].id, "score": "4"})
        if model == "clinic.patient.bulk.task":
            return self._as_author(model).create(
                {"patient_ids": [(6, 0, patient.ids)], "department_id": self.dental.id}
            )
        if model == "clinic.patient.bulk.message":
            return self._as_author(model).create(
                {"patient_ids": [(6, 0, patient.ids)], "department_id": self.dental.id}
            )
        if model == "clinic.recall.rule.activate":
            return self._as_author(model).create({"department_id": self.dental.id})
        raise AssertionError(f"no target for {model}")

    def _create(self, model, user):
        """Create a record like the target (Dental, main company) as ``user``."""
        Model = self.env[model].with_user(user).with_company(user.company_id)
        vals = {
            "clinic.department": {"name": "New department", "company_id": self.company.id},
            "clinic.service": {"name": "New service", "department_id": self.dental.id, "company_id": self.company.id},
            "clinic.patient": {"name": "New patient", "company_id": self.company.id},
            "clinic.visit": {
                "patient_id": self.history_patient.id,
                "department_id": self.dental.id,
                "start": datetime.now() + timedelta(days=60),
            },
            "clinic.followup.stage": {"name": "New stage"},
            "clinic.followup.task": {
                "name": "New task",
                "patient_id": self.history_patient.id,
                "department_id": self.dental.id,
            },
            "clinic.recall.rule": {"name": "New rule", "department_id": self.dental.id, "company_id": self.company.id},
            "clinic.recall.rule.step": {"rule_id": self.rule.id},
            "clinic.recall.override": {"rule_id": self.rule.id, "patient_id": self._patient("Override 2").id},
            "clinic.recovery.template": {"name": "New template", "company_id": self.company.id},
            "clinic.visit.reminder": {
                "visit_id": self.history_patient.visit_ids[:1].id,
                "kind": "manual",
                "channel": "sms",
                "visit_start": datetime.now(),
            },
            "clinic.survey.response": {"patient_id": self.history_patient.id, "department_id": self.dental.id},
            "clinic.complaint.stage": {"name": "New stage"},
            "clinic.complaint.category": {"name": "New category"},
            "clinic.complaint": {
                "name": "New",
                "description": "Rude again",
                "department_id": self.dental.id,
                "company_id": self.company.id,
            },
            "clinic.public.submission": {"kind": "x", "address_hash": "x", "window_start": datetime.now()},
            "clinic.retention.dashboard": {},
            "clinic.retention.export": {},
            "clinic.audit.log": {"event": "excel_export"},
            "clinic.patient.consent": {"patient_id": self.history_patient.id, "kind": "care"},
            "clinic.patient.anonymise": {"patient_id": self.history_patient.id},
            "clinic.survey.response.entry": {"visit_id": self.history_patient.visit_ids[:1].id, "score": "3"},
            "clinic.patient.bulk.task": {"department_id": self.dental.id},
            "clinic.patient.bulk.message": {"department_id": self.dental.id},
            "clinic.recall.rule.activate": {"department_id": self.dental.id},
            "clinic.need.grade": {"code": "A", "name": "Another A"},
            "clinic.treatment.plan": {
                "name": "Bridge",
                "patient_id": self.history_patient.id,
                "department_id": self.dental.id,
            },
        }.get(model)
        if model == "clinic.need.grade":
            # one record per grade (A-E): free a code to create it again
            self.env[model].search([("code", "=", "A")]).unlink()
        elif model == "clinic.treatment.plan.line":
            vals = {"plan_id": self._plan().id, "name": "Implant", "amount": 900}
        if model == "clinic.followup.recovery.score":
            vals = {"task_id": self._task().id, "name": "Sleep", "score": 2}
        elif model == "clinic.recovery.criterion":
            vals = {"template_id": self.env["clinic.recovery.template"].create({"name": "T"}).id, "name": "C"}
        elif model in ("clinic.followup.task.reached", "clinic.followup.task.callback"):
            vals = {"task_id": self._task().id}
        elif model == "clinic.followup.task.reached.line":
            wizard = self.env["clinic.followup.task.reached"].with_user(user).create({"task_id": self._task().id})
            self.assertFalse(wizard.recovery_line_ids)  # computed now, not after the line below
            vals = {"wizard_id": wizard.id, "name": "Sleep"}
        elif model.endswith(".report"):
            vals = {"department_id": self.dental.id}
        return Model.create(vals)

    WRITES = {
        "clinic.need.grade": {"description": "Changed"},
        "clinic.treatment.plan": {"urgency": "urgent"},
        "clinic.treatment.plan.line": {"amount": 500},
        "clinic.department": {"code": "CHG"},
        "clinic.service": {"name": "Changed"},
        "clinic.patient": {"occupation": "Changed"},
        "clinic.visit": {"service_id": None},
        "clinic.followup.stage": {"fold": True},
        "clinic.followup.task": {"priority": "1"},
        "clinic.followup.recovery.score": {"note": "Better"},
        "clinic.recall.rule": {"lead_days": 3},
        "clinic.recall.rule.step": {"name": "Changed"},
        "clinic.recall.override": {"note": "Changed"},
        "clinic.recovery.template": {"name": "Changed"},
        "clinic.recovery.criterion": {"name": "Changed"},
        "clinic.followup.task.reached": {"note": "Changed"},
        "clinic.followup.task.callback": {"note": "Changed"},
        "clinic.followup.task.reached.line": {"note": "Changed"},
        "clinic.visit.reminder": {"destination": "+8613999999999"},
        "clinic.survey.response": {"score": 5},
        "clinic.complaint.stage": {"fold": True},
        "clinic.complaint.category": {"name": "Changed"},
        "clinic.complaint": {"root_cause": "Busy"},
        "clinic.public.submission": {"count": 0},
        "clinic.retention.dashboard": {"period": "year"},
        "clinic.retention.export": {"doctor_ids": []},
        "clinic.audit.log": {"description": "Changed"},
        "clinic.patient.consent": {"source": "phone"},
        "clinic.patient.anonymise": {"note": "Changed"},
        "clinic.survey.response.entry": {"comment": "Changed"},
        "clinic.patient.bulk.task": {"name": "Changed"},
        "clinic.patient.bulk.message": {"channel": "sms"},
        "clinic.recall.rule.activate": {"service_id": False},
    }

    def _write_vals(self, model):
        if model == "clinic.visit":
            return {"service_id": self.extraction.id}
        if model.endswith(".report"):
            return {"department_id": self.cardiology.id}
        return self.WRITES[model]

    def _allowed(self, operation):
        try:
            with (
                self.env.cr.savepoint(),
                mute_logger("odoo.models", "odoo.models.unlink", "odoo.addons.base.models.ir_rule"),
            ):
                operation()
        except AccessError:
            return False
        return True

    def test_access_matrix(self):
        for model, by_user in EXPECTED.items():
            for user_kind, expected in by_user.items():
                user = self.users[user_kind]
                target = self._target(model)
                as_user = target.with_user(user)
                operations = {
                    "read": lambda r=as_user: r.read(["display_name"]),
                    "write": lambda r=as_user, m=model: r.write(self._write_vals(m)),
                    "create": lambda m=model, u=user: self._create(m, u),
                    "unlink": lambda r=as_user: r.unlink(),
                }
                for (operation, call), allowed in zip(operations.items(), expected, strict=True):
                    with self.subTest(model=model, user=user_kind, operation=operation):
                        self.assertEqual(self._allowed(call), allowed)

    def test_every_model_is_in_the_matrix(self):
        # this addon's models (the bridge addons test theirs)
        own = self.env["ir.model.data"].search([("model", "=", "ir.model"), ("module", "=", "clinic_retention")])
        models = self.env["ir.model"].browse(own.mapped("res_id")).filtered(lambda m: m.model.startswith("clinic."))
        models = models.mapped("model")
        stored = {m for m in models if not self.env[m]._abstract}
        self.assertEqual(stored - EXPECTED.keys(), set(), "add the new model to EXPECTED")
        self.assertEqual(EXPECTED.keys() - stored, set())

    def test_portal_and_public_have_no_menu(self):
        menu = self.env.ref("clinic_retention.clinic_retention_menu_root")
        Menu = self.env["ir.ui.menu"]
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            Menu.with_user(self.portal_user).search([("id", "=", menu.id)])
        self.assertFalse(Menu.with_user(self.internal_user).search([("id", "=", menu.id)]))
        self.assertEqual(Menu.with_user(self.cs_user).search([("id", "=", menu.id)]), menu)
        analysis = self.env.ref("clinic_retention.clinic_visit_menu_analysis")
        self.assertFalse(
            Menu.with_user(self.cs_user).search([("id", "=", analysis.id)]),
            "revenue of every department (Visits analysis): managers only",
        )
        self.assertEqual(Menu.with_user(self.manager).search([("id", "=", analysis.id)]), analysis)

    def test_other_company_sees_nothing_of_the_main_company(self):
        patient = self._patient("Main company only")
        self._visit(patient, datetime(2025, 1, 1, 9))
        for model in ("clinic.patient", "clinic.visit", "clinic.department", "clinic.followup.recovery.score"):
            records = self.env[model].with_user(self.other_company_user).search([])
            self.assertFalse(
                records.filtered(lambda r: getattr(r, "company_id", None) == self.company), f"{model}: nothing"
            )

    def test_recall_rule_filter_runs_with_its_authors_rights(self):
        """Finding 24: a rule's patient filter is evaluated with the rights of
        the manager who wrote it, not as the superuser (no oracle on records
        they cannot read, here a contact of another company)."""
        secret = self.env["res.partner"].create({"name": "Secret Referrer", "company_id": self.other_company.id})
        patient = self._patient("Referred Patient", referred_by_id=secret.id)
        self._visit(patient, datetime(2020, 1, 1, 9))
        rule = (
            self.env["clinic.recall.rule"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Oracle rule",
                    "department_id": self.dental.id,
                    "interval_number": 1,
                    "interval_unit": "months",
                    "max_overdue_days": 0,
                    "assignment": "none",
                    "patient_domain": "[('referred_by_id.name', 'ilike', 'Secret Referrer')]",
                }
            )
        )
        self.assertEqual(rule.write_uid, self.manager)
        created = rule.sudo()._run_batch(rules=rule)[0]
        self.assertFalse(created, "the filter matches nothing its author could not read")

    def test_demo_users_have_no_password(self):
        """Finding 24: a database created with demo data has no account whose
        password anyone can guess (scripts/run.sh sets them locally)."""
        logins = ["olga", "reza", "zhang", "dr.li", "dr.hosseini", "dr.smirnov", "dr.collins"]
        users = self.env["res.users"].with_context(active_test=False).search([("login", "in", logins)])
        self.assertTrue(users, "scripts/test.sh installs the demo data")
        self.env.cr.execute(
            "SELECT login FROM res_users WHERE id IN %s AND COALESCE(password, '') != ''", [tuple(users.ids)]
        )
        self.assertEqual(self.env.cr.fetchall(), [])
