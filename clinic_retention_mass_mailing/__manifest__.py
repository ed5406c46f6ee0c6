{
    "name": "Clinic Patient Retention - Campaigns",
    "summary": "Email and SMS campaigns to patients with their marketing consent, segments, control groups "
    "and campaign ROI in visits and revenue",
    "version": "18.0.1.0.0",
    "category": "Services/Patient Care",
    "website": "https://github.com/clinic-retention/clinic_retention",
    "author": "clinic_retention contributors",
    "maintainers": ["clinic-retention"],
    "license": "LGPL-3",
    "development_status": "Beta",
    "auto_install": True,
    "depends": ["clinic_retention", "mass_mailing", "mass_mailing_sms"],
    "data": [
        "security/clinic_retention_mass_mailing_security.xml",
        "security/ir.model.access.csv",
        "views/mailing_mailing_views.xml",
        "views/utm_campaign_views.xml",
        "views/res_config_settings_views.xml",
        "report/clinic_campaign_report_views.xml",
    ],
    "demo": [
        "demo/clinic_campaign_demo.xml",
    ],
}
