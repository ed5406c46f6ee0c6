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


@tagged("post_install", "-at_install")
class TestPatientPhoneImport(ClinicRetentionCase):
    """Odoo's import (``load()`` with the ``import_file`` context, as
    base_import calls it) keeps every row: unreadable numbers wait for review."""

    def _load(self, fields, rows):
        Patient = self.env["clinic.patient"].with_context(import_file=True)
        return Patient.load(fields, rows)

    def test_import_1000_rows_with_10_bad_phones(self):
        bad_rows = set(range(7, 1000, 100))
        rows = []
        for index in range(1000):
            if index in bad_rows:
                mobile = f"12-{index}"  # cannot be read in China
            else:
                mobile = f"1390{index:07d}"
            rows.append([f"Imported patient {index:04d}", mobile])
        result = self._load(["name", "mobile"], rows)
        self.assertFalse(result["messages"], "no error: every row is imported")
        self.assertEqual(len(result["ids"]), 1000)
        patients = self.env["clinic.patient"].browse(result["ids"])
        to_review = patients.filtered("has_phone_to_review")
        self.assertEqual(len(to_review), 10)
        self.assertEqual(
            sorted(to_review.mapped("mobile_to_review")), sorted(f"12-{index}" for index in bad_rows), "kept as typed"
        )
        self.assertFalse(any(to_review.mapped("mobile")))
        self.assertEqual((patients - to_review)[:1].mobile, "+8613900000000")
        listed = self.env["clinic.patient"].search([("has_phone_to_review", "=", True), ("id", "in", patients.ids)])
        self.assertEqual(listed, to_review, "the 'Phones to review' filter shows them")

    def test_import_update_keeps_the_row_too(self):
        patient = self._patient("Update me", mobile="13800138000")
        self.env["ir.model.data"].create(
            {"module": "__import__", "name": "update_me", "model": "clinic.patient", "res_id": patient.id}
        )
        result = self._load(["id", "phone"], [["__import__.update_me", "0000"]])
        self.assertFalse(result["messages"])
        self.assertEqual(patient.phone_to_review, "0000")
        self.assertTrue(patient.has_phone_to_review)
        self.assertEqual(patient.mobile, "+8613800138000", "the good number is untouched")

    def test_fixing_a_number_normalises_it_and_clears_the_flag(self):
        result = self._load(["name", "mobile", "phone"], [["To fix", "1380013", "99"]])
        patient = self.env["clinic.patient"].browse(result["ids"])
        self.assertTrue(patient.has_phone_to_review)
        # corrected in the field to review (the review list)
        patient.with_user(self.cs_user).mobile_to_review = "138 0013 8000"
        self.assertEqual(patient.mobile, "+8613800138000")
        self.assertFalse(patient.mobile_to_review)
        self.assertTrue(patient.has_phone_to_review, "the landline is still to review")
        # corrected in the number itself
        patient.with_user(self.cs_user).phone = "010 6552 9988"
        self.assertEqual(patient.phone, "+861065529988")
        self.assertFalse(patient.phone_to_review)
        self.assertFalse(patient.has_phone_to_review)

    def test_a_wrong_correction_is_refused_and_discard_clears(self):
        result = self._load(["name", "mobile"], [["Still wrong", "1380013"]])
        patient = self.env["clinic.patient"].browse(result["ids"])
        with self.assertRaises(ValidationError):
            patient.mobile_to_review = "1380014"
        self.assertEqual(patient.mobile_to_review, "1380013")
        patient.action_discard_phone_to_review()
        self.assertFalse(patient.has_phone_to_review)

    def test_form_still_refuses_a_bad_number(self):
        form = Form(self.env["clinic.patient"])
        form.name = "Typed in the form"
        form.country_id = self.russia
        form.mobile = "12345"
        with self.assertRaises(ValidationError) as error:
            form.save()
        self.assertIn("Russia", str(error.exception))

    def test_error_shows_an_example_of_the_country(self):
        for country, example in ((self.russia, "+7 912 345-67-89"), (self.iran, "+98 912 345 6789")):
            with self.subTest(country=country.code), self.assertRaises(ValidationError) as error:
                self._patient("Bad", country_id=country.id, mobile="12345")
            self.assertIn(example, str(error.exception))
            self.assertNotIn("+86", str(error.exception))

    def test_extensions_are_kept(self):
        cases = [
            (self.china, "010-6552 9988 ext. 12", "+861065529988;ext=12", "+86 10 6552 9988 ext. 12"),
            (self.china, "010 6552 9988 转 12", "+861065529988;ext=12", "+86 10 6552 9988 ext. 12"),
            (self.russia, "8 (495) 123-45-67 доб. 34", "+74951234567;ext=34", "+7 495 123-45-67 ext. 34"),
        ]
        for country, typed, stored, shown in cases:
            with self.subTest(typed=typed):
                patient = self._patient(f"Ext {typed}", country_id=country.id, phone=typed)
                self.assertEqual(patient.phone, stored)
                self.assertEqual(patient.phone_international, shown)
                self.assertEqual(patient.phone_sanitized, stored.split(";", 1)[0], "SMS and blacklist read E.164")

    def test_international_display(self):
        patient = self._patient("Shown", mobile="13800138000")
        self.assertEqual(patient.mobile, "+8613800138000")
        self.assertEqual(patient.mobile_international, "+86 138 0013 8000")
