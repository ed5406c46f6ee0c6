"""Snapshot the addon's data before an upgrade and compare it after.

Run by scripts/upgrade_test.sh, once with the previous release's code
(``snapshot``) and once with the current code after ``-u`` (``compare``):

    upgrade_check.py snapshot --db DB --addons DIR --out before.json
    upgrade_check.py compare  --db DB --addons DIR --before before.json

``snapshot`` first adds the records the demo data lacks (so every model of
``representative_models`` has some), then records, for every stored model
of the addon (``clinic.*``, not transient, not SQL views), every record's
stored field values by field name, the record counts, the patients'
contacts, and the KPIs of the last 12 months (whole clinic and per
department) and the monthly KPI report.

``compare`` reads the same fields by name with the new code and fails on
any difference: a missing model or field (renamed without a migration), a
changed value, a lost or new record, a different KPI. What a migration
changes on purpose is declared in ``expectations.json`` (renamed models
and fields, removed fields, changed values with their mapping or reason).
"""

import argparse
import json
import os
import sys
from datetime import date, datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTATIONS = os.path.join(HERE, "expectations.json")


def boot(db, addons):
    sys.path.insert(0, os.environ.get("ODOO_SRC", "/opt/odoo18"))
    import odoo

    odoo.tools.config.parse_config(
        [
            f"--addons-path={os.environ.get('ODOO_SRC', '/opt/odoo18')}/addons,{addons}",
            f"--data-dir={os.environ['STATE_DIR']}/data",
            f"--db_host={os.environ.get('DB_HOST', 'localhost')}",
            f"--db_port={os.environ.get('DB_PORT', '5432')}",
            f"--db_user={os.environ.get('DB_USER', 'odoo')}",
            f"--db_password={os.environ.get('DB_PASSWORD', 'odoo')}",
            "--log-level=warn",
            "--max-cron-threads=0",
        ]
    )
    return odoo.modules.registry.Registry(db)


def environment(registry):
    from odoo import SUPERUSER_ID, api

    cr = registry.cursor()
    return cr, api.Environment(cr, SUPERUSER_ID, {"active_test": False, "tracking_disable": True})


def load_expectations():
    with open(EXPECTATIONS) as source:
        return json.load(source)


# ----------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------


def plain(field, value):
    """A field value as JSON, comparable across releases."""
    if field.type in ("many2one",):
        return value.id or None
    if field.type in ("one2many", "many2many"):
        return sorted(value.ids)
    if field.type == "float" or field.type == "monetary":
        return round(value or 0.0, 6)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if field.type == "binary":
        return bool(value)
    return value if value is not False else None


def stored_models(env):
    return sorted(
        name
        for name, model in env.registry.items()
        if name.startswith("clinic.") and not model._abstract and not model._transient and model._auto
    )


def stored_fields(model, ignored):
    return [
        name
        for name, field in model._fields.items()
        if field.store and field.column_type and name not in ignored and name != "id"
    ]


def read_model(model, fields):
    records = model.search([], order="id")
    rows = {}
    for record in records:
        rows[str(record.id)] = {name: plain(model._fields[name], record[name]) for name in fields}
    return rows


def kpis(env, expectations):
    """KPIs of each of the last 12 months and of the year, for the whole
    clinic and per department, in every company; and the monthly report."""
    Kpi = env["clinic.retention.kpi"]
    from dateutil.relativedelta import relativedelta

    result = {}
    today = date.today().replace(day=1)
    for company in env["res.company"].search([], order="id"):
        Kpi_c = Kpi.with_company(company)
        periods = [(today - relativedelta(months=n), today - relativedelta(months=n - 1, days=1)) for n in range(12)]
        periods.append((today - relativedelta(years=1), today - relativedelta(days=1)))
        for date_from, date_to in periods:
            for line in Kpi_c._compute(date_from, date_to, company=company, by_department=True):
                key = f"{company.id}|{date_from}|{','.join(map(str, sorted(line['department'].ids))) or 'all'}"
                result[key] = {
                    name: round(float(line[name] or 0), 4)
                    for name in (
                        "patients_start",
                        "patients_new",
                        "patients_end",
                        "patients_lost",
                        "lost_revenue",
                        "revenue",
                        "prr",
                        "churn",
                        "avg_value",
                        "lifetime_value",
                        "avg_days_between_visits",
                    )
                }
    report = env["clinic.retention.report"]
    if hasattr(report, "_refresh"):
        report._refresh()
    for row in report.search_read([], ["date", "department_id", "patients_start", "patients_end", "revenue"]):
        key = f"report|{row['department_id'][0]}|{row['date']}"
        result[key] = {
            "patients_start": row["patients_start"],
            "patients_end": row["patients_end"],
            "revenue": round(row["revenue"], 4),
        }
    return result


# ----------------------------------------------------------------------
# Representative data the demo lacks
# ----------------------------------------------------------------------


def add_missing_data(env):
    """One or a few records of each representative model the demo data
    does not create, through the previous release's own ORM."""
    Patient = env["clinic.patient"]
    patients = Patient.search([("visit_ids.state", "=", "done")], limit=5, order="id")
    rules = env["clinic.recall.rule"].search([("kind", "in", ("recall", "chronic"))], limit=2, order="id")
    if not env["clinic.recall.override"].search_count([]) and rules and patients:
        env["clinic.recall.override"].create(
            [
                {"rule_id": rules[0].id, "patient_id": patients[0].id, "interval_number": 3, "note": "Upgrade test"},
                {"rule_id": rules[-1].id, "patient_id": patients[1].id, "interval_number": 2, "active": False},
            ]
        )
    if not env["clinic.visit.reminder"].search_count([]):
        visits = env["clinic.visit"].search([("state", "in", ("scheduled", "done"))], limit=4, order="id")
        env["clinic.visit.reminder"].create(
            [
                {
                    "visit_id": visit.id,
                    "kind": "day_before" if index % 2 else "satisfaction",
                    "channel": "sms" if index % 2 else "email",
                    "visit_start": visit.start,
                    "state": "sent" if index < 3 else "skipped",
                    "destination": visit.patient_id.mobile or visit.patient_id.email or "none",
                    **(
                        {"skip_reason": env["clinic.visit.reminder"]._fields["skip_reason"].selection[0][0]}
                        if index == 3
                        and isinstance(env["clinic.visit.reminder"]._fields["skip_reason"].selection, list)
                        else {}
                    ),
                }
                for index, visit in enumerate(visits)
            ]
        )
    if not env["clinic.followup.recovery.score"].search_count([]):
        tasks = env["clinic.followup.task"].search([], limit=2, order="id")
        criteria = env["clinic.recovery.criterion"].search([], limit=1)
        for task in tasks:
            env["clinic.followup.recovery.score"].create(
                {"task_id": task.id, "criterion_id": criteria.id, "name": criteria.name or "Pain", "score": 4}
            )
    # a task archived by an agent and one whose deadline was moved by hand
    tasks = env["clinic.followup.task"].search([("is_closed", "=", False)], limit=2, order="id")
    if tasks:
        tasks[0].active = False
        tasks[-1].date_deadline = date.today() + timedelta(days=3)
    env.flush_all()


# ----------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------


def snapshot(args):
    expectations = load_expectations()
    registry = boot(args.db, args.addons)
    cr, env = environment(registry)
    try:
        add_missing_data(env)
        tz = expectations.get("kpi_timezone")
        if tz:
            companies = env["res.company"].search([])
            companies.partner_id.write({"tz": tz})
            if "clinic_tz" in companies:  # 18.0.2.0.0: the clinic's own zone comes first
                companies.write({"clinic_tz": tz})
        ignored = set(expectations["ignored_fields"])
        data = {"models": {}, "counts": {}}
        for name in stored_models(env):
            model = env[name]
            data["models"][name] = read_model(model, stored_fields(model, ignored))
            data["counts"][name] = model.search_count([])
        partner_ids = env["clinic.patient"].search([]).partner_id.ids
        partner_fields = ["name", "email", "phone", "mobile", "lang", "active", "company_id", "is_patient"]
        data["partners"] = read_model(env["res.partner"].browse(partner_ids).exists().sudo(), partner_fields)
        data["partners"] = {pid: row for pid, row in data["partners"].items() if int(pid) in set(partner_ids)}
        data["kpis"] = kpis(env, expectations)
        cr.commit()
    finally:
        cr.close()
    missing = [name for name in expectations["representative_models"] if not data["counts"].get(name)]
    if missing:
        print(f"upgrade test: no records of {', '.join(missing)} to carry over", file=sys.stderr)
        return 1
    with open(args.out, "w") as out:
        json.dump(data, out, indent=1, sort_keys=True, default=str)
    total = sum(data["counts"].values())
    print(f"upgrade test: snapshot of {total} records in {len(data['counts'])} models, {len(data['kpis'])} KPI lines")
    return 0


def added_record_ids(env, expectations, model_name):
    """Ids (as strings) of the records the upgrade adds on purpose, by XML id."""
    declared = expectations.get("added_records", {}).get(model_name, {})
    ids = set()
    for xmlid in declared:
        record = env.ref(xmlid, raise_if_not_found=False)
        if record is not None:
            ids.add(str(record.id))
    return ids


def compare(args):
    expectations = load_expectations()
    with open(args.before) as source:
        before = json.load(source)
    registry = boot(args.db, args.addons)
    cr, env = environment(registry)
    problems = []
    try:
        renamed_models = expectations["renamed_models"]
        ignored = set(expectations["ignored_fields"])
        for old_name, old_rows in before["models"].items():
            name = renamed_models.get(old_name, old_name)
            if name not in env.registry:
                problems.append(f"model {old_name} is gone (renamed or removed without a migration?)")
                continue
            model = env[name]
            renamed = expectations["renamed_fields"].get(old_name, {})
            removed = expectations["removed_fields"].get(old_name, {})
            changed = expectations["changed_values"].get(old_name, {})
            old_fields = sorted({field for row in old_rows.values() for field in row} or [])
            mapping = {}
            for old_field in old_fields:
                if old_field in removed or old_field in ignored:
                    continue
                new_field = renamed.get(old_field, old_field)
                if new_field not in model._fields or not model._fields[new_field].store:
                    problems.append(f"{old_name}.{old_field} is gone (renamed or removed without a migration?)")
                    continue
                mapping[old_field] = new_field
            new_rows = read_model(model, sorted(set(mapping.values())))
            added = added_record_ids(env, expectations, old_name)
            new_rows = {record_id: row for record_id, row in new_rows.items() if record_id not in added}
            if set(new_rows) != set(old_rows):
                lost = sorted(set(old_rows) - set(new_rows), key=int)[:10]
                new = sorted(set(new_rows) - set(old_rows), key=int)[:10]
                problems.append(f"{old_name}: records lost {lost} / new {new}")
            for record_id, old_row in old_rows.items():
                new_row = new_rows.get(record_id)
                if new_row is None:
                    continue
                for old_field, new_field in mapping.items():
                    expected = old_row[old_field]
                    rule = changed.get(old_field)
                    if isinstance(rule, dict):
                        expected = rule.get(str(expected), expected)
                    elif rule:
                        continue  # a migration changes it on purpose (the reason is in expectations.json)
                    if new_row[new_field] != expected:
                        problems.append(
                            f"{old_name}({record_id}).{old_field}: {expected!r} before, {new_row[new_field]!r} after"
                        )
            count = model.search_count([]) - len(added & {str(record.id) for record in model.search([])})
            if count != before["counts"][old_name]:
                problems.append(f"{old_name}: {before['counts'][old_name]} records before, {count} after")
        partner_fields = sorted({field for row in before["partners"].values() for field in row})
        partners = env["res.partner"].browse([int(pid) for pid in before["partners"]]).exists()
        after_partners = read_model(partners.with_context(active_test=False), partner_fields)
        after_partners = {pid: row for pid, row in after_partners.items() if pid in before["partners"]}
        for pid, row in before["partners"].items():
            if after_partners.get(pid) != row:
                problems.append(f"res.partner({pid}) of a patient: {row!r} before, {after_partners.get(pid)!r} after")
        after_kpis = kpis(env, expectations)
        for key, values in before["kpis"].items():
            if after_kpis.get(key) != values:
                problems.append(f"KPI {key}: {values!r} before, {after_kpis.get(key)!r} after")
        for key in sorted(set(after_kpis) - set(before["kpis"]))[:10]:
            problems.append(f"KPI {key}: new after the upgrade")
    finally:
        cr.rollback()
        cr.close()
    records = sum(len(rows) for rows in before["models"].values())
    if problems:
        print(f"upgrade test: {len(problems)} difference(s) after the upgrade:")
        for problem in problems[:60]:
            print(f"  - {problem}")
        if len(problems) > 60:
            print(f"  ... and {len(problems) - 60} more")
        print("If a change is intended, declare it in scripts/upgrade/expectations.json (see its README).")
        return 1
    print(
        f"upgrade test: {records} records in {len(before['models'])} models, their counts, "
        f"{len(before['partners'])} patient contacts and {len(before['kpis'])} KPI lines unchanged"
    )
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("snapshot", "compare"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons", required=True)
    parser.add_argument("--out")
    parser.add_argument("--before")
    args = parser.parse_args()
    return snapshot(args) if args.command == "snapshot" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
