"""Recall engine benchmark.

On the same generated data (patients with several completed dental
check-ups over three years, one recall rule "every 182 days, 14 days
ahead"), measure the work of opening every due recall task done by:

  (a)  our engine (``clinic.recall.rule._run_batch`` until done, as the cron does);
  (a2) our engine again right after: it must open nothing, fast;
  (b)  a stock Odoo time-based automation rule (base.automation, trigger
       "on_time" on the patient's last visit date + 168 days, a server
       action creating the task), run by ``base.automation._check``;
  (c)  a raw SQL ``INSERT ... SELECT`` of the same rows: the floor.

Same mail behaviour for (a) and (b): both create the tasks with the same
context flags (``tracking_disable``, ``mail_create_nolog``: no "created"
log line and no "assigned to you" e-mail per task) and both make the
assignee a follower of each task; (c) inserts the same tasks and follower
rows in SQL. Why a clinic wants it: the engine opens hundreds of recalls a
night; agents find them on their board, and one e-mail per task would
flood their inboxes, while following the task still brings them the
patient's replies.

Before any ratio, the script checks that the contenders produced the same
result: the same (patient, due date) tasks, each followed by its assignee.
``--profile`` prints where the engine's time goes.

Run it with ``bench/run.sh recall [--sizes 10000,100000] [--profile]``.
"""

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from datagen import vacuum
from odoo_env import (
    DB,
    Measure,
    boot,
    check_equal,
    emit,
    environment,
    fmt,
    machine,
    measure_in_subprocess,
    ratio,
    report_automation_progress,
    save,
)

from odoo.tools import SQL

INTERVAL_DAYS = 182
LEAD_DAYS = 14
B_TIMEOUT = 15 * 60
TEAM_SIZE = 5


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------


def fixture(env):
    """The department, service, team and rule the benchmark uses (created once)."""
    department = env["clinic.department"].search([("code", "=", "BENCH")])
    if department:
        rule = env["clinic.recall.rule"].search([("department_id", "=", department.id)])
        return department, rule
    users = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            [
                {
                    "name": f"Bench agent {i}",
                    "login": f"bench_agent_{i}",
                    "groups_id": [(6, 0, env.ref("clinic_retention.group_clinic_retention_user").ids)],
                }
                for i in range(TEAM_SIZE)
            ]
        )
    )
    department = env["clinic.department"].create(
        {"name": "Bench dental", "code": "BENCH", "member_ids": [(6, 0, users.ids)]}
    )
    service = env["clinic.service"].create({"name": "Bench check-up", "department_id": department.id})
    env["clinic.recall.rule"].search([]).active = False
    rule = env["clinic.recall.rule"].create(
        {
            "name": "Bench check-up recall",
            "kind": "recall",
            "department_id": department.id,
            "service_id": service.id,
            "interval_number": INTERVAL_DAYS,
            "interval_unit": "days",
            "lead_days": LEAD_DAYS,
            "max_overdue_days": 0,
        }
    )
    return department, rule


def generate(env, patients, visits_per_patient):
    """Replace the bench patients by ``patients`` new ones with
    ``visits_per_patient`` completed visits each (set-based SQL)."""
    department, rule = fixture(env)
    company = env.company.id
    cr = env.cr
    reset_tasks(env)
    cr.execute("DELETE FROM clinic_visit WHERE department_id = %s", [department.id])
    cr.execute(
        "DELETE FROM clinic_patient WHERE partner_id IN (SELECT id FROM res_partner WHERE name LIKE 'Bench patient %%')"
    )
    cr.execute("DELETE FROM res_partner WHERE name LIKE 'Bench patient %%'")
    cr.execute("SELECT setseed(0.42)")
    cr.execute(
        """
        WITH partners AS (
            INSERT INTO res_partner (name, complete_name, active, company_id, type, is_company, is_patient,
                                     lang, create_date, write_date, create_uid, write_uid)
            SELECT 'Bench patient ' || g, 'Bench patient ' || g, TRUE, %(company)s, 'contact', FALSE, TRUE,
                   'en_US', now(), now(), 1, 1
              FROM generate_series(1, %(patients)s) AS g
         RETURNING id
        )
        INSERT INTO clinic_patient (partner_id, company_id, care_consent, preferred_channel, lifecycle_state,
                                    visit_count, create_date, write_date, create_uid, write_uid)
        SELECT id, %(company)s, TRUE, 'phone', 'active', %(visits)s, now(), now(), 1, 1 FROM partners
        """,
        {"company": company, "patients": patients, "visits": visits_per_patient},
    )
    # fresh statistics first: on a new database the planner otherwise takes
    # minutes over this update at 100,000 patients
    cr.execute("ANALYZE res_partner")
    cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE name LIKE 'Bench patient %%'")
    service_id = rule.service_id.id
    # The last check-up is anywhere in the last two years; earlier ones every ~4 months before.
    cr.execute(
        """
        INSERT INTO clinic_visit (patient_id, department_id, service_id, company_id, state, start, stop,
                                  amount, access_token, confirmation_state,
                                  create_date, write_date, create_uid, write_uid)
        SELECT p.id, %(department)s, %(service)s, %(company)s, 'done', v.start, v.start + interval '30 minutes',
               60, md5(random()::text || p.id || v.start), 'unconfirmed', now(), now(), 1, 1
          FROM clinic_patient p
          JOIN res_partner rp ON rp.id = p.partner_id AND rp.name LIKE 'Bench patient %%'
         CROSS JOIN LATERAL (
               -- p.id makes the subquery run per patient (else random() runs once)
               SELECT date_trunc('minute', now() - make_interval(days => (random() * 730 + p.id * 0)::int)
                                 - make_interval(days => 120 * k)) AS start
                 FROM generate_series(0, %(visits)s - 1) AS k
               ) AS v
        """,
        {
            "department": department.id,
            "service": service_id,
            "company": company,
            "visits": visits_per_patient,
        },
    )
    cr.execute(
        """
        UPDATE clinic_patient p
           SET first_visit_date = s.first_start, last_visit_date = s.last_start
          FROM (SELECT patient_id, MIN(start) AS first_start, MAX(start) AS last_start
                  FROM clinic_visit WHERE department_id = %s GROUP BY patient_id) AS s
         WHERE s.patient_id = p.id
        """,
        [department.id],
    )
    cr.execute("SELECT COUNT(*) FROM clinic_visit WHERE department_id = %s", [department.id])
    return cr.fetchone()[0]


def reset_tasks(env):
    department, _rule = fixture(env)
    cr = env.cr
    cr.execute(
        "DELETE FROM mail_followers WHERE res_model = 'clinic.followup.task' AND res_id IN "
        "(SELECT id FROM clinic_followup_task WHERE department_id = %s)",
        [department.id],
    )
    cr.execute(
        "DELETE FROM mail_message WHERE model = 'clinic.followup.task' AND res_id IN "
        "(SELECT id FROM clinic_followup_task WHERE department_id = %s)",
        [department.id],
    )
    cr.execute("DELETE FROM clinic_followup_task WHERE department_id = %s", [department.id])
    env["base.automation"].search([("name", "=", "Bench recall automation")]).unlink()


def count_tasks(env):
    department, _rule = fixture(env)
    env.cr.execute("SELECT COUNT(*) FROM clinic_followup_task WHERE department_id = %s", [department.id])
    return env.cr.fetchone()[0]


def outcome(env):
    """What a contender produced, to compare: the tasks as (patient, due
    date) pairs (count and digest), how many are followed by their assignee,
    and the follower rows on them."""
    department, _rule = fixture(env)
    env.cr.execute(
        """
        SELECT t.patient_id, t.due_date, t.date_deadline, t.reason, t.rule_id, t.stage_id,
               EXISTS (SELECT 1 FROM mail_followers f JOIN res_users u ON u.partner_id = f.partner_id
                        WHERE f.res_model = 'clinic.followup.task' AND f.res_id = t.id AND u.id = t.user_id),
               (SELECT COUNT(*) FROM mail_followers f WHERE f.res_model = 'clinic.followup.task' AND f.res_id = t.id)
          FROM clinic_followup_task t
         WHERE t.department_id = %s
         ORDER BY t.patient_id, t.due_date
        """,
        [department.id],
    )
    rows = env.cr.fetchall()
    digest = hashlib.sha256(repr([row[:6] for row in rows]).encode()).hexdigest()[:16]
    return {
        "tasks": len(rows),
        "digest": digest,
        "followed_by_assignee": sum(1 for row in rows if row[6]),
        "follower_rows": sum(row[7] for row in rows),
    }


# ----------------------------------------------------------------------
# Phases (each in its own process)
# ----------------------------------------------------------------------


def phase_engine(registry):
    """(a) then (a2): our engine, batch after batch, as the cron runs it
    (``commit=True``: committed chunk by chunk, the cache emptied after each)."""
    results = {}
    for label in ("a", "a2"):
        with environment(registry) as env:
            _department, rule = fixture(env)
        with Measure() as measure:
            created = 0
            more = True
            while more:
                with environment(registry) as env:
                    rule = env["clinic.recall.rule"].browse(rule.id)
                    batch, more = rule._run_batch(rules=rule, commit=True)
                    created += len(batch)
        results[label] = measure.result(tasks=created)
        if label == "a":
            with environment(registry) as env:
                results[label]["outcome"] = outcome(env)
    emit(results)


def phase_automation(registry):
    """(b): the same work as a stock time-based automation rule."""
    with environment(registry) as env:
        department, rule = fixture(env)
        users = department.member_ids.ids
        env["base.automation"].search([]).active = False
        # The same mail behaviour as the engine: no creation log, no
        # "assigned to you" e-mail, and the assignee follows the task.
        code = f"""
user_ids = {users}
Task = env['clinic.followup.task'].with_context(tracking_disable=True, mail_create_nolog=True)
for record in records:
    user = env['res.users'].browse(user_ids[record.id % len(user_ids)])
    task = Task.create({{
        'name': 'Bench check-up recall',
        'patient_id': record.id,
        'department_id': {department.id},
        'reason': 'recall',
        'rule_id': {rule.id},
        'due_date': (record.last_visit_date + datetime.timedelta(days={INTERVAL_DAYS})).date(),
        'date_deadline': (record.last_visit_date + datetime.timedelta(days={INTERVAL_DAYS})).date(),
        'user_id': user.id,
    }})
    task.message_subscribe(partner_ids=user.partner_id.ids)
"""
        env["base.automation"].create(
            {
                "name": "Bench recall automation",
                "model_id": env["ir.model"]._get_id("clinic.patient"),
                "trigger": "on_time",
                "trg_date_id": env["ir.model.fields"]._get("clinic.patient", "last_visit_date").id,
                "trg_date_range": INTERVAL_DAYS - LEAD_DAYS,
                "trg_date_range_type": "day",
                "filter_domain": f"[('care_consent', '=', True), ('company_id', '=', {env.company.id})]",
                "action_server_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Open recall task",
                            "model_id": env["ir.model"]._get_id("clinic.patient"),
                            "state": "code",
                            "code": code,
                        },
                    )
                ],
            }
        )
    report_automation_progress(registry)
    with Measure() as measure, environment(registry) as env:
        env["base.automation"]._check(False)
    with environment(registry) as env:
        emit(measure.result(tasks=count_tasks(env), outcome=outcome(env)))


def phase_sql(registry):
    """(c): the floor, one INSERT ... SELECT over the engine's own candidate query."""
    with Measure() as measure, environment(registry) as env:
        _department, rule = fixture(env)
        stage = env.ref("clinic_retention.followup_stage_new")
        user_ids = rule.department_id.member_ids.ids
        subtypes = env["mail.message.subtype"].default_subtypes("clinic.followup.task")[0].ids
        env.cr.execute(
            SQL(
                """
                WITH task AS (
                INSERT INTO clinic_followup_task (
                    name, patient_id, department_id, reason, rule_id, recall_key, due_date, date_deadline,
                    user_id, stage_id, state, is_closed, active, company_id, attempt_count, max_attempts,
                    retry_delay_days, channel, priority, open_date, create_date, write_date, create_uid, write_uid)
                SELECT %(name)s, c.patient_id, %(department)s, 'recall', %(rule)s, c.recall_key, c.due_date,
                       c.due_date, (%(users)s::int[])[1 + mod(c.patient_id, %(team)s)], %(stage)s, 'new', FALSE, TRUE,
                       %(company)s, 0, 3, 2, 'phone', '0', now(), now(), now(), 1, 1
                  FROM (%(candidates)s) AS c
             RETURNING id, user_id
                ), follower AS (
                INSERT INTO mail_followers (res_model, res_id, partner_id)
                SELECT 'clinic.followup.task', task.id, u.partner_id
                  FROM task JOIN res_users u ON u.id = task.user_id
             RETURNING id
                ), subtype AS (
                INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id, mail_message_subtype_id)
                SELECT follower.id, s FROM follower CROSS JOIN unnest(%(subtypes)s::int[]) AS s
                )
                SELECT COUNT(*) FROM task
                """,
                name=rule.name,
                department=rule.department_id.id,
                rule=rule.id,
                users=user_ids,
                team=len(user_ids),
                stage=stage.id,
                company=rule.company_id.id,
                candidates=rule._candidates_sql(10**9),
                subtypes=subtypes,
            )
        )
        created = env.cr.fetchone()[0]
    with environment(registry) as env:
        emit(measure.result(tasks=created, outcome=outcome(env)))


def phase_profile(registry):
    """Where the engine's time goes: wall time per part (candidate SQL,
    preparing values, ORM create, followers, commits), then the functions
    that cost most under cProfile (cumulative time, Odoo's own included)."""
    Rule = registry["clinic.recall.rule"]
    parts = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    Task = registry["clinic.followup.task"]
    Rule._prepare_run = timed("ours: candidates (release keys, resync, candidate SQL)", Rule._prepare_run)
    Rule._task_values = timed("ours: task values (assignees, templates)", Rule._task_values)
    Rule._subscribe_assignees = timed("ours: followers (one insert per batch)", Rule._subscribe_assignees)
    Task.create = timed("Odoo create(), all of it", Task.create)
    # inside Odoo's create(): where its time goes
    Task._prepare_create_values = timed("  Odoo create: defaults per record (default_get)", Task._prepare_create_values)
    Task._create = timed("  Odoo create: INSERT and cache (_create)", Task._create)
    Task._check_company = timed("  Odoo create: company check per record and field", Task._check_company)
    Task._validate_fields = timed("  Odoo create: constraints (_validate_fields)", Task._validate_fields)
    profiler = cProfile.Profile()
    with environment(registry) as env:
        _department, rule = fixture(env)
    started = time.perf_counter()
    profiler.enable()
    created = 0
    more = True
    while more:
        with environment(registry) as env:
            batch, more = env["clinic.recall.rule"]._run_batch(
                rules=env["clinic.recall.rule"].browse(rule.id), commit=True
            )
            created += len(batch)
            commit_started = time.perf_counter()
            env.cr.commit()
            parts["commit"] = parts.get("commit", 0.0) + time.perf_counter() - commit_started
    profiler.disable()
    total = time.perf_counter() - started
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(20)
    emit({"total": round(total, 3), "tasks": created, "parts": parts, "top": stream.getvalue()})


PHASES = {"engine": phase_engine, "automation": phase_automation, "sql": phase_sql, "profile": phase_profile}


# ----------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------


def done(result):
    return f"{result['tasks']} tasks"


def print_profile(profile):
    total = profile["total"]
    print(f"\n(a) profiled: {total:.2f} s for {profile['tasks']} tasks (profiling slows it down)")
    parts = profile["parts"]
    create = parts.get("Odoo create(), all of it", 0.0)
    inside = sum(seconds for name, seconds in parts.items() if name.startswith("  Odoo create:"))
    parts["  Odoo create: the rest (computed fields, inverses, flush)"] = max(create - inside, 0.0)
    outside = sum(seconds for name, seconds in parts.items() if not name.startswith("  "))
    parts["Odoo: flush and recompute at each chunk's savepoint, cache, batch loop"] = max(total - outside, 0.0)
    for name, seconds in sorted(parts.items(), key=lambda item: (not item[0].startswith("ours"), -item[1])):
        print(f"     {seconds:8.2f} s  {100 * seconds / total:5.1f} %  {name}")
    print("     top functions by own time:")
    for line in profile["top"].splitlines():
        if line.strip():
            print("       " + line[:150])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="patient counts, comma-separated")
    parser.add_argument("--visits-per-patient", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also profile the engine at each size")
    parser.add_argument("--skip-stock", action="store_true", help="skip (b), the stock rule (the slow one)")
    parser.add_argument(
        "--check-size",
        type=int,
        default=1000,
        help="patients of a first, small run where (b) always finishes, so its output is checked equal to (a)'s",
    )
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()

    registry = boot()
    if args.phase:
        PHASES[args.phase](registry)
        return

    script = os.path.abspath(__file__)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print("Recall engine benchmark: (a) our engine, (b) stock base.automation, (c) raw SQL floor")
    print(f"{started} on {machine()}")
    summary = []
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.check_size and not args.skip_stock and args.check_size not in sizes:
        sizes.insert(0, args.check_size)  # equal-output check of (b), which large sizes stop before the end
    for size in sizes:
        with environment(registry) as env:
            visits = generate(env, size, args.visits_per_patient)
        vacuum(DB)
        print(f"\n== {size} patients, {visits} visits ==", flush=True)
        results = {}
        engine = measure_in_subprocess(script, ["--phase", "engine"], timeout=3600)
        results["a"], results["a2"] = engine["a"], engine["a2"]
        print(f"(a)  engine          {fmt(results['a'], done)}", flush=True)
        print(f"(a2) engine again    {fmt(results['a2'], done)}", flush=True)
        phases = [("c", "sql", 3600)] + ([] if args.skip_stock else [("b", "automation", B_TIMEOUT)])
        for label, phase, timeout in phases:
            with environment(registry) as env:
                reset_tasks(env)
            vacuum(DB)
            results[label] = measure_in_subprocess(script, ["--phase", phase], timeout=timeout)
            name = {"b": "base.automation", "c": "raw SQL"}[label]
            print(f"({label})  {name:<15} {fmt(results[label], done, timeout, 'patients')}", flush=True)
        a, a2, c = results["a"], results["a2"], results["c"]
        check_equal("(a) and (c): the same tasks and follower rows", a["outcome"], c["outcome"])
        if a["outcome"]["followed_by_assignee"] != a["tasks"]:
            raise SystemExit("(a): some tasks are not followed by their assignee")
        b = results.get("b")
        if b and "outcome" in b:
            check_equal("(a) and (b): the same tasks, each followed by its assignee", a["outcome"], b["outcome"])
        elif b:
            print(
                "     (b) was stopped: its single transaction committed nothing to compare; "
                f"its output is checked at {args.check_size} patients"
            )
        if args.profile:
            with environment(registry) as env:
                reset_tasks(env)
            vacuum(DB)
            results["profile"] = measure_in_subprocess(script, ["--phase", "profile"], timeout=3600)
            print_profile(results["profile"])
        print(f"a/c = {ratio(a['seconds'], c['seconds'])}x the raw SQL floor")
        if b:
            b_seconds = b.get("seconds") or b.get("timeout")
            b_note = "" if "seconds" in b else " (b stopped: at least)"
            print(f"b/a = {ratio(b_seconds, a['seconds'])}x faster than base.automation{b_note}")
        print(f"a2/a = {ratio(a2['seconds'] * 100, a['seconds'])} % (second run, {a2['tasks']} tasks)")
        summary.append((size, visits, results))
        with environment(registry) as env:
            reset_tasks(env)

    print("\nSummary")
    print("patients | tasks | (a) s | (b) s | (c) s | (a2) s | a/c | b/a | a2/a")
    for size, _visits, r in summary:
        b = r.get("b", {})
        b_value = b.get("seconds") or b.get("timeout")
        b_text = b.get("seconds", f">={b.get('timeout')}" if b else "-")
        print(
            f"{size} | {r['a']['tasks']} | {r['a']['seconds']} | {b_text} | {r['c']['seconds']} | "
            f"{r['a2']['seconds']} | {ratio(r['a']['seconds'], r['c']['seconds'])} | "
            f"{ratio(b_value, r['a']['seconds']) if b_value else '-'} | "
            f"{ratio(r['a2']['seconds'] * 100, r['a']['seconds'])} %"
        )
    save("recall", {"started": started, "machine": machine(), "argv": sys.argv[1:], "runs": summary})


if __name__ == "__main__":
    main()
