from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
@freeze_time("2030-04-20 08:00:00")  # the booking is in the future (next_visit_date counts from now)
class TestCalendarBooking(ClinicRetentionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.patient = cls._patient("Booked Patient", mobile="13800138000")
        cls.start = datetime(2030, 5, 6, 9, 0)

    def _book(self, user=None, **vals):
        Event = self.env["calendar.event"].with_user(user or self.cs_user)
        return Event.with_context(no_mail_to_attendees=True).create(
            dict(
                {
                    "name": "Check-up",
                    "start": self.start,
                    "stop": self.start + timedelta(minutes=45),
                    "user_id": self.doctor.id,
                    "clinic_patient_id": self.patient.id,
                    "clinic_department_id": self.dental.id,
                    "clinic_service_id": self.checkup.id,
                },
                **vals,
            )
        )

    def test_booking_creates_scheduled_visit(self):
        event = self._book()
        visit = event.clinic_visit_ids
        self.assertEqual(len(visit), 1)
        self.assertRecordValues(
            visit,
            [
                {
                    "patient_id": self.patient.id,
                    "department_id": self.dental.id,
                    "service_id": self.checkup.id,
                    "doctor_id": self.doctor.id,
                    "start": self.start,
                    "stop": self.start + timedelta(minutes=45),
                    "state": "scheduled",
                    "calendar_event_id": event.id,
                }
            ],
        )
        self.assertEqual(self.patient.next_visit_date, self.start)

    def test_event_without_patient_creates_no_visit(self):
        event = self._book(clinic_patient_id=False, clinic_department_id=False)
        self.assertFalse(event.clinic_visit_ids)
        self.assertFalse(self.env["clinic.visit"].search([("calendar_event_id", "=", event.id)]))

    def test_moving_the_event_moves_the_visit(self):
        event = self._book()
        visit = event.clinic_visit_ids
        later = self.start + timedelta(days=2, hours=3)
        event.write({"start": later, "stop": later + timedelta(hours=1)})
        self.assertEqual(visit.start, later)
        self.assertEqual(visit.stop, later + timedelta(hours=1))
        event.user_id = self.manager
        self.assertEqual(visit.doctor_id, self.manager)
        event.clinic_department_id = self.cardiology
        self.assertEqual(visit.department_id, self.cardiology)
        self.assertEqual(len(event.clinic_visit_ids), 1, "moved, not duplicated")

    def test_moving_the_visit_moves_the_event(self):
        event = self._book()
        visit = event.clinic_visit_ids
        later = self.start + timedelta(days=1)
        visit.write({"start": later, "stop": later + timedelta(minutes=30)})
        self.assertEqual(event.start, later)
        self.assertEqual(event.stop, later + timedelta(minutes=30))

    def test_cancelling_the_event_cancels_the_visit(self):
        archived = self._book()
        archived.action_archive()
        self.assertEqual(archived.clinic_visit_ids.state, "cancelled")
        archived.action_unarchive()
        self.assertEqual(archived.clinic_visit_ids.state, "scheduled", "restored event books again")

        deleted = self._book(name="To delete")
        visit = deleted.clinic_visit_ids
        deleted.unlink()
        self.assertEqual(visit.state, "cancelled")
        self.assertFalse(visit.calendar_event_id)

    def test_cancelling_the_visit_archives_the_event(self):
        event = self._book()
        event.clinic_visit_ids.action_cancel()
        self.assertFalse(event.active)

    def test_done_visit_is_not_changed_by_the_calendar(self):
        event = self._book()
        visit = event.clinic_visit_ids
        visit.action_mark_done()
        event.write({"start": self.start + timedelta(days=7), "stop": self.start + timedelta(days=7, hours=1)})
        self.assertEqual(visit.state, "done")
        self.assertEqual(visit.start, self.start, "history is not rewritten")

    def test_plain_internal_user_moves_booked_event(self):
        """Finding 9: an employee without Patient Care rights (or of another
        company) cannot move or cancel a patient's visit through Calendar;
        a doctor (Doctor group) moves their own appointment and its visit."""
        event = self._book(user_id=self.internal_user.id)
        later = self.start + timedelta(hours=2)
        with self.assertRaises(AccessError):
            event.with_user(self.internal_user).write({"start": later, "stop": later + timedelta(minutes=30)})
        with self.assertRaises(AccessError):
            event.with_user(self.internal_user).unlink()
        self.assertEqual(event.clinic_visit_ids.start, self.start)
        self.assertEqual(event.clinic_visit_ids.state, "scheduled")
        other = new_test_user(
            self.env,
            login="calendar_other_company",
            groups="clinic_retention.group_clinic_retention_manager",
            company_id=self.other_company.id,
            company_ids=[(6, 0, self.other_company.ids)],
        )
        with self.assertRaises(AccessError):
            event.with_user(other).write({"start": later, "stop": later + timedelta(minutes=30)})
        doctor = new_test_user(
            self.env, login="calendar_doctor", groups="clinic_retention.group_clinic_retention_doctor"
        )
        event.user_id = doctor
        event.clinic_visit_ids.doctor_id = doctor
        event.with_user(doctor).write({"start": later, "stop": later + timedelta(minutes=30)})
        self.assertEqual(event.clinic_visit_ids.start, later)
        self.assertEqual(event.privacy, "private", "colleagues see 'busy', not the patient")
