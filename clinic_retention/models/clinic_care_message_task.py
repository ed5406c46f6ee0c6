from odoo import api, fields, models
from odoo.exceptions import UserError

# The messages an agent sends from a follow-up task: kind -> (e-mail
# template, SMS template), both shipped in data/clinic_followup_task_template_data.xml.
TASK_MESSAGE_TEMPLATES = {
    "recall_invitation": (
        "clinic_retention.mail_template_task_recall_invitation",
        "clinic_retention.sms_template_task_recall_invitation",
    ),
    "reactivation": (
        "clinic_retention.mail_template_task_reactivation",
        "clinic_retention.sms_template_task_reactivation",
    ),
    "unreachable": (
        "clinic_retention.mail_template_task_unreachable",
        "clinic_retention.sms_template_task_unreachable",
    ),
}
# Kinds that invite a lapsed patient back without a medical reason: a
# promotion of the clinic's services, so they also need marketing consent.
MARKETING_KINDS = ("reactivation",)


class ClinicCareMessage(models.AbstractModel):
    """Messages an agent sends from a follow-up task, through the same
    policy, ledger and dispatcher as the visit reminders."""

    _inherit = "clinic.care.message"

    @api.model
    def _consent_missing(self, patient, kind):
        reason = super()._consent_missing(patient, kind)
        if not reason and kind in MARKETING_KINDS and not patient.marketing_consent:
            reason = "no_marketing_consent"
        return reason

    @api.model
    def _send_for_tasks(self, tasks, kind, channel):
        """Queue the ``kind`` message (see ``TASK_MESSAGE_TEMPLATES``) to the
        patient of each of ``tasks`` by ``channel`` ("sms" or "email").
        Every decision is a ledger row: queued (SMS wait for the end of the
        quiet hours) or not sent, and why (archived patient, consent, "do not
        contact", no number or address, blacklisted). Once per task, kind,
        channel and clinic day: a second click the same day is refused.

        :return: the ledger rows written, in the order of ``tasks``.
        """
        if kind not in TASK_MESSAGE_TEMPLATES or channel not in ("sms", "email"):
            raise UserError(self.env._("Unknown kind of care message: %(kind)s", kind=kind))
        Ledger = self.env["clinic.visit.reminder"].sudo()
        mail_xmlid, sms_xmlid = TASK_MESSAGE_TEMPLATES[kind]
        mail_template = self.env.ref(mail_xmlid, raise_if_not_found=False) if channel == "email" else None
        sms_template = self.env.ref(sms_xmlid, raise_if_not_found=False) if channel == "sms" else None
        if not (mail_template or sms_template):
            raise UserError(self.env._("The message template of this follow-up was deleted."))
        tasks = tasks.sudo()
        now = fields.Datetime.now()
        policy = self._policy_context(tasks, channel)
        keys = {}
        for task in tasks:
            tz = self._tz(task.company_id.clinic_tz)
            keys[task] = f"task:{task.id}:{kind}:{channel}:{self._local_date(now, tz)}"
        sent = Ledger.search([("task_key", "in", list(keys.values()))], limit=1)
        if sent:
            raise UserError(
                self.env._("This message was already sent today from the follow-up “%(task)s”.", task=sent.task_id.name)
            )
        rows = []
        for task in tasks:
            patient = task.patient_id
            company = task.company_id
            tz = self._tz(company.clinic_tz)
            reason, destination = False, False
            if not patient.active:
                reason = "inactive"
            else:
                reason = self._consent_missing(patient, kind)
            if not reason and patient.preferred_channel == "none":
                reason = "do_not_contact"
            if not reason and channel == "sms":
                number = policy["sms_numbers"][patient]
                if not number:
                    reason = "no_number"
                elif number in policy["blacklisted_numbers"]:
                    reason = "blacklisted"
                else:
                    destination = number
            if not reason and channel == "email":
                if not patient.email_normalized:
                    reason = "no_email"
                elif patient.email_normalized in policy["blacklisted_emails"]:
                    reason = "blacklisted"
                else:
                    destination = patient.email_normalized
            when = self._after_quiet_hours(now, tz, company) if channel == "sms" and not reason else now
            rows.append(
                {
                    "task_id": task.id,
                    "task_key": keys[task],
                    "kind": kind,
                    "channel": channel,
                    "state": "skipped" if reason else "queued",
                    "skip_reason": reason,
                    "deferred_reason": "quiet_hours" if when > now else False,
                    "destination": destination,
                    "scheduled_date": when,
                    "local_date": self._local_date(when, tz),
                    "sent_date": False,  # set when it leaves (see _set_sent)
                    "mail_template_id": mail_template.id if mail_template else False,
                    "sms_template_id": sms_template.id if sms_template else False,
                }
            )
        messages = Ledger.create(rows)
        queued = messages.filtered(lambda m: m.state == "queued")
        if queued:
            self._trigger_dispatch(set(queued.mapped("scheduled_date")))
        return messages
