from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

GENDERS = [("female", "Female"), ("male", "Male"), ("other", "Other")]

CONSENT_SOURCES = [
    ("in_person", "In person"),
    ("paper_form", "Paper form"),
    ("phone", "Phone call"),
    ("email", "Email"),
    ("web", "Web form"),
    ("import", "Import"),
]

CHANNELS = [
    ("phone", "Phone call"),
    ("sms", "SMS"),
    ("email", "Email"),
    ("messaging", "Messaging app"),
    ("none", "Do not contact"),
]

LIFECYCLE_STATES = [
    ("new", "New"),
    ("active", "Active"),
    ("lapsed", "Lapsed"),
    ("lost", "Lost"),
]

REFERRAL_SOURCES = [
    ("patient", "Another patient"),
    ("doctor", "A doctor"),
    ("insurer", "Insurance company"),
    ("web", "Website / search"),
    ("social", "Social media"),
    ("walk_in", "Walk-in"),
    ("campaign", "Campaign"),
    ("other", "Other"),
]


class ClinicPatient(models.Model):
    """A patient is a contact (``res.partner``, by delegation) with the
    clinical and relationship data a clinic needs to keep them coming back.

    Email, SMS, CRM and the Contacts app work on the patient's contact;
    phone numbers are stored in E.164 (see ``res_partner.py``).
    """

    _name = "clinic.patient"
    _description = "Patient"
    _inherits = {"res.partner": "partner_id"}
    _inherit = ["mail.thread.phone", "mail.activity.mixin"]
    _order = "name, id"
    _check_company_auto = True
    _mail_post_access = "read"
    # campaigns (Email / SMS Marketing) may target patients, with their marketing consent
    _mailing_enabled = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Contact record",
        required=True,
        ondelete="restrict",
        auto_join=True,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        tracking=True,
    )

    # Identity
    birthdate = fields.Date(string="Birth date", tracking=True)
    age = fields.Integer(compute="_compute_age", search="_search_age")
    gender = fields.Selection(GENDERS, tracking=True)
    occupation = fields.Char()
    insurance_provider = fields.Char()
    insurance_number = fields.Char(tracking=True, index="btree_not_null")

    # Clinical data (allergies, conditions): see clinic_patient_clinical.py
    doctor_id = fields.Many2one(
        "res.users",
        string="Responsible doctor",
        tracking=True,
        domain="[('share', '=', False)]",
    )

    # Relationships
    family_member_ids = fields.Many2many(
        "clinic.patient",
        "clinic_patient_family_rel",
        "patient_id",
        "member_id",
        string="Family members",
        check_company=True,
        help="Relatives who are also patients. The link is kept on both sides.",
    )
    referred_by_id = fields.Many2one(
        "res.partner",
        string="Referred by",
        index="btree_not_null",
        tracking=True,
        help="The patient, doctor or organisation who brought this patient.",
    )
    referral_source = fields.Selection(REFERRAL_SOURCES, tracking=True)
    referral_count = fields.Integer(compute="_compute_referral_count", string="Patients referred")

    # Communication and consent (GDPR, 152-FZ, PIPL: explicit, dated, sourced)
    preferred_channel = fields.Selection(CHANNELS, default="phone", tracking=True)
    care_consent = fields.Boolean(
        string="Consents to care messages",
        tracking=True,
        help="Appointment reminders, recalls and follow-ups.",
    )
    care_consent_date = fields.Datetime(string="Care consent recorded on", readonly=True, copy=False)
    care_consent_source = fields.Selection(
        CONSENT_SOURCES,
        string="Care consent source",
        tracking=True,
        help="How the patient gave (or withdrew) this consent: asked again at every change.",
    )
    marketing_consent = fields.Boolean(
        string="Consents to marketing",
        tracking=True,
        help="Greetings, campaigns and news. Separate from care messages.",
    )
    marketing_consent_date = fields.Datetime(string="Marketing consent recorded on", readonly=True, copy=False)
    marketing_consent_source = fields.Selection(
        CONSENT_SOURCES,
        string="Marketing consent source",
        tracking=True,
        help="How the patient gave (or withdrew) this consent: asked again at every change.",
    )
    consent_ids = fields.One2many("clinic.patient.consent", "patient_id", string="Consent history")

    # The patient's internal notes live on the patient, not on the shared
    # contact (res.partner.comment), which every employee can read.
    notes = fields.Html(string="Internal notes")

    # Visits
    visit_ids = fields.One2many("clinic.visit", "patient_id", string="Visits")
    visit_count = fields.Integer(
        compute="_compute_visit_stats",
        store=True,
        string="Completed visits",
    )
    first_visit_date = fields.Datetime(compute="_compute_visit_stats", store=True)
    last_visit_date = fields.Datetime(compute="_compute_visit_stats", store=True, index=True)
    department_ids = fields.Many2many(
        "clinic.department",
        "clinic_patient_department_rel",
        "patient_id",
        "department_id",
        string="Departments visited",
        compute="_compute_visit_stats",
        store=True,
    )
    next_visit_date = fields.Datetime(compute="_compute_next_visit_date")
    lifecycle_state = fields.Selection(
        LIFECYCLE_STATES,
        string="Status",
        compute="_compute_lifecycle_state",
        store=True,
        index=True,
        help="New: no completed visit yet, or a first one recently. Active: a "
        "recent completed visit. Lapsed: none for the lapse delay (6 months by "
        "default). Lost: none in the active window (12 months by default). "
        "The delays are set in Settings and refreshed every night.",
    )

    # Follow-ups and recalls
    followup_task_ids = fields.One2many("clinic.followup.task", "patient_id", string="Follow-ups")
    followup_task_count = fields.Integer(compute="_compute_followup_task_count", string="Open follow-ups")
    recall_override_ids = fields.One2many("clinic.recall.override", "patient_id", string="Recall overrides")
    complaint_count = fields.Integer(compute="_compute_complaint_count")

    # Duplicates: see clinic_patient_duplicate.py

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("birthdate")
    def _compute_age(self):
        today = fields.Date.context_today(self)
        for patient in self:
            patient.age = relativedelta(today, patient.birthdate).years if patient.birthdate else 0

    def _search_age(self, operator, value):
        """Age in whole years, as of today: ``age >= 65`` is ``birthdate <= today - 65y``."""
        if operator not in ("=", "!=", "<", "<=", ">", ">=") or not isinstance(value, int):
            raise NotImplementedError(self.env._("Unsupported search on age: %s", operator))
        today = fields.Date.context_today(self)
        # born on or before `latest` means age >= value; after `earliest` means age <= value
        latest = today - relativedelta(years=value)
        earliest = today - relativedelta(years=value + 1) + timedelta(days=1)
        domains = {
            ">=": [("birthdate", "<=", latest)],
            ">": [("birthdate", "<", earliest)],
            "<=": [("birthdate", ">=", earliest)],
            "<": [("birthdate", ">", latest)],
            "=": [("birthdate", ">=", earliest), ("birthdate", "<=", latest)],
            "!=": ["|", ("birthdate", "<", earliest), ("birthdate", ">", latest)],
        }
        return domains[operator]

    def _compute_followup_task_count(self):
        counts = dict(
            self.env["clinic.followup.task"]._read_group(
                [("patient_id", "in", self.ids), ("is_closed", "=", False)], ["patient_id"], ["__count"]
            )
        )
        for patient in self:
            patient.followup_task_count = counts.get(patient._origin, 0)

    def _compute_complaint_count(self):
        counts = dict(
            self.env["clinic.complaint"]._read_group([("patient_id", "in", self.ids)], ["patient_id"], ["__count"])
        )
        for patient in self:
            patient.complaint_count = counts.get(patient._origin, 0)

    def _compute_referral_count(self):
        counts = dict(
            self.sudo()._read_group(
                [("referred_by_id", "in", self.partner_id.ids)],
                ["referred_by_id"],
                ["__count"],
            )
        )
        for patient in self:
            patient.referral_count = counts.get(patient.partner_id, 0)

    @api.depends("visit_ids.state", "visit_ids.start", "visit_ids.department_id")
    def _compute_visit_stats(self):
        done_stats = {}
        departments = {}
        if self.ids:
            visits = self.env["clinic.visit"].sudo()
            for patient, count, first, last in visits._read_group(
                [("patient_id", "in", self.ids), ("state", "=", "done")],
                ["patient_id"],
                ["__count", "start:min", "start:max"],
            ):
                done_stats[patient.id] = (count, first, last)
            for patient, department_ids in visits._read_group(
                [("patient_id", "in", self.ids), ("state", "=", "done")],
                ["patient_id"],
                ["department_id:array_agg"],
            ):
                departments[patient.id] = [d for d in department_ids if d]
        for patient in self:
            count, first, last = done_stats.get(patient._origin.id, (0, False, False))
            patient.visit_count = count
            patient.first_visit_date = first
            patient.last_visit_date = last
            patient.department_ids = [fields.Command.set(departments.get(patient._origin.id, []))]

    @api.depends("visit_ids.start", "visit_ids.state")
    def _compute_next_visit_date(self):
        now = fields.Datetime.now()
        next_dates = dict(
            self.env["clinic.visit"]._read_group(
                [("patient_id", "in", self.ids), ("state", "=", "scheduled"), ("start", ">=", now)],
                ["patient_id"],
                ["start:min"],
            )
        )
        for patient in self:
            patient.next_visit_date = next_dates.get(patient._origin, False)

    @api.depends("first_visit_date", "last_visit_date", "company_id")
    def _compute_lifecycle_state(self):
        now = fields.Datetime.now()
        for patient in self:
            patient.lifecycle_state = patient._lifecycle_state_at(now)

    def _lifecycle_state_at(self, when):
        """The lifecycle state this patient has at datetime ``when``."""
        self.ensure_one()
        company = self.company_id or self.env.company
        if not self.last_visit_date:
            return "new"
        if self.first_visit_date > when - timedelta(days=company.clinic_new_days):
            return "new"
        if self.last_visit_date > when - timedelta(days=company.clinic_lapse_days):
            return "active"
        if self.last_visit_date > when - timedelta(days=company.clinic_active_days):
            return "lapsed"
        return "lost"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        """The patient's contact is created (or completed) through the
        patient: Patient Care users need no right on the company's other
        contacts (Contact Creation), and an existing contact shared between
        companies stays shared."""
        self.browse().check_access("create")
        Partner = self.env["res.partner"]
        for vals in vals_list:
            self._check_medical_write(vals)
            self.env["clinic.patient.consent"]._check_patient_vals(self, vals)
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            partner_vals = self._pop_partner_vals(vals)
            if not vals.get("partner_id"):
                country = self.env["res.country"].browse(partner_vals.get("country_id"))
                Partner._clinic_normalize_phone_vals(partner_vals, country or company.country_id)
                partner_vals.setdefault("is_company", False)
                partner_vals.setdefault("name", vals.get("name"))
                # The patient's contact belongs to the patient's company.
                partner_vals["company_id"] = company.id
                vals["partner_id"] = self._partner_env().create(partner_vals).id
                continue
            partner = Partner.browse(vals["partner_id"])
            partner.check_access("read")
            if partner.company_id and partner.company_id != company:
                raise ValidationError(
                    self.env._(
                        "The contact %(contact)s belongs to %(company)s: it cannot become a patient of %(clinic)s.",
                        contact=partner.display_name,
                        company=partner.company_id.name,
                        clinic=company.name,
                    )
                )
            phones = {f: partner_vals.get(f, partner[f]) for f in ("phone", "mobile")}
            Partner._clinic_normalize_phone_vals(phones, partner.country_id or company.country_id)
            partner_vals.update({f: n for f, n in phones.items() if n != partner[f]})
            if partner_vals:
                self._partner_env(partner).write(partner_vals)
        patients = super().create(vals_list)
        patients._sync_family_links({})
        self.env["clinic.patient.consent"]._record_changes(patients, vals_list)
        return patients

    def write(self, vals):
        if not self.env.su and any(self.mapped("is_anonymised")):
            raise UserError(self.env._("An anonymised patient cannot be changed."))
        self._check_medical_write(vals)
        self.env["clinic.patient.consent"]._check_patient_vals(self, vals)
        archiving = "active" in vals and not vals["active"]  # written on the contact (popped below)
        vals = dict(vals)
        partner_vals = self._pop_partner_vals(vals)
        old_family = {}
        if "family_member_ids" in vals:
            old_family = {patient: patient.family_member_ids for patient in self}
        old_companies = {patient: patient.company_id for patient in self} if "company_id" in vals else {}
        if partner_vals:
            self.check_access("write")
        result = super().write(vals)
        if partner_vals:
            for patient in self:
                self._partner_env(patient.partner_id).write(partner_vals)
        if "company_id" in vals:
            for patient in self:
                # a contact shared between companies stays shared
                if patient.partner_id.company_id == old_companies[patient]:
                    self._partner_env(patient.partner_id).write({"company_id": vals["company_id"]})
        if "family_member_ids" in vals:
            self._sync_family_links(old_family)
        self.env["clinic.patient.consent"]._record_changes(self, [vals] * len(self))
        if archiving:
            self.env["clinic.visit"]._cancel_for_inactive_patients(self)
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_has_visits(self):
        if self.sudo().visit_ids:
            raise AccessError(self.env._("A patient with visits cannot be deleted: archive the patient instead."))

    def _pop_partner_vals(self, vals):
        """Take the contact's own fields (name, phones, address...) out of
        ``vals``: they are written on the contact by ``_partner_env``."""
        partner_fields = [
            fname for fname in vals if fname != "partner_id" and getattr(self._fields.get(fname), "inherited", False)
        ]
        if partner_fields:
            self.check_field_access_rights("write", partner_fields)
        return {fname: vals.pop(fname) for fname in partner_fields}

    def _partner_env(self, partner=None):
        """``res.partner`` (or ``partner``) to write a patient's contact
        with: as the superuser once the user's right on the patient is
        checked, unless the contact is also a user's (an employee's) contact,
        which only contact managers change."""
        partner = partner if partner is not None else self.env["res.partner"]
        if self.env.su or partner.sudo().user_ids:
            return partner
        return partner.sudo()

    def _sync_family_links(self, old_family):
        """Keep family links symmetric: if A lists B, B lists A."""
        for patient in self:
            before = old_family.get(patient, self.browse())
            added = patient.family_member_ids - before
            removed = before - patient.family_member_ids
            for member in added.filtered(lambda m, p=patient: p not in m.family_member_ids):
                super(ClinicPatient, member).write(  # pylint: disable=super-method-mismatch  # skip our write: no loop
                    {"family_member_ids": [fields.Command.link(patient.id)]}
                )
            for member in removed.filtered(lambda m, p=patient: p in m.family_member_ids):
                super(ClinicPatient, member).write(  # pylint: disable=super-method-mismatch  # skip our write: no loop
                    {"family_member_ids": [fields.Command.unlink(patient.id)]}
                )
        return True

    # ------------------------------------------------------------------
    # Onchange: show the stored form of a number as soon as it is typed
    # ------------------------------------------------------------------

    @api.onchange("care_consent")
    def _onchange_care_consent(self):
        # a change of consent comes with how the patient said it (see clinic.patient.consent)
        self.care_consent_source = False

    @api.onchange("marketing_consent")
    def _onchange_marketing_consent(self):
        self.marketing_consent_source = False

    @api.onchange("phone", "mobile", "country_id")
    def _onchange_phone_e164(self):
        country = self.country_id or self.company_id.country_id or self.env.company.country_id
        for fname in ("phone", "mobile"):
            number = self[fname]
            if not number:
                continue
            e164 = self.env["res.partner"]._clinic_format_phone(number, country)
            if e164:
                if e164 != number:
                    self[fname] = e164
            else:
                return {
                    "warning": {
                        "title": self.env._("Invalid phone number"),
                        "message": self.env["res.partner"]._clinic_invalid_phone_message(number, country),
                    }
                }
        return None

    # ------------------------------------------------------------------
    # Mail / SMS
    # ------------------------------------------------------------------

    def _mail_get_partner_fields(self, introspect_fields=False):
        return ["partner_id"]

    def _phone_get_number_fields(self):
        return ["mobile", "phone"]

    # ------------------------------------------------------------------
    # Actions and crons
    # ------------------------------------------------------------------

    def action_open_visits(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_visit_action")
        action["domain"] = [("patient_id", "=", self.id)]
        action["context"] = {
            "default_patient_id": self.id,
            "search_default_filter_not_cancelled": 0,
        }
        return action

    def action_open_followups(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_followup_task_action")
        action["domain"] = [("patient_id", "=", self.id)]
        action["context"] = {"default_patient_id": self.id, "search_default_filter_open": 1}
        action["view_mode"] = "list,kanban,form"
        action["views"] = [(False, "list"), (False, "kanban"), (False, "form")]
        return action

    def action_open_complaints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_complaint_action")
        action["domain"] = [("patient_id", "=", self.id)]
        action["context"] = {"default_patient_id": self.id}
        return action

    def action_open_duplicates(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Possible duplicates of %s", self.name),
            "res_model": "clinic.patient",
            "view_mode": "list,form",
            "domain": [("id", "in", (self | self.duplicate_patient_ids).ids)],
        }

    def action_open_referrals(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Referred by %s", self.name),
            "res_model": "clinic.patient",
            "view_mode": "list,form",
            "domain": [("referred_by_id", "=", self.partner_id.id)],
            "context": {"default_referred_by_id": self.partner_id.id, "default_referral_source": "patient"},
        }

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }

    @api.model
    def _cron_refresh_lifecycle_state(self, batch_size=2000):
        """Time moves patients from new to active and from active to lapsed
        and lost without any write: recompute the states that have gone stale.
        Batched, committed per batch, resumable."""
        now = fields.Datetime.now()
        stale = self.browse()
        for company in self.env["res.company"].search([]):  # pylint: disable=no-search-all  # a few companies
            new_limit = now - timedelta(days=company.clinic_new_days)
            lapse_limit = now - timedelta(days=company.clinic_lapse_days)
            lost_limit = now - timedelta(days=company.clinic_active_days)
            stale |= self.with_context(active_test=False).search(
                [
                    ("company_id", "=", company.id),
                    "|",
                    "|",
                    "&",
                    ("lifecycle_state", "=", "new"),
                    ("first_visit_date", "<=", new_limit),
                    "&",
                    ("lifecycle_state", "=", "active"),
                    ("last_visit_date", "<=", lapse_limit),
                    "&",
                    ("lifecycle_state", "=", "lapsed"),
                    ("last_visit_date", "<=", lost_limit),
                ],
                limit=batch_size - len(stale) if batch_size > len(stale) else 1,
            )
            if len(stale) >= batch_size:
                break
        if not stale:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return 0
        self.env.add_to_compute(self._fields["lifecycle_state"], stale)
        stale.flush_recordset(["lifecycle_state"])
        remaining = len(stale) >= batch_size
        self.env["ir.cron"]._notify_progress(done=len(stale), remaining=1 if remaining else 0)
        return len(stale)

    @api.model
    def _demo_generate(self):
        """Demo data (see ``demo/demo_generator.py``); creates nothing twice."""
        from ..demo.demo_generator import generate

        generate(self.env)
