//! Campaign reports, written next to the findings: `report.json` (everything, for tools),
//! `report.md` (a summary fit for a CI job summary) and `report.html` (one self-contained page
//! with plots drawn by plotters as inline SVG: executions per second, cumulative opcode
//! coverage and findings over time, and where the time went).

use std::{fmt::Write, path::Path};

use plotters::prelude::*;
use serde::Serialize;

use super::{CampaignState, FindingRecord, SeriesPoint};
use crate::{
    findings::KnownDivergences,
    isa::opcode_variants,
    report::html::escape,
    support::{error::InputError, files::write_atomic},
};

/// Everything a report shows.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub summary: Summary,
    /// Findings with whether the vectors explain them now.
    pub findings: Vec<ReportedFinding<'a>>,
    /// Opcode variants never executed in generated code.
    pub never_executed: Vec<String>,
    pub state: &'a CampaignState,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub reference: String,
    pub candidate: String,
    pub runs: u32,
    pub seconds: f64,
    pub executions: u64,
    pub executions_per_second: f64,
    pub divergent_samples: u64,
    pub known_divergent_samples: u64,
    pub findings: usize,
    /// Findings that no vector explains: what should fail a nightly run.
    pub unexplained: usize,
    pub corpus_added: u64,
    pub coverage: usize,
    pub variants: usize,
    /// Lines the VMs printed to stderr (captured; their texts are in the state's `vm_output`).
    pub vm_output_lines: u64,
    pub vm_output_texts: usize,
}

impl Summary {
    /// (label, value) rows of the summary table, which the Markdown and HTML reports share.
    fn rows(&self) -> [(&'static str, String); 8] {
        [
            (
                "seed",
                format!(
                    "{} ({} run{})",
                    self.seed,
                    self.runs,
                    if self.runs == 1 { "" } else { "s" }
                ),
            ),
            ("time", format!("{:.0} s", self.seconds)),
            (
                "executions",
                format!("{} ({:.1}/s)", self.executions, self.executions_per_second),
            ),
            (
                "divergent samples",
                format!(
                    "{} ({} known)",
                    self.divergent_samples, self.known_divergent_samples
                ),
            ),
            (
                "new causes",
                format!("{} ({} unexplained)", self.findings, self.unexplained),
            ),
            (
                "opcode coverage",
                format!("{}/{} variants", self.coverage, self.variants),
            ),
            ("corpus inputs added", self.corpus_added.to_string()),
            (
                "VM output",
                format!(
                    "{} lines ({} distinct)",
                    self.vm_output_lines, self.vm_output_texts
                ),
            ),
        ]
    }
}

#[derive(Debug, Serialize)]
pub struct ReportedFinding<'a> {
    #[serde(flatten)]
    pub record: &'a FindingRecord,
    /// The explanation, if a vector now declares this divergence.
    pub explained: Option<&'a str>,
}

impl<'a> Report<'a> {
    pub fn new(state: &'a CampaignState, known: &'a KnownDivergences) -> Self {
        let findings: Vec<_> = state
            .findings
            .iter()
            .map(|record| ReportedFinding {
                record,
                explained: known.0.get(&record.fingerprint).map(String::as_str),
            })
            .collect();
        let variants = opcode_variants();
        let never_executed = variants
            .iter()
            .map(|opcode| format!("{opcode:?}"))
            .filter(|name| !state.coverage.contains_key(name))
            .collect();
        Self {
            summary: Summary {
                seed: state.seed,
                reference: state.reference.clone(),
                candidate: state.candidate.clone(),
                runs: state.runs,
                seconds: state.elapsed,
                executions: state.executions,
                executions_per_second: state.executions as f64 / state.elapsed.max(1e-9),
                divergent_samples: state.divergent_samples,
                known_divergent_samples: state.known_divergent_samples,
                findings: findings.len(),
                unexplained: findings.iter().filter(|f| f.explained.is_none()).count(),
                corpus_added: state.corpus_added,
                coverage: state.coverage.len(),
                variants: variants.len(),
                vm_output_lines: state.vm_output.total(),
                vm_output_texts: state.vm_output.lines.len(),
            },
            findings,
            never_executed,
            state,
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize")
    }

    pub fn markdown(&self) -> String {
        let s = &self.summary;
        let mut md = String::new();
        let _ = writeln!(
            md,
            "## eravm-diff campaign: {} vs {}\n",
            s.candidate, s.reference
        );
        let _ = writeln!(md, "| | |\n|---|---|");
        for (label, value) in s.rows() {
            let _ = writeln!(md, "| {label} | {value} |");
        }
        if !self.findings.is_empty() {
            let _ = writeln!(md, "\n### Findings\n\n| fingerprint | cause | first divergence | signature | minimized | status |\n|---|---|---|---|---|---|");
            for finding in &self.findings {
                let status = match finding.explained {
                    Some(_) => "explained",
                    None => "**unexplained**",
                };
                let _ = writeln!(
                    md,
                    "| `{}` | {} | {} | {} | {} | {status} |",
                    finding.record.fingerprint,
                    cause_text(finding.record).replace('|', "\\|"),
                    finding.record.first,
                    finding.record.signature.join("<br>").replace('|', "\\|"),
                    finding.record.minimized
                );
            }
        }
        let _ = writeln!(
            md,
            "\n### Where the time went\n\n| phase | seconds | share |\n|---|---|---|"
        );
        let total: f64 = self.state.time.phases().iter().map(|(_, t)| t).sum();
        for (phase, seconds) in self.state.time.phases() {
            let _ = writeln!(
                md,
                "| {phase} | {seconds:.1} | {:.1}% |",
                100.0 * seconds / total.max(1e-9)
            );
        }
        if !self.never_executed.is_empty() {
            let _ = writeln!(md, "\nNever executed: {}", self.never_executed.join(", "));
        }
        md
    }

    pub fn html(&self) -> String {
        let s = &self.summary;
        let series = &self.state.series;
        let mut html = String::new();
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>eravm-diff campaign report</title><style>\
             body{{font-family:sans-serif;margin:2em;color:#222}}\
             table{{border-collapse:collapse;margin:1em 0}}\
             td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}}\
             .plots{{display:flex;flex-wrap:wrap;gap:16px}}\
             .unexplained{{color:#b00;font-weight:bold}} code{{font-size:13px}}\
             </style></head><body>\n<h1>eravm-diff campaign: {} vs {}</h1>\n",
            escape(&s.candidate),
            escape(&s.reference)
        );
        html.push_str("<table>");
        for row in s.rows().chunks(3) {
            html.push_str("<tr>");
            for (label, value) in row {
                let _ = write!(html, "<th>{label}</th><td>{}</td>", escape(value));
            }
            html.push_str("</tr>");
        }
        html.push_str("</table>\n");
        html.push_str("<div class=\"plots\">\n");
        let plots = [
            line_plot(
                "Executions per second",
                "executions/s",
                series,
                |p| p.rate,
                None,
            ),
            line_plot(
                "Cumulative opcode coverage",
                "variants executed",
                series,
                |p| p.coverage as f64,
                Some(s.variants as f64),
            ),
            line_plot(
                "Findings",
                "new causes",
                series,
                |p| p.findings as f64,
                None,
            ),
            time_plot(self.state),
        ];
        for plot in plots {
            html.push_str(&plot);
            html.push('\n');
        }
        html.push_str("</div>\n<h2>Findings</h2>\n");
        if self.findings.is_empty() {
            html.push_str("<p>None.</p>\n");
        } else {
            html.push_str("<table><tr><th>fingerprint</th><th>sample</th><th>cause</th><th>first divergence</th><th>signature</th><th>minimized</th><th>status</th></tr>\n");
            for finding in &self.findings {
                let status = match finding.explained {
                    Some(why) => format!("explained: {}", escape(why)),
                    None => "<span class=\"unexplained\">unexplained</span>".into(),
                };
                let _ = writeln!(
                    html,
                    "<tr><td><a href=\"{file}\"><code>{fp}</code></a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{status}</td></tr>",
                    finding.record.sample,
                    escape(&cause_text(finding.record)),
                    escape(&finding.record.first),
                    finding.record.signature.iter().map(|line| escape(line)).collect::<Vec<_>>().join("<br>"),
                    escape(&finding.record.minimized),
                    file = escape(&finding.record.file),
                    fp = escape(&finding.record.fingerprint),
                );
            }
            html.push_str("</table>\n");
        }
        html.push_str("<h2>Opcode coverage (executions in generated code)</h2>\n<table><tr><th>variant</th><th>executed</th></tr>\n");
        for opcode in opcode_variants() {
            let name = format!("{opcode:?}");
            let count = self.state.coverage.get(&name).copied().unwrap_or(0);
            let style = if count == 0 {
                " class=\"unexplained\""
            } else {
                ""
            };
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td{style}>{count}</td></tr>",
                escape(&name)
            );
        }
        html.push_str("</table>\n</body></html>\n");
        html
    }
}

/// Writes report.json, report.md and report.html into `dir`.
/// A finding's cause, `cause-…: summary`, or `-` for findings recorded before causes existed.
fn cause_text(record: &FindingRecord) -> String {
    record.cause.as_ref().map_or_else(
        || "-".to_owned(),
        |cause| format!("{}: {}", cause.fingerprint, cause.summary()),
    )
}

pub fn write(
    dir: &Path,
    state: &CampaignState,
    known: &KnownDivergences,
) -> Result<(), InputError> {
    let report = Report::new(state, known);
    for (name, text) in [
        ("report.json", report.json()),
        ("report.md", report.markdown()),
        ("report.html", report.html()),
    ] {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes())
            .map_err(|err| InputError::at(&path, format!("cannot write: {err}")))?;
    }
    Ok(())
}

const PLOT_SIZE: (u32, u32) = (560, 300);

/// A line over campaign time; `top` fixes the y range (e.g. the number of opcode variants).
fn line_plot(
    title: &str,
    unit: &str,
    series: &[SeriesPoint],
    value: impl Fn(&SeriesPoint) -> f64,
    top: Option<f64>,
) -> String {
    let points: Vec<(f64, f64)> = series.iter().map(|p| (p.time, value(p))).collect();
    let x_max = points.last().map_or(1.0, |p| p.0).max(1.0);
    let y_max = top.unwrap_or_else(|| points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
            chart
                .configure_mesh()
                .x_desc("campaign time (s)")
                .y_desc(unit)
                .draw()?;
            chart.draw_series(LineSeries::new(
                points.iter().copied(),
                BLUE.stroke_width(2),
            ))?;
            root.present()?;
            Ok(())
        })();
        drawn.expect("drawing to an in-memory SVG does not fail");
    }
    svg
}

/// Seconds per phase, as bars.
fn time_plot(state: &CampaignState) -> String {
    let phases = state.time.phases();
    let max = phases.iter().map(|(_, t)| *t).fold(1e-3, f64::max) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption("Where the time went", ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d((0..phases.len() as u32).into_segmented(), 0f64..max)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .y_desc("seconds (all workers)")
                .x_label_formatter(&|x| match x {
                    SegmentValue::CenterOf(i) => phases
                        .get(*i as usize)
                        .map_or_else(String::new, |(name, _)| (*name).to_owned()),
                    _ => String::new(),
                })
                .draw()?;
            chart.draw_series(
                Histogram::vertical(&chart)
                    .style(BLUE.mix(0.7).filled())
                    .margin(8)
                    .data(phases.iter().enumerate().map(|(i, (_, t))| (i as u32, *t))),
            )?;
            root.present()?;
            Ok(())
        })();
        drawn.expect("drawing to an in-memory SVG does not fail");
    }
    svg
}
