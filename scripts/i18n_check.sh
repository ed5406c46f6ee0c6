#!/usr/bin/env bash
# The translation check: every string in the code is in the committed .pot
# and translated in zh_CN, fa and ru. Run by scripts/test.sh (so by .ci/run).
#   1. installs clinic_retention and every bridge addon (each ships an i18n/)
#      folder, WITHOUT demo data, in a throw-away database;
#   2. exports their terms with Odoo's own exporter (one .pot per addon, one
#      Odoo run for all of them);
#   3. scripts/i18n_check.py compares each .pot with the committed one
#      (stale .pot), and each .po with it (untranslated, fuzzy, placeholders
#      changed, msgfmt -c errors). Prints a line per addon and language.
#
#   scripts/i18n_check.sh            # check; exit code 1 on any problem
#   scripts/i18n_check.sh --update   # write the regenerated .pot files and
#                                    # merge them into the .po files (new
#                                    # entries empty, for the translators)
source "$(dirname "$0")/common.sh"

DB="${CLINIC_I18N_DB:-${CLINIC_TEST_DB:-clinic_retention_test}_i18n}"
PORT="${CLINIC_TEST_HTTP_PORT:-8169}"
WORK="$STATE_DIR/i18n"
LOG="$WORK/odoo.log"
ARGS=()
[ "${1:-}" = "--update" ] && ARGS+=(--update)

check_odoo
ensure_venv
ensure_postgres
command -v msgmerge >/dev/null 2>&1 || apt_install gettext
cd "$REPO_DIR"

modules=()
for dir in clinic_retention clinic_retention_*/; do
    dir="${dir%/}"
    [ -f "$dir/__manifest__.py" ] && modules+=("$dir")  # every addon ships translations
done
MODULES="$(IFS=,; printf '%s' "${modules[*]}")"

drop_db() {
    if db_exists "$DB"; then
        PGPASSWORD="$DB_PASSWORD" dropdb -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" --force "$DB"
    fi
    rm -rf "$STATE_DIR/data/filestore/$DB"
}
mkdir -p "$WORK"
rm -f "$WORK/export.tgz"
: > "$LOG"
drop_db
trap drop_db EXIT

log "i18n: installing $MODULES without demo data in $DB (log: $LOG)"
if ! odoo_bin -d "$DB" -i "$MODULES" --without-demo=all --stop-after-init --max-cron-threads=0 \
        --http-port="$PORT" --log-level=warn >> "$LOG" 2>&1; then
    tail -n 30 "$LOG"
    echo "i18n: installing $MODULES failed (see $LOG)"
    exit 1
fi
log "i18n: exporting the terms of $MODULES with Odoo's exporter"
if ! odoo_bin -d "$DB" --i18n-export="$WORK/export.tgz" --modules="$MODULES" \
        --http-port="$PORT" --log-level=warn >> "$LOG" 2>&1; then
    tail -n 30 "$LOG"
    echo "i18n: the export failed (see $LOG)"
    exit 1
fi
"$VENV/bin/python" "$REPO_DIR/scripts/i18n_check.py" "$WORK/export.tgz" "$REPO_DIR" "${modules[@]}" "${ARGS[@]}"
