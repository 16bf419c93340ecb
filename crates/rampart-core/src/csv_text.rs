//! CSV cells written safely for spreadsheets (exports of findings and
//! watchlists).

/// A CSV cell: quoted when needed, and a leading `=`, `+`, `-`, `@`, tab
/// or carriage return defused with `'` so a spreadsheet does not run it
/// as a formula (text from scanned targets and feeds is hostile).
pub fn cell(text: &str) -> String {
    let defused = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}
