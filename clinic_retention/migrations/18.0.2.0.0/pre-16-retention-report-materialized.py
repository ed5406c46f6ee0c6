"""18.0.2.0.0, issue 16: ``clinic.retention.report`` becomes a materialized
view (its KPIs are computed when refreshed, not on every read). Drop the
plain view of 18.0.1.0.0 before the module is loaded, so the model's
``init()`` creates the materialized one. It holds no data of its own: it is
computed from the visits."""


def migrate(cr, version):
    cr.execute("SELECT relkind FROM pg_class WHERE relname = 'clinic_retention_report'")
    row = cr.fetchone()
    if row and row[0] == "v":
        cr.execute("DROP VIEW clinic_retention_report CASCADE")
