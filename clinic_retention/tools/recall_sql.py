"""The SQL of the recall engine (``clinic.recall.rule``): which patients
are due, and which due rows have no task yet. One query per rule, built with
``odoo.tools.SQL``; dates are the clinic's local dates (``clinic_time``)."""

from datetime import timedelta

from odoo import fields
from odoo.tools import SQL

from .clinic_time import clinic_tz, local_date_sql, local_today


def candidate_filters(rule, alias_patient):
    """SQL conditions on the patient shared by every rule kind."""
    rule.ensure_one()
    conditions = [
        SQL("partner.active"),
        SQL("%s.preferred_channel IS DISTINCT FROM 'none'", SQL.identifier(alias_patient)),
        SQL("%s.company_id = %s", SQL.identifier(alias_patient), rule.company_id.id),
    ]
    if rule.only_with_care_consent:
        conditions.append(SQL("%s.care_consent", SQL.identifier(alias_patient)))
    domain = rule._patient_domain()
    if domain:
        # evaluated with the rights of the manager who wrote it (their record
        # rules apply), not as the superuser: a filter tells nothing they could not read
        author = rule.write_uid if rule.write_uid and not rule.write_uid._is_superuser() else None
        Patient = rule.env["clinic.patient"].with_context(active_test=False)
        Patient = (
            Patient.with_user(author).with_context(allowed_company_ids=author.company_ids.ids)
            if author
            else Patient.sudo()
        )
        query = Patient._search(domain)
        conditions.append(SQL("%s.id IN %s", SQL.identifier(alias_patient), query.subselect()))
    return SQL(" AND ").join(conditions)


def due_sql(rule):
    """For recall, chronic and lapsed rules: ``(patient_id, due_date)``
    of every patient with a completed visit of the rule's kind."""
    rule.ensure_one()
    visit_filter = [SQL("v.state = 'done'"), SQL("v.company_id = %s", rule.company_id.id)]
    if rule.kind != "lapsed" or rule.lapsed_scope == "department":
        visit_filter.append(SQL("v.department_id = %s", rule.department_id.id))
    if rule.kind != "lapsed" and rule.service_id:
        visit_filter.append(SQL("v.service_id = %s", rule.service_id.id))
    months, days = rule.interval_months, rule.interval_days
    return SQL(
        """
        SELECT last_visit.patient_id,
               (%(last_day)s + make_interval(
                    months => COALESCE(override.interval_months, cadence.interval_months, %(months)s),
                    days => COALESCE(override.interval_days, cadence.interval_days, %(days)s)))::date
                   AS due_date
          FROM (SELECT v.patient_id, MAX(v.start) AS last_start, COUNT(*) AS done_count
                  FROM clinic_visit v
                 WHERE %(visit_filter)s
              GROUP BY v.patient_id) AS last_visit
     LEFT JOIN clinic_recall_override override
            ON override.rule_id = %(rule)s AND override.patient_id = last_visit.patient_id
           AND override.active
     LEFT JOIN LATERAL (
               SELECT step.interval_months, step.interval_days
                 FROM clinic_recall_rule_step step
                WHERE step.rule_id = %(rule)s AND %(is_chronic)s
                  AND step.min_visits <= last_visit.done_count
             ORDER BY step.min_visits DESC
                LIMIT 1) AS cadence ON TRUE
        """,
        last_day=local_date_sql(SQL("last_visit.last_start"), clinic_tz(rule.company_id)),
        months=months,
        days=days,
        visit_filter=SQL(" AND ").join(visit_filter),
        rule=rule.id,
        is_chronic=rule.kind == "chronic",
    )


def candidates_sql(rule, limit):
    """Rows ``(patient_id, due_date, visit_id, step_id, recall_key)`` due
    now, with no task yet, ordered by due date."""
    rule.ensure_one()
    today = local_today(rule.company_id)
    horizon = today + timedelta(days=rule.lead_days)
    oldest = today - timedelta(days=rule.max_overdue_days) if rule.max_overdue_days else None
    now = fields.Datetime.now()
    if rule.kind == "post_visit":
        max_offset = max(rule.step_ids.mapped("offset_days") or [0])
        visit_filter = [
            SQL("v.state = 'done'"),
            SQL("v.company_id = %s", rule.company_id.id),
            SQL("v.department_id = %s", rule.department_id.id),
        ]
        if rule.service_id:
            visit_filter.append(SQL("v.service_id = %s", rule.service_id.id))
        if oldest:
            # lets the (department, state, start) index skip older history
            visit_filter.append(SQL("v.start >= %s", oldest - timedelta(days=max_offset + 1)))
        visit_day = local_date_sql(SQL("v.start"), clinic_tz(rule.company_id))
        return SQL(
            """
            SELECT candidate.* FROM (
                SELECT v.patient_id,
                       (%(visit_day)s + step.offset_days) AS due_date,
                       v.id AS visit_id,
                       step.id AS step_id,
                       CONCAT('r', %(rule)s, ':s', step.id, ':v', v.id) AS recall_key
                  FROM clinic_visit v
                  JOIN clinic_recall_rule_step step ON step.rule_id = %(rule)s
                  JOIN clinic_patient patient ON patient.id = v.patient_id
                  JOIN res_partner partner ON partner.id = patient.partner_id
                 WHERE %(visit_filter)s AND %(patient_filter)s
                   AND (%(visit_day)s + step.offset_days) <= %(horizon)s
                   AND (%(oldest)s::date IS NULL
                        OR (%(visit_day)s + step.offset_days) >= %(oldest)s::date)
            ) AS candidate
             WHERE NOT EXISTS (SELECT 1 FROM clinic_followup_task task
                                WHERE task.recall_key = candidate.recall_key)
          ORDER BY candidate.due_date, candidate.visit_id, candidate.step_id
             LIMIT %(limit)s
            """,
            rule=rule.id,
            visit_day=visit_day,
            visit_filter=SQL(" AND ").join(visit_filter),
            patient_filter=candidate_filters(rule, "patient"),
            horizon=horizon,
            oldest=oldest,
            limit=limit,
        )
    booked_department = (
        SQL("") if rule.kind == "lapsed" else SQL("AND booked.department_id = %s", rule.department_id.id)
    )
    return SQL(
        """
        SELECT candidate.* FROM (
            SELECT due.patient_id,
                   due.due_date,
                   NULL::integer AS visit_id,
                   NULL::integer AS step_id,
                   CONCAT('r', %(rule)s, ':p', due.patient_id, ':d', due.due_date) AS recall_key
              FROM (%(due)s) AS due
              JOIN clinic_patient patient ON patient.id = due.patient_id
              JOIN res_partner partner ON partner.id = patient.partner_id
             WHERE %(patient_filter)s
               AND due.due_date <= %(horizon)s
               AND (%(oldest)s::date IS NULL OR due.due_date >= %(oldest)s::date)
               AND NOT EXISTS (SELECT 1 FROM clinic_visit booked
                                WHERE booked.patient_id = due.patient_id %(booked_department)s
                                  AND booked.state = 'scheduled' AND booked.start >= %(now)s)
               AND NOT EXISTS (SELECT 1 FROM clinic_followup_task open_task
                                WHERE open_task.rule_id = %(rule)s
                                  AND open_task.patient_id = due.patient_id
                                  AND NOT open_task.is_closed AND open_task.active)
               AND %(no_reactivation)s
        ) AS candidate
         WHERE NOT EXISTS (SELECT 1 FROM clinic_followup_task task
                            WHERE task.recall_key = candidate.recall_key)
      ORDER BY candidate.due_date, candidate.patient_id
         LIMIT %(limit)s
        """,
        rule=rule.id,
        due=due_sql(rule),
        patient_filter=candidate_filters(rule, "patient"),
        horizon=horizon,
        oldest=oldest,
        booked_department=booked_department,
        now=now,
        limit=limit,
        no_reactivation=rule.env["clinic.reactivation"]._exclusion_sql(rule),
    )
