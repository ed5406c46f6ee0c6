"""Campaign (mass mailing) benchmark: an e-mail campaign to N patients
against Odoo's stock mass mailing on contacts (res.partner) of the same size.

Data, per size N: N patients in the segment "lost 12+ months" (last
completed visit 13 to 36 months ago) and N/5 more who came recently (not in
it), each with a contact carrying an e-mail address. Among the N:

  * one in ten has no marketing consent (never given or withdrawn);
  * one in 33 has a blacklisted address (``mail.blacklist``);
  * one in 50 has no e-mail address.

What is measured is what the mass-mailing scheduled action does with a
mailing in the queue (``mailing.mailing._process_mass_mailing_queue``):
computing the segment, leaving out those who must not get it, rendering
and queueing the ``mail.mail`` and ``mailing.trace`` rows (a commit per
batch of 50, as Odoo does). The mail queue is not run: nothing leaves the
machine (``ir.mail_server.send_email`` raises, should anything try).

  (a) ours: a mailing on patients (``clinic.patient``, made a mailing
      recipient model by ``clinic_retention_mass_mailing``), its default
      domain (not blacklisted, no complaint in 90 days) and the segment
      "lost 12+ months": sent a chunk of 1,000 patients at a time (the
      segment read from a database cursor, one composer per chunk); the
      patients without marketing consent are left out at sending with a
      cancelled trace (no e-mail rendered for them), counted on the mailing
      ("Excluded: no consent");
  (b) stock: the same mailing on contacts (``res.partner``) with Odoo's
      stock mass mailing, on the same contacts (same e-mail addresses, same
      blacklist). Stock Odoo knows neither the segment nor the consent, so a
      clinic would tag its contacts: the fairest equivalent is two tags set
      on the same people ("Lost 12+ months", "No marketing") and the domain
      "not blacklisted, tagged lost, not tagged no marketing" - the tags are
      kept by hand or an import, their upkeep is not measured. The
      non-consenting contacts are thus not recipients at all in (b) (no
      trace). The hook ``clinic_retention`` adds to ``res.partner``
      (``_mailing_get_opt_out_list``, patients' consent) is switched off in
      (b)'s process: stock Odoo has none. (The bridge's composer keeps that
      opt-out list for the whole sending: an empty list here, no cost.)

Before any ratio, the script checks the contenders' output is equal: the
same set of e-mail addresses got a queued ``mail.mail`` with an outgoing
``mailing.trace``; the same number of cancelled "no e-mail address" traces;
the same number of blacklisted people left out (both by the domain); and
(a)'s "Excluded: no consent" count equals the number of non-consenting
people (b)'s domain left out.

``--sizes 10000,100000`` shows whether memory stays flat (its growth does
not follow N): the peak resident size of the sending's own process, minus
its size before the sending. ``--profile`` prints where the time goes, in
(a) and (b).

Run it with ``bench/run.sh mailing [--sizes 10000,100000] [--profile] [--skip-stock]``
(``run.sh`` installs ``clinic_retention`` and ``clinic_retention_mass_mailing``).
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

from datagen import PATIENT_PREFIX, create_patients, delete_patients, vacuum
from odoo_env import (
    DB,
    Measure,
    PartTimer,
    boot,
    check_equal,
    emit,
    environment,
    fmt,
    machine,
    measure_in_subprocess,
    print_parts,
    ratio,
    save,
)

MAILINGS = {"ours": "Bench campaign: patients", "stock": "Bench campaign: contacts"}
TAGS = ("Bench: lost 12+ months", "Bench: no marketing")
TIMEOUT = 3600
BODY = (
    '<div><p>It has been a while: book your check-up.</p><p><a href="https://clinic.example.com/book">'
    "Book online</a></p></div>"
)


def fixture(env):
    """The two mailings and the two stock tags (created once)."""
    Tag = env["res.partner.category"]
    tags = Tag.search([("name", "in", TAGS)])
    if len(tags) != len(TAGS):
        tags.unlink()
        tags = Tag.create([{"name": name} for name in TAGS])
    lost, no_marketing = (tags.filtered(lambda t, name=name: t.name == name) for name in TAGS)
    Mailing = env["mailing.mailing"]
    mailings = {}
    domains = {
        "ours": [("is_blacklisted", "=", False), ("segment_complained", "=", False), ("segment_lost", "=", True)],
        "stock": [
            ("is_blacklisted", "=", False),
            ("category_id", "in", lost.ids),
            ("category_id", "not in", no_marketing.ids),
        ],
    }
    models = {"ours": "clinic.patient", "stock": "res.partner"}
    for contender, name in MAILINGS.items():
        mailing = Mailing.search([("name", "=", name)])
        if not mailing:
            mailing = Mailing.create(
                {
                    "name": name,
                    "subject": "Time for your check-up",
                    "email_from": "care@clinic.example.com",
                    "body_arch": BODY,
                    "body_html": BODY,
                    "mailing_type": "mail",
                    "mailing_model_id": env["ir.model"]._get(models[contender]).id,
                }
            )
        mailing.mailing_domain = repr(domains[contender])
        mailings[contender] = mailing
    # the mail queue is not run: the work ends with the mails queued
    env.ref("mail.ir_cron_mail_scheduler_action").active = False
    env.ref("mass_mailing.ir_cron_mass_mailing_queue").active = False
    env.company.email = "care@clinic.example.com"
    return mailings, lost, no_marketing


def generate(env, size):
    """Replace the bench patients by ``size`` in the segment and ``size / 5`` out of it."""
    _mailings, lost, no_marketing = fixture(env)
    reset_mailings(env)
    delete_patients(env)
    env.cr.execute("DELETE FROM mail_blacklist WHERE email LIKE 'bench.patient.%%'")
    total = size + size // 5
    create_patients(env, total, env.company.id, with_contacts=True)
    cr = env.cr
    cr.execute(
        """
        CREATE TEMP TABLE bench_people ON COMMIT DROP AS
        SELECT p.id AS patient_id, rp.id AS partner_id, substring(rp.name FROM %(offset)s)::int AS g
          FROM clinic_patient p JOIN res_partner rp ON rp.id = p.partner_id
         WHERE rp.name LIKE %(prefix)s
        """,
        {"offset": len(PATIENT_PREFIX) + 1, "prefix": PATIENT_PREFIX + "%"},
    )
    cr.execute("ANALYZE bench_people")
    # the segment: last completed visit 13 to 36 months ago; the others came in the last 3 months
    cr.execute(
        """
        UPDATE clinic_patient p
           SET last_visit_date = now() at time zone 'UTC'
                   - CASE WHEN b.g <= %(size)s THEN make_interval(days => 400 + b.g %% 680)
                          ELSE make_interval(days => 1 + b.g %% 90) END,
               marketing_consent = (b.g > %(size)s OR b.g %% 10 <> 1),
               marketing_consent_source = CASE WHEN b.g > %(size)s OR b.g %% 10 <> 1 THEN 'in_person' END
          FROM bench_people b WHERE b.patient_id = p.id
        """,
        {"size": size},
    )
    cr.execute(
        """
        UPDATE res_partner rp SET email = NULL, email_normalized = NULL
          FROM bench_people b WHERE b.partner_id = rp.id AND b.g % 50 = 3
        """
    )
    cr.execute(
        """
        INSERT INTO mail_blacklist (email, active, create_date, write_date, create_uid, write_uid)
        SELECT rp.email_normalized, TRUE, now(), now(), 1, 1
          FROM bench_people b JOIN res_partner rp ON rp.id = b.partner_id
         WHERE b.g % 33 = 2 AND rp.email_normalized IS NOT NULL
        """
    )
    # stock: the same people tagged as a clinic without our addon would
    cr.execute(
        "DELETE FROM res_partner_res_partner_category_rel WHERE category_id IN %s",
        [(lost.id, no_marketing.id)],
    )
    cr.execute(
        """
        INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id)
        SELECT partner_id, %(lost)s FROM bench_people WHERE g <= %(size)s
        UNION ALL
        SELECT partner_id, %(no_marketing)s FROM bench_people WHERE g <= %(size)s AND g %% 10 = 1
        """,
        {"lost": lost.id, "no_marketing": no_marketing.id, "size": size},
    )
    env.invalidate_all()
    cr.execute(
        """
        SELECT COUNT(*) FILTER (WHERE b.g <= %(size)s),
               COUNT(*) FILTER (WHERE b.g <= %(size)s AND b.g %% 10 = 1),
               COUNT(*) FILTER (WHERE b.g <= %(size)s AND bl.id IS NOT NULL),
               COUNT(*) FILTER (WHERE b.g <= %(size)s AND rp.email IS NULL)
          FROM bench_people b JOIN res_partner rp ON rp.id = b.partner_id
          LEFT JOIN mail_blacklist bl ON bl.email = rp.email_normalized AND bl.active
        """,
        {"size": size},
    )
    segment, no_consent, blacklisted, no_email = cr.fetchone()
    return {
        "patients": total,
        "segment": segment,
        "no_consent": no_consent,
        "blacklisted": blacklisted,
        "no_email": no_email,
    }


def reset_mailings(env):
    """Forget what a sending queued: its mails, their messages, the traces; back to draft."""
    mailings, _lost, _no_marketing = fixture(env)
    ids = tuple(mailing.id for mailing in mailings.values())
    cr = env.cr
    cr.execute("DELETE FROM mailing_trace WHERE mass_mailing_id IN %s", [ids])
    cr.execute(
        """
        CREATE TEMP TABLE bench_messages ON COMMIT DROP AS
        SELECT mail_message_id AS id FROM mail_mail WHERE mailing_id IN %s
        """,
        [ids],
    )
    cr.execute("DELETE FROM mail_mail WHERE mailing_id IN %s", [ids])
    cr.execute("DELETE FROM mail_message WHERE id IN (SELECT id FROM bench_messages)")
    cr.execute("DROP TABLE bench_messages")
    cr.execute(
        "UPDATE mailing_mailing SET state = 'draft', sent_date = NULL, kpi_mail_required = FALSE WHERE id IN %s",
        [ids],
    )
    env.invalidate_all()


def outcome(env, contender):
    """What a sending produced, to compare the contenders."""
    mailings, _lost, _no_marketing = fixture(env)
    mailing = mailings[contender]
    cr = env.cr
    cr.execute(
        """
        SELECT t.email FROM mailing_trace t JOIN mail_mail m ON m.id = t.mail_mail_id
         WHERE t.mass_mailing_id = %s AND t.trace_status = 'outgoing' AND m.state = 'outgoing'
         ORDER BY t.email
        """,
        [mailing.id],
    )
    emails = [email for (email,) in cr.fetchall()]
    cr.execute(
        """
        SELECT COUNT(*) FILTER (WHERE failure_type = 'mail_email_missing'),
               COUNT(*) FILTER (WHERE failure_type = 'mail_bl'),
               COUNT(*) FILTER (WHERE trace_status = 'cancel'),
               COUNT(*)
          FROM mailing_trace WHERE mass_mailing_id = %s
        """,
        [mailing.id],
    )
    no_email, blacklisted_cancelled, cancelled, traces = cr.fetchone()
    # the blacklisted people of the segment left out (no trace, no mail)
    cr.execute(
        """
        SELECT COUNT(*) FROM mail_blacklist bl
         WHERE bl.active AND bl.email LIKE 'bench.patient.%%'
           AND NOT EXISTS (SELECT 1 FROM mailing_trace t
                            WHERE t.mass_mailing_id = %s AND t.email = bl.email AND t.trace_status = 'outgoing')
        """,
        [mailing.id],
    )
    blacklisted_left_out = cr.fetchone()[0]
    cr.execute("SELECT COUNT(*) FROM mail_mail WHERE mailing_id = %s AND state = 'outgoing'", [mailing.id])
    outgoing_mails = cr.fetchone()[0]
    no_consent = mailing.clinic_excluded_no_consent_count if contender == "ours" else None
    return {
        "queued": len(emails),
        "outgoing_mails": outgoing_mails,
        "distinct_emails": len(set(emails)),
        "emails_sha1": hashlib.sha1("\n".join(emails).encode()).hexdigest(),
        "no_email": no_email,
        "blacklisted_cancelled": blacklisted_cancelled,
        "blacklisted_left_out": blacklisted_left_out,
        "cancelled": cancelled,
        "traces": traces,
        "no_consent": no_consent,
    }


def _no_sending(registry):
    """Nothing leaves the machine, whatever runs."""

    def refuse(self, *args, **kwargs):
        raise RuntimeError("bench: an e-mail was about to be sent")

    registry["ir.mail_server"].send_email = refuse


def _stock_partner(registry):
    """(b) is stock Odoo: without the patients' consent hook clinic_retention adds to contacts."""
    registry["res.partner"]._mailing_get_opt_out_list = lambda self, mailing: set()


def _queue(env, contender):
    mailings, _lost, _no_marketing = fixture(env)
    mailings[contender].write({"state": "in_queue", "schedule_type": "now"})
    return mailings[contender]


def phase_send(registry, contender):
    _no_sending(registry)
    if contender == "stock":
        _stock_partner(registry)
    with environment(registry) as env:
        _queue(env, contender)
    with Measure() as measure, environment(registry) as env:
        env["mailing.mailing"]._process_mass_mailing_queue()  # what the scheduled action runs
    with environment(registry) as env:
        mailing = fixture(env)[0][contender]
        state = mailing.state
        mails = env["mail.mail"].search_count([("mailing_id", "=", mailing.id)])
    emit(measure.result(state=state, mails=mails))


def phase_profile(registry, contender="ours"):
    """Where a contender's time goes: wall time per part, then the functions
    that cost most under cProfile (own time)."""
    _no_sending(registry)
    if contender == "stock":
        _stock_partner(registry)
    timer = PartTimer(registry)
    timed = timer.wrap

    timed("mailing.mailing", "_clinic_next_chunk", "segment: a chunk of recipients (FETCH from the cursor, ours)")
    timed("mailing.mailing", "_clinic_not_done_yet", "segment: already mailed or held out, per chunk (ours)")
    timed("mailing.mailing", "_clinic_leave_out_no_consent", "exclusion: no consent, before rendering (ours)")
    timed("mail.compose.message", "_prepare_mail_values", "render and exclusion (_prepare_mail_values), all of it")
    timed("mailing.mailing", "_clinic_opt_out_emails_among", "  exclusion: addresses shared with a refusal (ours)")
    timed("mailing.mailing", "_get_seen_list", "  exclusion: already mailed (seen list, Odoo)")
    timed("mail.compose.message", "_get_blacklist_record_ids", "  exclusion: blacklist (Odoo)")
    timed("mail.compose.message", "_get_recipients_data", "  recipients data (Odoo)")
    timed("ir.qweb", "_render", "  render: QWeb layout (Odoo)")
    timed("mail.mail", "create", "queue: mail.mail create (with traces)")
    timed("mailing.trace", "create", "  queue: mailing.trace create (ours adds exclusion reasons)")
    with environment(registry) as env:
        _queue(env, contender)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    with environment(registry) as env:
        env["mailing.mailing"]._process_mass_mailing_queue()
    profiler.disable()
    total = time.perf_counter() - started
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(r"odoo|clinic", 40)
    parts = timer.parts()
    emit({"total": round(total, 3), "parts": parts, "top": stream.getvalue()})


PHASES = {
    "ours": lambda registry: phase_send(registry, "ours"),
    "stock": lambda registry: phase_send(registry, "stock"),
    "profile": phase_profile,
    "profile-stock": lambda registry: phase_profile(registry, "stock"),
}


def print_profile(profile, label="a"):
    print_parts(
        profile,
        f"\n({label}) profiled: {profile['total']:.2f} s (profiling slows it down)",
        "the rest (commits per batch, cache invalidation, mailing write)",
        "top functions:",
    )


def done(result):
    return f"{result['mails']} mails queued (mailing {result['state']})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="patients in the segment, comma-separated")
    parser.add_argument("--profile", action="store_true", help="also profile (a), and (b) unless skipped, at each size")
    parser.add_argument("--skip-stock", action="store_true", help="leave (b) out (no ratio)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    registry = boot()
    if args.phase:
        PHASES[args.phase](registry)
        return

    script = os.path.abspath(__file__)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print("Campaign benchmark: (a) a mailing to patients (ours) vs (b) stock mass mailing on contacts")
    print(f"{started} on {machine()}, load average {os.getloadavg()[0]:.2f}")
    summary = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with environment(registry) as env:
            counts = generate(env, size)
        vacuum(DB)
        print(
            f"\n== {counts['segment']} patients in the segment ({counts['patients']} in all): "
            f"{counts['no_consent']} without marketing consent, {counts['blacklisted']} blacklisted, "
            f"{counts['no_email']} without e-mail ==",
            flush=True,
        )
        results, outcomes = {}, {}
        contenders = [("a", "ours")] + ([] if args.skip_stock else [("b", "stock")])
        for label, contender in contenders:
            with environment(registry) as env:
                reset_mailings(env)
            vacuum(DB)
            results[label] = measure_in_subprocess(script, ["--phase", contender], timeout=TIMEOUT)
            name = {"a": "ours (patients)", "b": "stock (contacts)"}[label]
            print(f"({label}) {name:<17} {fmt(results[label], done, TIMEOUT, 'mails')}", flush=True)
            with environment(registry) as env:
                outcomes[label] = outcome(env, contender)
            print(f"     {outcomes[label]}", flush=True)
        a = outcomes["a"]
        if a["no_consent"] != counts["no_consent"] - _overlap(size):
            raise SystemExit(
                f"UNEQUAL OUTPUT: (a) excluded {a['no_consent']} for no consent, expected "
                f"{counts['no_consent'] - _overlap(size)}"
            )
        if "b" in outcomes:
            b = outcomes["b"]
            keys = (
                "queued",
                "outgoing_mails",
                "distinct_emails",
                "emails_sha1",
                "no_email",
                "blacklisted_cancelled",
                "blacklisted_left_out",
            )
            check_equal(
                "the same addresses got a queued mail and an outgoing trace; same no-e-mail and blacklisted counts",
                {key: a[key] for key in keys},
                {key: b[key] for key in keys},
            )
            check_equal(
                "(a)'s 'Excluded: no consent' = the non-consenting people (b)'s domain left out",
                a["traces"] - a["no_consent"],
                b["traces"],
            )
        if args.profile:
            with environment(registry) as env:
                reset_mailings(env)
            vacuum(DB)
            results["profile"] = measure_in_subprocess(script, ["--phase", "profile"], timeout=TIMEOUT)
            print_profile(results["profile"])
            if not args.skip_stock:
                with environment(registry) as env:
                    reset_mailings(env)
                vacuum(DB)
                results["profile-stock"] = measure_in_subprocess(script, ["--phase", "profile-stock"], timeout=TIMEOUT)
                print_profile(results["profile-stock"], "b")
        if "b" in results and "seconds" in results["b"] and "seconds" in results["a"]:
            print(f"a/b = {ratio(results['a']['seconds'], results['b']['seconds'])} (goal <= 1.0)")
        summary.append((size, counts, results, outcomes))
        with environment(registry) as env:
            reset_mailings(env)

    print("\nSummary")
    print("segment | queued | (a) s | (b) s | a/b | (a) queries | (b) queries | (a) +MB | (b) +MB")
    for size, _counts, r, o in summary:
        a, b = r["a"], r.get("b", {})
        print(
            f"{size} | {o['a']['queued']} | {a.get('seconds', '-')} | {b.get('seconds', '-')} | "
            f"{ratio(a['seconds'], b['seconds']) if 'seconds' in a and 'seconds' in b else '-'} | "
            f"{a.get('queries', '-')} | {b.get('queries', '-')} | {a.get('peak_mb', '-')} | {b.get('peak_mb', '-')}"
        )
    save(
        "mailing",
        {"started": started, "machine": machine(), "load": os.getloadavg(), "argv": sys.argv[1:], "runs": summary},
    )


def _overlap(size):
    """Non-consenting people who are also blacklisted (left out by the domain, before consent)."""
    return len([g for g in range(1, size + 1) if g % 10 == 1 and g % 33 == 2])


if __name__ == "__main__":
    main()
