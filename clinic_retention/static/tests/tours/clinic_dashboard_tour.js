/** @odoo-module **/

import { registry } from "@web/core/registry";

// A manager opens the dashboard, changes the period, drills from the churn
// trend (a chart point) and from a tile into the lost patients, comes back
// and downloads the Excel export.
registry.category("web_tour.tours").add("clinic_dashboard_export", {
    url: "/odoo/action-clinic_retention.clinic_retention_dashboard_client_action",
    steps: () => [
        {
            content: "The dashboard's tiles and charts are there",
            trigger: ".o_clinic_dashboard_client .o_clinic_tile_patients_lost",
        },
        {
            content: "Change the period to this year",
            trigger: ".o_clinic_periods button[data-period='year']",
            run: "click",
        },
        {
            content: "The figures are the year's",
            trigger: ".o_clinic_periods button[data-period='year'].active",
        },
        {
            content: "This month's churn: click its point on the trend chart",
            trigger: ".o_clinic_chart[data-chart='trend'] canvas",
            run() {
                const canvas = this.anchor;
                const chart = window.Chart.getChart(canvas);
                const churn = chart.getDatasetMeta(1).data.at(-1);
                const rect = canvas.getBoundingClientRect();
                canvas.dispatchEvent(
                    new MouseEvent("click", {
                        bubbles: true,
                        clientX: rect.left + churn.x,
                        clientY: rect.top + churn.y,
                    })
                );
            },
        },
        {
            content: "The lost patients of the month",
            trigger: ".o_list_view .o_data_row:contains('Tour Lost Patient')",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item:first a, .o_breadcrumb .o_back_button",
            run: "click",
        },
        {
            content: "This period's lost patients (a tile)",
            trigger: ".o_clinic_dashboard_client button.o_clinic_tile_patients_lost",
            run: "click",
        },
        {
            content: "The list behind the number",
            trigger: ".o_list_view .o_data_row:contains('Tour Lost Patient')",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item:first a, .o_breadcrumb .o_back_button",
            run: "click",
        },
        {
            content: "Open the Excel export",
            trigger: ".o_clinic_dashboard_client .o_clinic_dashboard_export",
            run: "click",
        },
        {
            content: "Export",
            trigger: ".modal footer button[name='action_export']",
            run: "click",
        },
        {
            content: "The workbook is downloaded, nothing failed",
            trigger: ".modal .o_clinic_export_form:not(:has(.o_error_dialog))",
        },
    ],
});
