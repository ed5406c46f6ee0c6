"""Visit reminder benchmark.

With --history completed visits in the past three years and --due visits
starting within the next 24 hours (so the "day before" reminders are due
now), measure one reminder pass of the shipped email and SMS rules:

  (a)  as shipped: precise rules, run by one ``base.automation._check``;
  (a2) the same pass again right after: nothing is sent twice;
  (b)  the same two rules as stock time-based rules (precise timing off),
       run by the same ``base.automation._check``;
  (s)  scaling: (a) again with a tenth of the due visits and the same
       history: the cost follows the due visits, not the history.

Run it with ``bench/run.sh reminders [--history 200000] [--due 10000]``.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from datagen import PATIENT_PREFIX, create_patients, delete_patients, vacuum
from odoo_env import DB, Measure, boot, emit, environment, measure_in_subprocess, ratio, report_automation_progress
from odoo_env import fmt as shared_fmt

B_TIMEOUT = 15 * 60
RULES = ("clinic_retention.automation_visit_reminder_email", "clinic_retention.automation_visit_reminder_sms")


def fixture(env):
    department = env["clinic.department"].search([("code", "=", "BENCHR")])
    if not department:
        department = env["clinic.department"].create({"name": "Bench reminders", "code": "BENCHR"})
    # Only the two day-before rules run.
    env["base.automation"].with_context(active_test=False).search([]).write({"active": False})
    rules = env["base.automation"].browse([env.ref(xmlid).id for xmlid in RULES])
    rules.write({"active": True, "last_run": False})
    env.company.write({"email": "care@clinic.example.com"})
    return department, rules


def generate(env, history, due):
    department, _rules = fixture(env)
    delete_patients(env)
    patients = max(due, history // 5)
    create_patients(env, patients, env.company.id, with_contacts=True)
    env.cr.execute("SELECT setseed(0.7)")
    env.cr.execute(
        """
        INSERT INTO clinic_visit (patient_id, department_id, company_id, state, start, stop, amount,
                                  access_token, confirmation_state, create_date, write_date, create_uid, write_uid)
        SELECT p.id, %(department)s, p.company_id, v.state, v.start, v.start + interval '30 minutes', 50,
               md5(random()::text || p.id || v.n), 'unconfirmed', now(), now(), 1, 1
          FROM (SELECT p.id, p.company_id, row_number() OVER (ORDER BY p.id) AS rank
                  FROM clinic_patient p JOIN res_partner rp ON rp.id = p.partner_id
                 WHERE rp.name LIKE %(prefix)s) AS p
         CROSS JOIN LATERAL (
               -- history: completed visits over three years
               SELECT n, 'done' AS state,
                      date_trunc('minute', now() at time zone 'UTC' - make_interval(days => (random() * 1095)::int + 1
                                                                                     + p.id * 0)) AS start
                 FROM generate_series(1, %(per_patient)s) AS n
               UNION ALL
               -- due: starts within the next 24 hours, for the first `due` patients
               SELECT 0, 'scheduled',
                      date_trunc('minute', now() at time zone 'UTC'
                                 + make_interval(mins => 5 + (random() * 1400)::int + p.id * 0))
                WHERE p.rank <= %(due)s
               ) AS v
        """,
        {"department": department.id, "prefix": PATIENT_PREFIX + "%", "per_patient": history // patients, "due": due},
    )
    env.cr.execute("SELECT state, COUNT(*) FROM clinic_visit WHERE department_id = %s GROUP BY state", [department.id])
    return dict(env.cr.fetchall())


def reset_messages(env):
    """Forget what a pass sent: outgoing mails, SMS, the ledger, the rules' last run."""
    _department, rules = fixture(env)
    env.cr.execute(
        "DELETE FROM mail_mail WHERE mail_message_id IN (SELECT id FROM mail_message WHERE model = 'clinic.visit')"
    )
    env.cr.execute("DELETE FROM mail_message WHERE model = 'clinic.visit' AND message_type = 'email_outgoing'")
    env.cr.execute("DELETE FROM sms_sms")
    env.cr.execute("DELETE FROM clinic_visit_reminder")
    rules.write({"last_run": False})


def sent_counts(env):
    env.cr.execute(
        "SELECT COUNT(*) FROM mail_mail JOIN mail_message ON mail_message.id = mail_mail.mail_message_id "
        "WHERE mail_message.model = 'clinic.visit'"
    )
    emails = env.cr.fetchone()[0]
    env.cr.execute("SELECT COUNT(*) FROM sms_sms")
    return {"emails": emails, "sms": env.cr.fetchone()[0]}


def phase_pass(registry, precise):
    with environment(registry) as env:
        _department, rules = fixture(env)
        rules.write({"clinic_precise": precise})
    if not precise:
        report_automation_progress(registry)  # its pace, should it have to be stopped
    results = {}
    for label in ("first", "second") if precise else ("first",):
        with environment(registry) as env:
            before = sent_counts(env)
        with Measure() as measure, environment(registry) as env:
            env["base.automation"]._check(False)
        with environment(registry) as env:
            after = sent_counts(env)
        results[label] = measure.result(**{key: after[key] - before[key] for key in after})
    emit(results)


PHASES = {"precise": lambda registry: phase_pass(registry, True), "stock": lambda registry: phase_pass(registry, False)}


def fmt(result):
    return shared_fmt(result, lambda r: f"{r['emails']} emails, {r['sms']} SMS", B_TIMEOUT, "visits")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=200000, help="completed visits in history")
    parser.add_argument("--due", type=int, default=10000, help="visits starting within 24 hours")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    registry = boot()
    if args.phase:
        PHASES[args.phase](registry)
        return

    script = os.path.abspath(__file__)
    print("Visit reminder benchmark: one pass of the day-before email and SMS rules")
    runs = {}
    for label, due in (("a", args.due), ("s", max(args.due // 10, 1))):
        with environment(registry) as env:
            counts = generate(env, args.history, due)
            reset_messages(env)
        vacuum(DB)
        print(f"\n== {counts.get('done', 0)} visits in history, {counts.get('scheduled', 0)} due ==", flush=True)
        result = measure_in_subprocess(script, ["--phase", "precise"], timeout=3600)
        runs[label], runs[label + "2"] = result["first"], result["second"]
        print(f"({label})  precise rules    {fmt(runs[label])}", flush=True)
        print(f"({label}2) same pass again  {fmt(runs[label + '2'])}", flush=True)
        if label == "a":
            with environment(registry) as env:
                reset_messages(env)
            vacuum(DB)
            result = measure_in_subprocess(script, ["--phase", "stock"], timeout=B_TIMEOUT)
            runs["b"] = result.get("first", result)
            print(f"(b)  stock rules      {fmt(runs['b'])}", flush=True)
        with environment(registry) as env:
            reset_messages(env)

    a, b, s = runs["a"], runs["b"], runs["s"]
    b_seconds = b.get("seconds") or b.get("timeout")
    b_note = "" if "seconds" in b else " (b was stopped: at least)"
    print("\nSummary")
    print(f"b/a  = {ratio(b_seconds, a['seconds'])}x faster than stock base.automation{b_note}")
    print(
        f"a/s  = {ratio(a['seconds'], s['seconds'])} for {ratio(args.due, max(args.due // 10, 1))}x the due visits "
        f"(same history): cost follows due visits"
    )
    print(
        f"a2   = {runs['a2']['seconds']} s, {runs['a2']['emails']} emails and {runs['a2']['sms']} SMS more: "
        "nothing sent twice"
    )


if __name__ == "__main__":
    main()
