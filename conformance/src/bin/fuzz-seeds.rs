//! Writes seed corpora for the cargo-fuzz targets (`fuzz/`) from the conformance cases:
//! `fuzz-seeds DIR` fills `DIR/config`, `DIR/origin` and `DIR/evaluate`. Run by
//! `cargo xtask fuzz`.

use std::path::Path;

use polycors_conformance::load_cases;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
}

fn main() {
    let root = std::env::args().nth(1).expect("usage: fuzz-seeds DIR");
    let root = Path::new(&root);
    let dirs = ["config", "origin", "evaluate"].map(|target| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("a corpus directory");
        dir
    });
    let mut count = [0usize; 3];
    for case in load_cases() {
        let config = case
            .plugin_config
            .as_ref()
            .or(case.config.as_ref())
            .expect("a config");
        write(
            &dirs[0],
            &format!("{}.json", case.name),
            &serde_json::to_vec(config).expect("json"),
        );
        let yaml = serde_yaml::to_string(config).expect("yaml");
        write(&dirs[0], &format!("{}.yaml", case.name), yaml.as_bytes());
        count[0] += 2;
        let patterns: Vec<String> = ["allow_origins", "allow_origin_patterns"]
            .iter()
            .filter_map(|field| config.get(field))
            .filter_map(|v| v.as_array())
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        for (index, request) in case.requests.iter().enumerate() {
            let mut text = request.method.clone().into_bytes();
            for line in &request.headers {
                let (name, value) = line.pair();
                text.push(b'\n');
                text.extend_from_slice(name.as_bytes());
                text.extend_from_slice(b": ");
                text.extend_from_slice(&value);
                if name.eq_ignore_ascii_case("origin") {
                    for pattern in patterns.iter().take(3) {
                        let mut seed = pattern.clone().into_bytes();
                        seed.push(b'\n');
                        seed.extend_from_slice(&value);
                        write(
                            &dirs[1],
                            &format!("{}-{index}-{}", case.name, count[1]),
                            &seed,
                        );
                        count[1] += 1;
                    }
                }
            }
            write(&dirs[2], &format!("{}-{index}", case.name), &text);
            count[2] += 1;
        }
    }
    println!(
        "seeds: {} config, {} origin, {} evaluate in {}",
        count[0],
        count[1],
        count[2],
        root.display()
    );
}
