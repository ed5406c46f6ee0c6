from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import clean_context

PLAN_STATES = [
    ("proposed", "Proposed"),
    ("accepted", "Accepted"),
    ("booked", "Booked"),
    ("done", "Done"),
    ("declined", "Declined"),
]

URGENCIES = [
    ("urgent", "Urgent (within days)"),
    ("soon", "Soon (within weeks)"),
    ("elective", "Elective (within months)"),
]

# When the consultant calls back about an undecided plan, and how the
# opportunity is starred in the pipeline.
CALL_BACK_DAYS = {"urgent": 1, "soon": 3, "elective": 7}
PRIORITY_BY_URGENCY = {"urgent": "3", "soon": "2", "elective": "1"}

# Plans the consultant still has to get booked: the day's worklist.
UNSCHEDULED_STATES = ("proposed", "accepted")


class ClinicTreatmentPlan(models.Model):
    """A treatment proposed to a patient at a visit (services, estimated
    amount, urgency), followed until it is done or declined.

    While it is not booked it is an opportunity in the department's
    pipeline, with the estimated amount as expected revenue, for the
    consultant (the opportunity's salesperson). Booking the treatment visit
    moves the opportunity to "Visit booked", doing it wins it, declining
    loses it with a reason (CRM's lost reasons)."""

    _name = "clinic.treatment.plan"
    _description = "Treatment Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "proposed_date, amount_total desc, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True, help="e.g. “Root canal and crown, upper left molar”.")
    patient_id = fields.Many2one(
        "clinic.patient", required=True, index=True, tracking=True, ondelete="restrict", check_company=True
    )
    partner_id = fields.Many2one(related="patient_id.partner_id", string="Contact")
    department_id = fields.Many2one("clinic.department", required=True, index=True, tracking=True, check_company=True)
    visit_id = fields.Many2one(
        "clinic.visit",
        string="Proposed at",
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
        help="The visit (consultation) where the plan was proposed.",
    )
    doctor_id = fields.Many2one("res.users", domain="[('share', '=', False)]", tracking=True)
    user_id = fields.Many2one(
        "res.users",
        string="Consultant",
        index=True,
        tracking=True,
        domain="[('share', '=', False)]",
        default=lambda self: self.env.user if not self.env.su else False,
        help="Follows the patient until the treatment is booked and done: the salesperson of its opportunity.",
    )
    line_ids = fields.One2many("clinic.treatment.plan.line", "plan_id", string="Treatments", copy=True)
    amount_total = fields.Monetary(
        string="Estimated amount", compute="_compute_amount_total", store=True, currency_field="currency_id"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    urgency = fields.Selection(URGENCIES, required=True, default="soon", tracking=True)
    state = fields.Selection(
        PLAN_STATES, string="Status", required=True, default="proposed", tracking=True, index=True, copy=False
    )
    proposed_date = fields.Date(required=True, default=fields.Date.context_today, index=True, copy=False)
    decision_date = fields.Date(readonly=True, copy=False)
    done_date = fields.Datetime(readonly=True, copy=False)
    booked_visit_id = fields.Many2one(
        "clinic.visit", string="Treatment visit", index="btree_not_null", ondelete="set null", copy=False
    )
    lead_id = fields.Many2one("crm.lead", string="Opportunity", index="btree_not_null", copy=False, readonly=True)
    decline_reason_id = fields.Many2one("crm.lost.reason", string="Declined because", tracking=True, copy=False)
    age_days = fields.Integer(string="Days waiting", compute="_compute_age_days")
    notes = fields.Html()
    company_id = fields.Many2one(
        related="department_id.company_id", store=True, index=True, precompute=True, readonly=True
    )

    @api.depends("line_ids.amount")
    def _compute_amount_total(self):
        for plan in self:
            plan.amount_total = sum(plan.line_ids.mapped("amount"))

    @api.depends("proposed_date")
    def _compute_age_days(self):
        today = fields.Date.context_today(self)
        for plan in self:
            plan.age_days = (today - plan.proposed_date).days if plan.proposed_date else 0

    @api.onchange("visit_id")
    def _onchange_visit_id(self):
        if self.visit_id:
            self.patient_id = self.visit_id.patient_id
            self.department_id = self.visit_id.department_id
            self.doctor_id = self.visit_id.doctor_id

    # ------------------------------------------------------------------
    # CRUD: an unbooked plan is an opportunity
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        Visit = self.env["clinic.visit"]
        for vals in vals_list:
            visit = Visit.browse(vals.get("visit_id"))
            if visit:
                vals.setdefault("patient_id", visit.patient_id.id)
                vals.setdefault("department_id", visit.department_id.id)
                vals.setdefault("doctor_id", visit.doctor_id.id)
        plans = super().create(vals_list)
        plans.filtered(lambda p: p.state in UNSCHEDULED_STATES)._open_opportunities()
        return plans

    def write(self, vals):
        result = super().write(vals)
        lead_vals = {}
        if "user_id" in vals:
            lead_vals["user_id"] = vals["user_id"]
        if "urgency" in vals:
            lead_vals["priority"] = PRIORITY_BY_URGENCY.get(vals["urgency"], "1")
        for plan in self.filtered("lead_id"):
            values = dict(lead_vals)
            if plan.lead_id.expected_revenue != plan.amount_total:
                values["expected_revenue"] = plan.amount_total
            if values:
                plan.lead_id.sudo().write(values)
        return result

    def _lead_values(self):
        self.ensure_one()
        department = self.department_id
        return {
            "name": self.env._("Treatment: %(plan)s — %(patient)s", plan=self.name, patient=self.patient_id.name),
            "type": "opportunity",
            "clinic_kind": "treatment",
            "clinic_department_id": department.id,
            "team_id": department.team_id.id,
            "company_id": department.company_id.id,
            "user_id": self.user_id.id,
            "partner_id": self.patient_id.partner_id.id,
            "clinic_patient_id": self.patient_id.id,
            "clinic_treatment_plan_id": self.id,
            "clinic_service_id": self.line_ids.service_id[:1].id,
            "clinic_channel": self.patient_id.preferred_channel,
            "clinic_care_consent": self.patient_id.care_consent,
            "expected_revenue": self.amount_total,
            "priority": PRIORITY_BY_URGENCY.get(self.urgency, "1"),
            "source_id": self.env.ref("clinic_retention.utm_source_treatment_plan").id,
            "stage_id": self.env["crm.stage"]._clinic_stage("new", department.team_id).id,
        }

    def _open_opportunities(self):
        """One opportunity per plan not yet booked, with a call for the consultant."""
        Lead = self.env["crm.lead"].with_env(self.env(context=clean_context(self.env.context), su=True))
        Lead = Lead.with_context(mail_create_nosubscribe=True)
        today = fields.Date.context_today(self)
        for plan in self.filtered(lambda p: not p.lead_id):
            lead = Lead.create(plan._lead_values())
            plan.lead_id = lead
            lead._clinic_schedule_call(
                today + timedelta(days=CALL_BACK_DAYS.get(plan.urgency, 3)),
                self.env._("Follow up the treatment plan"),
            )
        return True

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_accept(self):
        self._check_state(("proposed",))
        self.write({"state": "accepted", "decision_date": fields.Date.context_today(self)})
        self.lead_id.sudo().filtered(lambda lead: lead.clinic_status == "open")._clinic_move_to("reached")
        return True

    def action_book(self):
        """Open the booking of the treatment visit."""
        self.ensure_one()
        self._check_state(UNSCHEDULED_STATES)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Book the treatment"),
            "res_model": "clinic.visit",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_patient_id": self.patient_id.id,
                "default_department_id": self.department_id.id,
                "default_service_id": self.line_ids.service_id[:1].id,
                "default_doctor_id": self.doctor_id.id,
                "default_treatment_plan_id": self.id,
            },
        }

    def action_decline(self):
        """Declining loses the plan's opportunity with a reason (CRM's "Lost" dialog)."""
        self.ensure_one()
        self._check_state((*UNSCHEDULED_STATES, "booked"))
        self._open_opportunities()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Why was the plan declined?"),
            "res_model": "crm.lead.lost",
            "view_mode": "form",
            "views": [(self.env.ref("crm.crm_lead_lost_view_form").id, "form")],
            "target": "new",
            "context": {"default_lead_ids": self.lead_id.ids, "dialog_size": "medium"},
        }

    def action_reopen(self):
        self._check_state(("declined",))
        self.lead_id.sudo().filtered(lambda lead: not lead.active).action_unarchive()
        self.write({"state": "proposed", "decline_reason_id": False, "decision_date": False})
        return True

    def action_open_opportunity(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "context": {"clinic_pipeline": True},
        }

    def _check_state(self, allowed):
        wrong = self.filtered(lambda p: p.state not in allowed)
        if wrong:
            labels = dict(self._fields["state"]._description_selection(self.env))
            raise UserError(
                self.env._(
                    "The treatment plan “%(plan)s” is %(state)s: this cannot be done now.",
                    plan=wrong[0].name,
                    state=labels[wrong[0].state],
                )
            )

    # ------------------------------------------------------------------
    # The treatment visit moves the plan (called with the visits' changes)
    # ------------------------------------------------------------------

    @api.model
    def _on_visits_state(self, visits):
        for visit in visits.filtered("treatment_plan_id"):
            plan = visit.treatment_plan_id.sudo()
            lead = plan.lead_id.filtered(lambda lead: lead.clinic_status == "open")
            if visit.state == "scheduled" and plan.state in UNSCHEDULED_STATES:
                plan.write({"state": "booked", "booked_visit_id": visit.id})
                lead._clinic_visit_booked(visit)
            elif visit.state == "done" and plan.state in (*UNSCHEDULED_STATES, "booked"):
                plan.write({"state": "done", "booked_visit_id": visit.id, "done_date": visit.start})
                lead._clinic_visit_done(visit)
            elif visit.state in ("no_show", "cancelled") and plan.booked_visit_id == visit and plan.state == "booked":
                plan.write({"state": "accepted", "booked_visit_id": False})
                lead.filtered(lambda lead, v=visit: lead.clinic_visit_id == v)._clinic_visit_missed(visit)
        return True
