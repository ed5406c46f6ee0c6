from datetime import datetime

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ClinicRetentionCase

ALLOW, DENY = True, False


@tagged("post_install", "-at_install")
class TestAccessRights(ClinicRetentionCase):
    """Who may read, write, create and delete what, as a table."""

    # model -> user -> (read, write, create, unlink)
    EXPECTED = {
        "clinic.department": {
            "cs_user": (ALLOW, DENY, DENY, DENY),
            "manager": (ALLOW, ALLOW, ALLOW, ALLOW),
            "other_company_user": (DENY, DENY, ALLOW, DENY),
            "portal_user": (DENY, DENY, DENY, DENY),
            "internal_user": (DENY, DENY, DENY, DENY),
        },
        "clinic.service": {
            "cs_user": (ALLOW, DENY, DENY, DENY),
            "manager": (ALLOW, ALLOW, ALLOW, ALLOW),
            "other_company_user": (DENY, DENY, ALLOW, DENY),
            "portal_user": (DENY, DENY, DENY, DENY),
            "internal_user": (DENY, DENY, DENY, DENY),
        },
        "clinic.patient": {
            "cs_user": (ALLOW, ALLOW, ALLOW, DENY),
            "manager": (ALLOW, ALLOW, ALLOW, ALLOW),
            "other_company_user": (DENY, DENY, ALLOW, DENY),
            "portal_user": (DENY, DENY, DENY, DENY),
            "internal_user": (DENY, DENY, DENY, DENY),
        },
        "clinic.visit": {
            "cs_user": (ALLOW, ALLOW, ALLOW, DENY),
            "manager": (ALLOW, ALLOW, ALLOW, ALLOW),
            "other_company_user": (DENY, DENY, ALLOW, DENY),
            "portal_user": (DENY, DENY, DENY, DENY),
            "internal_user": (DENY, DENY, DENY, DENY),
        },
    }

    def _target(self, model):
        """A fresh record of the main company, made by the superuser."""
        if model == "clinic.department":
            return self.env[model].create({"name": "Target department"})
        if model == "clinic.service":
            return self.env[model].create({"name": "Target service", "company_id": self.company.id})
        if model == "clinic.patient":
            return self._patient("Target patient", allergies="Latex")
        return self._visit(self._patient("Visit target"), datetime(2030, 1, 1, 9), state="scheduled")

    def _create_vals(self, model, user):
        company = user.company_id
        if model == "clinic.department":
            return {"name": f"New by {user.login}", "company_id": company.id}
        if model == "clinic.service":
            return {"name": f"New by {user.login}", "company_id": company.id}
        if model == "clinic.patient":
            return {"name": f"New by {user.login}", "company_id": company.id}
        patient = self.env["clinic.patient"].create({"name": f"Patient of {user.login}", "company_id": company.id})
        department = self.dental if company == self.company else self.other_department
        return {"patient_id": patient.id, "department_id": department.id, "start": datetime(2030, 2, 1, 9)}

    def _write_vals(self, model):
        return {
            "clinic.department": {"code": "CHANGED"},
            "clinic.service": {"name": "Changed"},
            "clinic.patient": {"occupation": "Changed"},
            "clinic.visit": {"amount": 42.0},
        }[model]

    def _allowed(self, operation):
        try:
            with mute_logger("odoo.models", "odoo.models.unlink", "odoo.addons.base.models.ir_rule"):
                operation()
        except AccessError:
            return False
        return True

    def test_access_table(self):
        for model, by_user in self.EXPECTED.items():
            for user_attr, expected in by_user.items():
                user = getattr(self, user_attr)
                target = self._target(model)
                as_user = target.with_user(user)
                create_vals = self._create_vals(model, user)
                operations = {
                    "read": lambda r=as_user: r.read(["display_name"]),
                    "write": lambda r=as_user, m=model: r.write(self._write_vals(m)),
                    "create": lambda m=model, u=user, v=create_vals: (
                        self.env[m].with_user(u).with_company(u.company_id).create(v)
                    ),
                    "unlink": lambda r=as_user: r.unlink(),
                }
                for (operation, call), allowed in zip(operations.items(), expected, strict=True):
                    with self.subTest(model=model, user=user_attr, operation=operation):
                        self.assertEqual(self._allowed(call), allowed)

    def test_other_company_sees_no_patient_nor_visit(self):
        patient = self._patient("Main company only")
        self._visit(patient, datetime(2025, 1, 1, 9))
        for model in ("clinic.patient", "clinic.visit", "clinic.department"):
            self.assertFalse(
                self.env[model]
                .with_user(self.other_company_user)
                .search([("id", "!=", 0)])
                .filtered(lambda r: r.company_id == self.company),
                f"{model}: nothing of the main company",
            )
        self.assertEqual(
            self.env["clinic.patient"]
            .with_user(self.other_company_user)
            .search_count([("name", "=", "Main company only")]),
            0,
        )

    def test_portal_and_public_have_no_menu(self):
        menu = self.env.ref("clinic_retention.clinic_retention_menu_root")
        Menu = self.env["ir.ui.menu"]
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            Menu.with_user(self.portal_user).search([("id", "=", menu.id)])
        self.assertFalse(Menu.with_user(self.internal_user).search([("id", "=", menu.id)]))
        self.assertEqual(Menu.with_user(self.cs_user).search([("id", "=", menu.id)]), menu)

    def test_agents_read_clinical_data_but_cannot_delete_history(self):
        patient = self._patient("History", allergies="Latex")
        visit = self._visit(patient, datetime(2025, 1, 1, 9), state="scheduled")
        self.assertEqual(patient.with_user(self.cs_user).allergies, "Latex")
        with self.assertRaises(AccessError), mute_logger("odoo.models.unlink"):
            visit.with_user(self.cs_user).unlink()
        visit.with_user(self.cs_user).action_mark_no_show()
        self.assertEqual(visit.state, "no_show", "agents record outcomes instead")
