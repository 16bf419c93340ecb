//! Hostile input: random bytes, truncated and mangled real reports, and
//! wrong shapes never panic; errors name a position where there is one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rampart_scan::{parse, Format, ParseError};

#[test]
fn a_broken_report_names_its_line_and_column() {
    let error = parse(b"{\"runs\": [\n  {\"results\": [}\n]}", Some(Format::Sarif)).unwrap_err();
    assert!(
        matches!(error, ParseError::Syntax { line: 2, .. }),
        "{error}"
    );
    let jsonl =
        b"{\"template-id\":\"a\",\"info\":{\"name\":\"x\",\"severity\":\"low\"}}\nnot json\n";
    let error = parse(jsonl, Some(Format::Nuclei)).unwrap_err();
    assert_eq!(error.line(), Some(2), "{error}");
    assert_eq!(
        parse(b"hello", None).unwrap_err(),
        ParseError::UnknownFormat
    );
    assert_eq!(
        parse(b"<?xml version=\"1.0\"?><catalog><book/></catalog>", None).unwrap_err(),
        ParseError::UnknownFormat
    );
    // An XML format named for a JSON report, and the other way round.
    assert!(matches!(
        parse(b"{}", Some(Format::Nessus)).unwrap_err(),
        ParseError::Shape { .. }
    ));
    assert!(matches!(
        parse(b"<x/>", Some(Format::Trivy)).unwrap_err(),
        ParseError::Shape { .. }
    ));
    // A cut XML report: where it breaks.
    let error = parse(
        b"<?xml version=\"1.0\"?>\n<issues>\n<issue><type>1</type>\n</issues>",
        None,
    )
    .unwrap_err();
    assert_eq!(error.line(), Some(4), "{error}");
    // A cut report of an unnamed format: where the JSON ends.
    let error = parse(b"{\n  \"matches\": [\n    {\"vulnerability\": ", None).unwrap_err();
    assert_eq!(error.line(), Some(3), "{error}");
}

#[test]
fn wrong_shapes_are_errors_not_panics() {
    for format in Format::ALL {
        for body in [
            "[]",
            "{}",
            "null",
            "1",
            "\"x\"",
            "[1,2]",
            "{\"results\": 5}",
            "{\"runs\": [1]}",
            "{\"matches\": [{\"vulnerability\": 5}]}",
            "[{\"Target\": 1}]",
            "{\"SchemaVersion\": 2, \"Results\": [{\"Target\": \"t\", \"Vulnerabilities\": [{}]}]}",
        ] {
            let _ = parse(body.as_bytes(), Some(format));
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let _ = parse(&bytes, None);
        for format in Format::ALL {
            let _ = parse(&bytes, Some(format));
        }
    }

    #[test]
    fn json_like_text_never_panics(text in "[\\[\\]{}\":,a-zA-Z0-9 \\n-]{0,300}") {
        let _ = parse(text.as_bytes(), None);
        for format in Format::ALL {
            let _ = parse(text.as_bytes(), Some(format));
        }
    }

    #[test]
    fn xml_like_text_never_panics(text in "(<[!?/]?(issues|issue|report|results|result|site|alertitem|ReportHost|ReportItem|analysis|dependency|nvt|host|port|DOCTYPE|x)[ a-z=\"]{0,6}/?>|[a-z0-9 \\[\\]&;-]{0,8}){0,40}") {
        let _ = parse(text.as_bytes(), None);
        for format in Format::ALL {
            let _ = parse(text.as_bytes(), Some(format));
        }
    }
}
