//! Diagnostics: errors and warnings sent to Terraform, optionally attached to an attribute.

use crate::proto::tfplugin6 as pb;
use crate::value::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    /// Where in the configuration; Terraform then points at that line.
    pub path: Option<Path>,
}

/// An ordered list of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    /// A list holding one error.
    pub fn from_error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostics {
        let mut d = Diagnostics::new();
        d.error(summary, detail);
        d
    }

    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, None);
    }

    pub fn error_at(&mut self, path: &Path, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, Some(path.clone()));
    }

    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, None);
    }

    pub fn warning_at(
        &mut self,
        path: &Path,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Warning, summary, detail, Some(path.clone()));
    }

    fn push(
        &mut self,
        severity: Severity,
        summary: impl Into<String>,
        detail: impl Into<String>,
        path: Option<Path>,
    ) {
        self.0.push(Diagnostic {
            severity,
            summary: summary.into(),
            detail: detail.into(),
            path,
        });
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_proto(&self) -> Vec<pb::Diagnostic> {
        self.0
            .iter()
            .map(|d| pb::Diagnostic {
                severity: match d.severity {
                    Severity::Error => pb::diagnostic::Severity::Error as i32,
                    Severity::Warning => pb::diagnostic::Severity::Warning as i32,
                },
                summary: d.summary.clone(),
                detail: d.detail.clone(),
                attribute: d.path.as_ref().map(Path::to_proto),
            })
            .collect()
    }
}
