import logging
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.tools import SQL, mute_logger
from odoo.tools.misc import clean_context

_logger = logging.getLogger(__name__)


class ClinicReactivation(models.AbstractModel):
    """Reactivation worked in the CRM pipeline: lapsed patients found by a
    recall rule that opens opportunities (instead of follow-up tasks), and
    patients a recall task could not reach after its last attempt.

    Opportunities are keyed like the recall engine's tasks
    (``clinic_recall_key``: rule, patient, due date; or the task handed
    over), unique, so no run ever opens the same one twice."""

    _name = "clinic.reactivation"
    _description = "Reactivation Opportunities"

    @api.model
    def _exclusion_sql(self, rule):
        """SQL condition for the recall engine's candidates (``due`` rows):
        no reactivation opportunity is open for the patient, and none was
        ever opened for this rule, patient and due date. A rule that opens
        opportunities also skips patients with an open reactivation task:
        recall and reactivation are two lists, a patient is on one."""
        condition = SQL(
            """NOT EXISTS (SELECT 1 FROM crm_lead reactivation
                            WHERE reactivation.clinic_patient_id = due.patient_id
                              AND ((reactivation.clinic_kind = 'reactivation'
                                    AND reactivation.clinic_status = 'open')
                                   OR reactivation.clinic_recall_key = CONCAT('r', %(rule)s::int, ':p',
                                                                   due.patient_id, ':d', due.due_date)))""",
            rule=rule.id,
        )
        if rule.kind == "lapsed" and rule.open_opportunities:
            condition = SQL(
                """%s AND NOT EXISTS (SELECT 1 FROM clinic_followup_task reactivation_task
                                      WHERE reactivation_task.patient_id = due.patient_id
                                        AND reactivation_task.reason = 'reactivation'
                                        AND NOT reactivation_task.is_closed)""",
                condition,
            )
        return condition

    @api.model
    def _open_for_rule(self, rule, rows):
        """A lapsed-patient rule that opens opportunities: one reactivation
        opportunity per due row (the engine's ``recall_key`` keeps it once per
        patient, rule and due date), in the department's pipeline."""
        patients = self.env["clinic.patient"].sudo().browse([row["patient_id"] for row in rows])
        if rule.assignment == "none":
            users = [False] * len(rows)
        elif rule.assignment == "fixed":
            users = [rule.user_id.id] * len(rows)
        else:
            users = self._balanced_users(rule.department_id, rule.team_user_ids, len(rows))
        vals_list = [
            dict(
                self._lead_values(patient, rule.department_id, user_id),
                name=self.env._("Reactivation: %(patient)s", patient=patient.name),
                clinic_recall_rule_id=rule.id,
                clinic_recall_key=row["recall_key"],
                date_deadline=row["due_date"],
            )
            for row, patient, user_id in zip(rows, patients, users, strict=True)
        ]
        leads = self._create_once(vals_list)
        today = fields.Date.context_today(self)
        for lead in leads:
            lead._clinic_schedule_call(max(lead.date_deadline or today, today), self.env._("Invite back"))
        if leads:
            rule.message_post(
                body=self.env._("%(count)s reactivation opportunities opened.", count=len(leads)),
                subtype_xmlid="mail.mt_note",
            )
        return leads

    @api.model
    def _handover_unreachable(self, tasks):
        """Recall tasks that ended unreachable after their last attempt hand
        the patient over to reactivation: one opportunity per task."""
        tasks = tasks.sudo().filtered(
            lambda t: (
                t.reason in ("recall", "chronic")
                and t.outcome == "not_reached"
                and t.rule_id.handover_unreachable
                and not t.reopen_date
            )
        )
        if not tasks:
            return self.env["crm.lead"].sudo()
        already_open = set(
            self.env["crm.lead"]
            .sudo()
            .search(
                [
                    ("clinic_patient_id", "in", tasks.patient_id.ids),
                    ("clinic_kind", "=", "reactivation"),
                    ("clinic_status", "=", "open"),
                ]
            )
            .clinic_patient_id.ids
        )
        vals_list = []
        for task in tasks.filtered(lambda t: t.patient_id.id not in already_open):
            already_open.add(task.patient_id.id)
            vals_list.append(
                dict(
                    self._lead_values(task.patient_id, task.department_id, task.user_id.id),
                    name=self.env._("Reactivation: %(patient)s (recall not reached)", patient=task.patient_id.name),
                    clinic_recall_rule_id=task.rule_id.id,
                    clinic_recall_key=f"handover:t{task.id}",
                    description=self.env._(
                        "Not reached after %(count)s attempts on the follow-up “%(task)s”.",
                        count=task.attempt_count,
                        task=task.name,
                    ),
                )
            )
        leads = self._create_once(vals_list)
        leads._clinic_schedule_call(fields.Date.context_today(self) + timedelta(days=7), self.env._("Invite back"))
        return leads

    @api.model
    def _lead_values(self, patient, department, user_id):
        return {
            "type": "opportunity",
            "clinic_kind": "reactivation",
            "clinic_department_id": department.id,
            "team_id": department.team_id.id,
            "company_id": department.company_id.id,
            "user_id": user_id,
            "partner_id": patient.partner_id.id,
            "clinic_patient_id": patient.id,
            "clinic_channel": patient.preferred_channel,
            "clinic_care_consent": patient.care_consent,
            "clinic_marketing_consent": patient.marketing_consent,
            "source_id": self.env.ref("clinic_retention.utm_source_reactivation").id,
            "medium_id": self.env.ref("utm.utm_medium_phone").id,
            "stage_id": self.env["crm.stage"]._clinic_stage("new", department.team_id).id,
        }

    @api.model
    def _balanced_users(self, department, team_users, count):
        """``count`` user ids round-robin over the team, fewest open
        Patient Care opportunities first (stateless, like follow-up tasks)."""
        team = (team_users or department.member_ids).filtered("active").sorted("id")
        if not team:
            return [department.manager_id.id or False] * count
        load = dict.fromkeys(team.ids, 0)
        for user, open_count in (
            self.env["crm.lead"]
            .sudo()
            ._read_group(
                [
                    ("clinic_department_id", "=", department.id),
                    ("clinic_status", "=", "open"),
                    ("user_id", "in", team.ids),
                ],
                ["user_id"],
                ["__count"],
            )
        ):
            load[user.id] = open_count
        users = []
        for _index in range(count):
            user_id = min(load, key=lambda uid: (load[uid], uid))
            load[user_id] += 1
            users.append(user_id)
        return users

    @api.model
    def _create_once(self, vals_list):
        """Create leads; those whose ``clinic_recall_key`` another run created
        meanwhile are skipped (the unique key refuses them)."""
        Lead = self.env["crm.lead"].with_env(self.env(context=clean_context(self.env.context), su=True))
        Lead = Lead.with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
        if not vals_list:
            return Lead
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                return Lead.create(vals_list)
        except psycopg2.errors.UniqueViolation:
            _logger.info("Reactivation: another run opened some of these %s opportunities", len(vals_list))
        leads = Lead.browse()
        for vals in vals_list:
            try:
                with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                    leads |= Lead.create(vals)
            except psycopg2.errors.UniqueViolation:
                continue
        return leads
