#!/usr/bin/env bash
# Benchmarks (see bench/README.md). Each one runs in a throw-away database
# "clinic_bench" with clinic_retention installed without demo data.
#
#   bench/run.sh recall   [--sizes 10000,100000] [--visits-per-patient 5]
#   bench/run.sh reminders [--history 200000] [--due 10000] [--future 20000]
#   bench/run.sh workers  [--due 10000] [--http-port 8115]   (a real multi-worker Odoo)
#   bench/run.sh reports  [--patients 100000] [--tasks 1000000] [--responses 300000]
#   bench/run.sh export   [--patients 100000] [--tasks 1000000] [--responses 300000] [--complaints 20000]
#   bench/run.sh dashboard [--patients 100000] [--tasks 1000000] [--reminders 100000] [--period custom]
#   bench/run.sh mailing  [--sizes 10000,100000] [--profile] [--skip-stock]
#                         (also installs clinic_retention_mass_mailing: mass_mailing, mass_mailing_sms)
source "$(dirname "$0")/../scripts/common.sh"

BENCH="${1:-}"
shift || true
case "$BENCH" in
    recall|reminders|reports|workers|export|dashboard|mailing) ;;
    *) echo "usage: bench/run.sh recall|reminders|reports|workers|export|dashboard|mailing [options]" >&2; exit 2 ;;
esac
DB="${CLINIC_BENCH_DB:-clinic_bench}"

check_odoo
ensure_venv
ensure_postgres

if db_exists "$DB"; then
    PGPASSWORD="$DB_PASSWORD" dropdb -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" --force "$DB"
fi
MODULES=clinic_retention
if [ "$BENCH" = mailing ]; then
    MODULES=clinic_retention,clinic_retention_mass_mailing  # brings mass_mailing and mass_mailing_sms
fi
log "installing $MODULES (no demo data) in $DB"
odoo_bin -d "$DB" -i "$MODULES" --without-demo=all --stop-after-init --log-level=warn \
    --max-cron-threads=0

export CLINIC_BENCH_DB="$DB" ODOO_SRC REPO_DIR DB_HOST DB_PORT DB_USER DB_PASSWORD STATE_DIR
exec "$VENV/bin/python" "$REPO_DIR/bench/bench_${BENCH}.py" "$@"
