import hashlib
from datetime import timedelta

from odoo import api, fields, models


class ClinicPublicSubmission(models.Model):
    """Who submitted what on the public forms, for rate limiting. Stores a
    salted hash of the address, never the address itself."""

    _name = "clinic.public.submission"
    _description = "Public Form Submission"
    _order = "id desc"

    kind = fields.Char(required=True, index=True)
    address_hash = fields.Char(required=True, index=True)

    @api.model
    def _hash(self, address):
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret", "")
        return hashlib.sha256(f"{secret}:{address}".encode()).hexdigest()

    @api.model
    def _allow(self, kind, address, limit, window_minutes=60):
        """Record a submission from ``address``; False when it already made
        ``limit`` of this kind in the last ``window_minutes``."""
        address_hash = self._hash(address or "unknown")
        since = fields.Datetime.now() - timedelta(minutes=window_minutes)
        recent = self.search_count(
            [("kind", "=", kind), ("address_hash", "=", address_hash), ("create_date", ">=", since)]
        )
        if recent >= limit:
            return False
        self.create({"kind": kind, "address_hash": address_hash})
        return True

    @api.autovacuum
    def _gc_old_submissions(self):
        self.search([("create_date", "<", fields.Datetime.now() - timedelta(days=2))]).unlink()
