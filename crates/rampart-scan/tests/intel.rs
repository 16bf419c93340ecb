//! The published threat-intelligence files, read as they are served:
//! CISA's KEV catalogue (a real release) and an EPSS file in FIRST's
//! layout, compressed as `epss_scores-current.csv.gz` is.

use std::io::Write as _;

use rampart_scan::intel::{parse_epss, parse_kev, IntelError};

const KEV: &[u8] = include_bytes!("data/cisa-kev/known_exploited_vulnerabilities.json.gz");

#[test]
fn the_real_kev_catalogue_is_read_whole() {
    let catalog = parse_kev(KEV).unwrap();
    assert_eq!(catalog.version, "2025.08.25");
    assert_eq!(catalog.entries.len(), 1404);
    let log4shell = catalog
        .entries
        .iter()
        .find(|e| e.cve == "CVE-2021-44228")
        .unwrap();
    assert_eq!(log4shell.vendor, "Apache");
    assert_eq!(log4shell.date_added, "2021-12-10");
    assert!(log4shell.ransomware);
    let ransomware = catalog.entries.iter().filter(|e| e.ransomware).count();
    assert!(ransomware > 100 && ransomware < 1404, "{ransomware}");
    assert!(catalog.entries.iter().all(|e| e.cve.starts_with("CVE-")));
}

#[test]
fn a_truncated_catalogue_is_refused_with_its_position() {
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(KEV), &mut text).unwrap();
    text.truncate(text.len() / 2);
    let error = parse_kev(&text).unwrap_err();
    assert!(matches!(error, IntelError::Syntax { .. }), "{error}");
    assert!(error.line().unwrap() > 1000);
}

#[test]
fn a_compressed_epss_file_is_read_whole() {
    let mut csv = String::from(
        "#model_version:v2025.03.14,score_date:2026-12-01T12:55:00Z\ncve,epss,percentile\n",
    );
    for n in 0..20_000 {
        csv.push_str(&format!(
            "CVE-2024-{:05},{:.5},{:.5}\n",
            n + 1000,
            (n % 1000) as f64 / 1000.0,
            n as f64 / 20_000.0
        ));
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(csv.as_bytes()).unwrap();
    let file = parse_epss(&encoder.finish().unwrap()).unwrap();
    assert_eq!(file.model_version, "v2025.03.14");
    assert_eq!(file.scores.len(), 20_000);
    assert_eq!(file.scores[19_999].cve, "CVE-2024-20999");
}

#[test]
fn a_gzip_bomb_is_refused() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b'0'; 1 << 20];
    for _ in 0..(rampart_scan::intel::MAX_INTEL_BYTES >> 20) + 1 {
        encoder.write_all(&zeros).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    assert!(matches!(
        parse_epss(&bomb),
        Err(IntelError::TooLarge { .. })
    ));
}
