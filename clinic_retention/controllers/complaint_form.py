from odoo import http
from odoo.http import request
from odoo.tools import config, email_normalize

FIELDS = ("contact_name", "contact_phone", "contact_email", "department_id", "description", "privacy_consent")
# A complaint form is a few kilobytes; anything larger is refused before it is read (413).
MAX_BODY_BYTES = 64 * 1024
# Submissions accepted per client address (an IPv4 address, an IPv6 /64)
# in an hour, and per phone number or e-mail address in a day.
ADDRESS_LIMIT = 5
ADDRESS_WINDOW_MINUTES = 60
CONTACT_LIMIT = 3
CONTACT_WINDOW_MINUTES = 24 * 60


class PublicComplaintController(http.Controller):
    """The public complaint form (no login).

    * The visitor agrees to the processing of their personal data (the
      clinic's privacy notice, per language, in Settings), as 152-FZ, GDPR
      and PIPL require, or nothing is stored.
    * A honeypot field, a body size limit, and rate limits per client
      address and per phone / e-mail address keep robots out. The address is
      the TCP peer, or the client address a trusted reverse proxy gives when
      Odoo runs with ``proxy_mode`` (the proxy must overwrite
      ``X-Forwarded-For``, never append a client's own header to it). When
      every visitor seems to come from one private address (a proxy without
      ``proxy_mode``), the per-address limit is not applied, so that one
      abuser cannot close the form for everybody; the per-contact limits
      still hold.
    * A complaint is never linked to a patient from what an anonymous
      visitor typed: a matching patient is proposed for staff to confirm.
    """

    def _company(self):
        return request.env.company

    def _use_visitor_lang(self, lang=None):
        """Show the form in the visitor's language: ``?lang=ru_RU``, else
        the browser's preferred one among the installed languages."""
        installed = [code for code, _name in request.env["res.lang"].get_installed()]
        lang = lang if isinstance(lang, str) else None
        chosen = (
            lang
            if lang in installed
            else request.httprequest.accept_languages.best_match([code.replace("_", "-") for code in installed])
        )
        if chosen:
            request.update_context(lang=chosen.replace("-", "_"))

    def _render_form(self, values=None, status=200, **extra):
        company = self._company()
        departments = request.env["clinic.department"].sudo().search([("company_id", "=", company.id)])
        return request.render(
            "clinic_retention.public_complaint_page",
            {
                "company": company,
                "departments": departments,
                "values": values or {},
                "privacy_notice": company.sudo()._clinic_privacy_notice(),
                **extra,
            },
            status=status,
        )

    def _client_address(self):
        """The client's address for the rate limit (see the class docstring)."""
        return request.env["clinic.public.submission"]._client_key(
            request.httprequest.remote_addr,
            forwarded=bool(request.httprequest.headers.get("X-Forwarded-For")),
            proxy_mode=bool(config.get("proxy_mode")),
        )

    @http.route("/clinic/complaint", type="http", auth="public", methods=["GET"], sitemap=False)
    def complaint_form(self, lang=None, **kwargs):
        self._use_visitor_lang(lang)
        return self._render_form()

    @http.route(
        "/clinic/complaint",
        type="http",
        auth="public",
        methods=["POST"],
        sitemap=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def complaint_submit(self, **post):
        self._use_visitor_lang(post.get("lang"))
        Complaint = request.env["clinic.complaint"].sudo()
        values = Complaint._clean_public_values(post, FIELDS)
        if post.get("website_url"):
            # Honeypot filled in: a robot. Say thank you, store nothing.
            return self._render_form(done=True)
        company = self._company()
        error = Complaint._check_public_values(company, values)
        if error:
            return self._render_form(values=values, status=400, error=error)
        phone = request.env["res.partner"]._clinic_format_phone(values["contact_phone"], company.country_id)
        email = email_normalize(values["contact_email"]) if values["contact_email"] else None
        limits = [
            ("address", self._client_address(), ADDRESS_LIMIT, ADDRESS_WINDOW_MINUTES),
            ("phone", phone or None, CONTACT_LIMIT, CONTACT_WINDOW_MINUTES),
            ("email", email or None, CONTACT_LIMIT, CONTACT_WINDOW_MINUTES),
        ]
        if not request.env["clinic.public.submission"].sudo()._allow("complaint", limits):
            return self._render_form(
                values=values,
                status=429,
                error=request.env._(
                    "Too many complaints were sent from your connection or with these contact details. "
                    "Please try again later, or call us."
                ),
            )
        values["privacy_notice"] = company.sudo()._clinic_privacy_notice(as_text=True)
        Complaint._create_from_public_form(company, values)
        return self._render_form(done=True)
