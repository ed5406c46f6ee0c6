from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"
CLINICAL_GROUP = "clinic_retention.group_clinic_retention_clinical"
DOCTOR_GROUP = "clinic_retention.group_clinic_retention_doctor"

# The patient's clinical facts (what the form shows) and where each is
# stored. The stored fields are never read by users directly (groups="."):
# the fields shown are computed per patient, so that a user sees the
# clinical data of the patients they may see it for, and nothing else.
MEDICAL_FIELDS = {
    "allergies": "medical_allergies",
    "chronic_condition_ids": "medical_condition_ids",
    "hereditary_conditions": "medical_hereditary_conditions",
}


class ClinicPatient(models.Model):
    """Who sees a patient's clinical data (allergies, chronic and hereditary
    conditions):

    * managers: every patient of their companies;
    * users with *Clinical data* (doctors, nurses; every agent when the
      setting "Agents see clinical fields" is on): the patients they treat
      (responsible doctor, or doctor of one of their visits) and the
      patients of their departments (a visit or an open follow-up there);
    * doctors (*Doctor*) also change the clinical data of the patients they
      treat; other users change none.

    Everyone else reads empty fields (and no tracking values of them in the
    chatter). Each time clinical data is shown to a user, the read is logged
    once a day per user and patient (``clinic.audit.log``).
    """

    # one concern per file: clinic_patient.py would pass the 600-line limit
    _inherit = "clinic.patient"  # pylint: disable=consider-merging-classes-inherited

    medical_allergies = fields.Text(groups=".")
    medical_hereditary_conditions = fields.Text(groups=".")
    medical_condition_ids = fields.Many2many(
        "clinic.service",
        "clinic_patient_chronic_condition_rel",
        "patient_id",
        "service_id",
        groups=".",
    )

    allergies = fields.Text(
        compute="_compute_medical_fields",
        inverse="_inverse_allergies",
        search="_search_allergies",
        groups=CLINICAL_GROUP,
        tracking=True,
    )
    chronic_condition_ids = fields.Many2many(
        "clinic.service",
        string="Chronic conditions",
        compute="_compute_medical_fields",
        inverse="_inverse_chronic_condition_ids",
        search="_search_chronic_condition_ids",
        domain="[('kind', '=', 'condition')]",
        groups=CLINICAL_GROUP,
        tracking=True,
    )
    hereditary_conditions = fields.Text(
        string="Hereditary conditions",
        compute="_compute_medical_fields",
        inverse="_inverse_hereditary_conditions",
        search="_search_hereditary_conditions",
        groups=CLINICAL_GROUP,
        tracking=True,
    )
    has_clinical_access = fields.Boolean(
        compute="_compute_clinical_access",
        help="You may see this patient's clinical data.",
    )
    can_edit_medical = fields.Boolean(compute="_compute_clinical_access")

    # ------------------------------------------------------------------
    # Who may see and change it
    # ------------------------------------------------------------------

    def _clinical_access_ids(self, mode="read"):
        """The ids of the patients in ``self`` whose clinical data the
        current user may read (``mode="read"``) or change (``"write"``)."""
        patients = self._origin
        user = self.env.user
        if self.env.su or user.has_group(MANAGER_GROUP):
            return set(patients.ids)
        if not user.has_group(CLINICAL_GROUP) or (mode == "write" and not user.has_group(DOCTOR_GROUP)):
            return set()
        if not patients.ids:
            return set()
        self.env["clinic.patient"].flush_model(["doctor_id"])
        self.env["clinic.visit"].flush_model(["patient_id", "doctor_id", "department_id", "state"])
        self.env["clinic.followup.task"].flush_model(["patient_id", "department_id", "is_closed"])
        self.env["clinic.department"].flush_model(["team_id", "manager_id"])
        self.env["crm.team.member"].flush_model(["crm_team_id", "user_id", "active"])
        treats = SQL(
            """p.doctor_id = %(uid)s
               OR EXISTS (SELECT 1 FROM clinic_visit v WHERE v.patient_id = p.id AND v.doctor_id = %(uid)s)""",
            uid=user.id,
        )
        # the departments the user manages or works for (its CRM team's members)
        departments = (
            self.env["clinic.department"]
            .sudo()
            .with_context(active_test=False)
            ._search(["|", ("manager_id", "=", user.id), ("member_ids", "in", [user.id])])
            .subselect()
        )
        condition = (
            treats
            if mode == "write"
            else SQL(
                """%(treats)s
                   OR EXISTS (SELECT 1 FROM clinic_visit v
                               WHERE v.patient_id = p.id AND v.state != 'cancelled'
                                 AND v.department_id IN %(departments)s)
                   OR EXISTS (SELECT 1 FROM clinic_followup_task t
                               WHERE t.patient_id = p.id AND NOT t.is_closed AND t.active
                                 AND t.department_id IN %(departments)s)""",
                treats=treats,
                departments=departments,
            )
        )
        self.env.cr.execute(
            SQL("SELECT p.id FROM clinic_patient p WHERE p.id = ANY(%s) AND (%s)", patients.ids, condition)
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.depends_context("uid")
    def _compute_clinical_access(self):
        readable = self._clinical_access_ids("read")
        writable = self._clinical_access_ids("write")
        new_ok_read = self.env.su or self.env.user.has_group(CLINICAL_GROUP)
        new_ok_write = self.env.su or self.env.user.has_group(MANAGER_GROUP) or self.env.user.has_group(DOCTOR_GROUP)
        for patient in self:
            if patient._origin.id:
                patient.has_clinical_access = patient._origin.id in readable
                patient.can_edit_medical = patient._origin.id in writable
            else:  # a patient being registered: their clinical data is typed by its author
                patient.has_clinical_access = new_ok_read
                patient.can_edit_medical = new_ok_write

    @api.depends("medical_allergies", "medical_hereditary_conditions", "medical_condition_ids")
    @api.depends_context("uid")
    def _compute_medical_fields(self):
        readable = self._clinical_access_ids("read")
        for patient in self:
            stored = patient.sudo()
            if patient._origin.id and patient._origin.id not in readable:
                patient.allergies = False
                patient.hereditary_conditions = False
                patient.chronic_condition_ids = False
                continue
            patient.allergies = stored.medical_allergies
            patient.hereditary_conditions = stored.medical_hereditary_conditions
            patient.chronic_condition_ids = stored.medical_condition_ids.with_env(self.env)

    def _inverse_allergies(self):
        for patient in self:
            patient.sudo().medical_allergies = patient.allergies

    def _inverse_hereditary_conditions(self):
        for patient in self:
            patient.sudo().medical_hereditary_conditions = patient.hereditary_conditions

    def _inverse_chronic_condition_ids(self):
        for patient in self:
            patient.sudo().medical_condition_ids = patient.chronic_condition_ids.sudo()

    def _search_medical(self, stored, operator, value):
        """Patients matching on ``stored``, among those whose clinical data the
        user may read (a search must not tell what the form would hide)."""
        matching = self.sudo().with_context(active_test=False).search([(stored, operator, value)])
        return [("id", "in", list(matching.with_env(self.env)._clinical_access_ids("read")))]

    def _search_allergies(self, operator, value):
        return self._search_medical("medical_allergies", operator, value)

    def _search_hereditary_conditions(self, operator, value):
        return self._search_medical("medical_hereditary_conditions", operator, value)

    def _search_chronic_condition_ids(self, operator, value):
        return self._search_medical("medical_condition_ids", operator, value)

    def write(self, vals):
        result = super().write(vals)
        if MEDICAL_FIELDS.keys() & vals.keys():
            # values cached for another user (or as superuser, as the chatter's
            # tracking reads them) were computed before the change
            self.invalidate_recordset(list(MEDICAL_FIELDS))
        return result

    def _check_medical_write(self, vals):
        if self.env.su or not (MEDICAL_FIELDS.keys() & vals.keys()):
            return
        user = self.env.user
        allowed = user.has_group(MANAGER_GROUP) or (
            user.has_group(DOCTOR_GROUP) and (not self or set(self._origin.ids) <= self._clinical_access_ids("write"))
        )
        if not allowed:
            raise AccessError(
                self.env._(
                    "Only Patient Care managers and the patient's doctors can record or change "
                    "a patient's allergies and conditions."
                )
            )

    # ------------------------------------------------------------------
    # The chatter and the audit of reads
    # ------------------------------------------------------------------

    def _track_filter_for_display(self, tracking_values):
        """Changes of clinical fields show in the chatter only to users who
        may see this patient's clinical data."""
        tracking_values = super()._track_filter_for_display(tracking_values)
        hidden = self.filtered(lambda p: p._origin.id not in self._clinical_access_ids("read"))
        if not hidden:
            return tracking_values
        return tracking_values.filtered(lambda t: t.sudo().field_id.name not in MEDICAL_FIELDS)

    def _read_format(self, fnames, load="_classic_read"):
        result = super()._read_format(fnames, load=load)
        if not self.env.su and MEDICAL_FIELDS.keys() & set(fnames):
            shown = self.browse([vals["id"] for vals in result])._clinical_access_ids("read")
            if shown:
                self.env["clinic.audit.log"]._log_clinical_read(self._name, sorted(shown), patient_ids=sorted(shown))
        return result

    def web_read(self, specification):
        return super().web_read(specification)

    # Opening a patient logs who saw its clinical data: not a read-only transaction.
    web_read._readonly = False
