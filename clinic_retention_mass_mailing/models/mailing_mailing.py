import random

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

PATIENT_MODEL = "clinic.patient"
MANAGER_GROUP = "clinic_retention.group_clinic_retention_manager"


class MailingMailing(models.Model):
    """Campaigns to patients: only Patient Care managers prepare and send
    them; the patients without marketing consent or a usable channel are
    left out and counted; a share of the patients may be held out as a
    control group."""

    _inherit = "mailing.mailing"

    clinic_is_patient_mailing = fields.Boolean(compute="_compute_clinic_is_patient_mailing")
    clinic_control_percent = fields.Integer(
        string="Keep as control (%)",
        default=0,
        help="This share of the patients the mailing would reach, picked at random, do not get it. "
        "Their visits are measured the same way: the difference is what the campaign brought.",
    )
    clinic_control_ids = fields.One2many("clinic.mailing.control", "mailing_id", string="Control group")
    clinic_control_count = fields.Integer(compute="_compute_clinic_statistics", string="Control group size")
    clinic_excluded_no_consent_count = fields.Integer(
        compute="_compute_clinic_statistics", string="Excluded: no consent"
    )
    clinic_excluded_no_number_count = fields.Integer(
        compute="_compute_clinic_statistics", string="Excluded: no mobile number"
    )

    _sql_constraints = [
        (
            "clinic_control_percent_range",
            "CHECK(clinic_control_percent >= 0 AND clinic_control_percent < 100)",
            "The control group is a share of the recipients, from 0 to 99%.",
        ),
    ]

    @api.depends("mailing_model_real")
    def _compute_clinic_is_patient_mailing(self):
        for mailing in self:
            mailing.clinic_is_patient_mailing = mailing.mailing_model_real == PATIENT_MODEL

    def _compute_clinic_statistics(self):
        Trace = self.env["mailing.trace"].sudo()
        exclusions = {
            (mailing.id, reason): count
            for mailing, reason, count in Trace._read_group(
                [("mass_mailing_id", "in", self.ids), ("clinic_exclusion", "!=", False)],
                ["mass_mailing_id", "clinic_exclusion"],
                ["__count"],
            )
        }
        controls = dict(
            self.env["clinic.mailing.control"]
            .sudo()
            ._read_group([("mailing_id", "in", self.ids)], ["mailing_id"], ["__count"])
        )
        for mailing in self:
            mailing.clinic_excluded_no_consent_count = exclusions.get((mailing.id, "no_consent"), 0)
            mailing.clinic_excluded_no_number_count = exclusions.get((mailing.id, "no_sms_number"), 0)
            mailing.clinic_control_count = controls.get(mailing._origin, 0)

    # ------------------------------------------------------------------
    # Only Patient Care managers write to patients in bulk
    # ------------------------------------------------------------------

    def _clinic_check_manager(self):
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        if any(mailing.mailing_model_real == PATIENT_MODEL for mailing in self):
            raise AccessError(self.env._("Only Patient Care managers prepare and send campaigns to patients."))

    @api.model_create_multi
    def create(self, vals_list):
        mailings = super().create(vals_list)
        mailings._clinic_check_manager()
        return mailings

    def write(self, vals):
        self._clinic_check_manager()
        result = super().write(vals)
        if "mailing_model_id" in vals:
            self._clinic_check_manager()
        return result

    def action_send_mail(self, res_ids=None):
        self._clinic_check_manager()
        return super().action_send_mail(res_ids=res_ids)

    def action_send_sms(self, res_ids=None):
        self._clinic_check_manager()
        return super().action_send_sms(res_ids=res_ids)

    def action_test(self):
        self._clinic_check_manager()
        return super().action_test()

    def _get_seen_list(self):
        """The addresses the mailing already reached; while a batch of a
        patient mailing is rendered, only those among the batch's own
        (``clinic_seen_among``, see ``mail.compose.message._get_done_emails``):
        the same answer for the batch, found through the traces' e-mail
        index instead of reading every trace of the mailing again."""
        among = self.env.context.get("clinic_seen_among")
        if among is None or self.mailing_model_real != PATIENT_MODEL:
            return super()._get_seen_list()
        self.ensure_one()
        if not among:
            return set()
        if self.ab_testing_enabled:
            same_mailing = SQL("s.campaign_id = %s", self.campaign_id.id)
        else:
            same_mailing = SQL("s.mass_mailing_id = %s AND s.model = %s", self.id, PATIENT_MODEL)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT s.email
                  FROM mailing_trace s
                  JOIN clinic_patient t ON t.id = s.res_id
                 WHERE s.email = ANY(%s) AND %s
                """,
                list(among),
                same_mailing,
            )
        )
        return {email for (email,) in rows}

    # ------------------------------------------------------------------
    # Control group
    # ------------------------------------------------------------------

    def _get_remaining_recipients(self):
        res_ids = super()._get_remaining_recipients()
        if self.mailing_model_real != PATIENT_MODEL:
            return res_ids
        if self.mailing_type == "mail":
            res_ids = self._clinic_leave_out_no_consent(res_ids)
        if not self.clinic_control_percent:
            return res_ids
        held_out = self._clinic_hold_out(res_ids)
        return [res_id for res_id in res_ids if res_id not in held_out]

    def _clinic_leave_out_no_consent(self, res_ids):
        """E-mail campaigns: the patients without marketing consent are left
        out before anything is rendered for them, with their cancelled trace
        ("Excluded: no consent") created in one go, instead of an e-mail
        rendered and queued only to be cancelled (a tenth more work when a
        tenth refused). The composer still cancels any it is given (a
        sending to chosen records). Their traces carry no address, so that
        they do not lengthen the list of addresses already mailed that
        mass_mailing scans for every recipient."""
        self.ensure_one()
        refused = (
            self.env[PATIENT_MODEL]
            .sudo()
            .with_context(active_test=False)
            .search([("id", "in", res_ids), ("marketing_consent", "=", False)])
            .ids
        )
        if not refused:
            return res_ids
        self.env["mailing.trace"].sudo().create(
            [
                {
                    "model": PATIENT_MODEL,
                    "res_id": res_id,
                    "mass_mailing_id": self.id,
                    "trace_type": "mail",
                    "trace_status": "cancel",
                    "failure_type": "mail_optout",
                }
                for res_id in refused
            ]
        )
        refused = set(refused)
        return [res_id for res_id in res_ids if res_id not in refused]

    def _clinic_hold_out(self, res_ids):
        """The patients held out of this mailing (ids): drawn once, at its
        first sending, among the recipients who would get it (marketing
        consent), and kept for the next sendings."""
        self.ensure_one()
        Control = self.env["clinic.mailing.control"].sudo()
        existing = Control.search([("mailing_id", "=", self.id)])
        if existing:
            return set(existing.patient_id.ids)
        eligible = (
            self.env[PATIENT_MODEL].sudo().search([("id", "in", list(res_ids)), ("marketing_consent", "=", True)]).ids
        )
        size = round(len(eligible) * self.clinic_control_percent / 100.0)
        chosen = random.sample(sorted(eligible), size) if size else []
        Control.create([{"mailing_id": self.id, "patient_id": patient_id} for patient_id in chosen])
        return set(chosen)

    def action_view_clinic_control(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Control group"),
            "res_model": "clinic.mailing.control",
            "view_mode": "list",
            "domain": [("mailing_id", "=", self.id)],
        }

    def action_view_clinic_excluded(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Patients left out"),
            "res_model": "mailing.trace",
            "view_mode": "list,form",
            "domain": [("mass_mailing_id", "=", self.id), ("clinic_exclusion", "!=", False)],
            "context": {"search_default_group_by_clinic_exclusion": 1, "create": False},
        }
