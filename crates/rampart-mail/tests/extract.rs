//! What analysts paste from threat reports: defanged and bare indicators,
//! next to the words that look like them and are not.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rampart_mail::ioc::{defang, extract, fang, IndicatorSet, IocConfidence, IocKind};

fn set(text: &str) -> IndicatorSet {
    IndicatorSet::of(&extract(text))
}

#[test]
fn defanged_forms_are_refanged_and_keep_their_words() {
    let text = "C2 at hxxps://evil-cdn[.]com/gate.php?id=7 and 185.220.101[.]45, \
                mail from payroll[at]evil-cdn(dot)com; backup tcp://203.0.113[.]9:4444";
    let found = extract(text);
    let s = IndicatorSet::of(&found);
    assert_eq!(
        s.url,
        [
            "https://evil-cdn.com/gate.php?id=7",
            "tcp://203.0.113.9:4444"
        ]
    );
    assert_eq!(s.domain, ["evil-cdn.com"]);
    assert_eq!(s.ipv4, ["185.220.101.45", "203.0.113.9"]);
    assert_eq!(s.email, ["payroll@evil-cdn.com"]);
    let url = found.iter().find(|f| f.kind == IocKind::Url).unwrap();
    assert_eq!(url.original, "hxxps://evil-cdn[.]com/gate.php?id=7");
    assert_eq!(url.confidence, IocConfidence::Defanged);
    assert_eq!(&text[url.start..url.end], url.original);
    let ip = found.iter().find(|f| f.value == "185.220.101.45").unwrap();
    assert_eq!(ip.original, "185.220.101[.]45");
    assert_eq!(ip.confidence, IocConfidence::Defanged);
}

#[test]
fn every_bracket_style_and_spelled_words() {
    for written in [
        "evil[.]com",
        "evil(.)com",
        "evil{.}com",
        "evil[dot]com",
        "evil(dot)com",
        "evil{dot}com",
        "evil[DOT]com",
        "evil dot com",
    ] {
        assert_eq!(set(written).domain, ["evil.com"], "{written}");
    }
    for written in [
        "bob[@]evil[.]com",
        "bob(at)evil[.]com",
        "bob[at]evil[.]com",
        "bob at evil dot com",
    ] {
        assert_eq!(set(written).email, ["bob@evil.com"], "{written}");
    }
    assert_eq!(set("hxxp[:]//evil[.]com/x").url, ["http://evil.com/x"]);
    assert_eq!(set("hxxps[://]evil[.]com").url, ["https://evil.com"]);
    assert_eq!(set("http[:]//1.2.3[.]4[/]a").url, ["http://1.2.3.4/a"]);
    // Prose keeps its words.
    assert!(set("Please look at example.com later").email.is_empty());
    assert!(set("we met at noon").is_empty());
}

#[test]
fn urls_of_any_scheme_and_their_hosts() {
    let found = extract(
        "see http://93.184.216.34/x, sftp://files.example.org/a and ws://[2001:db8::1]:8080/s.",
    );
    let s = IndicatorSet::of(&found);
    assert_eq!(
        s.url,
        [
            "http://93.184.216.34/x",
            "sftp://files.example.org/a",
            "ws://[2001:db8::1]:8080/s"
        ]
    );
    // Hosts are reported once, as what they are, marked as inside a URL.
    assert_eq!(s.ipv4, ["93.184.216.34"]);
    assert_eq!(s.domain, ["files.example.org"]);
    assert_eq!(s.ipv6, ["2001:db8::1"]);
    assert!(found
        .iter()
        .filter(|f| f.kind != IocKind::Url)
        .all(|f| f.confidence == IocConfidence::InUrl));
    // A URL in parentheses, or ending a sentence, loses the punctuation.
    assert_eq!(
        set("(see https://example.com/a_(b))").url,
        ["https://example.com/a_(b)"]
    );
    assert_eq!(
        set("Visit https://example.com/path.").url,
        ["https://example.com/path"]
    );
}

#[test]
fn domains_need_a_public_suffix_and_a_name_before_it() {
    assert_eq!(set("a.b.example.co.uk").domain, ["a.b.example.co.uk"]);
    assert!(set("co.uk").domain.is_empty());
    assert!(set("foo.notatld").domain.is_empty());
    assert!(set("version 1.2.3 and 10.0.0.1.5").is_empty());
    assert_eq!(set("Example.COM.").domain, ["example.com"]);
}

#[test]
fn files_detection_names_and_code_are_not_domains() {
    for text in [
        "opened invoice.zip then ran setup.py and payload.exe",
        "Detected as Trojan.Win32.Agent.abc and HEUR:Trojan.Script.Generic",
        "calls os.path.join and document.write, reads self.name and System.IO.File",
        "call getElementById.app",
    ] {
        assert!(
            set(text).domain.is_empty(),
            "{text}: {:?}",
            set(text).domain
        );
    }
    // Defanged, they are meant as domains.
    assert_eq!(set("invoice[.]zip").domain, ["invoice.zip"]);
}

#[test]
fn hashes_by_length_and_alphabet_in_lower_case() {
    let md5 = "D41D8CD98F00B204E9800998ECF8427E";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let s = set(&format!(
        "{md5}, {sha1} ({sha256}); not 12345678901234567890123456789012 nor {sha1}a"
    ));
    assert_eq!(s.md5, [md5.to_ascii_lowercase()]);
    assert_eq!(s.sha1, [sha1]);
    assert_eq!(s.sha256, [sha256]);
}

#[test]
fn cves_emails_and_addresses() {
    let s = set("cve-2021-44228 and CVE-2024-3094; contact soc@example.org or mailto:abuse@example.net; host fe80::1%eth0 and 2001:DB8:0:0:0:0:0:1");
    assert_eq!(s.cve, ["CVE-2021-44228", "CVE-2024-3094"]);
    assert_eq!(s.email, ["soc@example.org", "abuse@example.net"]);
    assert_eq!(s.ipv6, ["fe80::1", "2001:db8::1"]);
    // Times and C++ paths are not IPv6.
    assert!(set("at 12:30:45 std::vector::push").ipv6.is_empty());
    // Out-of-range octets are not addresses.
    assert!(set("999.1.1.1").ipv4.is_empty());
}

#[test]
fn fang_and_defang_round_trip() {
    let text = "Beacon to hxxp://bad[.]example[.]com/a from 10.0.0[.]1";
    assert_eq!(
        fang(text),
        "Beacon to http://bad.example.com/a from 10.0.0.1"
    );
    let safe = defang(&fang(text));
    assert!(
        !safe.contains("http://") && !safe.contains("bad.example.com"),
        "{safe}"
    );
    assert_eq!(fang(&safe), fang(text));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_is_scanned_without_panics(text in "[a-z0-9 .:/@\\[\\]()%{}-]{0,200}") {
        for found in extract(&text) {
            proptest::prop_assert_eq!(&text[found.start..found.end], found.original.as_str());
        }
        let _ = defang(&text);
    }

    #[test]
    fn any_unicode_is_scanned_without_panics(text in "\\PC{0,120}") {
        for found in extract(&text) {
            proptest::prop_assert_eq!(&text[found.start..found.end], found.original.as_str());
        }
    }
}

#[test]
fn internationalised_names_are_domains_in_ascii_form() {
    let found = extract("Lookalike: аpple.com (Cyrillic а) and münchen.de, “quoted.example.org”");
    let s = IndicatorSet::of(&found);
    assert_eq!(
        s.domain,
        [
            "xn--pple-43d.com",
            "xn--mnchen-3ya.de",
            "quoted.example.org"
        ]
    );
    let first = found.iter().find(|f| f.kind == IocKind::Domain).unwrap();
    assert_eq!(first.original, "аpple.com");
}
