//! Reading rule files: YAML text (one or more documents) to rules, with an
//! error per document that names the rule and what could not be loaded.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use yaml_serde::Value;

use crate::sigma::{CorrelationRule, SigmaRule};
use crate::yaml_depth::{flow_depth_exceeds, MAX_FLOW_DEPTH};

/// One document of a rule file.
#[derive(Debug, Clone)]
pub enum Document {
    Rule(SigmaRule),
    Correlation(CorrelationRule),
}

impl Document {
    pub fn id(&self) -> Option<&str> {
        match self {
            Document::Rule(r) => r.id.as_deref(),
            Document::Correlation(c) => c.id.as_deref(),
        }
    }

    pub fn title(&self) -> &str {
        match self {
            Document::Rule(r) => &r.title,
            Document::Correlation(c) => &c.title,
        }
    }

    pub fn level(&self) -> Option<&str> {
        match self {
            Document::Rule(r) => r.level.as_deref(),
            Document::Correlation(c) => c.level.as_deref(),
        }
    }
}

/// Why a document was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub id: Option<String>,
    pub title: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.id, &self.title) {
            (Some(id), _) => write!(f, "rule {id}: {}", self.reason),
            (None, Some(title)) => write!(f, "rule {title:?}: {}", self.reason),
            (None, None) => f.write_str(&self.reason),
        }
    }
}

/// Parses every YAML document of `text`.
pub fn parse_documents(text: &str) -> Vec<Result<Document, LoadError>> {
    let mut out = Vec::new();
    if flow_depth_exceeds(text, MAX_FLOW_DEPTH) {
        out.push(Err(LoadError {
            id: None,
            title: None,
            reason: format!("invalid YAML: brackets nest deeper than {MAX_FLOW_DEPTH} levels"),
        }));
        return out;
    }
    for doc in yaml_serde::Deserializer::from_str(text) {
        let value = match Value::deserialize(doc) {
            Ok(value) => value,
            Err(e) => {
                out.push(Err(LoadError {
                    id: None,
                    title: None,
                    reason: format!("invalid YAML: {e}"),
                }));
                // The parser cannot resynchronise after a syntax error.
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        out.push(parse_document(&value));
    }
    out
}

fn parse_document(value: &Value) -> Result<Document, LoadError> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let error = |reason: String| LoadError {
        id: text("id"),
        title: text("title"),
        reason,
    };
    if value.get("correlation").is_some() {
        return CorrelationRule::from_yaml(value)
            .map(Document::Correlation)
            .map_err(error);
    }
    if value.get("filter").is_some() && value.get("detection").is_none() {
        return Err(error("Sigma filter documents are not supported".into()));
    }
    SigmaRule::from_yaml(value)
        .map(Document::Rule)
        .map_err(error)
}

/// The documents of one file.
#[derive(Debug)]
pub struct LoadedFile {
    pub path: PathBuf,
    pub documents: Vec<Result<Document, LoadError>>,
}

/// Reads every `.yml`/`.yaml` file under `dir`, sorted by path.
pub fn load_dir(dir: &Path) -> std::io::Result<Vec<LoadedFile>> {
    let mut paths = Vec::new();
    collect(dir, &mut paths)?;
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let documents = match std::fs::read_to_string(&path) {
            Ok(text) => parse_documents(&text),
            Err(e) => vec![Err(LoadError {
                id: None,
                title: None,
                reason: format!("cannot read: {e}"),
            })],
        };
        files.push(LoadedFile { path, documents });
    }
    Ok(files)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.is_file() {
        out.push(dir.to_owned());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_yaml_is_refused_without_exhausting_the_stack() {
        for hostile in [
            format!(
                "title: t\ndetection: {}1{}\n",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
            format!(
                "title: t\ndetection: {}1{}\n",
                "{a: ".repeat(50_000),
                "}".repeat(50_000)
            ),
            format!(
                "title: t\ndetection:\n{}",
                (0..300)
                    .map(|d| format!("{}k{d}:\n", " ".repeat(d)))
                    .collect::<String>()
            ),
        ] {
            let docs = parse_documents(&hostile);
            assert!(matches!(docs.as_slice(), [Err(_)]), "{docs:?}");
        }
    }
}
