//! The Sigma rule language: documents, values, modifiers and conditions.

mod condition;
mod modifier;
mod rule;
mod value;

pub use condition::{parse_condition, Condition};
pub use modifier::{Modifier, Modifiers};
pub use rule::{Detection, FieldSpec, LogSource, RawValue, Selection, SigmaRule};
pub use value::{Pattern, Piece};
