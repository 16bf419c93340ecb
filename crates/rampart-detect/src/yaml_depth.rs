//! A bound on YAML flow nesting (`[[[…` and `{a: {a: …`), checked on the
//! text before the YAML parser sees it: the parser's cost grows with the
//! square of the depth, so a 256 KiB rule of brackets would hold a core for
//! a minute, and its tree would be deep enough to exhaust a stack.

/// Deepest flow nesting a rule may use; real rules use one or two levels.
pub const MAX_FLOW_DEPTH: usize = 64;

/// True when `text` may nest flow collections deeper than `limit`.
///
/// Errs on the side of refusing: every `[` or `{` outside a quoted
/// string or a comment counts as an opening, so brackets inside a plain
/// scalar can only make the count higher than the parser's, never lower.
pub fn flow_depth_exceeds(text: &str, limit: usize) -> bool {
    let mut depth = 0usize;
    let mut bytes = text.bytes().peekable();
    let mut previous = b'\n';
    while let Some(byte) = bytes.next() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'#' if previous.is_ascii_whitespace() => {
                // A comment runs to the end of its line.
                for b in bytes.by_ref() {
                    if b == b'\n' {
                        break;
                    }
                }
            }
            b'"' if depth > 0 || starts_scalar(previous) => {
                while let Some(b) = bytes.next() {
                    match b {
                        b'\\' => {
                            bytes.next();
                        }
                        b'"' => break,
                        _ => {}
                    }
                }
            }
            b'\'' if depth > 0 || starts_scalar(previous) => {
                // `''` inside is an escaped quote: it closes and reopens.
                for b in bytes.by_ref() {
                    if b == b'\'' {
                        break;
                    }
                }
            }
            _ => {}
        }
        previous = byte;
    }
    false
}

/// Whether a quote after `previous` opens a quoted scalar (rather than
/// sitting inside a plain one, as in `it's`).
fn starts_scalar(previous: u8) -> bool {
    previous.is_ascii_whitespace() || matches!(previous, b'[' | b'{' | b',' | b':' | b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_flow_openings_outside_strings_and_comments() {
        assert!(!flow_depth_exceeds("a: [1, [2, {b: [3]}]]\n", 4));
        assert!(flow_depth_exceeds("a: [1, [2, {b: [3]}]]\n", 3));
        // Closers inside strings and comments do not lower the count.
        assert!(flow_depth_exceeds("a: [ \"]]]\" [ '] ]' [ # ]]]\n [", 3));
        // Brackets in a block scalar at the top level are harmless.
        assert!(!flow_depth_exceeds("re: 'a[b]c' # [[[[\nx: \"[[[[\"\n", 2));
    }
}
