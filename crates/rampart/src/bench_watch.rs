//! `rampart bench watch`: the cost of watchlist matching per event on one
//! core. A feed file (CSV or STIX) is compiled into the matcher (timed,
//! with the process's resident memory before and after), then the events
//! `rampart bench ingest` sends are matched against it and against an
//! empty watchlist (the baseline), alternating, and set beside what
//! normalising the same events costs.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use rampart_core::watchlist::WatchedIndicator;
use rampart_core::{Event, Timestamp, WatchlistEntryId};
use rampart_mail::watch::{event_sightings, parse_csv, parse_stix, Sightings, WatchMatcher};

/// Resident memory of this process, in MiB (Linux; 0 elsewhere).
fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

fn sample_events(count: usize) -> anyhow::Result<Vec<Event>> {
    (0..count)
        .map(|i| {
            let line = crate::bench_events::sample_event(i, 1_764_800_000_000);
            let value = serde_json::from_str(&line)?;
            rampart_core::event::normalise(value, Timestamp(0), "http")
                .map_err(|e| anyhow::anyhow!("sample event {i}: {}", e.detail))
        })
        .collect()
}

/// Nanoseconds per event to find the sightings of `events`.
fn match_all(matcher: &WatchMatcher, events: &[Event]) -> (f64, usize) {
    let mut out = Sightings::default();
    let mut found = 0;
    let started = Instant::now();
    for event in events {
        event_sightings(matcher, event, &mut out);
        found += out.found.len();
    }
    (
        started.elapsed().as_nanos() as f64 / events.len().max(1) as f64,
        found,
    )
}

pub fn bench(feed: PathBuf, count: usize, runs: usize) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(&feed).with_context(|| format!("reading {}", feed.display()))?;
    let parsed = if text.trim_start().starts_with(['{', '[']) {
        parse_stix(&text)
    } else {
        parse_csv(&text)
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", feed.display()))?;
    drop(text);
    let entries: Vec<WatchedIndicator> = parsed
        .items
        .into_iter()
        .map(|item| WatchedIndicator {
            id: WatchlistEntryId::new(),
            kind: item.kind,
            value: item.value,
            include_subdomains: item.include_subdomains,
            severity: 3,
        })
        .collect();
    let before = rss_mib();
    let started = Instant::now();
    let matcher = WatchMatcher::new(entries);
    let built = started.elapsed();
    println!(
        "{}: {} entries compiled in {:.2} s; resident memory {before} → {} MiB",
        feed.display(),
        matcher.len(),
        built.as_secs_f64(),
        rss_mib()
    );
    let events = sample_events(count)?;
    let empty = WatchMatcher::new(Vec::new());
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let mut found = 0;
    for _ in 0..runs.max(1) {
        let (ns, n) = match_all(&matcher, &events);
        with.push(ns);
        found = n;
        without.push(match_all(&empty, &events).0);
    }
    let started = Instant::now();
    let _ = sample_events(count)?;
    let normalise_ns = started.elapsed().as_nanos() as f64 / count.max(1) as f64;
    with.sort_by(f64::total_cmp);
    without.sort_by(f64::total_cmp);
    println!(
        "{count} sample events, {runs} runs, one core: matching {:.0} ns/event median (min {:.0}, max {:.0}), {found} sightings; empty watchlist {:.0} ns/event; parsing and normalising the same events {normalise_ns:.0} ns/event",
        with[with.len() / 2],
        with[0],
        with[with.len() - 1],
        without[without.len() / 2],
    );
    Ok(())
}
