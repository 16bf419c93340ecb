//! The Sigma rule language: detection and correlation documents, values,
//! modifiers and conditions.

mod condition;
mod correlation;
mod modifier;
mod rule;
mod value;

pub use condition::{parse_condition, Condition};
pub use correlation::{parse_timespan, CorrelationKind, CorrelationRule, CountCondition};
pub use modifier::{Modifier, Modifiers};
pub use rule::{Detection, FieldSpec, LogSource, RawValue, Selection, SigmaRule};
pub use value::{Pattern, Piece};
