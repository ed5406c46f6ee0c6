import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import email_normalize

COMPLAINT_CHANNELS = [
    ("phone", "Phone"),
    ("visit", "During a visit"),
    ("web_form", "Web form"),
    ("social_media", "Social media"),
    ("survey", "Satisfaction survey"),
    ("email", "Email"),
]

SEVERITIES = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("critical", "Critical"),
]

PUBLIC_DESCRIPTION_MAX_LENGTH = 5000
PUBLIC_NAME_MAX_LENGTH = 120
PUBLIC_PHONE_MAX_LENGTH = 40
PUBLIC_EMAIL_MAX_LENGTH = 254
# Web complaints of a clinic in an hour past which their responsible is no
# longer e-mailed for each one (they are still registered and listed).
PUBLIC_NOTIFY_PER_HOUR = 20
MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"
# Control characters (but tab and line breaks in the description) never come from a person.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
LINE_BREAKS = re.compile(r"[\t\r\n]+")
# Fields only managers change: archiving, the deadlines (SLA and escalation).
MANAGER_FIELDS = {"active", "deadline", "second_deadline"}


class ClinicComplaint(models.Model):
    """A patient's complaint, worked New → Investigating → Resolved → Closed
    within a deadline set by its severity (the SLA). Overdue complaints are
    escalated twice: to the department and complaints managers, then to the
    general manager."""

    _name = "clinic.complaint"
    _description = "Complaint"
    _inherit = ["mail.thread", "mail.activity.mixin", "clinic.stage.mixin"]
    _stage_model = "clinic.complaint.stage"
    _order = "priority desc, deadline, id desc"
    _check_company_auto = True

    name = fields.Char(string="Subject", required=True, tracking=True)
    reference = fields.Char(readonly=True, copy=False, index="btree_not_null", default="/")
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    patient_id = fields.Many2one("clinic.patient", index="btree_not_null", tracking=True, check_company=True)
    patient_match_id = fields.Many2one(
        "clinic.patient",
        string="Unverified match",
        index="btree_not_null",
        readonly=True,
        check_company=True,
        help="A patient whose phone or e-mail is the one given on the public form. It is not linked "
        "to the patient until staff have checked with them that they filed it.",
    )
    contact_name = fields.Char(help="Who complained, when not a known patient.")
    contact_email = fields.Char()
    contact_phone = fields.Char()
    department_id = fields.Many2one("clinic.department", index=True, tracking=True, check_company=True)
    staff_ids = fields.Many2many(
        "res.users",
        "clinic_complaint_staff_rel",
        "complaint_id",
        "user_id",
        string="Staff involved",
        domain="[('share', '=', False)]",
    )
    channel = fields.Selection(COMPLAINT_CHANNELS, string="Received by", required=True, default="phone")
    category_id = fields.Many2one("clinic.complaint.category", tracking=True)
    severity = fields.Selection(SEVERITIES, required=True, default="medium", tracking=True)
    priority = fields.Selection([("0", "Normal"), ("1", "Urgent")], compute="_compute_priority", store=True)
    description = fields.Text(
        required=True,
        tracking=True,
        help="The patient's own words, as received: kept read-only once registered. Add notes in the chatter.",
    )
    privacy_consent_date = fields.Datetime(
        string="Consent to data processing",
        readonly=True,
        copy=False,
        help="When the person agreed, on the public form, to the processing of the personal data they gave.",
    )
    privacy_notice = fields.Text(
        string="Privacy notice agreed to",
        readonly=True,
        copy=False,
        help="The notice shown with the consent checkbox, as the person read it.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible manager",
        tracking=True,
        index=True,
        domain="[('share', '=', False)]",
        compute="_compute_user_id",
        store=True,
        readonly=False,
    )
    received_date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    deadline = fields.Datetime(
        compute="_compute_deadlines",
        store=True,
        readonly=False,
        tracking=True,
        index=True,
        help="Set from the severity's SLA (Settings); the complaint is escalated when it passes.",
    )
    second_deadline = fields.Datetime(
        compute="_compute_deadlines",
        store=True,
        readonly=False,
        tracking=True,
        help="If still open by then, the complaint is escalated to the general manager.",
    )
    stage_id = fields.Many2one(
        "clinic.complaint.stage",
        tracking=True,
        index=True,
        group_expand="_read_group_stage_ids",
        ondelete="restrict",
        default=lambda self: self._stage_of_kind("new"),
    )
    state = fields.Selection(related="stage_id.kind", store=True, index=True, string="Status")
    is_open = fields.Boolean(compute="_compute_is_open", store=True, index=True)
    root_cause = fields.Text(tracking=True)
    corrective_action = fields.Text(tracking=True)
    resolution = fields.Text(tracking=True)
    resolution_satisfaction = fields.Integer(
        string="Patient's satisfaction with the resolution", aggregator="avg", help="1 to 5"
    )
    response_id = fields.Many2one("clinic.survey.response", string="From survey response", readonly=True)
    followup_task_id = fields.Many2one(
        "clinic.followup.task", string="From follow-up", index="btree_not_null", ondelete="set null", readonly=True
    )
    escalation_level = fields.Integer(readonly=True, copy=False, tracking=True)
    escalated_date = fields.Datetime(readonly=True, copy=False)
    resolved_date = fields.Datetime(readonly=True, copy=False, tracking=True)
    closed_date = fields.Datetime(readonly=True, copy=False)
    is_overdue = fields.Boolean(compute="_compute_is_overdue", search="_search_is_overdue")
    is_manager = fields.Boolean(compute="_compute_is_manager", help="The current user manages complaints.")
    color = fields.Integer()

    _sql_constraints = [
        # a survey answer opens one complaint, even when two answers race
        ("response_uniq", "unique(response_id)", "This satisfaction answer already opened a complaint."),
        (
            "resolution_satisfaction_range",
            "CHECK(resolution_satisfaction BETWEEN 0 AND 5)",
            "The satisfaction with the resolution goes from 1 to 5.",
        ),
    ]

    # ------------------------------------------------------------------
    # Defaults, stages
    # ------------------------------------------------------------------

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends_context("uid")
    def _compute_is_manager(self):
        self.is_manager = self.env.su or self.env.user.has_group(MANAGER_GROUP)

    @api.depends("severity")
    def _compute_priority(self):
        for complaint in self:
            complaint.priority = "1" if complaint.severity in ("high", "critical") else "0"

    @api.depends("department_id")
    def _compute_user_id(self):
        for complaint in self:
            if not complaint.user_id:
                company = complaint.company_id or self.env.company
                complaint.user_id = (
                    complaint.department_id.manager_id
                    or company.clinic_complaints_manager_id
                    or company.clinic_general_manager_id
                )

    @api.depends("severity", "received_date", "company_id")
    def _compute_deadlines(self):
        for complaint in self:
            company = complaint.company_id or self.env.company
            received = complaint.received_date or fields.Datetime.now()
            complaint.deadline = received + timedelta(hours=company._clinic_sla_hours(complaint.severity))
            complaint.second_deadline = complaint.deadline + timedelta(hours=company.clinic_escalation_hours or 24)

    @api.depends("state")
    def _compute_is_open(self):
        for complaint in self:
            complaint.is_open = complaint.state not in ("resolved", "closed")

    @api.depends("deadline", "is_open")
    def _compute_is_overdue(self):
        now = fields.Datetime.now()
        for complaint in self:
            complaint.is_overdue = bool(complaint.is_open and complaint.deadline and complaint.deadline < now)

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(self.env._("Unsupported search on overdue complaints."))
        overdue = [("is_open", "=", True), ("deadline", "<", fields.Datetime.now())]
        return overdue if (operator == "=") == value else ["!", "&", *overdue]

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        is_manager = self.env.su or self.env.user.has_group(MANAGER_GROUP)
        for vals in vals_list:
            if vals.get("reference", "/") == "/":
                vals["reference"] = self.env["ir.sequence"].sudo().next_by_code("clinic.complaint") or "/"
            if not is_manager:
                stage = self.env["clinic.complaint.stage"].browse(vals.get("stage_id"))
                if stage.kind in ("resolved", "closed"):
                    raise AccessError(
                        self.env._("A complaint is registered as new and then investigated: it cannot start resolved.")
                    )
                if vals.get("active") is False:
                    raise AccessError(self.env._("Only Patient Care managers archive complaints."))
                # the deadlines follow the severity's SLA (the form sends what it computed)
                vals.pop("deadline", None)
                vals.pop("second_deadline", None)
        tasks = self.env["clinic.followup.task"].browse(
            {v["followup_task_id"] for v in vals_list if v.get("followup_task_id")}
        )
        tasks.check_access("write")  # only from a follow-up the user works on
        complaints = super().create(vals_list)
        complaints._subscribe_responsible()
        for complaint in complaints.filtered("followup_task_id"):
            complaint.followup_task_id.message_post(
                body=self.env._(
                    "Complaint %(reference)s registered during this follow-up.", reference=complaint.reference
                )
            )
        return complaints

    def write(self, vals):
        self._check_write_allowed(vals)
        if "stage_id" in vals:
            stage = self.env["clinic.complaint.stage"].browse(vals["stage_id"])
            now = fields.Datetime.now()
            if stage.kind in ("resolved", "closed"):
                vals.setdefault("resolved_date", now)
            if stage.kind == "closed":
                vals.setdefault("closed_date", now)
            if stage.kind in ("new", "investigating"):
                vals.update(resolved_date=False, closed_date=False)
        old_responsible = {complaint: complaint.user_id for complaint in self} if "user_id" in vals else {}
        result = super().write(vals)
        if "stage_id" in vals:
            self._check_stage_requirements()
        if "user_id" in vals:
            self._subscribe_responsible(old_responsible)
        return result

    def _check_write_allowed(self, vals):
        """What staff may change: managers archive complaints, change their
        deadlines and close them; nobody rewrites the patient's words; the
        staff named in a complaint do not edit it (they add notes)."""
        if self.env.su:
            return
        if "description" in vals and any(c.description != vals["description"] for c in self):
            raise UserError(
                self.env._(
                    "The patient's words are kept as they were received. Add what you learned "
                    "as a note in the chatter, or in the root cause and resolution."
                )
            )
        if self.env.user.has_group(MANAGER_GROUP):
            return
        if MANAGER_FIELDS & vals.keys():
            raise AccessError(self.env._("Only Patient Care managers archive complaints or change their deadlines."))
        if "stage_id" in vals and self.env["clinic.complaint.stage"].browse(vals["stage_id"]).kind == "closed":
            raise AccessError(self.env._("Only Patient Care managers can close complaints."))
        named = self.filtered(lambda c: self.env.user in c.staff_ids)
        if named:
            raise AccessError(
                self.env._(
                    "You are named in the complaint %(complaint)s: a colleague or a manager handles it. "
                    "You can still add a note in the chatter.",
                    complaint=named[0].reference or named[0].name,
                )
            )

    def _check_stage_requirements(self):
        """The statusbar obeys the same rules as the buttons."""
        for complaint in self:
            if complaint.state == "resolved" and not (complaint.resolution or complaint.corrective_action):
                raise UserError(
                    self.env._(
                        "Write the corrective action or the resolution of “%(complaint)s” before resolving it.",
                        complaint=complaint.name,
                    )
                )
            if complaint.state == "closed" and not (complaint.root_cause and complaint.corrective_action):
                raise UserError(
                    self.env._(
                        "Record the root cause and the corrective action of “%(complaint)s” before closing it.",
                        complaint=complaint.name,
                    )
                )

    def _subscribe_responsible(self, previous=None):
        """The responsible follows the complaint; a former responsible who
        is not the new one stops following it (they may have moved to another
        department) unless they are named or manage its department."""
        for complaint in self:
            former = (previous or {}).get(complaint)
            if former and former != complaint.user_id:
                keep = complaint.staff_ids | complaint.department_id.manager_id
                if former not in keep:
                    complaint.message_unsubscribe(partner_ids=former.partner_id.ids)
            if complaint.user_id:
                complaint.message_subscribe(partner_ids=complaint.user_id.partner_id.ids)

    # ------------------------------------------------------------------
    # The public complaint form
    # ------------------------------------------------------------------

    @api.model
    def _clean_public_values(self, post, fields_list):
        """What the visitor typed, as plain text: stripped, without control
        or direction-override characters (line breaks only in the
        description), cut to the field's length."""
        limits = {
            "contact_name": PUBLIC_NAME_MAX_LENGTH,
            "contact_phone": PUBLIC_PHONE_MAX_LENGTH,
            "contact_email": PUBLIC_EMAIL_MAX_LENGTH,
            "department_id": 12,
            "description": PUBLIC_DESCRIPTION_MAX_LENGTH + 1,  # one more: "too long" is an error, not a cut
        }
        values = {}
        for name in fields_list:
            raw = post.get(name)
            text = raw if isinstance(raw, str) else ""
            if name != "description":
                text = LINE_BREAKS.sub(" ", text)
            values[name] = CONTROL_CHARACTERS.sub("", text).strip()[: limits.get(name, 200)]
        return values

    @api.model
    def _check_public_values(self, company, values):
        """The error to show on the public form, or None. ``values`` are
        the cleaned strings the visitor typed (``_clean_public_values``)."""
        if not values.get("contact_name"):
            return self.env._("Please tell us your name.")
        if not values.get("description") or len(values["description"]) < 10:
            return self.env._("Please describe what happened (a few words at least).")
        if len(values["description"]) > PUBLIC_DESCRIPTION_MAX_LENGTH:
            return self.env._(
                "Please keep the description under %(count)s characters.", count=PUBLIC_DESCRIPTION_MAX_LENGTH
            )
        phone, email = values.get("contact_phone"), values.get("contact_email")
        if not phone and not email:
            return self.env._("Please give a phone number or an email address so that we can answer you.")
        Partner = self.env["res.partner"]
        if phone and not Partner._clinic_format_phone(phone, company.country_id):
            return Partner._clinic_invalid_phone_message(phone, company.country_id)
        if email and not email_normalize(email):
            return self.env._('The email address "%(email)s" is not valid.', email=email)
        department = values.get("department_id")
        if department and (
            not str(department).isdigit()
            or len(str(department)) > 9  # beyond any id (and PostgreSQL's integer)
            or not self.env["clinic.department"]
            .sudo()
            .search_count([("id", "=", int(department)), ("company_id", "=", company.id)])
        ):
            return self.env._("Please choose a department from the list.")
        if values.get("privacy_consent") != "1":
            return self.env._(
                "Please tick the box to agree to the processing of your personal data: "
                "we cannot register your complaint without it."
            )
        return None

    @api.model
    def _match_patient(self, company, phone=None, email=None):
        """The patient of ``company`` with this phone (compared in E.164) or
        this email (normalized); the most recently seen one if several."""
        e164 = phone and self.env["res.partner"]._clinic_format_phone(phone, company.country_id)
        normalized = email and email_normalize(email)
        domain = []
        if e164:
            domain = ["|", ("phone", "=", e164), ("mobile", "=", e164)]
        if normalized:
            domain = (
                ["|", *domain, ("email_normalized", "=", normalized)]
                if domain
                else [("email_normalized", "=", normalized)]
            )
        if not domain:
            return self.env["clinic.patient"]
        return (
            self.env["clinic.patient"]
            .sudo()
            .search([("company_id", "=", company.id), *domain], order="last_visit_date desc nulls last, id", limit=1)
        )

    @api.model
    def _create_from_public_form(self, company, values):
        """Register a complaint sent by an anonymous visitor. Anyone may type
        a patient's phone or e-mail: a matching patient is only proposed
        (``patient_match_id``) for staff to confirm, never linked. Past
        ``PUBLIC_NOTIFY_PER_HOUR`` web complaints in an hour, the responsible
        is no longer e-mailed for each one (a flood must not flood them)."""
        match = self._match_patient(company, values.get("contact_phone"), values.get("contact_email"))
        department_id = int(values["department_id"]) if values.get("department_id") else False
        e164 = self.env["res.partner"]._clinic_format_phone(values.get("contact_phone"), company.country_id)
        recent = self.sudo().search_count(
            [
                ("company_id", "=", company.id),
                ("channel", "=", "web_form"),
                ("create_date", ">=", fields.Datetime.now() - timedelta(hours=1)),
            ]
        )
        quiet = recent >= PUBLIC_NOTIFY_PER_HOUR
        complaint = (
            self.sudo()
            .with_context(mail_create_nosubscribe=True, mail_auto_subscribe_no_notify=quiet)
            .create(
                {
                    "name": self.env._("Web complaint from %(name)s", name=values["contact_name"])[:120],
                    "company_id": company.id,
                    "patient_match_id": match.id,
                    "contact_name": values["contact_name"][:PUBLIC_NAME_MAX_LENGTH],
                    "contact_phone": e164 or False,
                    "contact_email": email_normalize(values.get("contact_email") or "") or False,
                    "department_id": department_id,
                    "channel": "web_form",
                    "description": values["description"],
                    "privacy_consent_date": fields.Datetime.now(),
                    "privacy_notice": values.get("privacy_notice") or False,
                }
            )
        )
        if complaint.user_id and not quiet:
            complaint.message_notify(
                partner_ids=complaint.user_id.partner_id.ids,
                subject=self.env._("New complaint from the public form: %(ref)s", ref=complaint.reference),
                body=self.env._(
                    "A complaint was sent on the public form (%(ref)s). Check who sent it before linking it "
                    "to a patient.",
                    ref=complaint.reference,
                ),
                model_description=self.env._("Complaint"),
            )
        return complaint

    def action_confirm_patient_match(self):
        """Staff checked with the person: the complaint is the patient's."""
        for complaint in self.filtered("patient_match_id"):
            patient = complaint.patient_match_id
            complaint.write({"patient_id": patient.id})
            complaint.sudo().patient_match_id = False
            complaint.message_post(body=self.env._("Checked with the patient: the complaint is linked to them."))
        return True

    def action_reject_patient_match(self):
        """Not this patient: the complaint stays with its contact details."""
        for complaint in self.filtered("patient_match_id"):
            complaint.sudo().patient_match_id = False
            complaint.message_post(body=self.env._("Not the matching patient: the complaint stays unlinked."))
        return True

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_investigate(self):
        return self._move_to("investigating")

    def action_resolve(self):
        missing = self.filtered(lambda c: not c.resolution and not c.corrective_action)
        if missing:
            raise UserError(
                self.env._(
                    "Write the corrective action or the resolution of “%(complaint)s” before resolving it.",
                    complaint=missing[0].name,
                )
            )
        return self._move_to("resolved")

    def action_close(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Patient Care managers can close complaints."))
        missing = self.filtered(lambda c: not c.root_cause or not c.corrective_action)
        if missing:
            raise UserError(
                self.env._(
                    "Record the root cause and the corrective action of “%(complaint)s” before closing it.",
                    complaint=missing[0].name,
                )
            )
        return self._move_to("closed")

    def action_reopen(self):
        return self._move_to("investigating")

    # ------------------------------------------------------------------
    # Escalation
    # ------------------------------------------------------------------

    @api.model
    def _cron_escalate(self, batch_size=500):
        """Overdue complaints: first the department's manager and the
        complaints manager get an activity and the complaint is flagged;
        past the second deadline, the general manager. Each level once."""
        now = fields.Datetime.now()
        first = self.search(
            [("is_open", "=", True), ("escalation_level", "=", 0), ("deadline", "<", now)], limit=batch_size
        )
        second = self.search(
            [("is_open", "=", True), ("escalation_level", "=", 1), ("second_deadline", "<", now)],
            limit=max(batch_size - len(first), 0),
        )
        first._escalate(1)
        second._escalate(2)
        done = len(first) + len(second)
        more = done >= batch_size
        self.env["ir.cron"]._notify_progress(done=done, remaining=1 if more else 0)
        return first | second

    def _escalate(self, level):
        for complaint in self:
            company = complaint.company_id
            if level == 1:
                users = complaint.department_id.manager_id | company.clinic_complaints_manager_id
                summary = self.env._("Overdue complaint: past its deadline")
            else:
                users = company.clinic_general_manager_id
                summary = self.env._("Overdue complaint: second deadline passed")
            users = users.filtered("active") or complaint.user_id
            for user in users:
                complaint.activity_schedule(
                    act_type_xmlid="clinic_retention.mail_activity_type_complaint_escalation",
                    date_deadline=fields.Date.context_today(complaint),
                    summary=summary,
                    user_id=user.id,
                )
            complaint.write({"escalation_level": level, "escalated_date": fields.Datetime.now()})
            complaint.message_post(
                body=self.env._(
                    "Escalated (level %(level)s) to %(users)s.",
                    level=level,
                    users=", ".join(users.mapped("name")) or "-",
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True
