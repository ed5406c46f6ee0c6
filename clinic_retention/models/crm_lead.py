import logging
from datetime import datetime

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools.misc import clean_context

from .clinic_patient import CHANNELS, CONSENT_SOURCES

_logger = logging.getLogger(__name__)

CLINIC_KINDS = [
    ("prospect", "New patient"),
    ("reactivation", "Reactivation"),
    ("treatment", "Treatment plan"),
]
CLINIC_STATUSES = [("open", "Open"), ("won", "Won"), ("lost", "Lost")]

# Kept by a merge of duplicates: the first value set, as CRM does for its own fields.
CLINIC_MERGE_FIELDS = [
    "clinic_department_id",
    "clinic_kind",
    "clinic_grade_id",
    "clinic_chief_complaint",
    "clinic_service_id",
    "clinic_channel",
    "clinic_referrer_id",
    "clinic_patient_id",
    "clinic_visit_id",
    "clinic_treatment_plan_id",
    "clinic_prospect_date",
]

# The patient's "how did you find us" from the lead's UTM source.
REFERRAL_SOURCE_BY_UTM = {
    "clinic_retention.utm_source_referral": "patient",
    "clinic_retention.utm_source_website": "web",
    "clinic_retention.utm_source_social": "social",
    "clinic_retention.utm_source_walk_in": "walk_in",
    "clinic_retention.utm_source_free_screening": "campaign",
}


class CrmLead(models.Model):
    """Leads and opportunities that know the clinic: prospects (people with
    a chief complaint who never came), lapsed patients to reactivate and
    proposed treatment plans, each in its department's pipeline.

    The pipeline follows the visits: booking moves the opportunity to
    "Visit booked", a no-show or cancellation to "To re-invite", and the
    visit done wins it (``_clinic_on_visits_state``, called by the visits).
    """

    _inherit = "crm.lead"

    stage_id = fields.Many2one(
        domain="[('clinic_pipeline', '=', clinic_is_care), '|', ('team_id', '=', False), ('team_id', '=', team_id)]"
    )
    clinic_department_id = fields.Many2one(
        "clinic.department",
        string="Department",
        index="btree_not_null",
        tracking=True,
        check_company=True,
        help="The department whose team works this opportunity. Setting it puts the opportunity in "
        "the Patient Care pipeline of the department's team.",
    )
    clinic_is_care = fields.Boolean(
        string="Patient Care", compute="_compute_clinic_is_care", store=True, index=True, compute_sudo=True
    )
    clinic_kind = fields.Selection(
        CLINIC_KINDS,
        string="Kind",
        compute="_compute_clinic_kind",
        store=True,
        readonly=False,
        tracking=True,
        help="New patient: a prospect invited to a first visit. Reactivation: a lapsed patient invited "
        "back. Treatment plan: a proposed treatment to book.",
    )
    clinic_status = fields.Selection(
        CLINIC_STATUSES, string="Result", compute="_compute_clinic_status", store=True, index=True
    )
    clinic_grade_id = fields.Many2one(
        "clinic.need.grade",
        string="Need grade",
        index="btree_not_null",
        tracking=True,
        help="How strong the need is, from A (acute, ready to book) to E (no current need). "
        "The definitions are under Patient Care > Configuration > Need grades.",
    )
    clinic_grade_code = fields.Selection(related="clinic_grade_id.code", string="Grade")
    clinic_grade_description = fields.Text(related="clinic_grade_id.description", string="Grade definition")
    clinic_chief_complaint = fields.Text(string="Chief complaint", tracking=True)
    clinic_service_id = fields.Many2one(
        "clinic.service",
        string="Service / condition",
        check_company=True,
        domain="['|', ('department_id', '=', False), ('department_id', '=', clinic_department_id)]",
    )
    clinic_channel = fields.Selection(CHANNELS, string="Preferred channel", default="phone")
    clinic_care_consent = fields.Boolean(
        string="Consents to care messages", help="Appointment reminders, recalls and follow-ups."
    )
    clinic_marketing_consent = fields.Boolean(string="Consents to marketing")
    clinic_consent_source = fields.Selection(CONSENT_SOURCES, string="Consent given by")
    clinic_referrer_id = fields.Many2one(
        "res.partner",
        string="Referred by",
        index="btree_not_null",
        tracking=True,
        help="The patient, doctor or organisation who recommended the clinic: a contact, "
        "reported in the referral analysis (CRM's free-text “Referred By” is not used).",
    )
    clinic_patient_id = fields.Many2one(
        "clinic.patient", string="Patient", index="btree_not_null", tracking=True, check_company=True
    )
    clinic_visit_id = fields.Many2one(
        "clinic.visit",
        string="Booked visit",
        index="btree_not_null",
        copy=False,
        help="The visit this opportunity waits for: when it is done, the opportunity is won.",
    )
    clinic_visit_state = fields.Selection(related="clinic_visit_id.state", string="Visit status")
    clinic_treatment_plan_id = fields.Many2one(
        "clinic.treatment.plan", string="Treatment plan", index="btree_not_null", copy=False
    )
    clinic_recall_rule_id = fields.Many2one(
        "clinic.recall.rule", string="Recall rule", index="btree_not_null", ondelete="set null", copy=False
    )
    clinic_recall_key = fields.Char(copy=False, readonly=True)
    clinic_prospect_date = fields.Datetime(
        string="Prospect since", default=fields.Datetime.now, copy=False, help="When the need was recorded."
    )
    clinic_reached_date = fields.Datetime(string="Reached on", readonly=True, copy=False)
    clinic_booked_date = fields.Datetime(string="Visit booked on", readonly=True, copy=False)
    clinic_done_date = fields.Datetime(string="Visit done on", readonly=True, copy=False)

    _sql_constraints = [
        (
            "clinic_recall_key_uniq",
            "unique(clinic_recall_key)",
            "This reactivation opportunity was already opened.",
        ),
    ]

    @api.depends("clinic_department_id")
    def _compute_clinic_is_care(self):
        for lead in self:
            lead.clinic_is_care = bool(lead.clinic_department_id)

    @api.depends("clinic_department_id")
    def _compute_clinic_kind(self):
        for lead in self:
            if not lead.clinic_department_id:
                lead.clinic_kind = False
            elif not lead.clinic_kind:
                lead.clinic_kind = "prospect"

    @api.depends("active", "stage_id.is_won")
    def _compute_clinic_status(self):
        for lead in self:
            lead.clinic_status = "lost" if not lead.active else "won" if lead.stage_id.is_won else "open"

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if (
            self.env.context.get("clinic_pipeline")
            and "clinic_department_id" in fields_list
            and not values.get("clinic_department_id")
        ):
            team = self.env["crm.team"].browse(values.get("team_id") or self.env.context.get("default_team_id"))
            department = team.clinic_department_ids[:1] or self.env["clinic.department"].search(
                [("member_ids", "in", [self.env.uid])], limit=1
            )
            values["clinic_department_id"] = department.id
        return values

    @api.onchange("clinic_department_id")
    def _onchange_clinic_department_id(self):
        if self.clinic_department_id and self.team_id != self.clinic_department_id.team_id:
            self.team_id = self.clinic_department_id.team_id

    # ------------------------------------------------------------------
    # CRUD: the team follows the department; steps are dated once
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        Department = self.env["clinic.department"]
        for vals in vals_list:
            if vals.get("clinic_department_id") and not vals.get("team_id"):
                vals["team_id"] = Department.browse(vals["clinic_department_id"]).team_id.id
        leads = super().create(vals_list)
        leads.filtered("clinic_is_care")._clinic_stamp_steps()
        return leads

    def write(self, vals):
        if vals.get("clinic_department_id") and "team_id" not in vals:
            vals = dict(vals, team_id=self.env["clinic.department"].browse(vals["clinic_department_id"]).team_id.id)
        result = super().write(vals)
        if "clinic_department_id" in vals:
            self._clinic_fix_pipeline()
        if "stage_id" in vals:
            self.filtered("clinic_is_care")._clinic_stamp_steps()
        if {"active", "lost_reason_id", "stage_id"} & vals.keys():
            self.filtered("clinic_treatment_plan_id")._clinic_sync_treatment_plan()
        return result

    def _clinic_fix_pipeline(self):
        """A lead that joins (or leaves) Patient Care moves to the first
        stage of its new pipeline."""
        for lead in self.filtered(lambda lead: lead.stage_id.clinic_pipeline != lead.clinic_is_care):
            lead.stage_id = lead._stage_find(domain=[("fold", "=", False)])

    def _clinic_stamp_steps(self):
        """Date each step of the funnel the first time it is reached: a later
        step implies the earlier ones (a walk-in is reached, booked and seen
        at once)."""
        now = fields.Datetime.now()
        for lead in self:
            step = "won" if lead.stage_id.is_won else lead.stage_id.clinic_step
            vals = {}
            if step in ("reached", "booked", "won") and not lead.clinic_reached_date:
                vals["clinic_reached_date"] = lead.clinic_booked_date or lead.clinic_done_date or now
            if step in ("booked", "won") and not lead.clinic_booked_date:
                vals["clinic_booked_date"] = lead.clinic_done_date or now
            if step == "won" and not lead.clinic_done_date:
                vals["clinic_done_date"] = now
            if vals:
                super(CrmLead, lead).write(vals)  # pylint: disable=super-method-mismatch  # skip our write: no loop
        return True

    def _clinic_sync_treatment_plan(self):
        for lead in self:
            plan = lead.clinic_treatment_plan_id.sudo()
            if not lead.active and plan.state in ("proposed", "accepted", "booked"):
                plan.write({"state": "declined", "decline_reason_id": lead.lost_reason_id.id})
            elif not lead.active and plan.state == "declined" and lead.lost_reason_id != plan.decline_reason_id:
                plan.decline_reason_id = lead.lost_reason_id
            elif lead.active and plan.state == "declined":
                plan.write({"state": "proposed", "decline_reason_id": False})
            elif lead.clinic_status == "won" and plan.state in ("proposed", "accepted", "booked"):
                plan.write({"state": "done", "done_date": lead.clinic_done_date or fields.Datetime.now()})

    # ------------------------------------------------------------------
    # Two pipelines: Patient Care stages for department teams, sales stages elsewhere
    # ------------------------------------------------------------------

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        care = bool(self.env.context.get("clinic_pipeline"))
        result = super()._read_group_stage_ids(stages, domain)
        return result.filtered(lambda stage: stage in stages or stage.clinic_pipeline == care)

    def _stage_find(self, team_id=False, domain=None, order="sequence, id", limit=1):
        care = set(self.mapped("clinic_is_care")) if self else {bool(self.env.context.get("clinic_pipeline"))}
        if len(care) == 1:
            domain = list(domain or []) + [("clinic_pipeline", "=", care.pop())]
        return super()._stage_find(team_id=team_id, domain=domain, order=order, limit=limit)

    def _merge_get_fields(self):
        return super()._merge_get_fields() + CLINIC_MERGE_FIELDS

    def _clinic_move_to(self, step, **vals):
        """Move these Patient Care leads to their team's stage of ``step``."""
        Stage = self.env["crm.stage"]
        for team, leads in self.grouped("team_id").items():
            stage = Stage._clinic_stage(step, team)
            if stage:
                leads.write(dict(vals, stage_id=stage.id))
            elif vals:
                leads.write(vals)
        return True

    # ------------------------------------------------------------------
    # From prospect to patient
    # ------------------------------------------------------------------

    def _clinic_country(self):
        return self.country_id or self.company_id.country_id or self.env.company.country_id

    def _clinic_find_patients(self):
        """Patients of the lead's clinic with the same phone (compared in
        E.164, however loosely it was typed) or email, best match first."""
        self.ensure_one()
        Partner = self.env["res.partner"]
        numbers = {
            e164
            for number in (self.phone, self.mobile)
            if number and (e164 := Partner._clinic_format_phone(number, self._clinic_country()))
        }
        conditions = []
        if numbers:
            conditions += [[("phone", "in", list(numbers))], [("mobile", "in", list(numbers))]]
        if self.email_normalized:
            conditions.append([("email_normalized", "=", self.email_normalized)])
        if self.partner_id:
            conditions.append([("partner_id", "=", self.partner_id.id)])
        if not conditions:
            return self.env["clinic.patient"]
        company = self.company_id or self.clinic_department_id.company_id or self.env.company
        patients = self.env["clinic.patient"].search(
            expression.AND([[("company_id", "=", company.id)], expression.OR(conditions)])
        )

        def score(patient):
            return (
                patient.partner_id == self.partner_id,
                bool(numbers & {patient.phone, patient.mobile}),
                bool(self.email_normalized and patient.email_normalized == self.email_normalized),
                patient.last_visit_date or datetime.min,
                -patient.id,
            )

        return patients.sorted(score, reverse=True)

    def _clinic_patient_values(self):
        self.ensure_one()
        source_by_id = {
            self.env.ref(xmlid, raise_if_not_found=False): value for xmlid, value in REFERRAL_SOURCE_BY_UTM.items()
        }
        referral_source = source_by_id.get(self.source_id)
        if referral_source == "patient" and self.clinic_referrer_id and not self.clinic_referrer_id.is_patient:
            referral_source = "doctor" if not self.clinic_referrer_id.is_company else "other"
        values = {
            "company_id": (self.company_id or self.clinic_department_id.company_id or self.env.company).id,
            "referred_by_id": self.clinic_referrer_id.id,
            "referral_source": referral_source or False,
            "preferred_channel": self.clinic_channel or "phone",
            "care_consent": self.clinic_care_consent,
            "care_consent_source": self.clinic_care_consent and self.clinic_consent_source,
            "marketing_consent": self.clinic_marketing_consent,
            "marketing_consent_source": self.clinic_marketing_consent and self.clinic_consent_source,
        }
        if self.partner_id and not self.partner_id.is_company:
            values.update(partner_id=self.partner_id.id, phone=self.partner_id.phone or self.phone)
            values["mobile"] = self.partner_id.mobile or self.mobile
            return values
        values.update(
            {
                "name": self.contact_name or self.partner_name or self.partner_id.name or self.name,
                "phone": self.phone,
                "mobile": self.mobile,
                "email": self.email_from,
                "country_id": self._clinic_country().id,
                "lang": self.lang_id.code or self.env.lang,
                "street": self.street,
                "street2": self.street2,
                "city": self.city,
                "zip": self.zip,
                "state_id": self.state_id.id,
            }
        )
        if self.partner_id:
            values["parent_id"] = self.partner_id.id
        return values

    def _clinic_ensure_patient(self):
        """The lead's patient: the one linked, else an existing patient with
        the same phone or email, else a new patient made from the lead."""
        self.ensure_one()
        # the pipeline's default_type (and other defaults) must not reach the patient's contact
        lead = self.with_env(self.env(context=clean_context(self.env.context)))
        patient = lead.clinic_patient_id
        if not patient:
            found = lead._clinic_find_patients()
            patient = found[:1]
            if patient:
                body = lead.env._("Existing patient found: %(patient)s.", patient=patient.name)
                if len(found) > 1:
                    body += " " + lead.env._(
                        "Other possible matches: %(others)s.", others=", ".join(found[1:].mapped("name"))
                    )
            else:
                patient = lead.env["clinic.patient"].create(lead._clinic_patient_values())
                body = lead.env._("Patient record created: %(patient)s.", patient=patient.name)
            lead.write({"clinic_patient_id": patient.id, "partner_id": patient.partner_id.id})
            lead.message_post(body=body)
        if lead.clinic_referrer_id and not patient.referred_by_id and lead.clinic_referrer_id != patient.partner_id:
            patient.referred_by_id = lead.clinic_referrer_id
        return patient

    def action_clinic_book_visit(self):
        """Create or find the patient and open the booking of their visit;
        saving it moves this opportunity to "Visit booked"."""
        self.ensure_one()
        if not self.clinic_department_id:
            raise UserError(self.env._("Choose the department that will see the patient first."))
        if self.clinic_status != "open":
            raise UserError(self.env._("This opportunity is closed: restore it before booking a visit."))
        patient = self._clinic_ensure_patient()
        plan = self.clinic_treatment_plan_id
        service = self.clinic_service_id or plan.line_ids.service_id[:1]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Book the treatment")
            if plan
            else self.env._("Book the first visit")
            if self.clinic_kind == "prospect"
            else self.env._("Book a visit"),
            "res_model": "clinic.visit",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_patient_id": patient.id,
                "default_department_id": self.clinic_department_id.id,
                "default_service_id": service.id,
                "default_doctor_id": (plan.doctor_id or patient.doctor_id).id,
                "default_lead_id": self.id,
                "default_treatment_plan_id": plan.id,
            },
        }

    def action_clinic_open_patient(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.patient",
            "res_id": self.clinic_patient_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_clinic_open_visit(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "clinic.visit",
            "res_id": self.clinic_visit_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    # ------------------------------------------------------------------
    # The visits move the pipeline
    # ------------------------------------------------------------------

    @api.model
    def _clinic_on_visits_state(self, visits):
        """Visits were booked, done, missed or cancelled: move their
        opportunities (the ones they were booked for, and the patient's open
        prospect and reactivation opportunities), and their treatment plans."""
        env = self.env(context=clean_context(self.env.context), su=True)
        visits = visits.with_env(env)
        if not visits:
            return
        Lead = self.with_env(env)
        open_leads = Lead.search(
            [
                ("clinic_patient_id", "in", visits.patient_id.ids),
                ("clinic_status", "=", "open"),
                ("clinic_kind", "in", ("prospect", "reactivation")),
            ]
        )
        for visit in visits:
            # the opportunity the visit was booked for: open, or won by this very visit
            # (a visit marked done by mistake and set back to scheduled)
            linked = visit.lead_id.filtered(
                lambda lead, v=visit: (
                    not lead.clinic_treatment_plan_id
                    and (lead.clinic_status == "open" or (lead.clinic_status == "won" and lead.clinic_visit_id == v))
                )
            )
            if visit.state in ("no_show", "cancelled"):
                missed = (linked | open_leads).filtered(
                    lambda lead, v=visit: lead.clinic_visit_id == v and lead.clinic_status == "open"
                )
                missed._clinic_visit_missed(visit)
                continue
            same_patient = open_leads.filtered(
                lambda lead, v=visit: (
                    lead.clinic_patient_id == v.patient_id
                    and lead.clinic_status == "open"
                    and (lead.clinic_kind == "reactivation" or lead.clinic_department_id == v.department_id)
                    and v.start.date() >= (lead.clinic_prospect_date or lead.create_date).date()
                )
            )
            if visit.state == "scheduled":
                booking = linked | same_patient.filtered(
                    lambda lead: lead.stage_id.clinic_step != "booked" or not lead.clinic_visit_id
                )
                booking._clinic_visit_booked(visit)
            elif visit.state == "done":
                (linked | same_patient).filtered(lambda lead: lead.clinic_status == "open")._clinic_visit_done(visit)
        env["clinic.treatment.plan"]._on_visits_state(visits)

    def _clinic_visit_booked(self, visit):
        if not self:
            return
        self._clinic_move_to("booked", clinic_visit_id=visit.id)
        for lead in self:
            lead.message_post(body=self.env._("Visit booked: %(visit)s", visit=visit.display_name))

    def _clinic_visit_done(self, visit):
        if not self:
            return
        self.write({"clinic_visit_id": visit.id, "clinic_done_date": visit.start})
        self.action_set_won()
        for lead in self:
            lead.message_post(body=self.env._("Won: the patient came (%(visit)s).", visit=visit.display_name))

    def _clinic_visit_missed(self, visit):
        if not self:
            return
        self._clinic_move_to("reinvite")
        if visit.state == "no_show":
            body = self.env._("The patient did not come to %(visit)s: invite them again.", visit=visit.display_name)
        else:
            body = self.env._("%(visit)s was cancelled: invite the patient again.", visit=visit.display_name)
        for lead in self:
            lead.message_post(body=body)
        self._clinic_schedule_call(fields.Date.context_today(self), self.env._("Invite again"))

    def _clinic_schedule_call(self, deadline, summary):
        """A call activity for each lead's salesperson (or the department's manager)."""
        for lead in self.with_context(mail_activity_quick_update=True):
            user = lead.user_id or lead.clinic_department_id.manager_id or lead.team_id.user_id
            if user:
                lead.activity_schedule(
                    "mail.mail_activity_data_call", date_deadline=deadline, summary=summary, user_id=user.id
                )

    # ------------------------------------------------------------------
    # Set-up
    # ------------------------------------------------------------------

    @api.model
    def _clinic_setup_lead_scoring(self):
        """Predictive lead scoring learns from the need grade too (added to
        CRM's ``crm.pls_fields``, next to the fields already chosen)."""
        Param = self.env["ir.config_parameter"].sudo()
        names = [name for name in (Param.get_param("crm.pls_fields") or "").split(",") if name]
        if "clinic_grade_id" not in names:
            Param.set_param("crm.pls_fields", ",".join([*names, "clinic_grade_id"]))
        return True

    @api.model
    def _clinic_demo_generate(self):
        """Demo data (see ``demo/crm_demo_generator.py``); creates nothing twice."""
        from ..demo.crm_demo_generator import generate  # demo-only code

        generate(self.env)
