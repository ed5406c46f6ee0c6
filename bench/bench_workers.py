"""Multi-worker benchmark: care messages sent by a real multi-process Odoo.

Starts Odoo as a clinic group would run it (``--workers=2
--max-cron-threads=2``: two HTTP workers and two cron workers, one
PostgreSQL), with ``--due`` visits due for their day-before email and SMS
reminder. The precise rules' scheduled action claims the messages in the
ledger and starts sending them; the care-message scheduled action, woken by
the first claims, sends at the same time in the other cron worker; both take
batches with ``FOR UPDATE SKIP LOCKED`` (two care-message scheduled actions
are shipped so that two cron workers can send at once). When a quarter of the messages are
queued, one cron worker is killed (``kill -9``, mid-batch); Odoo's master
process starts a new one, which takes the work up again.

Prints the messages queued, duplicates (a visit with two emails or two SMS:
must be 0), lost (a due visit without its email or its SMS: must be 0) and
the seconds from the first run to the last message queued. Loopback only;
every process it starts is stopped at the end.

Run it with ``bench/run.sh workers [--due 10000] [--http-port 8115]``.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import psycopg2
from bench_reminders import fixture, generate, reset_messages
from odoo_env import DB, boot, environment

ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo18")
TIMEOUT = 30 * 60


def connect(dbname=DB):
    connection = psycopg2.connect(
        dbname=dbname,
        host=os.environ.get("DB_HOST", "localhost"),
        port=os.environ.get("DB_PORT", "5432"),
        user=os.environ.get("DB_USER"),
        password=os.environ.get("DB_PASSWORD"),
    )
    connection.autocommit = True
    return connection


def prepare(registry, due):
    """The due visits, and only the two crons under test left active."""
    with environment(registry) as env:
        # starting in 90 minutes or more: none starts (and loses its reminder) during the run
        counts = generate(env, history=0, due=due, future=0, lead_minutes=90)
        reset_messages(env)
        _department, ours, _stock = fixture(env)
        ours.write({"active": True, "last_run": False})
        env["ir.cron"].search([]).write({"active": False})
        precise = env.ref("clinic_retention.ir_cron_precise_automation")
        senders = env.ref("clinic_retention.ir_cron_care_message_dispatch") | env.ref(
            "clinic_retention.ir_cron_care_message_dispatch_2"
        )
        (precise | senders).write({"active": True, "nextcall": "2100-01-01 00:00:00"})
        env["ir.cron.trigger"].search([]).unlink()
        env.cr.execute("DELETE FROM ir_cron_progress")
        return counts.get("due", 0), precise.id


def notify_cron_workers():
    """Cron workers listen on the "postgres" database (see ir.cron._notifydb)."""
    connection = connect("postgres")
    with connection.cursor() as cr:
        cr.execute("SELECT pg_notify('cron_trigger', %s)", [DB])
    connection.close()


def start_odoo(args, logfile):
    command = [
        sys.executable,
        os.path.join(ODOO_SRC, "odoo-bin"),
        f"--addons-path={ODOO_SRC}/addons,{os.environ['REPO_DIR']}",
        f"--data-dir={os.environ.get('STATE_DIR', os.environ['REPO_DIR'] + '/.local')}/data",
        f"--db_host={os.environ.get('DB_HOST', 'localhost')}",
        f"--db_port={os.environ.get('DB_PORT', '5432')}",
        f"--db_user={os.environ.get('DB_USER', 'odoo')}",
        f"--db_password={os.environ.get('DB_PASSWORD', 'odoo')}",
        f"--database={DB}",
        f"--db-filter=^{DB}$",
        "--no-database-list",
        "--http-interface=127.0.0.1",
        f"--http-port={args.http_port}",
        f"--gevent-port={args.http_port + 1}",
        "--workers=2",
        "--max-cron-threads=2",
        # a cron job may run longer than a web request
        "--limit-time-cpu=600",
        "--limit-time-real=1200",
        "--limit-time-real-cron=1200",
        f"--logfile={logfile}",
        "--log-level=info",
    ]
    return subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_odoo(server):
    """Stop the master and every process of its group (workers, gevent)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
    deadline = time.time() + 30
    while time.time() < deadline and group_pids(server.pid):
        time.sleep(0.5)
    for pid in group_pids(server.pid):
        os.kill(pid, signal.SIGKILL)
    return group_pids(server.pid)


def group_pids(pgid):
    output = subprocess.run(["ps", "-o", "pid=,pgid=", "-A"], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid, group in (line.split() for line in output.splitlines()) if int(group) == pgid]


def children(pid):
    output = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return {int(line) for line in output.stdout.split()}


def progress(cr):
    cr.execute(
        """SELECT count(*) FILTER (WHERE handover_date IS NOT NULL),
                  count(*) FILTER (WHERE state = 'queued' AND handover_date IS NULL),
                  count(*)
             FROM clinic_visit_reminder"""
    )
    return cr.fetchone()


def busy_workers(cr, server_pid):
    """Odoo processes (children of the master) that hold an open transaction
    on the bench database: the cron workers at work."""
    cr.execute("SELECT application_name FROM pg_stat_activity WHERE datname = %s AND xact_start IS NOT NULL", [DB])
    pids = {int(match.group(1)) for (name,) in cr.fetchall() if (match := re.match(r"odoo-(\d+)$", name or ""))}
    return sorted(pids & children(server_pid))


def results(cr, due):
    cr.execute(
        """
        WITH due AS (
            SELECT v.id, p.partner_id FROM clinic_visit v JOIN clinic_patient p ON p.id = v.patient_id
             WHERE v.state = 'scheduled' AND v.start < now() at time zone 'UTC' + interval '1 day'
        ), mails AS (
            SELECT msg.res_id AS visit_id, count(*) AS n FROM mail_mail mm
              JOIN mail_message msg ON msg.id = mm.mail_message_id
             WHERE msg.model = 'clinic.visit' GROUP BY msg.res_id
        ), texts AS (
            SELECT partner_id, count(*) AS n FROM sms_sms GROUP BY partner_id
        )
        SELECT (SELECT count(*) FROM mail_mail mm JOIN mail_message msg ON msg.id = mm.mail_message_id
                 WHERE msg.model = 'clinic.visit'),
               (SELECT count(*) FROM sms_sms),
               (SELECT count(*) FROM mails WHERE n > 1) + (SELECT count(*) FROM texts WHERE n > 1),
               (SELECT count(*) FROM due LEFT JOIN mails ON mails.visit_id = due.id WHERE mails.n IS NULL)
             + (SELECT count(*) FROM due LEFT JOIN texts ON texts.partner_id = due.partner_id WHERE texts.n IS NULL),
               (SELECT count(*) FROM due)
        """
    )
    emails, sms, duplicates, lost, due_now = cr.fetchone()
    return {"emails": emails, "sms": sms, "duplicates": duplicates, "lost": lost, "due": due_now}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--due", type=int, default=10000, help="visits due for their reminders")
    parser.add_argument("--http-port", type=int, default=8115, help="loopback port (the next one is used too)")
    parser.add_argument("--kill-at", type=float, default=0.25, help="share of messages queued when a worker is killed")
    args = parser.parse_args()
    registry = boot()
    due, precise_cron_id = prepare(registry, args.due)
    expected = 2 * due
    logfile = os.path.join(os.environ.get("STATE_DIR", os.environ["REPO_DIR"] + "/.local"), "bench_workers.log")
    print(f"Multi-worker benchmark: {due} visits due (an email and an SMS each), Odoo --workers=2 --max-cron-threads=2")
    server = start_odoo(args, logfile)
    killed = None
    try:
        connection = connect()
        cr = connection.cursor()
        time.sleep(3)  # let the master spawn its workers
        if server.poll() is not None:
            sys.exit(f"Odoo did not start, see {logfile}")
        started = time.perf_counter()
        cr.execute(
            "INSERT INTO ir_cron_trigger (cron_id, call_at) VALUES (%s, now() at time zone 'UTC')", [precise_cron_id]
        )
        last_print = 0
        waking = True
        while True:
            handed, waiting, total = progress(cr)
            elapsed = time.perf_counter() - started
            if elapsed - last_print >= 5:
                busy = len(busy_workers(cr, server.pid))
                print(
                    f"  {elapsed:6.1f} s  {total:>6} claimed  {handed:>6} queued  {waiting:>6} waiting  "
                    f"{busy} cron worker(s) busy",
                    flush=True,
                )
                last_print = elapsed
            if waking and not killed:
                # as ir.cron._notifydb does, until a cron worker has started
                waking = not total and not busy_workers(cr, server.pid)
                if waking:
                    notify_cron_workers()
            if not killed and handed >= args.kill_at * expected:
                workers = busy_workers(cr, server.pid)
                # both cron workers at work (or half the messages out already): kill one mid-batch
                if len(workers) >= 2 or (workers and handed >= 0.5 * expected):
                    killed = workers[-1]
                    os.kill(killed, signal.SIGKILL)
                    print(f"  {elapsed:6.1f} s  killed cron worker {killed} (kill -9) with {handed} queued", flush=True)
                    waking = True  # the master starts a new cron worker: wake it
            elif waking and killed:
                waking = len(busy_workers(cr, server.pid)) < 2 and handed < expected
                if waking:
                    notify_cron_workers()
            if total >= expected and handed >= expected:
                break
            if elapsed > TIMEOUT:
                print("  stopped: time out")
                break
            if server.poll() is not None:
                print("  Odoo stopped unexpectedly")
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        counts = results(cr, due)
        respawned = sorted(children(server.pid))
    finally:
        left = stop_odoo(server)
    print("\nResult")
    queued = counts["emails"] + counts["sms"]
    print(f"queued     {queued} ({counts['emails']} emails, {counts['sms']} SMS) for {due} due visits")
    print(f"duplicates {counts['duplicates']}")
    print(f"lost       {counts['lost']}")
    print(f"seconds    {seconds:.1f}")
    print(f"killed     worker {killed or '(none: the work ended first)'}; workers after: {respawned}")
    print(f"processes left running: {len(left)}")
    if counts["duplicates"] or counts["lost"] or not killed:
        sys.exit(1)


if __name__ == "__main__":
    main()
