# Shared set-up for scripts/run.sh, scripts/test.sh and bench/*.sh.
# Sourced, not executed. Every step is idempotent: it checks first and only
# does the work that is missing.
#
# Knobs (environment variables):
#   ODOO_SRC          Odoo 18.0 source checkout (default /opt/odoo18)
#   CLINIC_VENV       virtualenv to use (default <repo>/.venv)
#   CLINIC_DB_HOST    PostgreSQL host (default localhost)
#   CLINIC_DB_PORT    PostgreSQL port (default 5432)
#   CLINIC_DB_USER    PostgreSQL role (default: your login, or "odoo" if
#                     that is "postgres", which Odoo refuses)
#   CLINIC_DB_PASSWORD  password given to a role we create (default odoo)

set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo18}"
VENV="${CLINIC_VENV:-$REPO_DIR/.venv}"
STATE_DIR="$REPO_DIR/.local"
PYTHON_BIN="${PYTHON:-python3}"
DB_HOST="${CLINIC_DB_HOST:-localhost}"
DB_PORT="${CLINIC_DB_PORT:-5432}"
DB_USER="${CLINIC_DB_USER:-$(id -un)}"
if [ "$DB_USER" = "postgres" ]; then
    DB_USER=odoo
fi
DB_PASSWORD="${CLINIC_DB_PASSWORD:-odoo}"

log() { printf '[clinic] %s\n' "$*" >&2; }
die() { printf '[clinic] ERROR: %s\n' "$*" >&2; exit 2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "root rights are needed to run: $*"
    fi
}

# apt_install PKG... : install the Debian packages that are not installed yet.
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 \
        || die "please install these system packages first: ${missing[*]}"
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

check_odoo() {
    if [ ! -f "$ODOO_SRC/odoo-bin" ] \
        || ! grep -q "^version_info = (18, 0," "$ODOO_SRC/odoo/release.py" 2>/dev/null; then
        cat >&2 <<EOF
[clinic] Odoo 18.0 was not found at ODOO_SRC=$ODOO_SRC.
[clinic] Get the official Odoo 18.0 Community source checkout, for example
[clinic]     git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git /opt/odoo18
[clinic] then run this command again, or point ODOO_SRC at your checkout:
[clinic]     ODOO_SRC=/path/to/odoo-18.0 $0
EOF
        exit 2
    fi
}

# The virtualenv holds Odoo's own requirements plus ours. A stamp records
# what it was built from, so an unchanged venv costs nothing.
ensure_venv() {
    mkdir -p "$STATE_DIR"
    local stamp_file="$VENV/.clinic-requirements.sha256" want
    want="$( (cat "$ODOO_SRC/requirements.txt" "$REPO_DIR/requirements.txt"; \
              "$PYTHON_BIN" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    # Headers needed to build python-ldap and psycopg2 from source.
    apt_install gcc libldap2-dev libsasl2-dev libpq-dev
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating the virtualenv in $VENV"
        "$PYTHON_BIN" -m venv "$VENV" || {
            apt_install python3-venv python3-dev
            "$PYTHON_BIN" -m venv "$VENV"
        }
    fi
    log "installing Odoo's and our Python requirements (a few minutes the first time)"
    # A few old sdists in Odoo's requirements still import pkg_resources.
    printf 'setuptools<80\n' > "$STATE_DIR/pip-constraints.txt"
    PIP_CONSTRAINT="$STATE_DIR/pip-constraints.txt" "$VENV/bin/pip" install -q \
        --disable-pip-version-check \
        -r "$ODOO_SRC/requirements.txt" -r "$REPO_DIR/requirements.txt" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    printf '%s\n' "$want" > "$stamp_file"
}

# The pinned linters and coverage of requirements-dev.txt, in the same
# virtualenv (coverage must run Odoo). A stamp makes an unchanged set free.
ensure_dev_tools() {
    local stamp_file="$VENV/.clinic-dev-requirements.sha256" want
    want="$(sha256sum "$REPO_DIR/requirements-dev.txt" | cut -d' ' -f1)"
    if [ "$(cat "$stamp_file" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    log "installing the pinned linters and coverage of requirements-dev.txt into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO_DIR/requirements-dev.txt" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    printf '%s\n' "$want" > "$stamp_file"
}

pg_ready() {
    pg_isready -q -h "$DB_HOST" -p "$DB_PORT" >/dev/null 2>&1
}

db_psql() {
    PGPASSWORD="$DB_PASSWORD" psql -X -q -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" "$@"
}

# PostgreSQL: installed, running, and a role Odoo accepts.
ensure_postgres() {
    if ! command -v pg_isready >/dev/null 2>&1; then
        apt_install postgresql postgresql-client
    fi
    if ! pg_ready; then
        if [ "$DB_HOST" != "localhost" ] && [ "$DB_HOST" != "127.0.0.1" ]; then
            die "PostgreSQL at $DB_HOST:$DB_PORT does not answer"
        fi
        [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ] \
            || apt_install postgresql
        local version
        version="$(ls /etc/postgresql | sort -V | tail -n 1)"
        log "starting PostgreSQL $version"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        local i
        for i in $(seq 1 30); do
            pg_ready && break
            sleep 1
        done
        pg_ready || die "PostgreSQL did not start on $DB_HOST:$DB_PORT"
    fi
    if ! db_psql -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
        log "creating PostgreSQL role $DB_USER"
        local sql="DO \$\$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER') THEN
                CREATE ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
            ELSE
                ALTER ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
            END IF; END \$\$;"
        if [ "$(id -un)" = postgres ]; then
            psql -X -q -d postgres -c "$sql"
        else
            as_root runuser -u postgres -- psql -X -q -d postgres -c "$sql"
        fi
        db_psql -d postgres -tAc 'SELECT 1' >/dev/null \
            || die "cannot connect to PostgreSQL as $DB_USER (check pg_hba.conf)"
    fi
}

ensure_browser() {
    local b
    for b in google-chrome chromium chromium-browser; do
        command -v "$b" >/dev/null 2>&1 && return 0
    done
    apt_install chromium
}

# rtlcss turns the stylesheets right to left for Persian (Odoo's RTL asset
# bundles); without it Odoo serves the left-to-right ones with a warning.
ensure_rtlcss() {
    command -v rtlcss >/dev/null 2>&1 && return 0
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    log "installing rtlcss (right-to-left stylesheets for Persian)"
    as_root npm install -g --silent rtlcss@4.3.0 >/dev/null
}

db_exists() {
    [ "$(db_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]
}

# odoo_bin ARGS... : run Odoo 18 with our addon on the addons path.
# ODOO_RUNNER: what runs odoo-bin (default the venv's python; scripts/test.sh
# sets "coverage run"); ODOO_ADDONS: our addons folder (default this checkout;
# the upgrade test points it at the previous release).
odoo_bin() {
    ${ODOO_RUNNER:-"$VENV/bin/python"} "$ODOO_SRC/odoo-bin" \
        --addons-path="$ODOO_SRC/addons,${ODOO_ADDONS:-$REPO_DIR}" \
        --data-dir="$STATE_DIR/data" \
        --db_host="$DB_HOST" --db_port="$DB_PORT" \
        --db_user="$DB_USER" --db_password="$DB_PASSWORD" \
        "$@"
}

# The bridge addons next to clinic_retention (clinic_retention_*/, e.g. the
# free screening events bridge), comma-separated; empty when there is none.
bridge_addons() {
    local manifest names=()
    for manifest in "$REPO_DIR"/clinic_retention_*/__manifest__.py; do
        [ -f "$manifest" ] && names+=("$(basename "$(dirname "$manifest")")")
    done
    (IFS=,; printf '%s' "${names[*]}")
}
