//! Findings written out as reports: CSV (spreadsheet-safe), SARIF 2.1.0
//! (with `baselineState`, so CI systems and code hosts show what is new)
//! and a self-contained HTML page with charts. Pure functions of the
//! findings and their assets' names; nothing here does I/O.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use rampart_core::csv_text::cell;
use rampart_core::finding::{Band, Finding, FindingSeverity, FindingStatus};
use rampart_core::{AssetId, Timestamp};
use serde_json::{json, Value};

/// Where a finding stands against the previous run of its scan type, as
/// SARIF's `baselineState` says it.
pub fn baseline_state(finding: &Finding, latest_run: Timestamp) -> &'static str {
    if finding.status == FindingStatus::Mitigated {
        "absent"
    } else if finding.first_seen == finding.last_seen && finding.last_seen >= latest_run {
        "new"
    } else {
        "unchanged"
    }
}

/// The last time each asset and scan type was imported or scanned, as the
/// findings show it (their latest `last_seen`).
pub fn latest_runs(findings: &[Finding]) -> HashMap<(AssetId, &str), Timestamp> {
    let mut latest: HashMap<(AssetId, &str), Timestamp> = HashMap::new();
    for f in findings {
        let entry = latest
            .entry((f.asset_id, f.scan_type.as_str()))
            .or_insert(f.last_seen);
        if f.last_seen > *entry {
            *entry = f.last_seen;
        }
    }
    latest
}

fn location(finding: &Finding) -> String {
    let r = &finding.report;
    match (&r.file_path, r.line) {
        (Some(path), Some(line)) => format!("{path}:{line}"),
        (Some(path), None) => path.clone(),
        _ => r.endpoints.first().cloned().unwrap_or_default(),
    }
}

/// The findings as CSV, one row each, with a header row.
pub fn csv(findings: &[Finding], assets: &HashMap<AssetId, String>) -> String {
    let mut out = String::from(
        "id,asset,scan_type,status,priority,band,severity,title,rule,advisories,component,\
         version,fixed_version,location,first_seen,last_seen,closed_at,reasons\r\n",
    );
    for f in findings {
        let r = &f.report;
        let reasons: Vec<String> = f
            .priority
            .contributions
            .iter()
            .map(|c| format!("{} {}", c.effect, c.reason))
            .collect();
        let row = [
            f.id.to_string(),
            assets.get(&f.asset_id).cloned().unwrap_or_default(),
            f.scan_type.clone(),
            f.status.as_str().to_owned(),
            f.priority.score.to_string(),
            f.priority.band.as_str().to_owned(),
            f.severity.as_str().to_owned(),
            r.title.clone(),
            r.rule_id.clone().unwrap_or_default(),
            r.vulnerability_ids.join(" "),
            r.component.clone().unwrap_or_default(),
            r.component_version.clone().unwrap_or_default(),
            r.fixed_version.clone().unwrap_or_default(),
            location(f),
            f.first_seen.to_rfc3339(),
            f.last_seen.to_rfc3339(),
            f.closed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            reasons.join("; "),
        ];
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn level(severity: FindingSeverity) -> &'static str {
    match severity {
        FindingSeverity::Critical | FindingSeverity::High => "error",
        FindingSeverity::Medium => "warning",
        FindingSeverity::Low | FindingSeverity::Info => "note",
    }
}

/// The findings as one SARIF 2.1.0 run of the tool "Rampart".
pub fn sarif(findings: &[Finding], assets: &HashMap<AssetId, String>) -> Value {
    let latest = latest_runs(findings);
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let r = &f.report;
            let rule = r
                .rule_id
                .clone()
                .or_else(|| r.vulnerability_ids.first().cloned())
                .unwrap_or_else(|| f.scan_type.clone());
            rules.entry(rule.clone()).or_insert_with(|| {
                json!({
                    "id": rule,
                    "shortDescription": {"text": r.title},
                    "helpUri": r.references.first(),
                    "properties": {"tags": [f.scan_type]},
                })
            });
            let locations: Vec<Value> = match (&r.file_path, r.line) {
                (Some(path), line) => vec![json!({"physicalLocation": {
                    "artifactLocation": {"uri": path},
                    "region": line.map(|l| json!({"startLine": l})),
                }})],
                (None, _) => r
                    .endpoints
                    .iter()
                    .take(10)
                    .map(|e| json!({"physicalLocation": {"artifactLocation": {"uri": e}}}))
                    .collect(),
            };
            let run = latest
                .get(&(f.asset_id, f.scan_type.as_str()))
                .copied()
                .unwrap_or(f.last_seen);
            let mut result = json!({
                "ruleId": rule,
                "level": level(f.severity),
                "message": {"text": r.title},
                "locations": locations,
                "partialFingerprints": {"rampart/v1": r.fingerprint},
                "baselineState": baseline_state(f, run),
                "properties": {
                    "rampart-id": f.id,
                    "asset": assets.get(&f.asset_id),
                    "scan-type": f.scan_type,
                    "status": f.status.as_str(),
                    "priority": f.priority.score,
                    "band": f.priority.band.as_str(),
                    "severity": f.severity.as_str(),
                    "advisories": r.vulnerability_ids,
                    "reasons": f.priority.contributions,
                },
            });
            if matches!(
                f.status,
                FindingStatus::FalsePositive | FindingStatus::RiskAccepted
            ) {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": f.status_reason.clone().unwrap_or_default(),
                }]);
            }
            if let Some(cvss) = r.cvss_score {
                result["properties"]["security-severity"] = json!(format!("{cvss:.1}"));
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "Rampart",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/rampart",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const BANDS: [Band; 5] = [
    Band::Critical,
    Band::High,
    Band::Medium,
    Band::Low,
    Band::Info,
];

fn band_colour(band: Band) -> &'static str {
    match band {
        Band::Critical => "#8b1a1a",
        Band::High => "#c0392b",
        Band::Medium => "#d68910",
        Band::Low => "#2874a6",
        Band::Info => "#7f8c8d",
    }
}

/// A horizontal bar chart as inline SVG.
fn bars(rows: &[(String, usize, &str)]) -> String {
    let most = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"520\" height=\"{}\" role=\"img\">",
        rows.len() * 26 + 4
    );
    for (i, (label, count, colour)) in rows.iter().enumerate() {
        let y = i * 26 + 2;
        let width = (count * 360).div_ceil(most);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{}</text>\
             <rect x=\"110\" y=\"{y}\" width=\"{width}\" height=\"20\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\">{count}</text>",
            y + 15,
            escape(label),
            115 + width,
            y + 15
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A self-contained HTML report (inline styles and SVG charts, no
/// scripts), `title` naming what it covers.
pub fn html(
    title: &str,
    findings: &[Finding],
    assets: &HashMap<AssetId, String>,
    generated: Timestamp,
) -> String {
    let active: Vec<&Finding> = findings.iter().filter(|f| f.status.is_active()).collect();
    let by_band: Vec<(String, usize, &str)> = BANDS
        .iter()
        .map(|b| {
            (
                b.as_str().to_owned(),
                active.iter().filter(|f| f.priority.band == *b).count(),
                band_colour(*b),
            )
        })
        .collect();
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        *by_status.entry(f.status.as_str()).or_default() += 1;
    }
    let status_rows: Vec<(String, usize, &str)> = by_status
        .iter()
        .map(|(s, n)| ((*s).to_owned(), *n, "#566573"))
        .collect();
    let mut by_asset: BTreeMap<String, usize> = BTreeMap::new();
    for f in &active {
        *by_asset
            .entry(assets.get(&f.asset_id).cloned().unwrap_or_default())
            .or_default() += 1;
    }
    let mut asset_rows: Vec<(String, usize, &str)> = by_asset
        .into_iter()
        .map(|(a, n)| (a, n, "#1f618d"))
        .collect();
    asset_rows.sort_by_key(|row| std::cmp::Reverse(row.1));
    asset_rows.truncate(10);

    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:2rem;color:#1b2631}}\
         table{{border-collapse:collapse;width:100%;font-size:14px}}\
         th,td{{border-bottom:1px solid #d5d8dc;padding:4px 8px;text-align:left;vertical-align:top}}\
         .band{{color:#fff;padding:1px 6px;border-radius:3px}}\
         .charts{{display:flex;flex-wrap:wrap;gap:2rem}}\
         </style></head><body><h1>{t}</h1>\
         <p>Generated by Rampart {v} on {g}: {n} findings, {a} open.</p>\
         <div class=\"charts\"><section><h2>Open by priority</h2>{b}</section>\
         <section><h2>By status</h2>{s}</section>",
        t = escape(title),
        v = env!("CARGO_PKG_VERSION"),
        g = generated.to_rfc3339(),
        n = findings.len(),
        a = active.len(),
        b = bars(&by_band),
        s = bars(&status_rows),
    );
    if asset_rows.len() > 1 {
        let _ = write!(
            out,
            "<section><h2>Open by asset (top 10)</h2>{}</section>",
            bars(&asset_rows)
        );
    }
    out.push_str(
        "</div><h2>Findings</h2><table><thead><tr><th>Priority</th><th>Title</th><th>Asset</th>\
         <th>Scan type</th><th>Status</th><th>Location</th><th>Why</th></tr></thead><tbody>",
    );
    for f in findings {
        let reasons: Vec<String> = f
            .priority
            .contributions
            .iter()
            .map(|c| escape(&format!("{} {}", c.effect, c.reason)))
            .collect();
        let _ = write!(
            out,
            "<tr><td><span class=\"band\" style=\"background:{}\">{} {}</span></td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            band_colour(f.priority.band),
            f.priority.score,
            f.priority.band.as_str(),
            escape(&f.report.title),
            escape(assets.get(&f.asset_id).map_or("", String::as_str)),
            escape(&f.scan_type),
            f.status.as_str(),
            escape(&location(f)),
            reasons.join("<br>"),
        );
    }
    out.push_str("</tbody></table></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::finding::{Contribution, ParsedFinding, Priority};
    use rampart_core::{FindingId, OrgId};

    fn finding(title: &str, status: FindingStatus, first: i64, last: i64) -> Finding {
        Finding {
            id: FindingId::new(),
            org_id: OrgId::new(),
            asset_id: AssetId::new(),
            scan_type: "semgrep".into(),
            status,
            severity: FindingSeverity::High,
            priority: Priority {
                score: 72,
                band: Band::High,
                contributions: vec![Contribution {
                    effect: "+42".into(),
                    reason: "severity high".into(),
                }],
            },
            status_reason: None,
            risk_accepted_until: None,
            first_seen: Timestamp(first),
            last_seen: Timestamp(last),
            closed_at: None,
            updated_at: Timestamp(last),
            due_at: None,
            report: ParsedFinding {
                fingerprint: format!("v1:{title}"),
                title: title.into(),
                severity: Some(FindingSeverity::High),
                rule_id: Some("python.lang.security.eval".into()),
                file_path: Some("app/views.py".into()),
                line: Some(12),
                occurrences: 1,
                ..ParsedFinding::default()
            },
        }
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(
            cell("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        let f = finding("=cmd|' /C calc'!A0", FindingStatus::Open, 1, 1);
        let text = csv(&[f], &HashMap::new());
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains(",'=cmd|' /C calc'!A0,"), "{text}");
    }

    #[test]
    fn baseline_states_follow_the_latest_run() {
        let new = finding("new", FindingStatus::Open, 2_000, 2_000);
        let old = finding("old", FindingStatus::Open, 1_000, 2_000);
        let gone = finding("gone", FindingStatus::Mitigated, 1_000, 1_000);
        assert_eq!(baseline_state(&new, Timestamp(2_000)), "new");
        assert_eq!(baseline_state(&old, Timestamp(2_000)), "unchanged");
        assert_eq!(baseline_state(&gone, Timestamp(2_000)), "absent");
        // Seen once, but in an earlier run: not new any more.
        assert_eq!(baseline_state(&gone, Timestamp(3_000)), "absent");
        let once_long_ago = finding("x", FindingStatus::Open, 1_000, 1_000);
        assert_eq!(
            baseline_state(&once_long_ago, Timestamp(2_000)),
            "unchanged"
        );
    }

    #[test]
    fn sarif_reads_back_with_the_same_findings() {
        let mut accepted = finding("accepted", FindingStatus::RiskAccepted, 1, 1);
        accepted.status_reason = Some("behind the VPN".into());
        let findings = vec![
            finding("eval of user input", FindingStatus::Open, 1, 1),
            accepted,
        ];
        let doc = sarif(&findings, &HashMap::new());
        assert_eq!(doc["runs"][0]["results"][0]["baselineState"], "new");
        assert_eq!(
            doc["runs"][0]["results"][1]["suppressions"][0]["justification"],
            "behind the VPN"
        );
        assert_eq!(
            doc["runs"][0]["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let bytes = serde_json::to_vec(&doc).unwrap();
        let back = crate::parse(&bytes, None).unwrap();
        assert_eq!(back.format, crate::Format::Sarif);
        assert_eq!(back.findings.len(), 2);
        assert_eq!(back.findings[0].file_path.as_deref(), Some("app/views.py"));
        assert_eq!(back.findings[0].line, Some(12));
        assert!(
            back.findings[1].suppressed,
            "a decision travels as a suppression"
        );
    }

    #[test]
    fn html_escapes_everything_and_runs_nothing() {
        let f = finding("<script>alert(1)</script>", FindingStatus::Open, 1, 1);
        let mut names = HashMap::new();
        names.insert(f.asset_id, "<img src=x onerror=alert(2)>".to_owned());
        let page = html("Report <for> you", &[f], &names, Timestamp(0));
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("<img src=x"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("Report &lt;for&gt; you"));
        assert!(page.contains("<svg"));
    }
}
