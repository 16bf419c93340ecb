//! Rampart detection: Sigma rules parsed, compiled into one prefiltered
//! rule set and evaluated against JSON events.

pub mod compile;
pub mod engine;
pub mod event;
pub mod load;
pub mod logsource;
pub mod mapping;
pub mod matcher;
pub mod prefilter;
pub mod sigma;

pub use compile::Placeholders;
pub use engine::{RuleMeta, RuleSet, RuleSetBuilder, Scratch};
pub use load::{load_dir, parse_documents, Document, LoadedFile};
pub use mapping::FieldMapping;
pub use sigma::SigmaRule;
