/** @odoo-module **/

import { Component, onWillStart, onWillUnmount, useEffect, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { formatCurrency } from "@web/core/currency";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { formatFloat } from "@web/core/utils/numbers";
import { useService } from "@web/core/utils/hooks";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

const MODEL = "clinic.retention.dashboard";
// tiles where a rise is bad news
const LOWER_IS_BETTER = ["churn", "patients_lost", "lost_revenue", "open_complaints", "overdue_complaints", "overdue_tasks"];
const COLORS = ["#017e84", "#e46c2f", "#6c5ba7", "#3a8fd9", "#c0392b", "#27ae60"];

/** One chart: Chart.js on a canvas, a click on a point opens its records;
 * the same points are listed under the chart (readable, and clickable
 * without a mouse). A chart has either ``points`` (one series: label,
 * value, drill) or ``labels`` and ``datasets`` (several series, each with
 * the kpi it drills into; ``points[index]`` is the drill context of a label). */
export class ClinicDashboardChart extends Component {
    static template = "clinic_retention.DashboardChart";
    static props = { chart: Object, onDrill: Function };

    setup() {
        this.canvasRef = useRef("canvas");
        this.chart = null;
        useEffect(
            () => {
                this.renderChart();
                return () => this.destroyChart();
            },
            () => [this.props.chart]
        );
        onWillUnmount(() => this.destroyChart());
    }

    get rows() {
        const chart = this.props.chart;
        if (chart.datasets) {
            return chart.labels.map((label, index) => ({
                label,
                values: chart.datasets.map((dataset) => ({
                    text: formatFloat(dataset.data[index], { digits: [false, dataset.digits ?? 1] }),
                    drill: { ...chart.points[index], kpi: dataset.kpi },
                })),
            }));
        }
        return chart.points.map((point) => ({
            label: point.label,
            values: [{ text: formatFloat(point.value, { digits: [false, 1] }), drill: point.drill }],
        }));
    }

    get config() {
        const chart = this.props.chart;
        const grouped = Boolean(chart.datasets);
        const datasets = grouped
            ? chart.datasets.map((dataset, index) => ({
                  label: dataset.label,
                  data: dataset.data,
                  borderColor: COLORS[index],
                  backgroundColor: COLORS[index],
                  tension: 0.2,
              }))
            : [
                  {
                      label: chart.title,
                      data: chart.points.map((point) => point.value),
                      backgroundColor: COLORS[0],
                  },
              ];
        return {
            type: chart.type,
            data: {
                labels: grouped ? chart.labels : chart.points.map((point) => point.label),
                datasets,
            },
            options: {
                maintainAspectRatio: false,
                animation: false,
                plugins: { legend: { display: grouped } },
                scales: { y: { beginAtZero: true } },
                onClick: (event, elements) => {
                    if (!elements.length) {
                        return;
                    }
                    const { datasetIndex, index } = elements[0];
                    if (grouped) {
                        this.props.onDrill({
                            ...chart.points[index],
                            kpi: chart.datasets[datasetIndex].kpi,
                        });
                    } else {
                        this.props.onDrill(chart.points[index].drill);
                    }
                },
            },
        };
    }

    renderChart() {
        this.destroyChart();
        if (this.canvasRef.el && window.Chart) {
            this.chart = new window.Chart(this.canvasRef.el, this.config);
        }
    }

    destroyChart() {
        if (this.chart) {
            this.chart.destroy();
            this.chart = null;
        }
    }
}

/** The manager's dashboard (client action ``clinic_retention.dashboard``):
 * figures of ``clinic.retention.dashboard.get_dashboard_data``, records of
 * ``action_dashboard_drill``. */
export class ClinicDashboard extends Component {
    static template = "clinic_retention.Dashboard";
    static components = { ClinicDashboardChart };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        const saved = this.props.state || {};
        this.state = useState({
            period: saved.period || "month",
            dateFrom: saved.dateFrom || "",
            dateTo: saved.dateTo || "",
            departmentIds: saved.departmentIds || [],
            data: null,
        });
        this.periods = [
            ["month", _t("This month")],
            ["quarter", _t("This quarter")],
            ["year", _t("This year")],
            ["custom", _t("Custom")],
        ];
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            await this.load();
        });
    }

    get filters() {
        const custom = this.state.period === "custom";
        return [
            this.state.period,
            custom ? this.state.dateFrom : false,
            custom ? this.state.dateTo : false,
            this.state.departmentIds,
        ];
    }

    async load() {
        if (this.state.period === "custom" && !(this.state.dateFrom && this.state.dateTo)) {
            return;
        }
        this.state.data = await this.orm.call(MODEL, "get_dashboard_data", this.filters);
    }

    async setPeriod(period) {
        this.state.period = period;
        await this.load();
    }

    async setDate(which, ev) {
        this.state[which] = ev.target.value;
        await this.load();
    }

    async toggleDepartment(departmentId) {
        const ids = this.state.departmentIds;
        this.state.departmentIds = ids.includes(departmentId)
            ? ids.filter((id) => id !== departmentId)
            : [...ids, departmentId];
        await this.load();
    }

    async clearDepartments() {
        this.state.departmentIds = [];
        await this.load();
    }

    formatValue(tile, value) {
        if (value === null || value === undefined) {
            return "";
        }
        switch (tile.format) {
            case "integer":
                return String(value);
            case "monetary":
                return formatCurrency(value, this.state.data.currency_id, { digits: [false, 0] });
            case "score":
                return formatFloat(value, { digits: [false, 2] });
            default:
                return `${formatFloat(value, { digits: [false, 1] })} %`;
        }
    }

    /** "+2.5" / "−1" against the previous period; "" without one. */
    change(tile) {
        if (tile.previous === null || tile.previous === undefined) {
            return null;
        }
        const delta = tile.value - tile.previous;
        const digits = tile.format === "integer" || tile.format === "monetary" ? 0 : 1;
        const text = formatFloat(Math.abs(delta), { digits: [false, tile.format === "score" ? 2 : digits] });
        const better = LOWER_IS_BETTER.includes(tile.key) ? delta < 0 : delta > 0;
        return {
            text: `${delta > 0 ? "+" : delta < 0 ? "−" : "±"}${text}`,
            direction: delta === 0 ? "flat" : better ? "good" : "bad",
            previous: this.formatValue(tile, tile.previous),
        };
    }

    async drill(drill) {
        const action = await this.orm.call(MODEL, "action_dashboard_drill", [drill, ...this.filters]);
        await this.actionService.doAction(action);
    }

    async drillTile(tile, which = "current") {
        await this.drill({ kpi: tile.kpi, method: tile.method, which });
    }

    async openExport() {
        const data = this.state.data;
        await this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "clinic.retention.export",
            views: [[false, "form"]],
            target: "new",
            name: _t("Excel export"),
            context: {
                default_date_from: data.current[0],
                default_date_to: data.current[1],
                default_department_ids: this.state.departmentIds,
            },
        });
    }
}

registry.category("actions").add("clinic_retention.dashboard", ClinicDashboard);
