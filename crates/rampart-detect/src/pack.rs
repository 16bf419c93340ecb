//! The built-in rule pack, enabled by default for every organisation: SSH
//! brute force, password spraying, port scans and a successful login from
//! a source that was brute-forcing (with the detection rules they count).

use crate::load::{parse_documents, Document};

/// `(id, YAML)` of every built-in rule; ids never change between releases.
pub const BUILTIN_RULES: &[(&str, &str)] = &[
    (
        "a113d517-539d-45ac-bea2-1b1cbd13251a",
        include_str!("../pack/ssh_auth_failure.yml"),
    ),
    (
        "3f731da3-bfb2-4ae7-9a66-5d8a696a451f",
        include_str!("../pack/ssh_brute_force.yml"),
    ),
    (
        "36e32e8c-fd8e-49c4-9e85-682f2c0a2e2d",
        include_str!("../pack/auth_failure.yml"),
    ),
    (
        "ff7cf75e-9bcc-4b7e-ae64-c90f1b262998",
        include_str!("../pack/password_spraying.yml"),
    ),
    (
        "3765fbcf-9838-4ceb-954d-d502c21ff40a",
        include_str!("../pack/network_connection.yml"),
    ),
    (
        "c3fab4fa-0f11-4ff8-8076-920baf858a06",
        include_str!("../pack/port_scan.yml"),
    ),
    (
        "bb35145c-8d27-4f51-867e-a2c2c789e9b0",
        include_str!("../pack/ssh_login_success.yml"),
    ),
    (
        "651ed21c-8e1d-4934-9b99-18d194bbfea2",
        include_str!("../pack/ssh_success_after_brute_force.yml"),
    ),
];

/// The parsed built-in rules, `(id, document)`; a rule that fails to parse
/// is a bug of this build, reported as an error.
pub fn builtin_documents() -> Result<Vec<(&'static str, Document)>, String> {
    BUILTIN_RULES
        .iter()
        .map(
            |(id, yaml)| match parse_documents(yaml).into_iter().next() {
                Some(Ok(doc)) if doc.id() == Some(id) => Ok((*id, doc)),
                Some(Ok(_)) => Err(format!("built-in rule {id}: id does not match its YAML")),
                Some(Err(e)) => Err(format!("built-in rule {id}: {e}")),
                None => Err(format!("built-in rule {id}: empty")),
            },
        )
        .collect()
}
