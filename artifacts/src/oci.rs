//! The plugin as an OCI image, in the Wasm artifact format Istio and Higress pull: an OCI
//! image manifest whose config has the media type `application/vnd.module.wasm.config.v1+json`
//! and whose one layer, `application/vnd.module.wasm.content.layer.v1+wasm`, is the `.wasm`
//! itself (Istio's image fetcher recognises this variant by the config's media type and
//! takes the layer as the module). The layer's digest is therefore the `.wasm`'s sha256.
//!
//! Written as an OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`) and
//! as a tar of that directory (what `skopeo copy oci-archive:...` reads).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

/// The config blob's media type (the Wasm artifact variant).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.module.wasm.config.v1+json";
/// The layer's media type: the module's bytes.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.module.wasm.content.layer.v1+wasm";
/// The manifest's media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// What the image says about itself.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// The version (`org.opencontainers.image.version`, and the tag in `index.json`).
    pub version: String,
    /// The source revision (`org.opencontainers.image.revision`).
    pub revision: String,
    /// When the module was built, RFC 3339 (`org.opencontainers.image.created`).
    pub created: String,
}

/// The image written by [`write_image`].
#[derive(Debug, Clone)]
pub struct WrittenImage {
    /// The OCI image layout directory.
    pub layout: PathBuf,
    /// The same layout as a tar archive.
    pub archive: PathBuf,
    /// `sha256:<hex>` of the manifest.
    pub manifest_digest: String,
    /// `sha256:<hex>` of the layer: the module's own sha256.
    pub layer_digest: String,
}

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// Writes `module` as an image layout `<dir>/<name>/` and archive `<dir>/<name>.tar`,
/// replacing earlier ones.
pub fn write_image(
    module: &[u8],
    info: &ImageInfo,
    dir: &Path,
    name: &str,
) -> Result<WrittenImage, String> {
    let config = serde_json::to_vec(&json!({
        "type": "envoy_proxy",
        "abiVersions": ["proxy_abi_version_0_2_1"],
        "config": {"root_ids": []},
        "created": info.created,
    }))
    .map_err(|e| e.to_string())?;
    let annotations = json!({
        "org.opencontainers.image.title": "polycors",
        "org.opencontainers.image.description": "polycors CORS policy engine as a proxy-wasm plugin (Envoy, Istio, Higress)",
        "org.opencontainers.image.version": info.version,
        "org.opencontainers.image.revision": info.revision,
        "org.opencontainers.image.created": info.created,
        "org.opencontainers.image.licenses": "Apache-2.0",
    });
    let layer_digest = digest(module);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": CONFIG_MEDIA_TYPE,
            "digest": digest(&config),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": LAYER_MEDIA_TYPE,
            "digest": layer_digest,
            "size": module.len(),
            "annotations": {"org.opencontainers.image.title": "plugin.wasm"},
        }],
        "annotations": annotations,
    }))
    .map_err(|e| e.to_string())?;
    let manifest_digest = digest(&manifest);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": manifest_digest,
            "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": info.version},
        }],
    }))
    .map_err(|e| e.to_string())?;
    let layout_file = br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec();

    let mut files: Vec<(String, &[u8])> = vec![
        ("oci-layout".into(), &layout_file),
        ("index.json".into(), &index),
    ];
    for blob in [&config[..], &manifest[..], module] {
        let hex = digest(blob).trim_start_matches("sha256:").to_owned();
        files.push((format!("blobs/sha256/{hex}"), blob));
    }

    let layout = dir.join(name);
    if layout.exists() {
        std::fs::remove_dir_all(&layout).map_err(|e| format!("{}: {e}", layout.display()))?;
    }
    for (path, bytes) in &files {
        let path = layout.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let archive = dir.join(format!("{name}.tar"));
    let mut tar = Vec::new();
    for directory in ["blobs/", "blobs/sha256/"] {
        tar_entry(&mut tar, directory, b"", true)?;
    }
    for (path, bytes) in &files {
        tar_entry(&mut tar, path, bytes, false)?;
    }
    tar.extend_from_slice(&[0; 1024]);
    std::fs::File::create(&archive)
        .and_then(|mut f| f.write_all(&tar))
        .map_err(|e| format!("{}: {e}", archive.display()))?;
    Ok(WrittenImage {
        layout,
        archive,
        manifest_digest,
        layer_digest,
    })
}

/// Appends one ustar entry (a regular file, or a directory when `directory`), timestamps 0 so
/// that the archive depends on the contents only.
fn tar_entry(tar: &mut Vec<u8>, path: &str, bytes: &[u8], directory: bool) -> Result<(), String> {
    if path.len() > 100 {
        return Err(format!("{path}: too long for a tar header"));
    }
    let mut header = [0u8; 512];
    let mut put = |at: usize, field: &[u8]| header[at..at + field.len()].copy_from_slice(field);
    put(0, path.as_bytes());
    put(
        100,
        if directory {
            b"0000755\0"
        } else {
            b"0000644\0"
        },
    );
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{:011o}\0", bytes.len()).as_bytes());
    put(136, b"00000000000\0");
    put(148, b"        ");
    put(156, if directory { b"5" } else { b"0" });
    put(257, b"ustar\0");
    put(263, b"00");
    let checksum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());
    tar.extend_from_slice(&header);
    tar.extend_from_slice(bytes);
    tar.resize(tar.len().next_multiple_of(512), 0);
    Ok(())
}
