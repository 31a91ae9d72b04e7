//! The deployment profile. `sam build` builds the Lambdas with cargo-lambda,
//! which adds `panic = "abort"` to release builds unless `[profile.release]`
//! sets `panic` itself. With abort, a panicking handler kills the process:
//! Lambda reports `Runtime.ExitError` instead of the handler's error and the
//! next invocation pays a cold start. lambda_runtime catches panics (with
//! `catch_unwind`) and reports them as invocation errors only under unwind;
//! `benchmarks/run` checks that on a built probe.

fn release_profile() -> Vec<(String, String)> {
    let manifest = include_str!("../../Cargo.toml");
    let mut in_section = false;
    let mut settings = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = line == "[profile.release]";
        } else if in_section && let Some((key, value)) = line.split_once('=') {
            settings.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    settings
}

fn setting(key: &str) -> Option<String> {
    release_profile()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[test]
fn release_profile_keeps_unwinding_so_handler_panics_are_reported() {
    assert_eq!(setting("panic").as_deref(), Some("\"unwind\""));
}

#[test]
fn release_profile_is_set_explicitly_not_left_to_the_build_tool() {
    // cargo-lambda's defaults apply to what the profile leaves out; the
    // measured profile (docs/benchmarks.md) is the one in Cargo.toml.
    for key in ["lto", "codegen-units", "strip", "opt-level", "panic"] {
        assert!(
            setting(key).is_some(),
            "[profile.release] does not set {key}"
        );
    }
}
