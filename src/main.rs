use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = git_atlas::cli::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = git_atlas::commands::run(cli.command, &mut out)
        .and_then(|()| out.flush().map_err(Into::into));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind == git_atlas::error::Kind::BrokenPipe => ExitCode::SUCCESS,
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
