//! Links the `git-atlas` binary as a position-dependent executable on Linux with glibc.
//!
//! A position-independent one (Rust's default there) is relocated by the dynamic loader on every
//! start: about 12,000 relocations, which cost `git-atlas ports` a third of its instructions
//! (489,938 vs 324,100 with callgrind, children included; `git rev-parse --git-common-dir` is
//! 488,183) and every other command, hook run included, the same. Only the executable's own
//! addresses stop being randomised; its libraries, stack, heap and mappings still are (as for
//! Go's programs, which are built this way by default). Rust links there through `cc` (gcc or
//! clang), which takes `-no-pie` after rustc's `-pie` as the last word, whichever linker it
//! drives (GNU ld, gold, lld, mold).
fn main() {
    let var = |name| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
