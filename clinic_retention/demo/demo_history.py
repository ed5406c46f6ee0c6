"""A demo with a past: 18 months of the clinic's work on the demo visits.

Worked follow-ups (post-visit calls and recalls by several agents, on every
channel, with their attempts, outcomes, satisfaction and recovery scores),
the reminders of past visits with their delivery states, satisfaction
answers in every department and month (with the aspects), and complaints at
every stage, some with no department. Deterministic (seeded), relative to
today, and loaded on a fresh install only (so once): an upgrade of a
database with demo data adds nothing (``ir.module.module`` is then "to
upgrade", not "to install").

Called from ``demo/clinic_complaint_demo.xml`` through
``clinic.followup.task._demo_history``, after ``demo_generator``.
"""

import logging
import random
import time as timer
from datetime import datetime, time, timedelta

from odoo import fields

_logger = logging.getLogger(__name__)

HISTORY_DAYS = 560  # the demo visits' 18 months
RECENT_DAYS = 60  # the recent answers and tasks come from demo_generator and the recall rules

# agents per department: (user xmlid, weight, skill: chance to reach the patient)
AGENTS = {
    "department_dental": [("user_cs_olga", 6, 0.78), ("user_manager_zhang", 1, 0.62)],
    "department_cardiology": [("user_cs_olga", 5, 0.72), ("user_manager_zhang", 2, 0.6)],
    "department_physiotherapy": [("user_cs_reza", 6, 0.66), ("user_manager_zhang", 1, 0.6)],
    "department_general": [("user_cs_reza", 5, 0.58), ("user_manager_zhang", 2, 0.55)],
}
# channel: (weight, how much it helps reaching the patient)
CHANNELS = {
    "phone": (50, 1.0),
    "sms": (18, 0.75),
    "messaging": (12, 0.92),
    "email": (10, 0.6),
    "home_visit": (3, 1.15),
    "web": (4, 0.7),
    "app": (3, 0.8),
}
# satisfaction: the department's bias, and its weak aspect
SATISFACTION = {
    "department_dental": (0.35, "waiting_score"),
    "department_cardiology": (0.0, "staff_score"),
    "department_physiotherapy": (0.25, "cleanliness_score"),
    "department_general": (-0.45, "waiting_score"),
}
COMPLAINTS = [
    ("Waited over an hour past the appointment", "complaint_category_waiting", "medium"),
    ("Receptionist was dismissive on the phone", "complaint_category_staff", "medium"),
    ("Pain after the procedure was not explained", "complaint_category_treatment", "high"),
    ("Results were never sent as promised", "complaint_category_communication", "medium"),
    ("Charged for a service that was not done", "complaint_category_billing", "high"),
    ("Waiting room toilets were dirty", "complaint_category_cleanliness", "low"),
    ("Nobody answers the phone after 17:00", "complaint_category_communication", "low"),
]
ROOT_CAUSE = "Too few staff at the front desk at peak hours; the schedule did not allow for late doctors."
CORRECTIVE_ACTION = "A second receptionist from 9:00 to 12:00; patients are called when the doctor runs late."
RESOLUTION = "Apologised by phone and offered the next visit at a time of the patient's choice."


def _is_fresh_install(env):
    module = env["ir.module.module"].sudo().search([("name", "=", "clinic_retention")])
    return module.state == "to install"


def generate(env):
    if not _is_fresh_install(env):
        return
    started = timer.monotonic()
    rng = random.Random(20261126)
    now = fields.Datetime.now()
    today = now.date()
    ref = env.ref
    departments = {xmlid: ref("clinic_retention." + xmlid) for xmlid in AGENTS}
    xmlid_of = {department: xmlid for xmlid, department in departments.items()}
    visits = (
        env["clinic.visit"]
        .sudo()
        .search(
            [
                ("start", ">=", now - timedelta(days=HISTORY_DAYS)),
                ("start", "<", now - timedelta(days=2)),
                ("department_id", "in", [d.id for d in departments.values()]),
            ],
            order="start, id",
        )
    )
    done = visits.filtered(lambda v: v.state == "done")
    _followups(env, rng, done, xmlid_of, now)
    _reminders(env, rng, visits)
    responses = _satisfaction(env, rng, done, xmlid_of, now)
    _complaints(env, rng, responses, departments, now, today)
    _logger.info(
        "demo history: 18 months of follow-ups, reminders, answers and complaints in %.1f s",
        timer.monotonic() - started,
    )


def _at(rng, day, first_hour=8, last_hour=18):
    return datetime.combine(day, time(rng.randint(first_hour, last_hour - 1), rng.choice([0, 10, 20, 30, 40, 50])))


def _agent(env, rng, department_xmlid):
    agents = AGENTS[department_xmlid]
    xmlid, _weight, skill = rng.choices(agents, weights=[a[1] for a in agents])[0]
    return env.ref("clinic_retention." + xmlid), skill


def _followups(env, rng, visits, xmlid_of, now):
    """Post-visit calls after some visits, and recalls of the patients due
    back (those who came back were mostly reached)."""
    Task = env["clinic.followup.task"].sudo().with_context(tracking_disable=True, mail_create_nolog=True)
    stages = {}

    def stage(kind, department):
        if (kind, department) not in stages:
            stages[kind, department] = Task._stage_of_kind(kind, department).id
        return stages[kind, department]

    templates = {
        template.service_id: template
        for template in env["clinic.recovery.template"].sudo().search([("service_id", "!=", False)])
    }
    # each visit's next done visit in the same department (did the patient come back?)
    came_back_by_visit, latest = {}, {}
    for visit in reversed(visits):
        key = (visit.patient_id.id, visit.department_id.id)
        came_back_by_visit[visit.id] = latest.get(key)
        latest[key] = visit
    vals_list, scores = [], []
    for visit in visits:
        department = visit.department_id
        xmlid = xmlid_of[department]
        came_back = came_back_by_visit[visit.id]
        jobs = []
        if rng.random() < 0.5 and visit.start < now - timedelta(days=RECENT_DAYS):
            jobs.append(("post_visit", visit.start + timedelta(days=rng.randint(1, 3)), None))
        if rng.random() < 0.45:
            if came_back:
                due = came_back.start.date() - timedelta(days=rng.randint(0, 25))
            else:
                due = visit.start.date() + timedelta(days=rng.choice([90, 120, 180]))
            opened = datetime.combine(due - timedelta(days=14), time(7, 0))
            if visit.start < opened < now - timedelta(days=RECENT_DAYS):
                reason = "chronic" if visit.service_id.is_chronic else "recall"
                jobs.append((reason, opened, due))
        for reason, opened, due in jobs:
            agent, skill = _agent(env, rng, xmlid)
            channel = rng.choices(list(CHANNELS), weights=[c[0] for c in CHANNELS.values()])[0]
            chance = skill * CHANNELS[channel][1]
            if reason != "post_visit":
                chance *= 1.1 if came_back else 0.45
            attempts = rng.choices([1, 2, 3, 4], weights=[50, 28, 15, 7])[0]
            reached = rng.random() < min(chance + 0.05 * (attempts - 1), 0.97)
            if reached:
                if reason == "post_visit":
                    outcome = rng.choices(["reached", "visit_booked", "refused"], weights=[75, 18, 7])[0]
                else:
                    outcome = rng.choices(["visit_booked", "reached", "refused"], weights=[60, 28, 12])[0]
            else:
                outcome = rng.choices(["not_reached", "wrong_number"], weights=[92, 8])[0]
            first = opened + timedelta(hours=rng.choice([1, 2, 3, 5, 8, 20, 26, 50]))
            first = first.replace(hour=rng.randint(8, 18))
            last = first + timedelta(days=sum(rng.randint(1, 3) for _i in range(attempts - 1)))
            vals = {
                "name": env._("Follow-up call") if reason == "post_visit" else env._("Recall: time for a visit"),
                "patient_id": visit.patient_id.id,
                "department_id": department.id,
                "visit_id": visit.id,
                "reason": reason,
                "due_date": due,
                "user_id": agent.id,
                "channel": channel,
                "attempt_count": attempts,
                "open_date": opened,
                "first_contact_date": first,
                "last_attempt_date": last,
                "closed_date": last,
                "date_deadline": (due or opened.date() + timedelta(days=2)),
                "outcome": outcome,
                "stage_id": stage("done" if reached else "unreachable", department),
            }
            template = templates.get(visit.service_id)
            if reached and reason == "post_visit":
                if rng.random() < 0.45:
                    vals["satisfaction_score"] = rng.choices([5, 4, 3, 2, 1], weights=[40, 35, 15, 7, 3])[0]
                if template:
                    vals["recovery_template_id"] = template.id
            vals_list.append(vals)
            scores.append(template if reached and reason == "post_visit" else None)
    tasks = Task.create(vals_list)
    score_vals = []
    for task, template in zip(tasks, scores, strict=True):
        for criterion in template.criterion_ids if template else []:
            score_vals.append(
                {
                    "task_id": task.id,
                    "criterion_id": criterion.id,
                    "name": criterion.name,
                    "score": rng.choices([5, 4, 3, 2], weights=[35, 40, 18, 7])[0],
                }
            )
    env["clinic.followup.recovery.score"].sudo().create(score_vals)


def _reminders(env, rng, visits):
    """The day-before reminder of each past visit (and a two-hours SMS for
    some), with what became of it."""
    Ledger = env["clinic.visit.reminder"].sudo()
    existing = {(row.visit_id.id, row.kind) for row in Ledger.search([("visit_id", "in", visits.ids)])}
    vals_list = []
    for visit in visits:
        patient = visit.patient_id
        channel = "email" if patient.preferred_channel == "email" and patient.email else "sms"
        for kind, before in (("day_before", timedelta(days=1)), ("two_hours", timedelta(hours=2))):
            if (visit.id, kind) in existing or (kind == "two_hours" and rng.random() < 0.8):
                continue
            planned = visit.start - before
            vals = {
                "visit_id": visit.id,
                "kind": kind,
                "channel": "sms" if kind == "two_hours" else channel,
                "visit_start": visit.start,
                "scheduled_date": planned,
                "sent_date": planned,
                "destination": patient.email if channel == "email" and kind == "day_before" else patient.mobile,
            }
            if not patient.care_consent:
                vals.update(state="skipped", skip_reason="no_consent")
            else:
                state = rng.choices(["delivered", "sent", "failed", "bounced"], weights=[78, 12, 6, 4])[0]
                if vals["channel"] == "sms" and state == "bounced":
                    state = "failed"
                vals["state"] = state
                if state == "delivered":
                    vals["delivered_date"] = planned + timedelta(minutes=rng.randint(1, 30))
                elif state == "failed":
                    vals["failure_type"] = "sms_server" if vals["channel"] == "sms" else "mail_smtp"
                elif state == "bounced":
                    vals["failure_type"] = "mail_bounce"
            vals_list.append(vals)
    Ledger.create(vals_list)


def _answer(rng, visit, xmlid_of, now):
    """The answer values of a patient of ``visit``'s department: its level
    and weak aspect, slowly improving over the months."""
    bias, weak = SATISFACTION[xmlid_of[visit.department_id]]
    months_ago = (now - visit.start).days / 30
    level = 3.9 + bias - 0.03 * months_ago + rng.gauss(0, 0.9)
    answered = visit.start + timedelta(hours=rng.randint(4, 48))
    if answered.month != visit.start.month:
        answered = visit.start + timedelta(hours=4)
    values = {
        "state": "answered",
        "score": max(1, min(5, round(level))),
        "submitted_date": answered,
        "last_update_date": answered,
        "expiry_date": answered + timedelta(days=7),
    }
    for aspect in ("waiting_score", "doctor_score", "staff_score", "cleanliness_score"):
        if rng.random() < 0.8:
            values[aspect] = max(1, min(5, round(level + rng.gauss(0, 0.6) - (0.9 if aspect == weak else 0))))
    return values


def _survey_sent(visit):
    """A survey sent three hours after ``visit``."""
    return {
        "visit_id": visit.id,
        "patient_id": visit.patient_id.id,
        "department_id": visit.department_id.id,
        "doctor_id": visit.doctor_id.id,
        "company_id": visit.company_id.id,
        "source": "survey",
        "sent_date": visit.start + timedelta(hours=3),
    }


def _satisfaction(env, rng, visits, xmlid_of, now):
    """Answers to the survey after about half the visits older than the
    recent ones, then at least one in every department and month that had
    a visit. Low scores open complaints by themselves, dated when the answer
    came."""
    Response = env["clinic.survey.response"].sudo().with_context(tracking_disable=True, mail_create_nolog=True)
    old = visits.filtered(lambda v: v.start < now - timedelta(days=RECENT_DAYS) and not v.survey_response_ids)
    chosen = [visit for visit in old if rng.random() < 0.55]
    vals_list = [{**_survey_sent(visit), **_answer(rng, visit, xmlid_of, now)} for visit in chosen]
    responses = Response.create(vals_list)
    for response in responses.filtered("complaint_id"):
        response.complaint_id.sudo().write({"received_date": response.submitted_date})

    def cell(department, when):
        return (department.id, when.year, when.month)

    answered = Response.search([("state", "=", "answered"), ("submitted_date", "!=", False)])
    covered = {cell(r.department_id, r.submitted_date) for r in answered}
    for visit in visits:
        if cell(visit.department_id, visit.start) in covered:
            continue
        covered.add(cell(visit.department_id, visit.start))
        values = _answer(rng, visit, xmlid_of, now)
        values["score"] = values["score"] if values["score"] >= 3 else 3
        waiting = visit.survey_response_ids.filtered(lambda r: r.state == "sent")[:1]
        if waiting:
            waiting.write(values)
            responses |= waiting
        elif not visit.survey_response_ids:
            responses |= Response.create({**_survey_sent(visit), **values})
    return responses


def _complaints(env, rng, responses, departments, now, today):
    """Complaints received over the 18 months, some by walk-in visitors with
    no department, moved along: the old ones resolved or closed, the recent
    ones new or under investigation. (None by the public form: its hourly
    e-mail cap counts the web complaints created in the last hour.)"""
    Complaint = env["clinic.complaint"].sudo().with_context(tracking_disable=True, mail_create_nolog=True)
    patients = responses.patient_id
    stage = {
        kind: env["clinic.complaint.stage"].sudo().search([("kind", "=", kind)], order="sequence", limit=1)
        for kind in ("new", "investigating", "resolved", "closed")
    }
    vals_list = []
    for index in range(36):
        received = datetime.combine(
            today - timedelta(days=int(HISTORY_DAYS * (index + rng.random()) / 36)), time(rng.randint(8, 17))
        )
        name, category, severity = COMPLAINTS[index % len(COMPLAINTS)]
        department = rng.choice(list(departments.values())) if index % 6 else env["clinic.department"]
        vals = {
            "name": name,
            "description": name + ".",
            "patient_id": rng.choice(patients).id if patients and index % 4 else False,
            "contact_name": False if index % 4 else "Walk-in visitor",
            "department_id": department.id,
            "channel": rng.choice(["phone", "visit", "email", "social_media"]),
            "category_id": env.ref("clinic_retention." + category).id,
            "severity": severity,
            "received_date": received,
        }
        vals_list.append(vals)
    complaints = Complaint.create(vals_list) | responses.complaint_id.sudo()
    for complaint in complaints.sorted("received_date"):
        age = (now - complaint.received_date).days
        if age < 10:
            kind = rng.choice(["new", "new", "investigating"])
        elif age < 45:
            kind = rng.choice(["investigating", "resolved", "resolved", "new"])
        else:
            kind = rng.choices(["closed", "resolved", "investigating"], weights=[70, 25, 5])[0]
        values = {"stage_id": stage[kind].id}
        if kind in ("resolved", "closed"):
            resolved = complaint.received_date + timedelta(days=rng.randint(1, 12))
            values.update(
                root_cause=ROOT_CAUSE,
                corrective_action=CORRECTIVE_ACTION,
                resolution=RESOLUTION,
                resolution_satisfaction=rng.choice([3, 4, 4, 5, 5, 2]),
                resolved_date=resolved,
            )
            if kind == "closed":
                values["closed_date"] = resolved + timedelta(days=rng.randint(1, 7))
        complaint.write(values)
    # the overdue ones escalated as the nightly job would have (each level once)
    env["clinic.complaint"].sudo()._cron_escalate()
    env["clinic.complaint"].sudo()._cron_escalate()
