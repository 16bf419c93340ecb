//! Defanged indicators as threat reports write them (`hxxps[:]//evil[.]com`,
//! `user[at]example(dot)com`) turned back into what they stand for, with a
//! map from the refanged text to the original so each indicator keeps the
//! words it was written with; and the reverse, for sharing.

/// One replacement: refanged text from `out` on came from `original` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Edit {
    out: usize,
    original: usize,
    /// Bytes of the original the replacement stands for.
    original_len: usize,
    /// Bytes it became.
    out_len: usize,
    /// Original minus refanged length, over this edit and those before.
    shift_after: isize,
}

/// Refanged text and how to find the original words of any part of it.
#[derive(Debug)]
pub struct Refanged<'a> {
    pub text: std::borrow::Cow<'a, str>,
    edits: Vec<Edit>,
}

impl Refanged<'_> {
    /// The original offset of a refanged offset (inside a replacement: its
    /// start, or its end for an end offset).
    fn original_offset(&self, at: usize, end: bool) -> usize {
        let index = self.edits.partition_point(|e| e.out + e.out_len <= at);
        if let Some(edit) = self.edits.get(index) {
            if edit.out < at {
                return if end {
                    edit.original + edit.original_len
                } else {
                    edit.original
                };
            }
        }
        let shift = index
            .checked_sub(1)
            .map_or(0, |i| self.edits[i].shift_after);
        at.saturating_add_signed(shift)
    }

    /// Where a refanged span came from in the original (byte range), and
    /// whether it was defanged.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize, bool) {
        let from = self.original_offset(start, false);
        let to = self.original_offset(end, true).max(from);
        let first = self.edits.partition_point(|e| e.out + e.out_len <= start);
        let defanged = self.edits.get(first).is_some_and(|e| e.out < end);
        (from, to, defanged)
    }
}

/// Bracketed and respelled forms, matched without regard to case, and
/// what they stand for. Longer forms first.
const FORMS: &[(&str, &str)] = &[
    ("[://]", "://"),
    ("(://)", "://"),
    ("[:]//", "://"),
    ("[dot]", "."),
    ("(dot)", "."),
    ("{dot}", "."),
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[at]", "@"),
    ("(at)", "@"),
    ("{at}", "@"),
    ("[@]", "@"),
    ("(@)", "@"),
    ("{@}", "@"),
    ("[:]", ":"),
    // Half-bracketed: `www[.example[.]com`.
    ("[.", "."),
    (".]", "."),
    ("[/]", "/"),
    ("hxxps", "https"),
    ("hxxp", "http"),
    ("hxtps", "https"),
    ("hxtp", "http"),
    ("fxp", "ftp"),
];

/// Words written out: ` dot ` and ` at ` between two words count only
/// inside a run that a bracketed form or another ` dot ` defangs, so
/// "look at example.com" stays prose.
const SPOKEN: &[(&str, &str)] = &[(" dot ", "."), (" at ", "@")];

fn starts_with_ignore_case(text: &[u8], at: usize, form: &str) -> bool {
    let form = form.as_bytes();
    text.len() >= at + form.len() && text[at..at + form.len()].eq_ignore_ascii_case(form)
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// Whether a spoken form at `at` joins two words and the run it is in
/// is defanged otherwise too (another spoken or bracketed dot after it).
fn spoken_applies(bytes: &[u8], at: usize, form: &str) -> bool {
    let before = at.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(at + form.len()).copied();
    if !(before.is_some_and(is_word) && after.is_some_and(is_word)) {
        return false;
    }
    // The next word must be followed by a dot form, or (for ` dot `) end
    // a name: `example dot com`.
    let mut end = at + form.len();
    while end < bytes.len() && is_word(bytes[end]) {
        end += 1;
    }
    let next_is_dot = starts_with_ignore_case(bytes, end, " dot ")
        || FORMS
            .iter()
            .filter(|(_, to)| *to == ".")
            .any(|(from, _)| starts_with_ignore_case(bytes, end, from));
    if form == " at " {
        return next_is_dot;
    }
    if next_is_dot {
        return true;
    }
    // `example dot com`: the last word must be a known top-level label.
    let word = std::str::from_utf8(&bytes[at + form.len()..end]).unwrap_or("");
    super::psl::known_tld(&word.to_ascii_lowercase())
}

/// The text with defanged forms replaced (borrowed when there are none).
pub fn refang(text: &str) -> Refanged<'_> {
    let bytes = text.as_bytes();
    let maybe = memchr::memchr3(b'[', b'(', b'{', bytes).is_some()
        || memchr::memmem::find(bytes, b"xx").is_some()
        || memchr::memmem::find(bytes, b"XX").is_some()
        || memchr::memmem::find(bytes, b" dot ").is_some()
        || memchr::memmem::find(bytes, b"fxp").is_some()
        || memchr::memmem::find(bytes, b"hxtp").is_some();
    if !maybe {
        return Refanged {
            text: std::borrow::Cow::Borrowed(text),
            edits: Vec::new(),
        };
    }
    let mut out = String::with_capacity(text.len());
    let mut edits = Vec::new();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let candidate = matches!(
            byte,
            b'[' | b'(' | b'{' | b'h' | b'H' | b'f' | b'F' | b' ' | b'.'
        );
        if candidate {
            let lower = byte.to_ascii_lowercase();
            let found = FORMS
                .iter()
                .filter(|(from, _)| from.as_bytes()[0] == lower)
                .find(|(from, _)| starts_with_ignore_case(bytes, i, from))
                .filter(|(from, _)| {
                    // `hxxp`/`fxp` only as a word's start.
                    !from.starts_with(['h', 'f']) || i == 0 || !is_word(bytes[i - 1])
                })
                .or_else(|| {
                    if byte != b' ' {
                        return None;
                    }
                    SPOKEN.iter().find(|(from, _)| {
                        starts_with_ignore_case(bytes, i, from) && spoken_applies(bytes, i, from)
                    })
                });
            if let Some((from, to)) = found {
                out.push_str(&text[copied..i]);
                let before = edits.last().map_or(0, |e: &Edit| e.shift_after);
                edits.push(Edit {
                    out: out.len(),
                    original: i,
                    original_len: from.len(),
                    out_len: to.len(),
                    shift_after: before + from.len() as isize - to.len() as isize,
                });
                out.push_str(to);
                i += from.len();
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    if edits.is_empty() {
        return Refanged {
            text: std::borrow::Cow::Borrowed(text),
            edits,
        };
    }
    out.push_str(&text[copied..]);
    Refanged {
        text: std::borrow::Cow::Owned(out),
        edits,
    }
}

/// Refanged text (`rampart ioc fang`).
pub fn fang(text: &str) -> String {
    refang(text).text.into_owned()
}

/// Indicators made safe to paste (`rampart ioc defang`): schemes `hxxp`,
/// dots of found domains and addresses `[.]`, `@` `[@]`, `://` `[://]`.
pub fn defang(text: &str) -> String {
    let found = super::extract(text);
    let mut out = String::with_capacity(text.len() + 16);
    let mut copied = 0;
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    for indicator in &found {
        if !matches!(
            indicator.kind,
            super::IocKind::Url
                | super::IocKind::Domain
                | super::IocKind::Ipv4
                | super::IocKind::Email
        ) {
            continue;
        }
        let (start, end) = (indicator.start, indicator.end);
        if spans.iter().any(|(s, e, _)| start < *e && end > *s) {
            continue;
        }
        let original = &text[start..end];
        let safe = original
            .replacen("http", "hxxp", 1)
            .replace("://", "[://]")
            .replace('.', "[.]")
            .replace('@', "[@]");
        spans.push((start, end, safe));
    }
    spans.sort_by_key(|(s, _, _)| *s);
    for (start, end, safe) in spans {
        out.push_str(&text[copied..start]);
        out.push_str(&safe);
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}
