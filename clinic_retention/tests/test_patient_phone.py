from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import ClinicRetentionCase


@tagged("post_install", "-at_install")
class TestPatientPhone(ClinicRetentionCase):
    def test_parse_loose_numbers_per_country(self):
        cases = [
            (self.china, "138 0013 8000", "+8613800138000"),
            (self.china, "010-6552 9988", "+861065529988"),
            (self.iran, "0912 345 6789", "+989123456789"),
            (self.iran, "+98 (21) 8888-1234", "+982188881234"),
            (self.russia, "8 (916) 123-45-67", "+79161234567"),
            (self.russia, "0079161234567", "+79161234567"),
            (self.usa, "(650) 253-0000", "+16502530000"),
            (self.usa, "650.253.0000", "+16502530000"),
        ]
        for country, typed, stored in cases:
            with self.subTest(country=country.code, typed=typed):
                patient = self._patient(f"Phone {typed}", country_id=country.id, mobile=typed)
                self.assertEqual(patient.mobile, stored)
                self.assertEqual(patient.partner_id.mobile, stored, "stored on the contact itself")
                self.assertEqual(patient.phone_sanitized, stored)

    def test_company_country_when_patient_has_none(self):
        patient = self.env["clinic.patient"].create({"name": "No country", "phone": "138 0013 8000"})
        self.assertEqual(patient.phone, "+8613800138000", "read against the company's country (China)")

    def test_invalid_number_refused_with_clear_message(self):
        with self.assertRaises(ValidationError) as error:
            self._patient("Invalid", mobile="12345")
        self.assertIn('"12345"', str(error.exception))
        self.assertIn("China", str(error.exception))
        self.assertFalse(self.env["clinic.patient"].search([("name", "=", "Invalid")]))

    def test_invalid_number_refused_on_write_and_kept_unchanged(self):
        patient = self._patient("Keeps number", mobile="13800138000")
        for bad in ("12345", "+86 123", "not a number", "+999 1234567"):
            with self.subTest(bad=bad), self.assertRaises(ValidationError):
                patient.write({"phone": bad})
        self.assertFalse(patient.phone)
        self.assertEqual(patient.mobile, "+8613800138000")

    def test_contacts_app_edit_is_normalized_too(self):
        patient = self._patient("Via contacts")
        patient.partner_id.write({"mobile": "139 1234 5678"})
        self.assertEqual(patient.mobile, "+8613912345678")
        with self.assertRaises(ValidationError):
            patient.partner_id.write({"phone": "12345"})
        # plain contacts (not patients) keep Odoo's behaviour
        contact = self.env["res.partner"].create({"name": "Supplier", "phone": "12345"})
        self.assertEqual(contact.phone, "12345")

    def test_country_change_keeps_international_numbers(self):
        patient = self._patient("Moves", country_id=self.russia.id, mobile="8 916 123 45 67")
        patient.country_id = self.iran
        self.assertEqual(patient.mobile, "+79161234567")

    def test_form_shows_e164_as_typed(self):
        form = Form(self.env["clinic.patient"])
        form.name = "Form patient"
        form.country_id = self.china
        form.mobile = "138 0013 8000"
        self.assertEqual(form.mobile, "+8613800138000")
        patient = form.save()
        self.assertEqual(patient.mobile, "+8613800138000")
