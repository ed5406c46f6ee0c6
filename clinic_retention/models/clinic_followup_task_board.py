from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_datetime


class ClinicFollowupTask(models.Model):
    """What an agent does with a task on a call besides reached / not
    reached: call back at a time the patient asked for, report a wrong
    number, record a complaint, send the recall message by SMS or e-mail."""

    _inherit = "clinic.followup.task"  # pylint: disable=consider-merging-classes-inherited

    callback_date = fields.Datetime(
        string="Call back at",
        tracking=True,
        copy=False,
        help="The patient asked to be called back then: the task comes back that day, no attempt counted.",
    )
    complaint_ids = fields.One2many("clinic.complaint", "followup_task_id", string="Complaints")
    complaint_count = fields.Integer(compute="_compute_complaint_count")
    care_message_ids = fields.One2many("clinic.visit.reminder", "task_id", string="Messages sent")
    care_message_count = fields.Integer(compute="_compute_care_message_count", string="Care messages sent")

    def _compute_complaint_count(self):
        counts = dict(
            self.env["clinic.complaint"]._read_group(
                [("followup_task_id", "in", self.ids)], ["followup_task_id"], ["__count"]
            )
        )
        for task in self:
            task.complaint_count = counts.get(task, 0)

    def _compute_care_message_count(self):
        counts = dict(
            self.env["clinic.visit.reminder"]._read_group([("task_id", "in", self.ids)], ["task_id"], ["__count"])
        )
        for task in self:
            task.care_message_count = counts.get(task, 0)

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        # "overdue first": open tasks whose deadline is before the user's today
        if field_name == "is_overdue":
            today = fields.Date.context_today(self)
            sql_field = SQL(
                "(NOT COALESCE(%s, FALSE) AND COALESCE(%s < %s, FALSE))",
                self._field_to_sql(alias, "is_closed", query),
                self._field_to_sql(alias, "date_deadline", query),
                today,
            )
            return SQL("%s %s %s", sql_field, direction, nulls)
        return super()._order_field_to_sql(alias, field_name, direction, nulls, query)

    # ------------------------------------------------------------------
    # Call back later
    # ------------------------------------------------------------------

    def action_call_back(self):
        """Ask when to call back (the patient's own time)."""
        self.ensure_one()
        self.check_access("write")
        self._check_open()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Call back at..."),
            "res_model": "clinic.followup.task.callback",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_task_id": self.id},
        }

    def _set_call_back(self, when, note=False):
        """The patient asked to be called back at ``when``: the task waits in
        progress until that day (its deadline), an activity reminds the
        assignee at that time, and no attempt is counted."""
        self.check_access("write")
        self._check_open()
        now = fields.Datetime.now()
        if not when or when <= now:
            raise UserError(self.env._("Pick a time in the future to call the patient back."))
        day = fields.Datetime.context_timestamp(self, when).date()
        shown = format_datetime(self.env, when, dt_format="short")
        for task in self:
            task._move_to(
                "in_progress",
                outcome="call_back",
                callback_date=when,
                date_deadline=day,
                user_id=task.user_id.id or self.env.uid,
                first_contact_date=task.first_contact_date or now,
            )
            task.activity_schedule(
                "mail.mail_activity_data_call",
                date_deadline=day,
                summary=self.env._("Call back at %(when)s", when=shown),
                note=note or False,
                user_id=task.user_id.id,
            )
            body = self.env._("The patient asked to be called back on %(when)s (no attempt counted).", when=shown)
            task.message_post(body=body + ("\n" + note if note else ""))
        return True

    # ------------------------------------------------------------------
    # Wrong number
    # ------------------------------------------------------------------

    def action_wrong_number(self):
        """Besides closing the task, flag the patient's phone for review
        (the patient list has a "Wrong number reported" filter)."""
        self.check_access("write")
        result = super().action_wrong_number()
        self.patient_id.write({"phone_wrong_reported": True})
        return result

    # ------------------------------------------------------------------
    # Complaint in one click
    # ------------------------------------------------------------------

    def action_new_complaint(self):
        """A new complaint of the task's patient, linked to the task: the
        agent writes what the patient said and saves."""
        self.ensure_one()
        self.check_access("write")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New complaint"),
            "res_model": "clinic.complaint",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_patient_id": self.patient_id.id,
                "default_department_id": self.department_id.id,
                "default_followup_task_id": self.id,
                "default_channel": "phone",
                "default_name": self.env._("Complaint during the follow-up “%(task)s”", task=self.name),
            },
        }

    def action_open_complaints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_complaint_action")
        action["domain"] = [("followup_task_id", "=", self.id)]
        action["context"] = {"default_followup_task_id": self.id, "default_patient_id": self.patient_id.id}
        return action

    def action_open_care_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("clinic_retention.clinic_visit_reminder_action")
        action["domain"] = [("task_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Recall messages by SMS or e-mail
    # ------------------------------------------------------------------

    def _care_message_kind(self):
        """Which shipped message fits the task: after the last attempt the
        "we could not reach you" one, for a lapsed patient the reactivation
        one, otherwise the recall invitation."""
        self.ensure_one()
        if self.state == "unreachable" or (self.max_attempts and self.attempt_count >= self.max_attempts):
            return "unreachable"
        if self.reason == "reactivation":
            return "reactivation"
        return "recall_invitation"

    def action_send_sms(self):
        return self._send_recall_message("sms")

    def action_send_email(self):
        return self._send_recall_message("email")

    def _send_recall_message(self, channel):
        """Send the task's message (see ``_care_message_kind``) by
        ``channel`` through the care-message ledger; a message that leaves
        counts as an attempt by that channel."""
        self.check_access("write")
        if self.filtered(lambda t: t.state == "done"):
            raise UserError(self.env._("This follow-up is done: re-open it to contact the patient again."))
        CareMessage = self.env["clinic.care.message"]
        kinds = dict(self.env["clinic.visit.reminder"]._fields["kind"]._description_selection(self.env))
        reasons = dict(self.env["clinic.visit.reminder"]._fields["skip_reason"]._description_selection(self.env))
        channels = dict(self.env["clinic.visit.reminder"]._fields["channel"]._description_selection(self.env))
        queued_count, notes = 0, []
        for kind, tasks in self.grouped(lambda t: t._care_message_kind()).items():
            messages = CareMessage._send_for_tasks(tasks, kind, channel)
            for task, message in zip(tasks, messages, strict=True):
                if message.state == "queued":
                    queued_count += 1
                    task._record_attempt()
                    vals = {"channel": channel}
                    if task.state == "new":
                        task._move_to("in_progress", **vals)
                    else:
                        task.write(vals)
                    body = self.env._(
                        "%(kind)s sent by %(channel)s to %(destination)s (attempt %(count)s).",
                        kind=kinds[kind],
                        channel=channels[channel],
                        destination=message.destination,
                        count=task.attempt_count,
                    )
                else:
                    body = self.env._(
                        "%(kind)s by %(channel)s not sent: %(reason)s.",
                        kind=kinds[kind],
                        channel=channels[channel],
                        reason=reasons.get(message.skip_reason, ""),
                    )
                    notes.append(f"{task.patient_id.name}: {reasons.get(message.skip_reason, '')}")
                task.message_post(body=body)
        if notes:
            message, kind = "\n".join(notes), "warning"
        else:
            message, kind = self.env._("%(count)s message(s) queued.", count=queued_count), "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Not sent") if notes else self.env._("Sent"),
                "message": message,
                "type": kind,
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _rebook_title(self, origin):
        titles = {
            "staff": self.env._("Cancelled by phone: rebook"),
            "another_time": self.env._("Asked for another time: rebook"),
        }
        return titles[origin]
