from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

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

# Clinical facts: every Patient Care user reads them, only managers change them.
MEDICAL_FIELDS = {"allergies", "chronic_condition_ids", "hereditary_conditions"}


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

    # Clinical
    allergies = fields.Text(tracking=True)
    chronic_condition_ids = fields.Many2many(
        "clinic.service",
        "clinic_patient_chronic_condition_rel",
        "patient_id",
        "service_id",
        string="Chronic conditions",
        domain="[('kind', '=', 'condition')]",
    )
    hereditary_conditions = fields.Text(string="Hereditary conditions", tracking=True)
    can_edit_medical = fields.Boolean(compute="_compute_can_edit_medical")
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
    care_consent_source = fields.Selection(CONSENT_SOURCES, string="Care consent source")
    marketing_consent = fields.Boolean(
        string="Consents to marketing",
        tracking=True,
        help="Greetings, campaigns and news. Separate from care messages.",
    )
    marketing_consent_date = fields.Datetime(string="Marketing consent recorded on", readonly=True, copy=False)
    marketing_consent_source = fields.Selection(CONSENT_SOURCES, string="Marketing consent source")

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

    # Duplicates
    duplicate_patient_ids = fields.Many2many(
        "clinic.patient",
        compute="_compute_duplicate_patient_ids",
        string="Possible duplicates",
    )
    is_possible_duplicate = fields.Boolean(
        compute="_compute_duplicate_patient_ids",
        search="_search_is_possible_duplicate",
        string="Possible duplicate",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends_context("uid")
    def _compute_can_edit_medical(self):
        allowed = self.env.su or self.env.user.has_group("clinic_retention.group_clinic_retention_manager")
        self.can_edit_medical = allowed

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

    @api.depends("phone", "mobile", "email_normalized", "company_id")
    def _compute_duplicate_patient_ids(self):
        by_key = {}
        keys_of = {}
        for patient in self:
            keys = {n for n in (patient.phone, patient.mobile) if n}
            if patient.email_normalized:
                keys.add("mailto:" + patient.email_normalized)
            keys_of[patient] = keys
        all_keys = set().union(*keys_of.values()) if keys_of else set()
        if all_keys:
            phones = [k for k in all_keys if not k.startswith("mailto:")]
            emails = [k[7:] for k in all_keys if k.startswith("mailto:")]
            candidates = self.search(
                [
                    ("company_id", "in", self.company_id.ids),
                    "|",
                    "|",
                    ("phone", "in", phones),
                    ("mobile", "in", phones),
                    ("email_normalized", "in", emails),
                ]
            )
            for candidate in candidates:
                candidate_keys = {n for n in (candidate.phone, candidate.mobile) if n}
                if candidate.email_normalized:
                    candidate_keys.add("mailto:" + candidate.email_normalized)
                for key in candidate_keys:
                    by_key[key] = by_key.get(key, self.browse()) | candidate
        for patient in self:
            duplicates = self.browse()
            for key in keys_of[patient]:
                duplicates |= by_key.get(key, self.browse())
            duplicates = duplicates.filtered(
                lambda p, me=patient: p.id != me._origin.id and p.company_id == me.company_id
            )
            patient.duplicate_patient_ids = duplicates
            patient.is_possible_duplicate = bool(duplicates)

    def _search_is_possible_duplicate(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(self.env._("Unsupported search on possible duplicates."))
        self.env["clinic.patient"].flush_model(["company_id", "partner_id"])
        self.env["res.partner"].flush_model(["phone", "mobile", "email_normalized", "active"])
        # One pass: every (company, phone-or-email) key shared by two patients.
        self.env.cr.execute(
            SQL(
                """
                WITH keys AS (
                    SELECT patient.id, patient.company_id, key.value
                      FROM clinic_patient patient
                      JOIN res_partner partner ON partner.id = patient.partner_id
                     CROSS JOIN LATERAL (VALUES (partner.phone), (partner.mobile),
                                                ('mailto:' || partner.email_normalized))
                           AS key(value)
                     WHERE partner.active AND key.value IS NOT NULL AND key.value != ''
                ), shared AS (
                    SELECT company_id, value
                      FROM keys
                  GROUP BY company_id, value
                    HAVING COUNT(DISTINCT id) > 1
                )
                SELECT DISTINCT keys.id FROM keys JOIN shared USING (company_id, value)
                """
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", ids)]

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        Partner = self.env["res.partner"]
        for vals in vals_list:
            self._check_medical_write(vals)
            self._stamp_consents(vals)
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            if not vals.get("partner_id"):
                country = self.env["res.country"].browse(vals.get("country_id"))
                Partner._clinic_normalize_phone_vals(vals, country or company.country_id)
                # The patient's contact belongs to the patient's company.
                vals.setdefault("is_company", False)
            else:
                partner = Partner.browse(vals["partner_id"])
                phones = {f: vals.get(f, partner[f]) for f in ("phone", "mobile")}
                Partner._clinic_normalize_phone_vals(phones, partner.country_id or company.country_id)
                vals.update({f: n for f, n in phones.items() if n != partner[f]})
        patients = super().create(vals_list)
        for patient in patients:
            if patient.partner_id.company_id != patient.company_id:
                patient.partner_id.company_id = patient.company_id
        patients._sync_family_links({})
        return patients

    def write(self, vals):
        self._check_medical_write(vals)
        self._stamp_consents(vals)
        old_family = {}
        if "family_member_ids" in vals:
            old_family = {patient: patient.family_member_ids for patient in self}
        result = super().write(vals)
        if "company_id" in vals:
            self.partner_id.write({"company_id": vals["company_id"]})
        if "family_member_ids" in vals:
            self._sync_family_links(old_family)
        if "active" in vals and not vals["active"]:
            self.env["clinic.visit"]._cancel_for_inactive_patients(self)
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_has_visits(self):
        if self.sudo().visit_ids:
            raise AccessError(self.env._("A patient with visits cannot be deleted: archive the patient instead."))

    def _check_medical_write(self, vals):
        if (
            MEDICAL_FIELDS & vals.keys()
            and not self.env.su
            and not self.env.user.has_group("clinic_retention.group_clinic_retention_manager")
        ):
            raise AccessError(
                self.env._("Only Patient Care managers can record or change a patient's allergies and conditions.")
            )

    def _stamp_consents(self, vals):
        """Every change of a consent records when it was given or withdrawn."""
        now = fields.Datetime.now()
        for kind in ("care", "marketing"):
            if f"{kind}_consent" in vals and f"{kind}_consent_date" not in vals:
                vals[f"{kind}_consent_date"] = now

    def _sync_family_links(self, old_family):
        """Keep family links symmetric: if A lists B, B lists A."""
        for patient in self:
            before = old_family.get(patient, self.browse())
            added = patient.family_member_ids - before
            removed = before - patient.family_member_ids
            for member in added.filtered(lambda m, p=patient: p not in m.family_member_ids):
                super(ClinicPatient, member).write({"family_member_ids": [fields.Command.link(patient.id)]})
            for member in removed.filtered(lambda m, p=patient: p in m.family_member_ids):
                super(ClinicPatient, member).write({"family_member_ids": [fields.Command.unlink(patient.id)]})
        return True

    # ------------------------------------------------------------------
    # Onchange: show the stored form of a number as soon as it is typed
    # ------------------------------------------------------------------

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
        for company in self.env["res.company"].search([]):
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
