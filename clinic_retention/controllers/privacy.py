from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import content_disposition, request

from ..wizard.clinic_retention_export import XLSX_MIMETYPE


class ClinicPrivacyController(http.Controller):
    """Downloads of patient data, built on request and streamed to the user
    who asked for them: nothing is kept in the database or the filestore.
    Each download is written to the audit log by the model that builds it."""

    def _download(self, filename, content, mimetype):
        return request.make_response(
            content,
            headers=[
                ("Content-Type", mimetype),
                ("Content-Disposition", content_disposition(filename)),
                ("Content-Length", len(content)),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )

    @http.route("/clinic_retention/export/<int:export_id>", type="http", auth="user", methods=["GET"])
    def excel_export(self, export_id, **kwargs):
        wizard = request.env["clinic.retention.export"].browse(export_id)
        try:
            filename, content = wizard._export_file()
        except (AccessError, MissingError) as e:
            raise NotFound() from e
        return self._download(filename, content, XLSX_MIMETYPE)

    @http.route("/clinic_retention/patient/<int:patient_id>/data", type="http", auth="user", methods=["GET"])
    def patient_data(self, patient_id, **kwargs):
        patient = request.env["clinic.patient"].browse(patient_id)
        try:
            filename, content = patient._export_personal_data()
        except MissingError as e:
            raise NotFound() from e
        return self._download(filename, content, "application/zip")
