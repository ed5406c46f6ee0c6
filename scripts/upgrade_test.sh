#!/usr/bin/env bash
# Upgrade test: install clinic_retention at the previous release (its tree
# taken from git) with its demo data plus the records it lacks, snapshot
# every record, count and KPI, upgrade to this checkout with `-u`, and check
# that nothing changed except what scripts/upgrade/expectations.json
# declares (renames and value changes made by migration scripts).
# Run by scripts/test.sh (so by .ci/run); also on its own:
#   scripts/upgrade_test.sh
source "$(dirname "$0")/common.sh"

EXPECTATIONS="$REPO_DIR/scripts/upgrade/expectations.json"
PREVIOUS="${CLINIC_UPGRADE_FROM:-$("$PYTHON_BIN" -c 'import json,sys; print(json.load(open(sys.argv[1]))["previous_release"]["commit"])' "$EXPECTATIONS")}"
DB="${CLINIC_UPGRADE_DB:-${CLINIC_TEST_DB:-clinic_retention_test}_upgrade}"
WORK="$STATE_DIR/upgrade"
OLD="$WORK/$PREVIOUS"

check_odoo
ensure_venv
ensure_postgres

if ! git -C "$REPO_DIR" cat-file -e "$PREVIOUS^{commit}" 2>/dev/null; then
    echo "upgrade test: the previous release (commit $PREVIOUS) is not in this clone's history." >&2
    echo "upgrade test: fetch it (git fetch --unshallow, or a clone with full history) and run again." >&2
    exit 1
fi
rm -rf "$OLD" && mkdir -p "$OLD"
git -C "$REPO_DIR" archive "$PREVIOUS" clinic_retention | tar -x -C "$OLD"

if db_exists "$DB"; then
    PGPASSWORD="$DB_PASSWORD" dropdb -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" --force "$DB"
fi
rm -rf "$STATE_DIR/data/filestore/$DB"
export ODOO_SRC STATE_DIR DB_HOST DB_PORT DB_USER DB_PASSWORD

log "upgrade test: installing the previous release ($PREVIOUS) with its demo data in $DB"
ODOO_ADDONS="$OLD" odoo_bin -d "$DB" -i clinic_retention --stop-after-init --max-cron-threads=0 \
    --log-level=warn --http-port="${CLINIC_TEST_HTTP_PORT:-8169}"
"$VENV/bin/python" "$REPO_DIR/scripts/upgrade/upgrade_check.py" snapshot --db "$DB" --addons "$OLD" \
    --out "$WORK/before.json"

log "upgrade test: upgrading $DB to this checkout (-u clinic_retention)"
odoo_bin -d "$DB" -u clinic_retention --stop-after-init --max-cron-threads=0 --log-level=warn \
    --http-port="${CLINIC_TEST_HTTP_PORT:-8169}"
set +e
"$VENV/bin/python" "$REPO_DIR/scripts/upgrade/upgrade_check.py" compare --db "$DB" --addons "$REPO_DIR" \
    --before "$WORK/before.json"
rc=$?
set -e
PGPASSWORD="$DB_PASSWORD" dropdb -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" --force "$DB" || true
rm -rf "$OLD"  # the previous release's tree is only needed during the test
exit "$rc"
