from odoo import http
from odoo.http import request

# Submissions from one address accepted per hour on the public form.
RATE_LIMIT = 5
FIELDS = ("contact_name", "contact_phone", "contact_email", "department_id", "description")


class PublicComplaintController(http.Controller):
    """The public complaint form (no login). A hidden honeypot field and a
    per-address rate limit keep robots out; a complaint is matched to the
    patient by normalized phone or email when possible."""

    def _company(self):
        return request.env.company

    def _use_visitor_lang(self, lang=None):
        """Show the form in the visitor's language: ``?lang=ru_RU``, else
        the browser's preferred one among the installed languages."""
        installed = [code for code, _name in request.env["res.lang"].get_installed()]
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
            {"company": company, "departments": departments, "values": values or {}, **extra},
            status=status,
        )

    @http.route("/clinic/complaint", type="http", auth="public", methods=["GET"], sitemap=False)
    def complaint_form(self, lang=None, **kwargs):
        self._use_visitor_lang(lang)
        return self._render_form()

    @http.route("/clinic/complaint", type="http", auth="public", methods=["POST"], sitemap=False)
    def complaint_submit(self, **post):
        self._use_visitor_lang(post.get("lang"))
        values = {name: (post.get(name) or "").strip() for name in FIELDS}
        if post.get("website_url"):
            # Honeypot filled in: a robot. Say thank you, store nothing.
            return self._render_form(done=True)
        Complaint = request.env["clinic.complaint"].sudo()
        error = Complaint._check_public_values(self._company(), values)
        if error:
            return self._render_form(values=values, status=400, error=error)
        address = request.httprequest.remote_addr
        if not request.env["clinic.public.submission"].sudo()._allow("complaint", address, RATE_LIMIT):
            return self._render_form(
                values=values,
                status=429,
                error=request.env._("Too many complaints were sent from your connection. Please try again later."),
            )
        Complaint._create_from_public_form(self._company(), values)
        return self._render_form(done=True)
