{
    "name": "Clinic Patient Retention",
    "summary": "Patients, visits, recalls, follow-up tasks, reminders, "
    "complaints, satisfaction and retention reports for clinics",
    "version": "18.0.1.0.0",
    "category": "Services/Patient Care",
    "website": "https://github.com/clinic-retention/clinic_retention",
    "author": "clinic_retention contributors",
    "maintainers": ["clinic-retention"],
    "license": "LGPL-3",
    "development_status": "Beta",
    "application": True,
    "installable": True,
    "depends": [
        "base_automation",
        "calendar",
        "contacts",
        "crm",
        "mail",
        "phone_validation",
        "portal",
        "sms",
    ],
    "external_dependencies": {
        "python": ["phonenumbers", "xlsxwriter"],
    },
    "data": [
        "security/clinic_retention_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/clinic_department_views.xml",
        "views/clinic_service_views.xml",
        "views/clinic_patient_views.xml",
        "views/clinic_visit_views.xml",
        "views/res_partner_views.xml",
        "views/calendar_event_views.xml",
        "views/res_config_settings_views.xml",
        "views/clinic_retention_menus.xml",
    ],
    "demo": [
        "demo/clinic_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "clinic_retention/static/tests/tours/**/*",
        ],
    },
}
