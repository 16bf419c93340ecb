//! Checks of free text users send: trimmed, bounded in length, no control
//! characters; lists of labels (tags, identifiers) bounded and de-duplicated.

use rampart_core::Error;

const MAX_LIST: usize = 100;
const MAX_ITEM: usize = 500;

pub fn text(field: &str, value: &str, most: usize) -> Result<String, Error> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > most || trimmed.chars().any(char::is_control)
    {
        return Err(Error::invalid_field(
            field,
            format!("must have 1 to {most} characters and no control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

pub fn labels(field: &str, values: Vec<String>) -> Result<Vec<String>, Error> {
    if values.len() > MAX_LIST {
        return Err(Error::invalid_field(
            field,
            format!("at most {MAX_LIST} items"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let value = text(field, &value, MAX_ITEM)?;
        if !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(out)
}
