{
    "name": "Clinic Patient Retention - Free Screening Events",
    "summary": "Attendees of free screening events become graded prospects in the department's pipeline",
    "version": "18.0.1.0.0",
    "category": "Services/Patient Care",
    "website": "https://github.com/clinic-retention/clinic_retention",
    "author": "clinic_retention contributors",
    "maintainers": ["clinic-retention"],
    "license": "LGPL-3",
    "development_status": "Beta",
    "auto_install": True,
    "depends": ["clinic_retention", "event_crm"],
    "data": [
        "data/event_lead_rule_data.xml",
        "views/event_event_views.xml",
        "views/event_registration_views.xml",
    ],
    "demo": [
        "demo/event_demo.xml",
    ],
}
