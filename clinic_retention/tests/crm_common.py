from datetime import datetime, timedelta

from .common import ClinicRetentionCase


class ClinicCrmCase(ClinicRetentionCase):
    """The clinic set-up of ``ClinicRetentionCase`` plus CRM helpers: the
    Patient Care stages, need grades and sources, and prospects."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        cls.Lead = cls.env["crm.lead"]
        cls.stage_new = ref("clinic_retention.crm_stage_clinic_new")
        cls.stage_reached = ref("clinic_retention.crm_stage_clinic_reached")
        cls.stage_booked = ref("clinic_retention.crm_stage_clinic_booked")
        cls.stage_reinvite = ref("clinic_retention.crm_stage_clinic_reinvite")
        cls.stage_done = ref("clinic_retention.crm_stage_clinic_done")
        cls.grades = {code: ref(f"clinic_retention.need_grade_{code.lower()}") for code in "ABCDE"}
        cls.source_referral = ref("clinic_retention.utm_source_referral")
        cls.source_website = ref("clinic_retention.utm_source_website")
        cls.source_walk_in = ref("clinic_retention.utm_source_walk_in")
        cls.reason_elsewhere = ref("clinic_retention.crm_lost_reason_went_elsewhere")

    @classmethod
    def _prospect(cls, name="Prospect", department=None, **vals):
        vals.setdefault("contact_name", name)
        vals.setdefault("name", f"{name}: toothache")
        vals.update(type="opportunity", clinic_department_id=(department or cls.dental).id)
        return cls.Lead.create(vals)

    @classmethod
    def _book(cls, lead, start, **vals):
        """Book ``lead``'s visit as the booking dialog does (the action's defaults)."""
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        action = lead.action_clinic_book_visit()
        return (
            cls.env["clinic.visit"]
            .with_context(**action["context"])
            .create(dict(vals, start=start, stop=start + timedelta(minutes=30)))
        )
