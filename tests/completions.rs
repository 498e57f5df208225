//! `imagenest completions bash|zsh|fish` prints a script that knows every subcommand.

use std::process::Command;

#[test]
fn completion_scripts_cover_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_imagenest"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8_lossy(&out.stdout);
        for sub in [
            "serve",
            "resolve",
            "check",
            "quickstart",
            "sim-cloud",
            "distribution",
        ] {
            assert!(
                script.contains(sub),
                "the {shell} script does not complete `{sub}`"
            );
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_imagenest"))
        .args(["completions", "powershell-ish"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}
