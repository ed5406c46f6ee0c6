"""Visit reminder benchmark: our care-message pass against a fair stock baseline.

Data: ``--history`` completed visits over three years, ``--due`` visits
starting within the next 24 hours (so their "day before" reminders are due
now), and ``--future`` visits booked two to eight weeks ahead (not due: the
realistic load a stock time-based rule reads on every run).

  (a)  ours: the shipped precise "day before" email and SMS rules: one run of
       their scheduled action (claims in the ledger, and sends for a few
       seconds), then the care-message scheduled action until nothing is due
       (renders and queues the emails and SMS in batches);
  (a2) the same pass again right after: nothing is queued twice;
  (b)  stock: what a clinic would configure with Odoo alone, two stock
       time-based rules (trigger: visit start, 1 day before, domain "state =
       scheduled") with Odoo's own actions "Send email" (the same mail
       template) and "Send SMS" (the same SMS template, without note), run
       by Odoo's time-based scheduler. Stock rules have no consent, opt-out,
       quiet hours, daily cap, ledger or retry: that work is ours only. Our
       quiet hours and cap are switched off so both send the same messages;
  (s)  scaling: (a) with a tenth of the due visits, the same history and
       future bookings: the cost follows the due visits, not the history.

Both contenders only queue the messages (``mail.mail``, ``sms.sms``): the
mail and SMS queues send them later for both alike. Before printing a ratio
the script checks that (a) and (b) queued the same messages: an email and an
SMS for the same visits, the same SMS texts and the same email subjects.

``--profile`` prints where (a)'s time goes; ``--skip-stock`` leaves (b) out
(no ratio then), for quick runs while working on (a).

Run it with ``bench/run.sh reminders [--history 200000] [--due 10000] [--future 20000]
[--profile] [--skip-stock]``.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from datagen import PATIENT_PREFIX, create_patients, delete_patients, vacuum
from odoo_env import (
    DB,
    Measure,
    PartTimer,
    boot,
    emit,
    environment,
    measure_in_subprocess,
    print_parts,
    ratio,
    report_automation_progress,
)
from odoo_env import fmt as shared_fmt

B_TIMEOUT = 15 * 60
RULES = ("clinic_retention.automation_visit_reminder_email", "clinic_retention.automation_visit_reminder_sms")
STOCK_RULE_NAMES = ("Bench stock: email the day before", "Bench stock: SMS the day before")


def fixture(env):
    department = env["clinic.department"].search([("code", "=", "BENCHR")])
    if not department:
        department = env["clinic.department"].create({"name": "Bench reminders", "code": "BENCHR"})
    Automation = env["base.automation"].with_context(active_test=False)
    ours = Automation.browse([env.ref(xmlid).id for xmlid in RULES])
    stock = Automation.search([("name", "in", STOCK_RULE_NAMES)])
    if not stock:
        visit_model = env["ir.model"]._get("clinic.visit")
        common = {
            "model_id": visit_model.id,
            "trigger": "on_time",
            "trg_date_id": env.ref("clinic_retention.field_clinic_visit__start").id,
            "trg_date_range": -1,
            "trg_date_range_type": "day",
            "filter_domain": "[('state', '=', 'scheduled')]",
            "active": False,
        }
        email_action = env["ir.actions.server"].create(
            {
                "name": "Bench stock: send the reminder email",
                "model_id": visit_model.id,
                "usage": "base_automation",
                "state": "mail_post",
                "mail_post_method": "email",
                "template_id": env.ref("clinic_retention.mail_template_visit_reminder").id,
            }
        )
        sms_action = env["ir.actions.server"].create(
            {
                "name": "Bench stock: send the reminder SMS",
                "model_id": visit_model.id,
                "usage": "base_automation",
                "state": "sms",
                "sms_method": "sms",
                "sms_template_id": env.ref("clinic_retention.sms_template_visit_reminder").id,
            }
        )
        stock = Automation.create(
            [
                dict(common, name=STOCK_RULE_NAMES[0], action_server_ids=[(6, 0, email_action.ids)]),
                dict(common, name=STOCK_RULE_NAMES[1], action_server_ids=[(6, 0, sms_action.ids)]),
            ]
        )
    # Only the rules under test run; same messages: no quiet hours, no cap.
    Automation.search([]).write({"active": False, "last_run": False})
    env.company.write(
        {
            "email": "care@clinic.example.com",
            "clinic_tz": "Asia/Shanghai",
            "clinic_quiet_start": 0.0,
            "clinic_quiet_end": 0.0,
            "clinic_daily_cap": 0,
        }
    )
    # The queues are not run: both contenders' work ends with the messages queued.
    for xmlid in ("mail.ir_cron_mail_scheduler_action", "sms.ir_cron_sms_scheduler_action"):
        env.ref(xmlid).active = False
    return department, ours, stock


def generate(env, history, due, future, lead_minutes=5):
    department, _ours, _stock = fixture(env)
    delete_patients(env)
    patients = max(due + future, history // 5)
    create_patients(env, patients, env.company.id, with_contacts=True)
    env.cr.execute("SELECT setseed(0.7)")
    env.cr.execute(
        """
        INSERT INTO clinic_visit (patient_id, department_id, company_id, state, start, stop, amount,
                                  access_token, confirmation_state, create_date, write_date, create_uid, write_uid)
        SELECT p.id, %(department)s, p.company_id, v.state, v.start, v.start + interval '30 minutes', 50,
               md5(random()::text || p.id || v.n), 'unconfirmed', now() at time zone 'UTC',
               now() at time zone 'UTC', 1, 1
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
                                 + make_interval(mins => %(lead)s + (random() * (1430 - %(lead)s))::int + p.id * 0))
                WHERE p.rank <= %(due)s
               UNION ALL
               -- future bookings, two to eight weeks ahead, for the next `future` patients
               SELECT -1, 'scheduled',
                      date_trunc('minute', now() at time zone 'UTC'
                                 + make_interval(days => 14 + (random() * 42)::int + p.id * 0))
                WHERE p.rank > %(due)s AND p.rank <= %(due)s + %(future)s
               ) AS v
        """,
        {
            "department": department.id,
            "prefix": PATIENT_PREFIX + "%",
            "per_patient": history // patients,
            "due": due,
            "future": future,
            "lead": lead_minutes,
        },
    )
    env.cr.execute(
        """SELECT CASE WHEN state = 'done' THEN 'history'
                       WHEN start < now() at time zone 'UTC' + interval '1 day' THEN 'due'
                       ELSE 'future' END, COUNT(*)
             FROM clinic_visit WHERE department_id = %s GROUP BY 1""",
        [department.id],
    )
    return dict(env.cr.fetchall())


def reset_messages(env):
    """Forget what a pass queued: outgoing mails, SMS, the ledger, the rules' last run."""
    fixture(env)
    env.cr.execute(
        "DELETE FROM mail_mail WHERE mail_message_id IN (SELECT id FROM mail_message WHERE model = 'clinic.visit')"
    )
    env.cr.execute("DELETE FROM mail_message WHERE model = 'clinic.visit' AND message_type = 'email_outgoing'")
    env.cr.execute("DELETE FROM sms_tracker")
    env.cr.execute("DELETE FROM sms_sms")
    env.cr.execute("DELETE FROM clinic_visit_reminder")


def sent_counts(env):
    env.cr.execute(
        "SELECT COUNT(*) FROM mail_mail JOIN mail_message ON mail_message.id = mail_mail.mail_message_id "
        "WHERE mail_message.model = 'clinic.visit'"
    )
    emails = env.cr.fetchone()[0]
    env.cr.execute("SELECT COUNT(*) FROM sms_sms")
    return {"emails": emails, "sms": env.cr.fetchone()[0]}


def fingerprint(env):
    """What was queued, to compare the contenders: per visit, its email's
    subject and recipient, and the text of its SMS."""
    env.cr.execute(
        """
        SELECT msg.res_id, msg.subject, rel.res_partner_id
          FROM mail_mail mm
          JOIN mail_message msg ON msg.id = mm.mail_message_id
          LEFT JOIN mail_mail_res_partner_rel rel ON rel.mail_mail_id = mm.id
         WHERE msg.model = 'clinic.visit'
        """
    )
    emails = sorted(env.cr.fetchall())
    env.cr.execute(
        """
        SELECT v.id, s.number, s.body
          FROM sms_sms s
          JOIN clinic_patient p ON p.partner_id = s.partner_id
          JOIN clinic_visit v ON v.patient_id = p.id AND v.state = 'scheduled'
                             AND v.start < now() at time zone 'UTC' + interval '1 day'
        """
    )
    sms = sorted(env.cr.fetchall())
    return {"emails": emails, "sms": sms}


def phase_pass(registry, contender):
    with environment(registry) as env:
        _department, ours, stock = fixture(env)
        (ours if contender == "ours" else stock).write({"active": True, "last_run": False})
    if contender == "stock":
        report_automation_progress(registry)  # its pace, should it have to be stopped
    results = {}
    for label in ("first", "second") if contender == "ours" else ("first",):
        with environment(registry) as env:
            before = sent_counts(env)
        with Measure() as measure, environment(registry) as env:
            if contender == "ours":
                # what the scheduled actions run: the precise rules queue the
                # messages and send for a few seconds, the care-message
                # actions send the rest (run until none is due)
                env["base.automation"]._precise_check(automatic=True)
                Ledger = env["clinic.visit.reminder"]
                while Ledger._count_due():
                    Ledger._cron_dispatch()
            else:
                env["base.automation"]._check(automatic=True)  # what the stock cron runs
        with environment(registry) as env:
            after = sent_counts(env)
        results[label] = measure.result(**{key: after[key] - before[key] for key in after})
    emit(results)


def phase_profile(registry):
    """Where (a)'s time goes: wall time per part (the rules' scheduling, the
    dispatch's rendering and queueing, Odoo's creates), then the functions
    that cost most under cProfile (own time)."""
    timer = PartTimer(registry)
    timed = timer.wrap

    with environment(registry) as env:
        _department, ours, _stock = fixture(env)
        ours.write({"active": True, "last_run": False})
    # after the fixture: a rule's write re-installs base_automation's patches (it removes every
    # class's create/write)
    timed("base.automation", "_precise_run", "ours: precise rules (scheduling, in the ledger)")
    timed("base.automation", "_precise_due_records", "  scheduling: due visits (search)")
    timed("clinic.care.message", "_already_decided", "  scheduling: already decided (one query)")
    timed("clinic.care.message", "_policy_context", "  scheduling: policy context (blacklists, numbers, cap)")
    timed("clinic.visit.reminder", "_claim", "  scheduling: ledger claims (INSERT ... ON CONFLICT)")
    timed("clinic.care.message", "_trigger_dispatch", "  scheduling: dispatch triggers")
    timed("clinic.care.message", "_dispatch_due", "ours: dispatch (render and queue), all of it")
    timed("clinic.visit.reminder", "_lock_due", "  dispatch: lock a batch (SKIP LOCKED)")
    timed("clinic.care.message", "_still_to_send", "  dispatch: still to send (visit, patient)")
    timed("mail.template", "_generate_template", "  dispatch: email render (_generate_template)")
    timed("mail.template", "_render_template_qweb_view", "  dispatch: email body render (QWeb view)")
    timed("mail.mail", "create", "  dispatch: mail.mail create (Odoo)")
    timed("sms.template", "_render_field", "  dispatch: SMS render (_render_field)")
    timed("sms.sms", "create", "  dispatch: sms.sms create (Odoo)")
    timed("sms.tracker", "create", "  dispatch: sms.tracker create (Odoo)")
    timed("clinic.care.message", "_mark_attempt", "  dispatch: ledger update (one UPDATE per batch)")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    with environment(registry) as env:
        env["base.automation"]._precise_check(automatic=True)
        Ledger = env["clinic.visit.reminder"]
        while Ledger._count_due():
            Ledger._cron_dispatch()
    profiler.disable()
    total = time.perf_counter() - started
    with environment(registry) as env:
        counts = sent_counts(env)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(r"odoo|clinic", 45)
    parts = timer.parts()
    emit({"total": round(total, 3), "parts": parts, "top": stream.getvalue(), **counts})


PHASES = {
    "ours": lambda registry: phase_pass(registry, "ours"),
    "stock": lambda registry: phase_pass(registry, "stock"),
    "profile": phase_profile,
}


def print_profile(profile):
    print_parts(
        profile,
        f"\n(a) profiled: {profile['total']:.2f} s for {profile['emails']} emails and {profile['sms']} SMS "
        "(profiling slows it down)",
        "the rest (boot of the environment, commits between passes)",
    )


def fmt(result):
    return shared_fmt(result, lambda r: f"{r['emails']} emails, {r['sms']} SMS", B_TIMEOUT, "visits")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=200000, help="completed visits in history")
    parser.add_argument("--due", type=int, default=10000, help="visits starting within 24 hours")
    parser.add_argument("--future", type=int, default=20000, help="visits booked two to eight weeks ahead")
    parser.add_argument("--profile", action="store_true", help="also profile (a) at the first size")
    parser.add_argument("--skip-stock", action="store_true", help="skip (b), the stock rules (the slow one)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    registry = boot()
    if args.phase:
        PHASES[args.phase](registry)
        return

    script = os.path.abspath(__file__)
    print("Visit reminder benchmark: one pass of the day-before email and SMS reminders")
    runs, prints = {}, {}
    for label, due in (("a", args.due), ("s", max(args.due // 10, 1))):
        with environment(registry) as env:
            counts = generate(env, args.history, due, args.future)
            reset_messages(env)
        vacuum(DB)
        print(
            f"\n== {counts.get('history', 0)} visits in history, {counts.get('due', 0)} due, "
            f"{counts.get('future', 0)} booked weeks ahead ==",
            flush=True,
        )
        result = measure_in_subprocess(script, ["--phase", "ours"], timeout=3600)
        runs[label], runs[label + "2"] = result["first"], result["second"]
        print(f"({label})  ours (precise rules + care messages)  {fmt(runs[label])}", flush=True)
        print(f"({label}2) same pass again                       {fmt(runs[label + '2'])}", flush=True)
        if label == "a":
            with environment(registry) as env:
                prints["a"] = fingerprint(env)
        if label == "a" and args.profile:
            with environment(registry) as env:
                reset_messages(env)
            vacuum(DB)
            print_profile(measure_in_subprocess(script, ["--phase", "profile"], timeout=3600))
        if label == "a" and not args.skip_stock:
            with environment(registry) as env:
                reset_messages(env)
            vacuum(DB)
            result = measure_in_subprocess(script, ["--phase", "stock"], timeout=B_TIMEOUT)
            runs["b"] = result.get("first", result)
            print(f"(b)  stock rules, stock actions      {fmt(runs['b'])}", flush=True)
            with environment(registry) as env:
                prints["b"] = fingerprint(env)
        with environment(registry) as env:
            reset_messages(env)

    a, b, s = runs["a"], runs.get("b", {}), runs["s"]
    print("\nSummary")
    if not b:
        print("b/a  = not measured (--skip-stock)")
    elif "seconds" in b:
        same = prints["a"] == prints["b"]
        print(
            f"same messages: {'yes' if same else 'NO'} ({len(prints['a']['emails'])} vs {len(prints['b']['emails'])} "
            f"emails, {len(prints['a']['sms'])} vs {len(prints['b']['sms'])} SMS, same visits, subjects and texts)"
        )
        if not same:
            sys.exit("the contenders did not queue the same messages: no ratio")
        print(f"b/a  = {ratio(b['seconds'], a['seconds'])}x faster than stock base.automation rules and actions")
    else:
        print(f"b/a  = at least {ratio(b['timeout'], a['seconds'])}x (b was stopped; messages not compared)")
    print(
        f"a/s  = {ratio(a['seconds'], s['seconds'])} for {ratio(args.due, max(args.due // 10, 1))}x the due visits "
        f"(same history and future bookings): cost follows due visits"
    )
    print(
        f"a2   = {runs['a2']['seconds']} s, {runs['a2']['emails']} emails and {runs['a2']['sms']} SMS more: "
        "nothing queued twice"
    )


if __name__ == "__main__":
    main()
