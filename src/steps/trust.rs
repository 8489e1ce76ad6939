//! Which command lines this machine trusted to run: `worktree-registry/trusted-steps.json` in
//! the repository's common dir (this clone, on this machine; never committed), holding their
//! exact text. A step whose text changed is another step, and asks again.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files::{write_atomic, Lock};

pub const FILE: &str = "trusted-steps.json";

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Trusted {
    version: u32,
    /// The command lines, exactly as `.atlas.toml` has them.
    steps: Vec<String>,
}

/// The trust file of one repository.
pub struct Trust {
    path: PathBuf,
}

impl Trust {
    pub fn in_registry(registry_dir: &Path) -> Trust {
        Trust {
            path: registry_dir.join(FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Those of `steps` this machine has not trusted, in their order.
    pub fn untrusted(&self, steps: &[String]) -> Result<Vec<String>> {
        let trusted = self.read()?;
        Ok(steps
            .iter()
            .filter(|s| !trusted.steps.contains(s))
            .cloned()
            .collect())
    }

    /// Trust `steps` from now on (those trusted already stay).
    pub fn trust(&self, steps: &[String]) -> Result<()> {
        self.change(|trusted| {
            for step in steps {
                if !trusted.contains(step) {
                    trusted.push(step.clone());
                }
            }
        })
    }

    /// Trust `steps` no more; how many of them were trusted.
    pub fn forget(&self, steps: &[String]) -> Result<usize> {
        let mut forgotten = 0;
        self.change(|trusted| {
            let before = trusted.len();
            trusted.retain(|s| !steps.contains(s));
            forgotten = before - trusted.len();
        })?;
        Ok(forgotten)
    }

    /// Change the trusted list under the file's lock; written only when it changed.
    fn change(&self, edit: impl FnOnce(&mut Vec<String>)) -> Result<()> {
        let _lock = Lock::exclusive(&self.path.with_extension("lock"))?;
        let mut trusted = self.read()?;
        let before = trusted.steps.clone();
        edit(&mut trusted.steps);
        if trusted.steps == before {
            return Ok(());
        }
        trusted.version = 1;
        let mut text = serde_json::to_string_pretty(&trusted)
            .map_err(|e| Error::failed(format!("could not write {}: {e}", self.path.display())))?;
        text.push('\n');
        write_atomic(&self.path, text.as_bytes())
    }

    fn read(&self) -> Result<Trusted> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Trusted::default()),
            Err(e) => return Err(Error::io("read", &self.path, e)),
        };
        let broken = |why: String| {
            Error::failed(format!("{} {why}", self.path.display())).hint(
                "it lists the command lines this machine trusted: fix it, or delete it and trust them again (`git atlas setup --trust`)",
            )
        };
        let trusted: Trusted =
            serde_json::from_str(&text).map_err(|e| broken(format!("is not valid: {e}")))?;
        if trusted.version != 1 {
            return Err(broken(format!(
                "has version {}, which this git-atlas does not know (a newer one wrote it)",
                trusted.version
            )));
        }
        Ok(trusted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_text_is_what_is_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let trust = Trust::in_registry(dir.path());
        let steps = vec!["npm ci".to_string(), "npm run migrate".to_string()];
        assert_eq!(trust.untrusted(&steps).unwrap(), steps);
        trust.trust(&steps[..1]).unwrap();
        assert_eq!(trust.untrusted(&steps).unwrap(), vec!["npm run migrate"]);
        // One space more is another command line.
        assert_eq!(
            trust.untrusted(&["npm  ci".to_string()]).unwrap(),
            vec!["npm  ci"]
        );
        trust.trust(&steps).unwrap();
        assert!(trust.untrusted(&steps).unwrap().is_empty());
        assert_eq!(trust.forget(&steps[1..]).unwrap(), 1);
        assert_eq!(trust.untrusted(&steps).unwrap(), vec!["npm run migrate"]);
    }

    #[test]
    fn a_broken_file_is_an_error_and_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let trust = Trust::in_registry(dir.path());
        std::fs::write(trust.path(), "{not json").unwrap();
        let err = trust.untrusted(&["x".into()]).unwrap_err();
        assert!(err.to_string().contains("is not valid"), "{err}");
        assert!(trust.trust(&["x".into()]).is_err());
        assert_eq!(std::fs::read_to_string(trust.path()).unwrap(), "{not json");
    }
}
