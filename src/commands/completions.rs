//! `git atlas completions <shell>`: print a completion script.

use std::io::Write;

use crate::cli::CompletionsArgs;
use crate::error::Result;

pub fn run(args: CompletionsArgs, out: &mut dyn Write) -> Result<()> {
    out.write_all(&crate::setup::completions::script(args.shell))?;
    Ok(())
}
