//! Driving a long-running process under `valgrind --tool=callgrind`: zeroing and reading its
//! counters (`callgrind_control`), and reading a dump's instructions per function
//! (`callgrind_annotate`). Shared by the Envoy and the `serve` instruction counts.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The valgrind binary to run a server under. Debian's `valgrind` is a script that runs
/// `valgrind.bin` as its child: running that directly makes the server's process the one
/// `callgrind_control` talks to.
pub fn valgrind() -> &'static str {
    [
        "/usr/bin/valgrind.bin",
        "/usr/lib/x86_64-linux-gnu/valgrind/valgrind.bin",
    ]
    .into_iter()
    .find(|path| Path::new(path).is_file())
    .unwrap_or("valgrind")
}

/// Runs `callgrind_control` with `args` against `pid`; its output.
pub fn control(pid: u32, args: &[&str]) -> Result<String, String> {
    let output = Command::new("callgrind_control")
        .args(args)
        .arg(pid.to_string())
        .output()
        .map_err(|e| format!("cannot run callgrind_control: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "callgrind_control {args:?} {pid} failed:\n{text}{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(text)
}

/// The instructions (`Ir`) callgrind counted in each thread since the counters were zeroed: the
/// `Th <n> <count>` lines under `callgrind_control -e`'s `Totals:`, by thread number.
pub fn counted(pid: u32) -> Result<BTreeMap<u32, u64>, String> {
    let text = control(pid, &["-e", "Ir"])?;
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Totals:"));
    if lines.next().is_none() {
        return Err(format!("no Totals from callgrind_control -e:\n{text}"));
    }
    let mut threads = BTreeMap::new();
    for line in lines {
        let mut words = line.split_whitespace();
        if words.next() != Some("Th") {
            break;
        }
        let thread = words.next().and_then(|t| t.parse::<u32>().ok());
        let count = words
            .next()
            .and_then(|c| c.replace(',', "").parse::<u64>().ok());
        match (thread, count) {
            (Some(thread), Some(count)) => threads.insert(thread, count),
            _ => {
                return Err(format!(
                    "unexpected line from callgrind_control -e: {line:?}"
                ));
            }
        };
    }
    Ok(threads)
}

/// A dump's instructions: in all, and in each function (its own, not its callees').
pub struct Dump {
    pub total: u64,
    /// By the function's name (`???:` or `file:` dropped, the object kept when the file is
    /// known). The threads' entry functions (`clone`, `start_thread`, ...), which
    /// `callgrind_annotate` shows with the whole thread's count when counters were zeroed
    /// while they ran, are left out.
    pub functions: BTreeMap<String, u64>,
}

/// Reads `dump` with `callgrind_annotate`.
pub fn read_dump(dump: &Path) -> Result<Dump, String> {
    let output = Command::new("callgrind_annotate")
        .args(["--inclusive=no", "--threshold=100"])
        .arg(dump)
        .output()
        .map_err(|e| format!("cannot run callgrind_annotate: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "callgrind_annotate {} failed: {}",
            dump.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    parse_annotated(&String::from_utf8_lossy(&output.stdout))
        .ok_or_else(|| format!("no totals or no functions in {}", dump.display()))
}

/// Reads `callgrind_annotate --inclusive=no`'s report; `None` without totals or functions.
fn parse_annotated(text: &str) -> Option<Dump> {
    let total = text
        .lines()
        .find(|l| l.ends_with("PROGRAM TOTALS"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|c| c.replace(',', "").parse::<u64>().ok())?;
    let mut functions = BTreeMap::new();
    // After the `file:function` heading, each line is `count (percent)  file:function [object]`.
    for line in text
        .lines()
        .skip_while(|l| !l.contains("file:function"))
        .skip(2)
    {
        let Some((count, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        let Ok(count) = count.replace(',', "").parse::<u64>() else {
            continue;
        };
        if count > total / 2 {
            continue;
        }
        let Some((_, named)) = rest.split_once(")  ") else {
            continue;
        };
        let Some((file, function)) = named.split_once(':') else {
            continue;
        };
        let name = if file == "???" {
            function.rsplit_once(" [").map_or(function, |(f, _)| f)
        } else {
            // Known source files are the C library's (malloc, memcpy): keep the object.
            function
        };
        *functions.entry(name.trim().to_owned()).or_default() += count;
    }
    (!functions.is_empty()).then_some(Dump { total, functions })
}

/// The crate a demangled function name belongs to (`<actix_http::h1::Codec as ...>::encode`
/// is `actix_http`'s); `libc` for the C library's functions, which have no path.
pub fn crate_of(function: &str) -> &str {
    if function.ends_with("libc.so.6]") {
        return "libc";
    }
    let name = function.trim_start_matches(['<', '&', '*', '(']);
    let name = name
        .strip_prefix("mut ")
        .or_else(|| name.strip_prefix("dyn "))
        .unwrap_or(name);
    match name.find("::") {
        Some(end) if end > 0 => &name[..end],
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::{crate_of, parse_annotated};

    #[test]
    fn annotated_report() {
        let text = "\
--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
1,000,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                    file:function
--------------------------------------------------------------------------------
999,990 (100.0%)  ./misc/../sysdeps/unix/sysv/linux/x86_64/clone.S:clone [/usr/lib/x86_64-linux-gnu/libc.so.6]
 120,000 (12.00%)  ./malloc/./malloc/malloc.c:_int_free [/usr/lib/x86_64-linux-gnu/libc.so.6]
  2,500 ( 0.25%)  ???:polycors::allowed_origins::AllowedOrigins::allows [/work/target/release/polycors]
  1,500 ( 0.15%)  ???:<actix_http::h1::codec::Codec as E>::encode [/work/target/release/polycors]
";
        let dump = parse_annotated(text).unwrap();
        assert_eq!(dump.total, 1_000_000);
        // The thread's entry function, shown with the whole run's count, is left out.
        assert_eq!(dump.functions.len(), 3);
        assert_eq!(
            dump.functions["polycors::allowed_origins::AllowedOrigins::allows"],
            2_500
        );
        assert_eq!(
            dump.functions["_int_free [/usr/lib/x86_64-linux-gnu/libc.so.6]"],
            120_000
        );
        assert_eq!(
            dump.functions["<actix_http::h1::codec::Codec as E>::encode"],
            1_500
        );
        assert!(parse_annotated("no report").is_none());
    }

    #[test]
    fn crates_of_function_names() {
        assert_eq!(
            crate_of("<actix_http::h1::codec::Codec as tokio_util::codec::Encoder<M>>::encode"),
            "actix_http"
        );
        assert_eq!(
            crate_of("polycors::allowed_origins::AllowedOrigins::allows"),
            "polycors"
        );
        assert_eq!(
            crate_of("<&mut serde_json::ser::Serializer<W,F> as S>::serialize_str"),
            "serde_json"
        );
        assert_eq!(
            crate_of("_int_malloc [/usr/lib/x86_64-linux-gnu/libc.so.6]"),
            "libc"
        );
        assert_eq!(crate_of("clone"), "other");
    }
}
