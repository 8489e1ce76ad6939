//! The `git-atlas` binary. It defines the C `main` itself instead of Rust's: the standard
//! runtime's start-up (finding the main thread's stack guard by parsing `/proc/self/maps`) costs
//! a fifth of the shell prompt's whole budget (`git-atlas ports` must cost no more than
//! `git rev-parse --git-common-dir`). What that start-up did and we need is done here: SIGPIPE is
//! ignored (a reader that goes away is an error we end on quietly, exit 0; std still gives the
//! programs we run the default action), stdout is flushed before returning, and a panic becomes
//! exit code 101.
// (Under `cargo test` the test harness brings its own `main`.)
#![cfg_attr(not(test), no_main)]
#![cfg_attr(test, allow(dead_code))]

use std::io::Write;

use clap::Parser;

#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: setting a signal's disposition to SIG_IGN before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    // std reads the arguments itself (glibc hands them to its initialiser), hence `args_os`.
    let code = std::panic::catch_unwind(run).unwrap_or(101);
    let _ = std::io::stdout().flush();
    libc::c_int::from(code)
}

fn run() -> u8 {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // `git atlas ports` runs on every shell prompt: its plain forms skip building the whole
    // command-line parser, which costs more than the command's own work.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let result = match git_atlas::cli::prompt_fast_path(&args) {
        Some((json, format)) => {
            git_atlas::commands::ports_prompt(json, format.as_deref(), &mut out)
        }
        None => {
            let cli = git_atlas::cli::Cli::parse();
            git_atlas::commands::run(cli, &mut out)
        }
    }
    .and_then(|()| out.flush().map_err(Into::into));
    match result {
        Ok(()) => 0,
        Err(e) if e.kind == git_atlas::error::Kind::BrokenPipe => 0,
        Err(e) if matches!(e.kind, git_atlas::error::Kind::Exit(_)) && e.message.is_empty() => {
            e.exit_code() as u8
        }
        Err(e) => {
            let _ = e.write_to(&mut std::io::stderr().lock());
            e.exit_code() as u8
        }
    }
}
