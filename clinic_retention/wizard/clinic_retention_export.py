import io
import re
import zipfile

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME = re.compile(rb'<sheet name="([^"]*)"')


def xlsx_row_counts(content):
    """{sheet name: rows written} of an .xlsx file, read from its XML
    (titles and headers included): what an export handed out."""
    counts = {}
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = SHEET_NAME.findall(archive.read("xl/workbook.xml"))
        for index, name in enumerate(names, start=1):
            try:
                xml = archive.read(f"xl/worksheets/sheet{index}.xml")
            except KeyError:
                continue
            counts[name.decode().replace("&amp;", "&")] = xml.count(b"<row ")
    return counts


class ClinicRetentionExport(models.TransientModel):
    """The Excel export: pick a period, departments and doctors, get one
    .xlsx (see ``clinic.retention.xlsx``).

    The workbook is built when it is downloaded
    (``/clinic_retention/export/<id>``) and streamed to its author: it is
    never stored, and the wizard itself is readable by its creator only (a
    record rule). Every download is written to the audit log: who, when,
    the filters and the rows of each sheet."""

    _name = "clinic.retention.export"
    _description = "Retention Excel Export"
    _transient_max_hours = 1.0

    @api.model
    def _default_date_from(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(months=1)

    @api.model
    def _default_date_to(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(days=1)

    date_from = fields.Date(required=True, default=lambda self: self._default_date_from())
    date_to = fields.Date(required=True, default=lambda self: self._default_date_to())
    department_ids = fields.Many2many(
        "clinic.department", string="Departments", help="Empty: every department you may see."
    )
    doctor_ids = fields.Many2many(
        "res.users", string="Doctors", domain="[('share', '=', False)]", help="Filters the satisfaction figures."
    )

    def _filename(self):
        return f"patient-care-{self.date_from.isoformat()}-{self.date_to.isoformat()}.xlsx"

    def _check_period(self):
        if self.date_to < self.date_from:
            raise UserError(self.env._("The period ends before it starts."))

    def action_export(self):
        """Download the workbook (built by the download route)."""
        self.ensure_one()
        self._check_period()
        return {
            "type": "ir.actions.act_url",
            "url": f"/clinic_retention/export/{self.id}",
            "target": "download",
        }

    def _export_file(self):
        """``(filename, content)`` of the workbook, logged in the audit log.
        Only the wizard's creator gets here (record rule)."""
        self.ensure_one()
        self.check_access("read")
        self._check_period()
        content = self.env["clinic.retention.xlsx"]._build(
            self.date_from, self.date_to, self.department_ids.ids, self.doctor_ids.ids
        )
        rows = xlsx_row_counts(content)
        self.env["clinic.audit.log"]._log(
            "excel_export",
            description=self.env._(
                "Excel export of %(date_from)s to %(date_to)s (%(departments)s).",
                date_from=self.date_from,
                date_to=self.date_to,
                departments=", ".join(self.department_ids.mapped("name")) or self.env._("all departments"),
            ),
            details={
                "date_from": self.date_from,
                "date_to": self.date_to,
                "department_ids": self.department_ids.ids,
                "doctor_ids": self.doctor_ids.ids,
                "rows": rows,
            },
            count=sum(rows.values()),
        )
        return self._filename(), content
