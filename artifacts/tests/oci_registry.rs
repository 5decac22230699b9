//! The plugin's OCI image through real tools: `skopeo` reads the layout, copies the archive
//! into a real registry (the CNCF distribution registry, Debian's `docker-registry`, on
//! 127.0.0.1) and back out, and the layer pulled is the module, byte for byte.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use polycors_artifacts::oci::{self, ImageInfo};
use serde_json::Value;

const SKOPEO: &str = "/usr/bin/skopeo";
const REGISTRY: &str = "/usr/bin/docker-registry";
const HOW: &str = "`cargo xtask test` installs them (as root on Debian: apt-get install -y skopeo docker-registry)";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polycors-oci-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    let output = Command::new(SKOPEO)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{SKOPEO}: {e}; {HOW}"));
    assert!(
        output.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A registry on 127.0.0.1, stopped on drop.
struct Registry {
    child: Child,
    address: String,
}

impl Registry {
    fn start(storage: &Path) -> Self {
        assert!(Path::new(REGISTRY).exists(), "{REGISTRY} is missing; {HOW}");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let config = storage.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\n",
                storage.join("data").display()
            ),
        )
        .expect("registry config");
        let child = Command::new(REGISTRY)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{REGISTRY}: {e}; {HOW}"));
        let registry = Self { child, address };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !registry.answers_v2() {
            assert!(
                Instant::now() < deadline,
                "the registry did not start on {}",
                registry.address
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    /// `GET /v2/` answers 200: the registry is up.
    fn answers_v2(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(&self.address) else {
            return false;
        };
        let request = format!(
            "GET /v2/ HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        );
        let mut response = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut response).is_ok()
            && response.starts_with("HTTP/1.1 200")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON")
}

#[test]
fn the_image_goes_through_a_real_registry_and_back() {
    assert!(Path::new(SKOPEO).exists(), "{SKOPEO} is missing; {HOW}");
    let module_path = polycors_artifacts::plugin_wasm();
    let module = std::fs::read(&module_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (build it with `cargo xtask build`)",
            module_path.display()
        )
    });
    let dir = temp_dir("image");
    let info = ImageInfo {
        version: "0.1.0".into(),
        revision: "0123456789abcdef0123456789abcdef01234567".into(),
        created: "2026-12-02T09:00:00+00:00".into(),
    };
    let image = oci::write_image(&module, &info, &dir, "polycors-oci").expect("written");
    assert_eq!(image.layer_digest, oci::digest(&module));

    // skopeo reads the layout: the manifest is the one written, with its media types.
    let layout = format!("oci:{}:0.1.0", image.layout.display());
    let raw = skopeo(&["inspect", "--raw", &layout]);
    assert_eq!(oci::digest(&raw), image.manifest_digest);
    let manifest = json(&raw);
    assert_eq!(manifest["config"]["mediaType"], oci::CONFIG_MEDIA_TYPE);
    assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(1));
    assert_eq!(manifest["layers"][0]["mediaType"], oci::LAYER_MEDIA_TYPE);
    assert_eq!(manifest["layers"][0]["size"], module.len());
    let annotations = &manifest["annotations"];
    assert_eq!(annotations["org.opencontainers.image.version"], "0.1.0");
    assert_eq!(
        annotations["org.opencontainers.image.revision"],
        info.revision.as_str()
    );
    assert_eq!(
        annotations["org.opencontainers.image.created"],
        info.created.as_str()
    );
    let config = json(&skopeo(&["inspect", "--config", "--raw", &layout]));
    assert_eq!(config["type"], "envoy_proxy");

    // Into a real registry from the archive, and back out.
    let storage = temp_dir("registry");
    let registry = Registry::start(&storage);
    let remote = format!("docker://{}/polycors:0.1.0", registry.address);
    let archive = format!("oci-archive:{}:0.1.0", image.archive.display());
    skopeo(&["copy", "--dest-tls-verify=false", &archive, &remote]);
    let pushed = skopeo(&["inspect", "--raw", "--tls-verify=false", &remote]);
    assert_eq!(
        oci::digest(&pushed),
        image.manifest_digest,
        "the registry holds the same manifest"
    );
    let out = temp_dir("pulled");
    let pulled = format!("oci:{}:0.1.0", out.join("layout").display());
    skopeo(&["copy", "--src-tls-verify=false", &remote, &pulled]);

    let index = json(&std::fs::read(out.join("layout/index.json")).expect("index.json"));
    let manifest_digest = index["manifests"][0]["digest"]
        .as_str()
        .expect("a manifest")
        .to_owned();
    let blob = |digest: &str| {
        std::fs::read(
            out.join("layout/blobs/sha256")
                .join(digest.trim_start_matches("sha256:")),
        )
        .expect("blob")
    };
    let manifest = json(&blob(&manifest_digest));
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .expect("a layer")
        .to_owned();
    assert_eq!(
        layer,
        oci::digest(&module),
        "the layer is the module's sha256"
    );
    assert_eq!(blob(&layer), module, "the pulled layer is the module");
    drop(registry);
    for dir in [dir, storage, out] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
