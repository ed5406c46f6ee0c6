"""The manager's full Excel workbook at scale, against hand-written SQL for
the same figures.

On the data of the reports benchmark (--patients patients, --tasks closed
follow-up tasks by several agents, --responses answered surveys with their
aspects, --complaints complaints, some with no department), measure:

  (w) the full workbook (every sheet: KPIs, satisfaction by department and
      aspect, by doctor and month by month, follow-up success by
      department, agent and channel, complaints, the lists, the CRM
      sheets) for the whole period of the data, and for its last tenth:
      seconds, SQL queries and memory. Goal: flat memory (the same for ten
      times the rows).
  (s) hand-written SQL GROUP BYs on the source tables computing the same
      figures as the workbook's satisfaction, follow-up and complaint
      tables (as the superuser: no record rules on either side).

The figures read back from the workbook must equal the SQL's (rounded to
6 places) before any ratio is printed.

Run it with ``bench/run.sh export [--patients 100000] [--tasks 1000000]
[--responses 300000] [--complaints 20000]``.
"""

import argparse
import io
import os
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(__file__))

from bench_reports import generate, generate_visits
from datagen import vacuum
from odoo_env import DB, Measure, boot, check_equal, emit, environment, machine, measure_in_subprocess, ratio, save

AGENTS = 8
REACHED = ("reached", "visit_booked", "refused")
SUCCESS = ("reached", "visit_booked")

SQL_SATISFACTION = """
    SELECT d.name->>'en_US', count(*), avg(r.score::float),
           avg(CASE WHEN r.score >= 4 THEN 1.0 ELSE 0.0 END), avg(CASE WHEN r.score <= 2 THEN 1.0 ELSE 0.0 END),
           avg(NULLIF(r.waiting_score, 0)::float), avg(NULLIF(r.doctor_score, 0)::float),
           avg(NULLIF(r.staff_score, 0)::float), avg(NULLIF(r.cleanliness_score, 0)::float)
      FROM clinic_survey_response r
      JOIN clinic_department d ON d.id = r.department_id
     WHERE r.state = 'answered' AND r.score > 0 AND r.submitted_date >= %(start)s AND r.submitted_date < %(end)s
     GROUP BY 1
"""
SQL_SUCCESS = """
    SELECT {key}, count(*),
           avg(CASE WHEN t.outcome IN %(reached)s THEN 1.0 ELSE 0.0 END),
           avg(CASE WHEN t.outcome IN %(success)s THEN 1.0 ELSE 0.0 END),
           avg(t.attempt_count::float),
           avg(EXTRACT(EPOCH FROM (t.first_contact_date - t.open_date)) / 3600.0)
      FROM clinic_followup_task t
      JOIN clinic_department d ON d.id = t.department_id
      LEFT JOIN res_users u ON u.id = t.user_id
      LEFT JOIN res_partner up ON up.id = u.partner_id
     WHERE t.is_closed AND t.outcome IS NOT NULL AND t.closed_date >= %(start)s AND t.closed_date < %(end)s
     GROUP BY 1
"""
SQL_COMPLAINTS = """
    SELECT COALESCE(d.name->>'en_US', 'No department'),
           count(*) FILTER (WHERE c.received_date >= %(start)s AND c.received_date < %(end)s),
           count(*) FILTER (WHERE c.is_open)
      FROM clinic_complaint c
      LEFT JOIN clinic_department d ON d.id = c.department_id
     WHERE c.active
     GROUP BY 1
"""


def generate_more(env, complaints):
    """Agents on the tasks, aspects on the answers, and complaints (set-based
    SQL, once)."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM clinic_complaint")
    if cr.fetchone()[0] >= complaints:
        return
    agents = env["res.users"].search([("login", "like", "bench_agent_%")])
    for index in range(len(agents), AGENTS):
        agents |= env["res.users"].create(
            {
                "name": f"Bench agent {index}",
                "login": f"bench_agent_{index}",
                "groups_id": [(4, env.ref("clinic_retention.group_clinic_retention_user").id)],
            }
        )
    cr.execute(
        "UPDATE clinic_followup_task SET user_id = (%s::int[])[1 + id %% %s] WHERE user_id IS NULL",
        [agents.ids, len(agents)],
    )
    cr.execute(
        """
        UPDATE clinic_survey_response
           SET waiting_score = 1 + (id * 3) % 5, doctor_score = CASE WHEN id % 4 = 0 THEN 0 ELSE 1 + (id * 5) % 5 END,
               staff_score = 1 + (id * 11) % 5, cleanliness_score = CASE WHEN id % 3 = 0 THEN 0 ELSE 1 + id % 5 END
         WHERE waiting_score = 0
        """
    )
    departments = env["clinic.department"].search([("code", "like", "BENCHP%")]).ids
    stages = {stage.kind: stage.id for stage in env["clinic.complaint.stage"].search([], order="sequence desc")}
    print(f"generating {complaints} complaints...", flush=True)
    cr.execute(
        """
        INSERT INTO clinic_complaint
               (name, reference, company_id, department_id, channel, severity, priority, stage_id, state, is_open,
                active, received_date, deadline, second_deadline, escalation_level, description,
                create_date, write_date, create_uid, write_uid)
        SELECT 'Bench complaint ' || g, 'BENCH/' || g, %(company)s,
               CASE WHEN g %% 7 = 0 THEN NULL ELSE (%(departments)s::int[])[1 + g %% %(ndept)s] END,
               'phone', 'medium', '0', (%(stages)s::int[])[1 + g %% 4], (%(kinds)s::varchar[])[1 + g %% 4],
               g %% 4 < 2, TRUE, ts, ts + INTERVAL '3 days', ts + INTERVAL '4 days', 0, 'Bench',
               now(), now(), 1, 1
          FROM generate_series(1, %(count)s) AS g,
               LATERAL (SELECT TIMESTAMP '2024-01-01' + make_interval(mins => (g * 41) %% (60 * 24 * 900))) AS s(ts)
        """,
        {
            "company": env.company.id,
            "departments": departments,
            "ndept": len(departments),
            "stages": [stages[kind] for kind in ("new", "investigating", "resolved", "closed")],
            "kinds": ["new", "investigating", "resolved", "closed"],
            "count": complaints,
        },
    )


def period(env, tenth=False):
    """The whole span of the data (2024-01-01 and 900 days), or its last tenth."""
    first, last = date(2024, 1, 1), date(2024, 1, 1) + timedelta(days=900)
    if tenth:
        first = last - timedelta(days=90)
    return first, last


def _table(rows, title=None):
    """{first cell: row values} of the table under ``title`` (or the first
    one, under the sheet's title) in a sheet's rows."""
    index = 2 if title is None else next(i for i, row in enumerate(rows) if row and row[0] == title) + 1
    width = sum(1 for cell in rows[index] if cell is not None)  # the sheet's rows are as wide as its widest table
    table = {}
    for row in rows[index + 1 :]:
        if not row or row[0] is None:
            break
        table[row[0]] = [round(value, 6) if isinstance(value, float) else value for value in row[1:width]]
    return table


def phase_workbook(registry, tenth):
    import openpyxl

    with environment(registry) as env:
        date_from, date_to = period(env, tenth)
        with Measure() as measure:
            content = env["clinic.retention.xlsx"]._build(date_from, date_to)
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        satisfaction = [tuple(row) for row in book["Satisfaction"].iter_rows(values_only=True)]
        followup = [tuple(row) for row in book["Follow-up success"].iter_rows(values_only=True)]
        complaints = [tuple(row) for row in book["Complaints"].iter_rows(values_only=True)]
        emit(
            measure.result(
                rows=sum(book[name].max_row or 0 for name in book.sheetnames),
                bytes=len(content),
                sheets=len(book.sheetnames),
                figures={
                    "satisfaction": _table(satisfaction),
                    "department": _table(followup),
                    "agent": _table(followup, "By agent"),
                    "channel": _table(followup, "By channel"),
                    "complaints": {
                        name: [values[0], values[-2]] for name, values in _table(complaints).items() if name != "Total"
                    },
                },
            )
        )


def phase_sql(registry, tenth):
    with environment(registry) as env:
        date_from, date_to = period(env, tenth)
        start, end = env["clinic.retention.kpi"]._bounds(date_from, date_to)
        params = {"start": start, "end": end, "reached": REACHED, "success": SUCCESS}
        channels = dict(env["clinic.followup.task"]._fields["channel"]._description_selection(env))
        cr = env.cr
        figures = {}
        with Measure() as measure:
            cr.execute(SQL_SATISFACTION, params)
            figures["satisfaction"] = cr.fetchall()
            for key, column in (("department", "d.name->>'en_US'"), ("agent", "up.name"), ("channel", "t.channel")):
                cr.execute(SQL_SUCCESS.format(key=column), params)
                figures[key] = cr.fetchall()
            cr.execute(SQL_COMPLAINTS, params)
            figures["complaints"] = cr.fetchall()

        def plain(rows, label=lambda key: key):
            return {
                label(key): [round(float(value), 6) if value is not None else None for value in values]
                for key, *values in rows
            }

        figures = {name: plain(rows) for name, rows in figures.items()}
        figures["channel"] = {channels.get(key, key): values for key, values in figures["channel"].items()}
        figures["complaints"] = {name: [int(a), int(b)] for name, (a, b) in figures["complaints"].items() if a or b}
        emit(measure.result(rows=sum(len(rows) for rows in figures.values()), figures=figures))


PHASES = {"workbook": phase_workbook, "sql": phase_sql}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100000)
    parser.add_argument("--tasks", type=int, default=1000000)
    parser.add_argument("--responses", type=int, default=300000)
    parser.add_argument("--complaints", type=int, default=20000)
    parser.add_argument("--visits", type=int, default=300000)
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--tenth", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    registry = boot()
    if args.phase:
        PHASES[args.phase](registry, args.tenth)
        return

    script = os.path.abspath(__file__)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print("Excel export benchmark")
    print(f"{started} on {machine()}")
    with environment(registry) as env:
        generate(env, args.patients, args.tasks, args.responses)
        generate_visits(env, args.visits)
        generate_more(env, args.complaints)
    vacuum(DB)
    full = measure_in_subprocess(script, ["--phase", "workbook"], timeout=7200)
    tenth = measure_in_subprocess(script, ["--phase", "workbook", "--tenth"], timeout=7200)
    sql = measure_in_subprocess(script, ["--phase", "sql"], timeout=7200)
    print(f"\n(w) the full workbook ({full['sheets']} sheets, {full['rows']} rows written, {full['bytes']} bytes)")
    for label, result in (("whole period", full), ("last tenth  ", tenth)):
        print(
            f"    {label}  {result['seconds']:8.2f} s  {result['queries']:>6} queries  "
            f"memory +{result['peak_mb']:.0f} MB (peak RSS {result['max_rss_mb']:.0f} MB)"
        )
    print(f"(s) hand-written SQL for the same figures  {sql['seconds']:.3f} s")
    for name in ("satisfaction", "department", "agent", "channel", "complaints"):
        check_equal(f"{name}: workbook and SQL", sql["figures"][name], full["figures"][name])
    print("\nSummary")
    print(
        f"full workbook {full['seconds']:.2f} s, of which the figures' SQL alone takes {sql['seconds']:.3f} s "
        f"(workbook/SQL {ratio(full['seconds'], sql['seconds'])}x: the workbook also writes every sheet and list); "
        f"memory +{full['peak_mb']:.0f} MB for the whole period vs +{tenth['peak_mb']:.0f} MB for a tenth (flat)"
    )
    save(
        "export",
        {"started": started, "machine": machine(), "argv": sys.argv[1:], "full": full, "tenth": tenth, "sql": sql},
    )


if __name__ == "__main__":
    main()
