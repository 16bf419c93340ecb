//! The labelled corpus (`tests/data/ioc-corpus.jsonl`, also scored
//! against iocextract and ioc-finder by `scripts/ioc-accuracy.py`): no
//! indicator that is not there, and only the one known miss (a space
//! before `.com`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use rampart_mail::ioc::{extract, IndicatorSet};
use serde_json::Value;

fn values(set: &IndicatorSet, kind: &str) -> BTreeSet<String> {
    let list = match kind {
        "ipv4" => &set.ipv4,
        "ipv6" => &set.ipv6,
        "domain" => &set.domain,
        "url" => &set.url,
        "email" => &set.email,
        "md5" => &set.md5,
        "sha1" => &set.sha1,
        "sha256" => &set.sha256,
        "cve" => &set.cve,
        other => panic!("{other}"),
    };
    list.iter().cloned().collect()
}

#[test]
fn the_corpus_is_read_as_labelled() {
    let corpus = include_str!("data/ioc-corpus.jsonl");
    let (mut false_positives, mut misses) = (Vec::new(), Vec::new());
    for line in corpus.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let text = case["text"].as_str().unwrap();
        let found = IndicatorSet::of(&extract(text));
        for kind in [
            "ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "cve",
        ] {
            let expected: BTreeSet<String> = case["expected"][kind]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            let got = values(&found, kind);
            for extra in got.difference(&expected) {
                false_positives.push(format!("{}: {kind} {extra}", case["source"]));
            }
            for missing in expected.difference(&got) {
                misses.push(format!("{}: {kind} {missing}", case["source"]));
            }
        }
    }
    assert!(false_positives.is_empty(), "{false_positives:#?}");
    assert_eq!(
        misses,
        ["\"ioc-fanger #4: a space before the dot\": domain evilsite.com"],
        "{misses:#?}"
    );
}
