"""Set-based data generators for the benchmarks (plain SQL: generating
100,000 patients through the ORM would measure the generator, not us)."""

import os

import psycopg2

PATIENT_PREFIX = "Bench patient "


def create_patients(env, count, company_id, with_contacts=False):
    """Insert ``count`` patients (and their contacts) named "Bench patient N",
    all consenting to care messages. With ``with_contacts``, each gets a
    Chinese mobile number and an email address. Returns nothing: select them
    back by name."""
    env.cr.execute(
        """
        WITH partners AS (
            INSERT INTO res_partner (name, complete_name, active, company_id, type, is_company, is_patient,
                                     lang, tz, mobile, email, email_normalized,
                                     create_date, write_date, create_uid, write_uid)
            SELECT %(prefix)s || g, %(prefix)s || g, TRUE, %(company)s, 'contact', FALSE, TRUE,
                   'en_US', 'Asia/Shanghai',
                   CASE WHEN %(contacts)s THEN '+86138' || lpad(g::text, 8, '0') END,
                   CASE WHEN %(contacts)s THEN 'bench.patient.' || g || '@example.com' END,
                   CASE WHEN %(contacts)s THEN 'bench.patient.' || g || '@example.com' END,
                   now(), now(), 1, 1
              FROM generate_series(1, %(count)s) AS g
         RETURNING id, mobile
        )
        INSERT INTO clinic_patient (partner_id, company_id, care_consent, preferred_channel, lifecycle_state,
                                    phone_sanitized, visit_count, create_date, write_date, create_uid, write_uid)
        SELECT id, %(company)s, TRUE, 'phone', 'active', mobile, 0, now(), now(), 1, 1 FROM partners
        """,
        {"prefix": PATIENT_PREFIX, "company": company_id, "count": count, "contacts": with_contacts},
    )
    env.cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE name LIKE %s", [PATIENT_PREFIX + "%"])


def delete_patients(env):
    """Remove every generated patient, their visits, tasks and messages."""
    cr = env.cr
    cr.execute(
        """
        CREATE TEMP TABLE bench_patient ON COMMIT DROP AS
        SELECT p.id FROM clinic_patient p JOIN res_partner rp ON rp.id = p.partner_id WHERE rp.name LIKE %s
        """,
        [PATIENT_PREFIX + "%"],
    )
    cr.execute("DELETE FROM clinic_visit_reminder WHERE patient_id IN (SELECT id FROM bench_patient)")
    cr.execute(
        "DELETE FROM mail_followers WHERE res_model = 'clinic.followup.task' AND res_id IN "
        "(SELECT id FROM clinic_followup_task WHERE patient_id IN (SELECT id FROM bench_patient))"
    )
    cr.execute("DELETE FROM clinic_followup_task WHERE patient_id IN (SELECT id FROM bench_patient)")
    cr.execute("DELETE FROM clinic_visit WHERE patient_id IN (SELECT id FROM bench_patient)")
    cr.execute("DELETE FROM clinic_patient WHERE id IN (SELECT id FROM bench_patient)")
    cr.execute("DELETE FROM res_partner WHERE name LIKE %s", [PATIENT_PREFIX + "%"])


def vacuum(dbname):
    """VACUUM ANALYZE (outside any transaction) so plans see fresh statistics."""
    connection = psycopg2.connect(
        dbname=dbname,
        host=os.environ.get("DB_HOST", "localhost"),
        port=os.environ.get("DB_PORT", "5432"),
        user=os.environ.get("DB_USER"),
        password=os.environ.get("DB_PASSWORD"),
    )
    connection.autocommit = True
    with connection.cursor() as cr:
        cr.execute("VACUUM ANALYZE")
    connection.close()
