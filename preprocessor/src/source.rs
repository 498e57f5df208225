//! Template text loaded from a file: large files are memory-mapped (no copy into the process,
//! few page faults), small ones read; either way checked once to be UTF-8 text.

use std::path::Path;

use crate::error::Error;

/// Files at least this large are mapped instead of read.
const MAP_THRESHOLD: u64 = 1 << 20;

/// The text of one template.
pub struct TemplateText {
    inner: Inner,
}

enum Inner {
    Owned(String),
    Mapped(memmap2::Mmap),
}

impl TemplateText {
    /// Text already in memory.
    pub fn from_string(text: String) -> Self {
        TemplateText {
            inner: Inner::Owned(text),
        }
    }

    /// Loads `path`, refusing binary, non-UTF-8 or larger than `max_size` input.
    pub fn load(path: &Path, max_size: usize) -> Result<Self, Error> {
        let name = path.display().to_string();
        let io = |e: std::io::Error| Error::Io(format!("cannot read {name}: {e}"));
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > max_size as u64 {
            return Err(Error::TooLarge {
                size: len as usize,
                limit: max_size,
            });
        }
        if len < MAP_THRESHOLD {
            let mut bytes = Vec::with_capacity(len as usize + 1);
            std::io::Read::read_to_end(
                &mut std::io::Read::take(&file, max_size as u64 + 1),
                &mut bytes,
            )
            .map_err(io)?;
            return crate::text_from_bytes(bytes, &name, max_size).map(Self::from_string);
        }
        // SAFETY: the mapping is read-only and private. Another process truncating the file while
        // we run could fault the read (as for any mmap-based reader, e.g. ripgrep); `--in-place`
        // never does that to its inputs: it writes a new file and renames it over the old one.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        if map.len() > max_size {
            return Err(Error::TooLarge {
                size: map.len(),
                limit: max_size,
            });
        }
        crate::text_of(&map, &name, max_size)?;
        Ok(TemplateText {
            inner: Inner::Mapped(map),
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.inner {
            Inner::Owned(s) => s,
            // SAFETY: `load` checked these bytes are UTF-8 before building a `Mapped`, and the
            // private read-only mapping is not written by this process.
            Inner::Mapped(m) => unsafe { std::str::from_utf8_unchecked(m) },
        }
    }
}

impl std::fmt::Debug for TemplateText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateText")
            .field("len", &self.as_str().len())
            .finish()
    }
}
