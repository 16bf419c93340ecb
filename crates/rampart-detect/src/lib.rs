//! Rampart detection: Sigma detection and correlation rules parsed,
//! compiled into one prefiltered rule set, evaluated against events, and
//! their matches correlated in the stream; the built-in rule pack.

pub mod compile;
pub mod correlate;
pub mod detector;
pub mod engine;
pub mod event;
pub mod load;
pub mod locate;
pub mod logsource;
pub mod mapping;
pub mod matcher;
pub mod pack;
pub mod prefilter;
pub mod prescan;
pub mod scan;
pub mod sigma;
pub mod sshd;
pub mod tester;
mod textwalk;
pub mod view;
mod yaml_depth;

pub use compile::Placeholders;
pub use correlate::{Correlator, Counters as CorrelationCounters, Limits};
pub use detector::{Alert, Detector, DetectorBuilder, RuleInfo, RuleKind};
pub use engine::{RuleMeta, RuleSet, RuleSetBuilder, Scratch};
pub use load::{load_dir, parse_documents, Document, LoadedFile};
pub use mapping::{FieldMapping, MappingError};
pub use prescan::Walk;
pub use sigma::SigmaRule;
