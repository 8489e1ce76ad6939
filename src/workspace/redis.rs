//! Redis on a shared server (`[database] shared_server = true`): the worktree keeps the main's
//! Redis port and gets database indexes of its own, allocated in the registry like its ports
//! (and released with them), so that one server keeps every worktree's keys apart.

use indexmap::IndexMap;

use crate::db::redis::{self, RedisUrl};
use crate::git::repo::Worktree;
use crate::ports::registry::Registry;

use super::Inputs;

/// The Redis URLs on this machine that the main worktree's env files name, each once.
fn uses(inputs: &Inputs) -> Vec<RedisUrl> {
    let others = inputs.other_env_files().map(|f| &f.env);
    let mut out: Vec<RedisUrl> = Vec::new();
    for env in inputs.env.iter().chain(others) {
        for var in env.vars() {
            if let Some(url) = RedisUrl::parse_local(&var.value) {
                if !out.iter().any(|u| u.key() == url.key()) {
                    out.push(url);
                }
            }
        }
    }
    out
}

/// Give linked worktree `wt` a database index of its own for each one the main worktree's Redis
/// URLs use on a shared server: the lowest one that neither the main worktree nor another
/// worktree uses on that server, below the server's `databases` (16 when it does not say). A
/// worktree keeps the indexes it has. With none left, `wt` shares main's, with a warning.
pub(super) fn allocate(
    reg: &mut Registry,
    wt: &Worktree,
    inputs: &Inputs,
    warnings: &mut Vec<String>,
) {
    if wt.is_main || !inputs.config.database.shared_server {
        return;
    }
    let uses = uses(inputs);
    let mut own: IndexMap<String, u16> = reg.redis.get(&wt.name).cloned().unwrap_or_default();
    let before = own.len();
    for url in &uses {
        if own.contains_key(&url.key()) {
            continue;
        }
        let on_server = |key: &String| key.split('/').next() == Some(&url.port.to_string());
        let mut used: Vec<u16> = uses
            .iter()
            .filter(|u| u.port == url.port)
            .map(|u| u.index)
            .collect();
        for (name, indexes) in &reg.redis {
            if name != &wt.name {
                used.extend(
                    indexes
                        .iter()
                        .filter(|(k, _)| on_server(k))
                        .map(|(_, i)| *i),
                );
            }
        }
        used.extend(own.iter().filter(|(k, _)| on_server(k)).map(|(_, i)| *i));
        let databases = url.server_databases().unwrap_or(redis::DEFAULT_DATABASES);
        match redis::lowest_free(databases, &used) {
            Some(index) => {
                own.insert(url.key(), index);
            }
            None => warnings.push(format!(
                "{}: every one of the {databases} Redis databases on port {} is taken, so it shares database {} with the main worktree; free some with `git atlas remove`, or raise `databases` in redis.conf",
                wt.name, url.port, url.index
            )),
        }
    }
    if own.len() != before {
        reg.redis.insert(wt.name.clone(), own);
    }
}
