from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.clinic_followup_task import TASK_CHANNELS

BULK_REASONS = [
    ("reactivation", "Reactivation"),
    ("recall", "Recall"),
    ("manual", "Other (manual)"),
]


class ClinicPatientBulkTask(models.TransientModel):
    """Open follow-up tasks for patients selected in any list (lapsed, lost,
    any filter), in one department, assigned round-robin among its team.

    Idempotent like the recall engine: each task carries a unique key
    (reason, department, patient, deadline), and a patient who already has an
    open task of that reason in the department gets no second one, so running
    it twice (or two agents at once) opens no duplicate."""

    _name = "clinic.patient.bulk.task"
    _description = "Open follow-up tasks for selected patients"

    patient_ids = fields.Many2many("clinic.patient", string="Patients", required=True)
    patient_count = fields.Integer(compute="_compute_counts")
    skipped_count = fields.Integer(
        string="Already followed", compute="_compute_counts", help="Patients who already have such an open task."
    )
    allowed_department_ids = fields.Many2many("clinic.department", compute="_compute_allowed_department_ids")
    department_id = fields.Many2one(
        "clinic.department",
        required=True,
        domain="[('id', 'in', allowed_department_ids)]",
        help="The department whose team works these tasks: they are shared round-robin among its members.",
    )
    reason = fields.Selection(BULK_REASONS, required=True, default="reactivation")
    name = fields.Char(
        string="Task title", required=True, compute="_compute_name", store=True, readonly=False, precompute=True
    )
    channel = fields.Selection(TASK_CHANNELS, required=True, default="phone")
    date_deadline = fields.Date(string="Deadline", required=True, default=fields.Date.context_today)
    priority = fields.Selection([("0", "Normal"), ("1", "Urgent")], default="0")
    note = fields.Html(string="Notes for the team")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "clinic.patient" and context.get("active_ids"):
            values.setdefault("patient_ids", [fields.Command.set(context["active_ids"])])
        departments = self._allowed_departments()
        if len(departments) == 1:
            values.setdefault("department_id", departments.id)
        return values

    @api.model
    def _allowed_departments(self):
        """Managers: every department; agents: the departments whose team they are in."""
        Department = self.env["clinic.department"]
        if self.env.user.has_group("clinic_retention.group_clinic_retention_manager"):
            return Department.search([])  # pylint: disable=no-search-all  # a clinic's departments, a few dozen
        return Department.search([("member_ids", "in", self.env.uid)])

    def _compute_allowed_department_ids(self):
        departments = self._allowed_departments()
        for wizard in self:
            wizard.allowed_department_ids = departments

    @api.depends("reason")
    def _compute_name(self):
        titles = {
            "reactivation": self.env._("Invite back: no visit for a while"),
            "recall": self.env._("Recall: time for the next visit"),
            "manual": self.env._("Call the patient"),
        }
        for wizard in self:
            wizard.name = titles.get(wizard.reason, wizard.name)

    @api.depends("patient_ids", "department_id", "reason")
    def _compute_counts(self):
        for wizard in self:
            wizard.patient_count = len(wizard.patient_ids)
            wizard.skipped_count = len(wizard._already_followed(wizard.patient_ids._origin))

    def _already_followed(self, patients):
        """The patients of ``patients`` with an open task of this reason in
        the department (whoever it is assigned to)."""
        if not patients or not self.department_id:
            return patients.browse()
        tasks = (
            self.env["clinic.followup.task"]
            .sudo()
            .search(
                [
                    ("patient_id", "in", patients.ids),
                    ("department_id", "=", self.department_id._origin.id),
                    ("reason", "=", self.reason),
                    ("is_closed", "=", False),
                ]
            )
        )
        return tasks.patient_id

    def _task_key(self, patient):
        return f"bulk:{self.reason}:d{self.department_id.id}:p{patient.id}:{self.date_deadline}"

    def action_open_tasks(self):
        self.ensure_one()
        department = self.department_id
        if department not in self._allowed_departments():
            raise AccessError(
                self.env._(
                    "You can open follow-ups only for the departments whose team you are in, not for %(department)s.",
                    department=department.display_name,
                )
            )
        patients = self.patient_ids.filtered(lambda p: p.company_id == department.company_id and p.active)
        if not patients:
            raise UserError(self.env._("None of the selected patients can be followed up by %s.", department.name))
        todo = patients - self._already_followed(patients)
        Task = self.env["clinic.followup.task"].sudo().with_context(active_test=False)
        keys = {patient: self._task_key(patient) for patient in todo}
        taken = set(Task.search([("recall_key", "in", list(keys.values()))]).mapped("recall_key"))
        todo = todo.filtered(lambda p: keys[p] not in taken)
        assignees = Task._balanced_assignees(department, department.member_ids, len(todo))
        vals_list = [
            {
                "name": self.name,
                "patient_id": patient.id,
                "department_id": department.id,
                "reason": self.reason,
                "channel": self.channel,
                "date_deadline": self.date_deadline,
                "priority": self.priority,
                "notes": self.note,
                "recall_key": keys[patient],
                "user_id": user_id,
            }
            for patient, user_id in zip(todo, assignees, strict=True)
        ]
        tasks = self.env["clinic.recall.rule"]._create_tasks(vals_list)
        skipped = len(self.patient_ids) - len(tasks)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "Follow-ups opened: %(opened)s (%(skipped)s patients skipped: already followed, or another clinic)",
                opened=len(tasks),
                skipped=skipped,
            ),
            "res_model": "clinic.followup.task",
            "view_mode": "list,kanban,form",
            "views": [(False, "list"), (False, "kanban"), (False, "form")],
            "domain": [("id", "in", tasks.ids)],
            "target": "current",
        }
