//! Reading configuration files: bounded in size, split into documents by the core.

use std::io::Read;
use std::path::Path;

use polycors::InvalidConfig;
use polycors::document::{Document, load_documents};
use polycors::limits::MAX_CONFIG_BYTES;

/// A configuration file's documents, and its text for locating findings.
pub struct ConfigFile {
    /// The file's bytes (at most one byte over the core's limit).
    pub bytes: Vec<u8>,
    /// Its documents, or why none can be read.
    pub documents: Result<Vec<Document>, InvalidConfig>,
}

/// Reads `path` (no more than one byte past the size the core accepts, so that a huge file is
/// refused without being read whole). `Err` is an I/O problem, for a usage error.
pub fn read(path: &Path) -> Result<ConfigFile, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let documents = load_documents(&bytes);
    Ok(ConfigFile { bytes, documents })
}
