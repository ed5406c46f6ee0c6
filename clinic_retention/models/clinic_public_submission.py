import hashlib
import ipaddress
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class ClinicPublicSubmission(models.Model):
    """Rate-limit counters of the public forms: how many submissions a key
    (a client address, a phone number, an e-mail address) made in a time
    window. Stores a salted hash of the key, never the key itself.

    A counter is incremented with one ``INSERT ... ON CONFLICT DO UPDATE``:
    two submissions at the same time cannot both read "under the limit"
    (the second one waits for the first, then PostgreSQL makes Odoo retry
    it, and it reads the new count)."""

    _name = "clinic.public.submission"
    _description = "Public Form Rate Limit"
    _order = "window_start desc, id desc"

    kind = fields.Char(required=True, help="Which form and which key: complaint:address, complaint:contact...")
    address_hash = fields.Char(string="Key hash", required=True)
    window_start = fields.Datetime(required=True, index=True)
    count = fields.Integer(default=0)

    _sql_constraints = [
        ("kind_key_window_uniq", "unique(kind, address_hash, window_start)", "One counter per key and window."),
    ]

    @api.model
    def _hash(self, key):
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret", "")
        return hashlib.sha256(f"{secret}:{key}".encode()).hexdigest()

    @api.model
    def _client_key(self, address, forwarded=False, proxy_mode=False):
        """The rate-limit key of a client: its address for IPv4, its /64
        network for IPv6 (one subscriber gets a whole /64); None when the
        address cannot tell visitors apart.

        ``address`` is the TCP peer, or, with ``proxy_mode``, the client
        address the reverse proxy gave (Odoo applies it before we see it).
        A visitor's own ``X-Forwarded-For`` header is never read here, so it
        cannot be used to get a fresh quota. Behind a proxy without
        ``proxy_mode`` every visitor has the proxy's private address: the
        per-address limit is then off (it would close the form for everyone)
        and a warning says how to fix the set-up."""
        try:
            ip = ipaddress.ip_address((address or "").strip())
        except ValueError:
            return None
        if forwarded and not proxy_mode and (ip.is_private or ip.is_loopback):
            _logger.warning(
                "Public forms: requests come through a reverse proxy (%s) but Odoo runs without proxy_mode; "
                "the per-address rate limit is off. Start Odoo with --proxy-mode behind a proxy that sets "
                "X-Forwarded-For.",
                address,
            )
            return None
        if ip.version == 6:
            if ip.ipv4_mapped:
                return str(ip.ipv4_mapped)
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return str(ip)

    @api.model
    def _count(self, kind, key, window_minutes):
        """Count one submission for ``key`` in the current window of
        ``window_minutes`` and return the count, this one included."""
        now = fields.Datetime.now()
        minutes = int(now.timestamp() // 60)
        window_start = now - timedelta(
            minutes=minutes % window_minutes, seconds=now.second, microseconds=now.microsecond
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO clinic_public_submission (kind, address_hash, window_start, count,
                                                      create_uid, write_uid, create_date, write_date)
                VALUES (%(kind)s, %(hash)s, %(start)s, 1, %(uid)s, %(uid)s,
                        now() at time zone 'UTC', now() at time zone 'UTC')
                ON CONFLICT (kind, address_hash, window_start)
                DO UPDATE SET count = clinic_public_submission.count + 1,
                              write_date = now() at time zone 'UTC'
                RETURNING count
                """,
                kind=kind,
                hash=self._hash(key),
                start=window_start,
                uid=self.env.uid,
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _allow(self, kind, limits):
        """Count a submission against each ``(key, limit, window_minutes)``
        of ``limits``, in order; False at the first key over its limit (the
        later keys are then not counted: a refused visitor uses up nobody
        else's quota)."""
        for name, key, limit, window_minutes in limits:
            if key is None:
                continue
            if self._count(f"{kind}:{name}", key, window_minutes) > limit:
                return False
        return True

    @api.autovacuum
    def _gc_old_submissions(self):
        self.search([("window_start", "<", fields.Datetime.now() - timedelta(days=2))]).unlink()
