//! The preprocessor's error type: every failure names a position and what was expected.

use std::fmt;

/// A position in a template: 1-based line, 1-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in Unicode scalar values.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a template could not be scanned or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not valid in its format.
    #[error("{position}: invalid {format}: {message}")]
    Syntax {
        /// Where the problem is.
        position: Position,
        /// "YAML", "JSON", "HCL".
        format: &'static str,
        /// What was found and what was expected instead.
        message: String,
    },
    /// The input holds NUL bytes or is not UTF-8.
    #[error("{0}: input is binary or not UTF-8 text; templates must be UTF-8")]
    Binary(String),
    /// The input is larger than the configured limit.
    #[error("input is {size} bytes, larger than the limit of {limit} bytes")]
    TooLarge {
        /// Input size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The template could not be read.
    #[error("{0}")]
    Io(String),
    /// A construct the scanner cannot handle safely at an image site.
    #[error("{position}: {message}")]
    Unsupported {
        /// Where the construct is.
        position: Position,
        /// What it is and what to do.
        message: String,
    },
}

/// A syntax error found by a scanner before line/column are known: a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawError {
    pub offset: usize,
    pub message: String,
}

impl RawError {
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        RawError {
            offset,
            message: message.into(),
        }
    }

    /// Attaches the position in `text` and the format name.
    pub fn into_error(self, text: &str, format: &'static str) -> Error {
        Error::Syntax {
            position: position_of(text, self.offset),
            format,
            message: self.message,
        }
    }
}

pub(crate) type RawResult<T> = Result<T, RawError>;

/// The 1-based line and character column of byte `offset` in `text`.
pub fn position_of(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let column = count_chars(&before[line_start..]) + 1;
    Position { line, column }
}

/// Counts UTF-8 characters (bytes that are not continuation bytes).
pub(crate) fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// Converts many ascending byte offsets to positions in one pass.
pub(crate) struct PositionCursor<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
    line_start: usize,
}

impl<'a> PositionCursor<'a> {
    pub fn new(text: &'a str) -> Self {
        PositionCursor {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// The position of `offset`; cheap when offsets come in ascending order.
    pub fn position(&mut self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
            self.line_start = 0;
        }
        let seg = &self.text[self.offset..offset];
        let n = memchr::memchr_iter(b'\n', seg).count();
        if n > 0 {
            self.line += n;
            // n > 0 guarantees a newline in seg.
            self.line_start = self.offset + memchr::memrchr(b'\n', seg).map_or(0, |i| i + 1);
        }
        self.offset = offset;
        Position {
            line: self.line,
            column: count_chars(&self.text[self.line_start..offset]) + 1,
        }
    }
}
