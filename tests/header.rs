//! The committed `include/litecore_ws.h` must be exactly what the pinned cbindgen generates from
//! the current source. `LCWS_UPDATE_HEADER=1 cargo test --test header` rewrites it.

use std::path::Path;

fn generate() -> String {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(Path::new(crate_dir).join("cbindgen.toml"))
        .expect("cbindgen.toml");
    // Only src/ffi (and the limits it publishes) is the C API; internal modules' constants stay
    // out of the header.
    let bindings = cbindgen::Builder::new()
        .with_src(Path::new(crate_dir).join("src/ffi/mod.rs"))
        .with_src(Path::new(crate_dir).join("src/limits.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen failed to generate the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

#[test]
fn committed_header_matches_generated() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/litecore_ws.h");
    let generated = generate();
    if std::env::var_os("LCWS_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write header");
        return;
    }
    let committed = std::fs::read_to_string(&path).expect("include/litecore_ws.h is missing");
    assert!(
        committed == generated,
        "include/litecore_ws.h is out of date; regenerate it with \
         `LCWS_UPDATE_HEADER=1 cargo test --test header` and commit it"
    );
}

/// Every name the header defines belongs to litecore-ws's namespace (or is LiteCore's own
/// `C4Socket`), so it cannot clash with LiteCore's headers or the app's.
#[test]
fn header_names_are_prefixed() {
    let header = generate();
    let mut checked = 0;
    for line in header.lines() {
        // Only top-level declarations: macros, typedefs and function prototypes.
        let name = if let Some(rest) = line.strip_prefix("#define ") {
            rest.split_whitespace().next()
        } else if line.starts_with("typedef ") {
            line.trim_end_matches(';')
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .rfind(|w| !w.is_empty())
        } else if !line.starts_with([' ', '#', '/', '}', '{']) && line.contains('(') {
            line.split('(')
                .next()
                .and_then(|head| head.rsplit([' ', '*']).next())
        } else {
            None
        };
        let Some(name) = name else { continue };
        if name == "LITECORE_WS_H" || name == "C4Socket" {
            continue;
        }
        checked += 1;
        assert!(
            name.starts_with("LCWS_") || name.starts_with("Lcws") || name.starts_with("lcws_"),
            "header defines {name}, which is not prefixed"
        );
    }
    assert!(
        checked >= 20,
        "found only {checked} definitions; is the parser right?"
    );
}
