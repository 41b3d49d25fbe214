//! Builds the web UI (`ui/`, Vite) into `ui/dist` when its sources are newer than the build, so
//! that `cargo build` on a fresh clone produces a binary that serves the UI. Without npm, or with
//! SKIP_UI_BUILD set, it writes a placeholder page (a release build without a UI fails instead).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

const PLACEHOLDER_MARK: &str = "<!-- bitacora-ui-placeholder -->";

fn newest(p: &Path) -> Option<SystemTime> {
    let m = fs::metadata(p).ok()?;
    if m.is_dir() { fs::read_dir(p).ok()?.flatten().filter_map(|e| newest(&e.path())).max() } else { m.modified().ok() }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../ui");
    let dist = root.join("dist");
    let index = dist.join("index.html");
    let inputs: Vec<PathBuf> =
        ["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"]
            .iter()
            .map(|p| root.join(p))
            .filter(|p| p.exists())
            .collect();
    for p in &inputs {
        println!("cargo::rerun-if-changed={}", p.display());
    }
    println!("cargo::rerun-if-changed={}", index.display());
    println!("cargo::rerun-if-env-changed=SKIP_UI_BUILD");

    let newest_input = inputs.iter().filter_map(|p| newest(p)).max();
    let built = fs::read_to_string(&index).ok();
    let stale = match (&built, newest_input) {
        (None, _) => true,
        (Some(html), _) if html.contains(PLACEHOLDER_MARK) => true,
        (Some(_), Some(n)) => newest(&index).is_none_or(|b| b < n),
        (Some(_), None) => false,
    };
    if !stale {
        return;
    }
    let skip = std::env::var_os("SKIP_UI_BUILD").is_some() || !root.join("package.json").exists();
    let result =
        if skip { Err("SKIP_UI_BUILD is set or ui/package.json is missing".to_string()) } else { build(&root) };
    match result {
        Ok(()) => {
            // Pin the output's time to the newest input so the next build sees it as fresh.
            if let (Some(n), Ok(f)) = (newest_input, fs::File::options().write(true).open(&index)) {
                let _ = f.set_modified(n.max(SystemTime::now()));
            }
        }
        Err(e) => {
            let release = std::env::var("PROFILE").as_deref() == Ok("release");
            if release && !skip {
                panic!("building the web UI failed: {e}");
            }
            println!("cargo::warning=web UI not built ({e}); serving a placeholder page");
            fs::create_dir_all(&dist).unwrap();
            fs::write(
                &index,
                format!("<!doctype html>{PLACEHOLDER_MARK}<title>Bitácora</title><p>The web UI was not built: {e}. Run <code>npm ci && npm run build</code> in ui/.</p>"),
            )
            .unwrap();
        }
    }
}

fn npm(root: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("npm")
        .args(args)
        .current_dir(root)
        .env_remove("DEBUG")
        .env_remove("HOST")
        .env_remove("TARGET")
        .env_remove("PROFILE")
        .env_remove("OPT_LEVEL")
        .env_remove("NUM_JOBS")
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("npm {} failed with {status}", args.join(" "))) }
}

fn build(root: &Path) -> Result<(), String> {
    let lock = fs::File::create(root.join(".build.lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    let installed = root.join("node_modules/.package-lock.json");
    let lockfile = root.join("package-lock.json");
    let need_install = !installed.exists() || newest(&lockfile).zip(newest(&installed)).is_some_and(|(l, i)| l > i);
    if need_install {
        npm(root, &["ci", "--include=dev", "--no-audit", "--no-fund"])?;
    }
    npm(root, &["run", "build"])
}
