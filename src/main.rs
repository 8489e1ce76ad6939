use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
            git_atlas::commands::run(cli.command, &mut out)
        }
    }
    .and_then(|()| out.flush().map_err(Into::into));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind == git_atlas::error::Kind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) if matches!(e.kind, git_atlas::error::Kind::Exit(_)) && e.message.is_empty() => {
            ExitCode::from(e.exit_code() as u8)
        }
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "error: {e}");
            for hint in &e.hints {
                let _ = writeln!(err, "hint: {hint}");
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
