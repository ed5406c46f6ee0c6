from odoo import models
from odoo.http import request


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _serve_fallback(cls):
        """A path holding a NUL character (``/clinic/visit/%00/...``) is no
        route and no attachment: answer 404, as for any unknown path, instead
        of letting the attachment lookup fail on it (a 500 found by the
        public-route fuzz test)."""
        if "\x00" in request.httprequest.path:
            return None
        return super()._serve_fallback()
