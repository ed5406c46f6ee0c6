from odoo import api, fields, models

GRADE_CODES = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D"), ("E", "E")]


class ClinicNeedGrade(models.Model):
    """How strong a prospect's need is, from A (acute, ready to book) to E
    (no current need). The five grades are fixed; their names and
    definitions are the clinic's own and are shown to staff as help."""

    _name = "clinic.need.grade"
    _description = "Need Grade"
    _order = "code"
    _rec_names_search = ["code", "name"]

    code = fields.Selection(GRADE_CODES, required=True)
    name = fields.Char(required=True, translate=True, help="A few words, e.g. “Acute need, ready to book”.")
    description = fields.Text(
        string="Definition",
        translate=True,
        help="What the grade means and what to do with such a prospect. Shown on the opportunity.",
    )
    color = fields.Integer()
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_uniq", "unique(code)", "Each grade (A to E) is defined once."),
    ]

    @api.depends("code", "name")
    def _compute_display_name(self):
        for grade in self:
            grade.display_name = f"{grade.code} — {grade.name}" if grade.code else grade.name
