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

Run it with ``bench/run.sh recall [--sizes 10000,100000]``.
"""

import argparse
import os
import sys
import time

import psycopg2

sys.path.insert(0, os.path.dirname(__file__))

from odoo_env import DB, Measure, boot, emit, environment, measure_in_subprocess, ratio

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


def vacuum():
    connection = psycopg2.connect(
        dbname=DB,
        host=os.environ.get("DB_HOST", "localhost"),
        port=os.environ.get("DB_PORT", "5432"),
        user=os.environ.get("DB_USER"),
        password=os.environ.get("DB_PASSWORD"),
    )
    connection.autocommit = True
    with connection.cursor() as cr:
        cr.execute("VACUUM ANALYZE")
    connection.close()


def count_tasks(env):
    department, _rule = fixture(env)
    env.cr.execute("SELECT COUNT(*) FROM clinic_followup_task WHERE department_id = %s", [department.id])
    return env.cr.fetchone()[0]


# ----------------------------------------------------------------------
# Phases (each in its own process)
# ----------------------------------------------------------------------


def phase_engine(registry):
    """(a) then (a2): our engine, batch after batch, committed per batch as the cron does."""
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
                    batch, more = rule._run_batch(rules=rule)
                    created += len(batch)
        results[label] = measure.result(tasks=created)
    emit(results)


def phase_automation(registry):
    """(b): the same work as a stock time-based automation rule."""
    with environment(registry) as env:
        department, rule = fixture(env)
        users = department.member_ids.ids
        env["base.automation"].search([]).active = False
        code = f"""
user_ids = {users}
for record in records:
    env['clinic.followup.task'].create({{
        'name': 'Bench check-up recall',
        'patient_id': record.id,
        'department_id': {department.id},
        'reason': 'recall',
        'rule_id': {rule.id},
        'due_date': (record.last_visit_date + datetime.timedelta(days={INTERVAL_DAYS})).date(),
        'date_deadline': (record.last_visit_date + datetime.timedelta(days={INTERVAL_DAYS})).date(),
        'user_id': user_ids[record.id % len(user_ids)],
    }})
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
    # Count the records the stock rule processes, to report its pace if it
    # has to be stopped (its single transaction commits nothing before the end).
    automation_class = registry["base.automation"]
    stock_process = automation_class._process
    done = {"count": 0, "start": time.perf_counter()}

    def counting_process(self, records, domain_post=None):
        result = stock_process(self, records, domain_post=domain_post)
        done["count"] += len(records)
        if done["count"] % 250 == 0:
            print(f"PROGRESS {done['count']} {time.perf_counter() - done['start']:.1f}", flush=True)
        return result

    automation_class._process = counting_process
    with Measure() as measure, environment(registry) as env:
        env["base.automation"]._check(False)
    with environment(registry) as env:
        emit(measure.result(tasks=count_tasks(env)))


def phase_sql(registry):
    """(c): the floor, one INSERT ... SELECT over the engine's own candidate query."""
    with Measure() as measure, environment(registry) as env:
        _department, rule = fixture(env)
        stage = env.ref("clinic_retention.followup_stage_new")
        user_ids = rule.department_id.member_ids.ids
        env.cr.execute(
            SQL(
                """
                INSERT INTO clinic_followup_task (
                    name, patient_id, department_id, reason, rule_id, recall_key, due_date, date_deadline,
                    user_id, stage_id, state, is_closed, active, company_id, attempt_count, max_attempts,
                    retry_delay_days, channel, priority, open_date, create_date, write_date, create_uid, write_uid)
                SELECT %(name)s, c.patient_id, %(department)s, 'recall', %(rule)s, c.recall_key, c.due_date,
                       c.due_date, (%(users)s::int[])[1 + mod(c.patient_id, %(team)s)], %(stage)s, 'new', FALSE, TRUE,
                       %(company)s, 0, 3, 2, 'phone', '0', now(), now(), now(), 1, 1
                  FROM (%(candidates)s) AS c
                """,
                name=rule.name,
                department=rule.department_id.id,
                rule=rule.id,
                users=user_ids,
                team=len(user_ids),
                stage=stage.id,
                company=rule.company_id.id,
                candidates=rule._candidates_sql(10**9),
            )
        )
        created = env.cr.rowcount
    emit(measure.result(tasks=created))


PHASES = {"engine": phase_engine, "automation": phase_automation, "sql": phase_sql}


# ----------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------


def fmt(result):
    if "timeout" in result:
        pace = ""
        if result.get("progress"):
            count, seconds = result["progress"]
            pace = f", {count} tasks opened by then ({count / seconds:.1f}/s)"
        return f"stopped after {result['timeout']} s (over {B_TIMEOUT // 60} min){pace}"
    return (
        f"{result['seconds']:>8.2f} s  {result['queries']:>8} queries  memory +{result['peak_mb']:.0f} MB "
        f"(peak RSS {result['max_rss_mb']:.0f} MB)  {result['tasks']} tasks"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="patient counts, comma-separated")
    parser.add_argument("--visits-per-patient", type=int, default=5)
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()

    registry = boot()
    if args.phase:
        PHASES[args.phase](registry)
        return

    script = os.path.abspath(__file__)
    print("Recall engine benchmark: (a) our engine, (b) stock base.automation, (c) raw SQL floor")
    summary = []
    for size in (int(s) for s in args.sizes.split(",")):
        with environment(registry) as env:
            visits = generate(env, size, args.visits_per_patient)
        vacuum()
        print(f"\n== {size} patients, {visits} visits ==", flush=True)
        results = {}
        engine = measure_in_subprocess(script, ["--phase", "engine"], timeout=3600)
        results["a"], results["a2"] = engine["a"], engine["a2"]
        print(f"(a)  engine          {fmt(results['a'])}", flush=True)
        print(f"(a2) engine again    {fmt(results['a2'])}", flush=True)
        for label, phase, timeout in (("b", "automation", B_TIMEOUT), ("c", "sql", 3600)):
            with environment(registry) as env:
                reset_tasks(env)
            vacuum()
            results[label] = measure_in_subprocess(script, ["--phase", phase], timeout=timeout)
            name = {"b": "base.automation", "c": "raw SQL"}[label]
            print(f"({label})  {name:<15} {fmt(results[label])}", flush=True)
        a, a2, b, c = (results[k] for k in ("a", "a2", "b", "c"))
        b_seconds = b.get("seconds") or b.get("timeout")
        b_note = "" if "seconds" in b else " (b stopped: at least)"
        print(f"b/a = {ratio(b_seconds, a['seconds'])}x faster than base.automation{b_note}")
        print(f"a/c = {ratio(a['seconds'], c['seconds'])}x the raw SQL floor")
        print(f"a2/a = {ratio(a2['seconds'] * 100, a['seconds'])} % (second run, {a2['tasks']} tasks)")
        summary.append((size, visits, results))
        with environment(registry) as env:
            reset_tasks(env)

    print("\nSummary")
    print("patients | tasks | (a) s | (b) s | (c) s | (a2) s | b/a | a/c | a2/a")
    for size, _visits, r in summary:
        b_seconds = r["b"].get("seconds", f">{r['b'].get('timeout')}")
        b_value = r["b"].get("seconds") or r["b"].get("timeout")
        print(
            f"{size} | {r['a']['tasks']} | {r['a']['seconds']} | {b_seconds} | {r['c']['seconds']} | "
            f"{r['a2']['seconds']} | {ratio(b_value, r['a']['seconds'])} | "
            f"{ratio(r['a']['seconds'], r['c']['seconds'])} | {ratio(r['a2']['seconds'] * 100, r['a']['seconds'])} %"
        )


if __name__ == "__main__":
    main()
