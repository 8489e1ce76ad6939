//! The repository with its registry: the one place that allocates, generates and releases, and
//! the idempotent reconcile that every command and hook runs (allocate what is missing, release
//! what is gone or prunable, follow moved worktrees).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use indexmap::IndexMap;

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::files;
use crate::files::dotenv::DotEnv;
use crate::files::generate::{self, Template, WorktreeVars};
use crate::files::names;
use crate::git::hooks;
use crate::git::repo::{Location, Repo, Worktree, MAIN};
use crate::live::net;
use crate::ports::alloc::{self, Allocation, Strategy};
use crate::ports::leases::{LeaseFile, Leases};
use crate::ports::registry::{DbRecord, Ports, Registry, RegistryFile, WorktreeRecord};

use crate::ports::services::{self, Service};
pub use checkout::not_a_checkout;
pub use copy::Copied;
pub use db::{DbOutcome, Done, Own, Snapped, SnapshotOutcome, WorktreeDb};
pub use env_files::{EnvFile, EnvPair};
pub use steps::Steps;

mod checkout;
pub mod compose;
mod copy;
mod db;
mod docker;
mod env_files;
mod exec;
mod followed;
mod live;
mod outputs;
mod redis;
pub mod shims;
mod steps;
mod worktrees;

pub struct Workspace {
    pub repo: Repo,
    pub registry: RegistryFile,
    /// This repository's key in the machine-wide lease file: its canonical common dir.
    pub project: PathBuf,
    /// Each worktree's inputs as this command first read them: a command reads a worktree's
    /// files once, however many of its steps need them (nothing git-atlas writes is an input,
    /// except this machine's settings, whose writer forgets them all).
    inputs: RefCell<HashMap<PathBuf, Rc<Inputs>>>,
    /// The machine-wide lease file (none without a home or state directory to keep it in).
    leases: Option<LeaseFile>,
    /// The main worktree's ignored files and folders, walked once for this command.
    main_ignored: std::cell::OnceCell<Vec<crate::git::ignored::Ignored>>,
    /// See [`Workspace::gix_here`].
    gix_here: std::cell::OnceCell<Option<gix::Repository>>,
    /// The Compose here, read once per command that needs it.
    compose_installed: std::cell::OnceCell<crate::docker::compose::Installed>,
    /// The generated files this command changed (written with other content, or made).
    changed: RefCell<Vec<PathBuf>>,
}

/// A command's workspace lives until the process ends, and leaves its decoded registry and
/// lease file to it rather than freeing them: at 1,000 worktrees they are some 20,000
/// allocations, whose freeing cost `git atlas add` 2.9 M instructions (about a millisecond)
/// after Git was done.
impl Drop for Workspace {
    fn drop(&mut self) {
        self.registry.leak_cache();
        if let Some(leases) = &self.leases {
            leases.leak_cache();
        }
    }
}

/// A worktree's configuration and services, read from its checkout (or the main worktree's).
pub struct Inputs {
    pub config: Config,
    /// The env source (`[env] source`, `.env`): where it was read, and what it holds.
    pub env_path: Option<PathBuf>,
    pub env: Option<DotEnv>,
    /// Whether the env source is one of `carried` (main's, ignored by Git): then the worktree
    /// gets its own copy at the same path, and no `[env] output` derived from it.
    pub env_carried: bool,
    /// The main worktree's env files that Git ignores and `[env] carry` names, each carried into
    /// the worktree at the same path (for the main worktree itself, its own).
    pub carried: Vec<EnvFile>,
    pub services: Vec<Service>,
    /// The env template and the Compose template, when there are.
    pub env_template: Option<Template>,
    pub compose_template: Option<Template>,
    /// The project's own Compose projects (none with a Compose template, which replaces them).
    pub compose: Vec<compose::ComposeProject>,
    /// When they were read: a file changed later may not be in them.
    pub read_at: std::time::SystemTime,
}

/// What a reconcile did.
#[derive(Debug, Default)]
pub struct Report {
    pub allocated: Vec<String>,
    /// Worktree name and the ports it held.
    pub released: Vec<(String, IndexMap<String, u16>)>,
    pub moved: Vec<String>,
    pub warnings: Vec<String>,
    pub failed: Vec<(String, Error)>,
    /// What happened to the Compose projects of worktrees that went.
    pub docker: Vec<String>,
    /// Teardowns left for a later reconcile because Docker is not there (not part of `notes`).
    pub docker_deferred: Vec<String>,
    /// Databases dropped because their worktree went (`[database] drop_on_remove`).
    pub databases: Vec<String>,
    /// The worktrees as the reconcile listed them, under the registry's lock: commands use
    /// this list rather than reading every worktree's files again.
    pub worktrees: Vec<Worktree>,
    /// The files the reconcile wrote, by worktree (those whose files were behind).
    pub rewritten: Vec<(String, Vec<PathBuf>)>,
}

/// A worktree's ports by service, and its offset when it has one.
pub type PortsAndOffset = (Ports, Option<u16>);

/// The current worktree's name and, if it has any, its ports and offset: the prompt's hot path,
/// which finds the repository without opening it and reads only the registry.
pub fn current_ports(cwd: &Path) -> Result<(String, Option<PortsAndOffset>)> {
    let location = Location::discover(cwd)?;
    let found = RegistryFile::new(&location.common_dir).read_prompt(&location.worktree)?;
    shims::notice_changes(&location, cwd);
    Ok((location.worktree, found))
}

impl Workspace {
    pub fn discover(cwd: &Path) -> Result<Workspace> {
        let location = Location::discover(cwd)?;
        let registry = RegistryFile::new(&location.common_dir);
        let project = location
            .common_dir
            .canonicalize()
            .unwrap_or_else(|_| location.common_dir.clone());
        Ok(Workspace {
            repo: Repo::open(location)?,
            registry,
            project,
            inputs: RefCell::default(),
            leases: LeaseFile::open(),
            main_ignored: std::cell::OnceCell::new(),
            gix_here: std::cell::OnceCell::new(),
            compose_installed: std::cell::OnceCell::new(),
            changed: RefCell::default(),
        })
    }

    pub fn location(&self) -> &Location {
        &self.repo.location
    }

    /// Where the configuration that applies here lives: the current worktree, or the repository
    /// itself when we are not in one (a bare repository).
    pub fn here(&self) -> PathBuf {
        self.location()
            .work_dir
            .clone()
            .unwrap_or_else(|| self.project.clone())
    }

    pub fn local_config_path(&self) -> PathBuf {
        config::local_path(self.registry.dir())
    }

    /// This machine's overrides (`worktree-registry/config.toml`) as a TOML table.
    pub fn local_config(&self) -> Result<toml::Table> {
        config::read_local(&self.local_config_path())
    }

    /// Write this machine's overrides, refusing settings that would not load together with the
    /// `.atlas.toml` in `root`.
    pub fn save_local_config(&self, root: &Path, table: &toml::Table) -> Result<()> {
        let text = format!("# git-atlas settings for this machine (`git atlas ports config`); they override .atlas.toml\n{}", toml::to_string(table).expect("a TOML table serialises"));
        let probe = tempfile::NamedTempFile::new()
            .map_err(|e| Error::failed(format!("could not create a temporary file: {e}")))?;
        std::fs::write(probe.path(), &text).map_err(|e| Error::io("write", probe.path(), e))?;
        Config::load(root, probe.path())?;
        files::write_atomic(&self.local_config_path(), text.as_bytes())?;
        self.inputs.borrow_mut().clear();
        Ok(())
    }

    /// What Git ignores in the main worktree at `main` (walked once per command).
    pub(crate) fn main_ignored(&self, main: &Path) -> Result<&[crate::git::ignored::Ignored]> {
        if let Some(listed) = self.main_ignored.get() {
            return Ok(listed);
        }
        let listed = match self.gix_here() {
            Some(repo) if self.location().work_dir.as_deref() == Some(main) => {
                crate::git::ignored::walk_in(repo, main)?
            }
            _ => crate::git::ignored::walk(main)?,
        };
        Ok(self.main_ignored.get_or_init(|| listed))
    }

    /// The repository as gix opens it here (the current worktree, or the Git directory of a
    /// bare repository), every configuration file read: opened once per command, and only by
    /// a command that needs it (opening costs about as much as reading every other input of
    /// `git atlas add`). `None` when it cannot be opened.
    pub(crate) fn gix_here(&self) -> Option<&gix::Repository> {
        self.gix_here
            .get_or_init(|| {
                let location = self.location();
                gix::open(location.work_dir.as_deref().unwrap_or(&location.git_dir)).ok()
            })
            .as_ref()
    }

    /// The configuration, `.env` and services that apply in `worktree` (its own files, else the
    /// main worktree's), read once per command.
    pub fn inputs(&self, worktree: &Path) -> Result<Rc<Inputs>> {
        if let Some(known) = self.inputs.borrow().get(worktree) {
            return Ok(Rc::clone(known));
        }
        let read = Rc::new(self.read_inputs(worktree)?);
        self.inputs
            .borrow_mut()
            .insert(worktree.to_path_buf(), Rc::clone(&read));
        Ok(read)
    }

    fn read_inputs(&self, worktree: &Path) -> Result<Inputs> {
        let read_at = std::time::SystemTime::now();
        let main = self.repo.main_dir();
        let root = generate::find_input(worktree, main.as_deref(), config::TEAM_FILE)
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| worktree.to_path_buf());
        let config = Config::load(&root, &self.local_config_path())?;
        // The main worktree's own ignored env files are its inputs too: its services are the
        // ones every worktree has.
        let carried = match main.as_deref() {
            Some(main) => self.carried_files(main, &config)?,
            None => Vec::new(),
        };
        let source = config.env.source.trim_start_matches("./");
        let carried_source = carried.iter().position(|f| f.rel == source);
        // A worktree's own env source, unless it is the copy git-atlas carried into it.
        let own = worktree.join(&config.env.source);
        let own = (own.is_file() && !generate::is_generated(&own)).then_some(own);
        let is_main = main.as_deref() == Some(worktree);
        let (env_path, env, env_carried) = match (own, carried_source) {
            (None, Some(i)) if !is_main => {
                let file = &carried[i];
                (Some(file.path.clone()), Some(file.env.clone()), true)
            }
            (own, _) => {
                let path = own.or_else(|| {
                    generate::find_input(worktree, main.as_deref(), &config.env.source)
                });
                let env = path.as_deref().map(generate::read_dotenv).transpose()?;
                (path, env, false)
            }
        };
        let env_name = env_path
            .as_deref()
            .map_or_else(|| config.env.source.clone(), |p| p.display().to_string());
        let others: Vec<(&DotEnv, String, &str)> =
            env_files::besides_source(&carried, env.is_some(), &config.env.source)
                .map(|f| (&f.env, f.path.display().to_string(), f.rel.as_str()))
                .collect();
        let others: Vec<(&DotEnv, &str, &str)> = others
            .iter()
            .map(|(e, n, r)| (*e, n.as_str(), *r))
            .collect();
        let primary = env.as_ref().map(|e| (e, env_name.as_str()));
        let mut services = services::detect_all(&config, primary, &others)?;
        let env_template = Template::find(worktree, main.as_deref(), &config.templates.env)?;
        let compose_template =
            Template::find(worktree, main.as_deref(), &config.templates.compose)?;
        let texts: Vec<(String, String)> = [&env_template, &compose_template]
            .into_iter()
            .flatten()
            .map(|t| (t.path.display().to_string(), t.text.clone()))
            .collect();
        services::declare_from_templates(&mut services, &texts)?;
        let compose = match &compose_template {
            Some(_) => Vec::new(),
            None => compose::projects(worktree, main.as_deref(), &config, &carried),
        };
        compose::declare(&mut services, &compose);
        Ok(Inputs {
            config,
            env_path,
            env,
            env_carried,
            carried,
            services,
            env_template,
            compose_template,
            compose,
            read_at,
        })
    }

    /// Render `inputs`' templates with stand-in values, so that a template mistake fails before
    /// `git worktree add` creates anything.
    pub fn check_templates(&self, inputs: &Inputs) -> Result<()> {
        let ports: IndexMap<String, u16> = inputs
            .services
            .iter()
            .map(|s| (s.key.clone(), s.base))
            .collect();
        let offset = match inputs.config.strategy() {
            Strategy::Offset { min, .. } => Some(min),
            Strategy::Range => None,
        };
        let vars = WorktreeVars {
            name: "check",
            is_main: false,
            offset,
            ports: &ports,
            compose_project: names::compose_project(&self.project_name(), "check"),
            redis: None,
        };
        for template in [&inputs.env_template, &inputs.compose_template]
            .into_iter()
            .flatten()
        {
            generate::render_template(template, &inputs.services, &vars)?;
        }
        Ok(())
    }

    /// Bring the registry in line with the worktrees Git knows.
    ///
    /// Worktrees are listed under the registry lock: a list taken before it could miss a
    /// worktree that a parallel `git atlas add` created and recorded meanwhile, and release it.
    /// The fingerprint the hook shims compare is taken first and stored afterwards, so a change
    /// in between only costs one more reconcile.
    pub fn reconcile(&self) -> Result<Report> {
        self.reconcile_leaving(None)
    }

    /// [`Workspace::reconcile`], leaving the files of worktree `own` to the caller, which
    /// writes them itself (as its flags say: `add --no-docker`, `--no-env`).
    fn reconcile_leaving(&self, own: Option<&str>) -> Result<Report> {
        let (mut report, orphans, gone_dbs, pending, newest) = self.reconcile_registry()?;
        for (name, _) in &report.released {
            crate::steps::background::Run::of(self.registry.dir(), name).forget();
        }
        let listed = std::mem::take(&mut report.worktrees);
        self.rewrite_stale(&listed, own, &mut report);
        report.worktrees = listed;
        self.teardown_orphans(orphans, &mut report);
        self.drop_gone_databases(gone_dbs, &mut report);
        // hook-state only spares the hooks work: one that cannot be written costs them a
        // reconcile each, not every command its run.
        let dirs = hooks::watched_dirs(&report.worktrees);
        if let Err(e) = hooks::write_state(self.repo.common_dir(), &pending, &dirs, newest) {
            report.warnings.push(format!(
                "{e} (the hooks reconcile at every Git command until it can be written)"
            ));
        }
        Ok(report)
    }

    /// Change the registry under its lock and the lease file's (always in that order), keeping
    /// this repository's leases a mirror of its allocations.
    pub fn update<T>(&self, change: impl FnOnce(&mut Registry, &Leases) -> Result<T>) -> Result<T> {
        self.registry.update(|reg| {
            let Some(file) = &self.leases else {
                return change(reg, &Leases::default());
            };
            let _lock = file.lock()?;
            let before = file.read_locked()?;
            let out = change(reg, &before)?;
            let mut leases = Leases::clone(&before);
            leases.set(&self.project, &reg.allocated_ports);
            // A lease file rebuilt in memory (it was missing, or set aside) is written too.
            if leases != *before || !file.path().is_file() {
                if !before.projects.contains_key(&self.project) {
                    file.remember(&self.project)?;
                }
                file.write_locked(&leases)?;
            }
            Ok(out)
        })
    }

    /// The registry's side of [`Workspace::reconcile`]; also returns the worktrees whose files
    /// wait for their first checkout.
    #[allow(clippy::type_complexity)]
    fn reconcile_registry(
        &self,
    ) -> Result<(
        Report,
        Vec<docker::Orphan>,
        Vec<(String, Vec<DbRecord>)>,
        Vec<String>,
        Option<std::time::SystemTime>,
    )> {
        self.update(|reg, leases| {
            self.registry.clear_leftovers_locked();
            let (worktrees, newest) = self.repo.worktrees_and_newest_change()?;
            let mut report = Report::default();
            let mut orphans = Vec::new();
            let by_name: std::collections::HashMap<&str, &Worktree> =
                worktrees.iter().map(|w| (w.name.as_str(), w)).collect();
            for (project, rec) in &mut reg.compose_projects {
                let listed = by_name.get(rec.worktree.as_str());
                match listed {
                    Some(w) if !w.prunable => rec.down = false,
                    Some(_) if rec.down => {}
                    _ => orphans.push(docker::Orphan {
                        project: project.clone(),
                        worktree: rec.worktree.clone(),
                        path: rec.path.clone(),
                    }),
                }
            }
            // Databases of worktrees Git no longer lists (a prunable one is still listed).
            let gone: Vec<String> = reg
                .databases
                .keys()
                .filter(|name| !by_name.contains_key(name.as_str()))
                .cloned()
                .collect();
            let gone_dbs: Vec<(String, Vec<DbRecord>)> = gone
                .into_iter()
                .filter_map(|name| reg.databases.shift_remove_entry(&name))
                .collect();
            // A linked worktree whose Git id is "main" would share the main worktree's entry.
            let clashing = worktrees.iter().filter(|w| w.name == MAIN && !w.is_main);
            for w in clashing {
                report.warnings.push(format!(
                    "the worktree at {} has Git's id 'main', git-atlas's name for the main worktree, so it gets no ports; remove it (`git worktree remove {}`) and add it again under another directory name (a move keeps the id)",
                    w.path.display(),
                    w.path.display()
                ));
            }
            // The registry is JSON: a worktree whose path is not UTF-8 cannot be recorded.
            for w in worktrees.iter().filter(|w| w.path.to_str().is_none()) {
                report.warnings.push(format!(
                    "the worktree at {} has a path that is not UTF-8, so it gets no ports; move it (`git worktree move`) to a UTF-8 path",
                    w.path.display()
                ));
            }
            let live: Vec<&Worktree> = worktrees.iter().filter(|w| !w.prunable && (w.is_main || w.name != MAIN) && w.path.to_str().is_some()).collect();
            let live_names: std::collections::HashSet<&str> =
                live.iter().map(|w| w.name.as_str()).collect();
            let stale: Vec<String> = reg
                .allocated_ports
                .keys()
                .chain(reg.worktrees.keys())
                .filter(|name| !live_names.contains(name.as_str()))
                .cloned()
                .collect();
            for name in stale {
                if let Some(ports) = reg.release(&name) {
                    report.released.push((name, ports));
                }
            }
            for wt in &live {
                if let Some(rec) = reg.worktrees.get_mut(&wt.name) {
                    if rec.path != wt.path {
                        rec.path = wt.path.clone();
                        report.moved.push(wt.name.clone());
                    }
                }
            }
            let mut unallocated: Vec<&Worktree> = live
                .into_iter()
                .filter(|w| !reg.allocated_ports.contains_key(&w.name))
                .collect();
            // The main worktree first (it has its base ports), then worktrees whose env files
            // show ports, so that none of those goes to a worktree that shows none (a deleted
            // or reset registry).
            unallocated.sort_by_key(|w| (!w.is_main, !self.shows_its_ports(w)));
            for wt in unallocated {
                match self.allocate_in(reg, leases, wt) {
                    Ok((true, warnings)) => {
                        // Made with --no-checkout (no index yet): its files wait for its first
                        // checkout.
                        if !wt.is_main && !self.repo.has_index(wt) {
                            if let Some(r) = reg.worktrees.get_mut(&wt.name) {
                                r.pending_files = true;
                            }
                        }
                        report.allocated.push(wt.name.clone());
                        report.warnings.extend(warnings);
                    }
                    Ok((false, warnings)) => report.warnings.extend(warnings),
                    Err(e) => report.failed.push((wt.name.clone(), e)),
                }
            }
            let pending = reg
                .worktrees
                .iter()
                .filter(|(_, r)| r.pending_files)
                .map(|(name, _)| name.clone())
                .collect();
            report.worktrees = worktrees;
            Ok((report, orphans, gone_dbs, pending, newest))
        })
    }

    /// Allocate `wt` (after a reconcile, so released ports are free again), or add ports for
    /// services that appeared in its `.env` since. Idempotent.
    pub fn ensure(&self, wt: &Worktree) -> Result<Report> {
        let mut report = self.reconcile_leaving(Some(&wt.name))?;
        if let Some(pos) = report.failed.iter().position(|(name, _)| name == &wt.name) {
            return Err(report.failed.remove(pos).1);
        }
        // The reconcile allocated it if it was new; otherwise services may have appeared.
        if !report.allocated.contains(&wt.name) {
            let (_, warnings) = self.update(|reg, leases| self.allocate_in(reg, leases, wt))?;
            report.warnings.extend(warnings);
        }
        // The main worktree has every service too (a service `.atlas.toml` or its env files
        // gained since): its base ports stay out of every other worktree's reach.
        let main = report
            .worktrees
            .iter()
            .find(|w| w.is_main && w.name != wt.name)
            .cloned();
        if let Some(main) = main {
            match self.update(|reg, leases| self.allocate_in(reg, leases, &main)) {
                Ok((_, warnings)) => report.warnings.extend(warnings),
                Err(e) => report.warnings.push(format!("{MAIN}: {e}")),
            }
        }
        Ok(report)
    }

    /// Whether the worktrees are as the last reconcile left them (none added, removed or pruned
    /// since), by the hooks' constant-cost check.
    pub fn worktrees_unchanged(&self) -> bool {
        hooks::worktrees_unchanged(self.repo.common_dir(), &self.location().git_dir)
    }

    /// Allocate `wt` without a reconcile: for `add`, when the worktrees were unchanged before
    /// it, so that there is nothing else to reconcile; hook-state then takes the new worktree
    /// as seen.
    pub fn allocate(&self, wt: &Worktree) -> Result<Report> {
        let (allocated, warnings) = self.update(|reg, leases| self.allocate_in(reg, leases, wt))?;
        hooks::record_add(self.repo.common_dir(), wt)?;
        Ok(Report {
            allocated: if allocated {
                vec![wt.name.clone()]
            } else {
                Vec::new()
            },
            warnings,
            ..Report::default()
        })
    }

    /// Allocate `wt` if it has no ports yet, or add ports for services that appeared since.
    /// Returns whether anything was allocated, and warnings. Idempotent.
    fn allocate_in(
        &self,
        reg: &mut Registry,
        leases: &Leases,
        wt: &Worktree,
    ) -> Result<(bool, Vec<String>)> {
        self.allocate_with(reg, leases, wt, &*self.inputs(&wt.path)?)
    }

    /// [`Workspace::allocate_in`] with `wt`'s inputs already read: its ports, then its Redis
    /// databases on a shared server.
    fn allocate_with(
        &self,
        reg: &mut Registry,
        leases: &Leases,
        wt: &Worktree,
        inputs: &Inputs,
    ) -> Result<(bool, Vec<String>)> {
        let (allocated, mut warnings) = self.allocate_ports_with(reg, leases, wt, inputs)?;
        redis::allocate(reg, wt, inputs, &mut warnings);
        Ok((allocated, warnings))
    }

    fn allocate_ports_with(
        &self,
        reg: &mut Registry,
        leases: &Leases,
        wt: &Worktree,
        inputs: &Inputs,
    ) -> Result<(bool, Vec<String>)> {
        let existing = reg.allocated_ports.get(&wt.name).cloned();
        let recorded = reg.worktrees.get(&wt.name).cloned();
        let missing: Vec<&Service> = inputs
            .services
            .iter()
            .filter(|s| {
                existing
                    .as_ref()
                    .is_none_or(|ports| !ports.contains_key(&s.key))
            })
            .collect();
        if existing.is_some() && recorded.is_some() && missing.is_empty() {
            return Ok((false, Vec::new()));
        }
        let needs: Vec<alloc::Need> = missing.iter().map(|s| s.need()).collect();
        let mut strategy = inputs.config.strategy();
        let mut resolution = inputs.config.port_conflict_resolution.for_allocator();
        // The main worktree always has its base ports. Another worktree keeps its offset: services
        // that appeared since join it, or fail clearly.
        let offset = recorded.as_ref().and_then(|r| r.offset);
        if let (false, Some(_), Some(offset)) = (wt.is_main, &existing, offset) {
            strategy = Strategy::Offset {
                min: offset,
                max: offset,
            };
            resolution.skip_to_next = false;
        }
        // The main worktree's base ports are its own even while it has no entry (a reset
        // in progress, or a registry rebuilt while a parallel add allocates).
        let has_main = self.repo.main_dir().is_some();
        // Held by someone (another worktree, a mark, another repository); `taken` adds the
        // bind test.
        let held = |port: u16| -> Option<String> {
            if let Some(holder) = reg.holder(port, &wt.name) {
                return Some(holder);
            }
            if has_main && !wt.is_main && inputs.services.iter().any(|s| s.base == port) {
                return Some(format!("the base port of the main worktree ({MAIN})"));
            }
            if let Some(reason) = reg.unavailable_ports.get(&port) {
                return Some(format!("marked unavailable: {reason}"));
            }
            leases.holder(port, &self.project)
        };
        let taken = |port: u16| -> Option<String> {
            held(port).or_else(|| net::in_use(port).then(|| "in use by a running process".into()))
        };
        // A worktree new to the registry (deleted, or reset) whose own generated env file
        // shows ports keeps them where they are free: its servers may be running on them.
        if existing.is_none() && !wt.is_main && !needs.is_empty() {
            if let Some(allocation) =
                self.evidenced(wt, inputs, &needs, strategy, resolution, &held, &taken)
            {
                return Ok(self.record_allocation(reg, wt, inputs, allocation, None, recorded));
            }
        }
        let allocation: Allocation = if needs.is_empty() {
            Allocation {
                offset: if wt.is_main { Some(0) } else { None },
                ports: IndexMap::new(),
                warnings: Vec::new(),
            }
        } else {
            alloc::allocate(&wt.name, wt.is_main, &needs, strategy, resolution, &taken).map_err(|e| {
                Error::failed(format!("could not allocate ports for {}: {e}", wt.name))
                    .hint("see `git atlas ports status` and `git atlas ports check-conflicts`; free ports with `git atlas ports cleanup`")
            })?
        };
        Ok(self.record_allocation(reg, wt, inputs, allocation, existing, recorded))
    }

    /// Record `allocation` for `wt` in `reg`, beside what it had (`existing`, `recorded`).
    fn record_allocation(
        &self,
        reg: &mut Registry,
        wt: &Worktree,
        inputs: &Inputs,
        allocation: Allocation,
        existing: Option<IndexMap<String, u16>>,
        recorded: Option<WorktreeRecord>,
    ) -> (bool, Vec<String>) {
        let offset = recorded.as_ref().and_then(|r| r.offset);
        let mut ports = existing.unwrap_or_default();
        ports.extend(allocation.ports);
        // A service no input names any more keeps the label it had while it still holds a port.
        let mut labels: IndexMap<String, String> = recorded
            .as_ref()
            .map(|r| r.labels.clone())
            .unwrap_or_default();
        labels.retain(|key, _| ports.contains_key(key));
        labels.extend(
            inputs
                .services
                .iter()
                .map(|s| (s.key.clone(), s.label.clone())),
        );
        let offset = offset.or(allocation.offset);
        reg.allocated_ports.insert(wt.name.clone(), ports);
        let pending_files = recorded
            .as_ref()
            .map_or(wt.is_initializing(), |r| r.pending_files);
        reg.worktrees.insert(
            wt.name.clone(),
            WorktreeRecord {
                path: wt.path.clone(),
                offset,
                labels,
                pending_files,
            },
        );
        let warnings = allocation
            .warnings
            .into_iter()
            .map(|w| format!("{}: {w}", wt.name))
            .collect();
        (true, warnings)
    }

    /// The allocation `wt`'s own generated env file shows (its header names `wt`), if no one
    /// else holds a port it shows (`held`: no bind test, its own servers may be on them):
    /// under the offset strategy its `PORT_OFFSET`, under the range strategy its ports (the
    /// services it does not show get theirs as usual, from what `taken` leaves).
    #[allow(clippy::too_many_arguments)]
    fn evidenced(
        &self,
        wt: &Worktree,
        inputs: &Inputs,
        needs: &[alloc::Need],
        strategy: Strategy,
        resolution: alloc::Resolution,
        held: &dyn Fn(u16) -> Option<String>,
        taken: &dyn Fn(u16) -> Option<String>,
    ) -> Option<Allocation> {
        let text = self.own_generated_env(wt, inputs)?;
        let (shown, shown_offset) = generate::generated_ports(&text, &inputs.services)?;
        let free = |p: u16| held(p).is_none();
        match strategy {
            Strategy::Offset { .. } => {
                let offset = shown_offset?;
                let fits = needs.iter().all(|n| {
                    u32::from(n.base) + u32::from(offset) <= 65535
                        && shown
                            .get(&n.key)
                            .is_none_or(|p| u32::from(*p) == u32::from(n.base) + u32::from(offset))
                });
                let ports: IndexMap<String, u16> = needs
                    .iter()
                    .map(|n| (n.key.clone(), n.base + offset))
                    .collect();
                (fits && ports.values().all(|p| free(*p))).then(|| Allocation {
                    offset: Some(offset),
                    ports,
                    warnings: Vec::new(),
                })
            }
            Strategy::Range => {
                let mut kept = IndexMap::new();
                for n in needs {
                    if let Some(&p) = shown.get(&n.key) {
                        if (n.range.0..=n.range.1).contains(&p) && free(p) {
                            kept.insert(n.key.clone(), p);
                        }
                    }
                }
                if kept.is_empty() {
                    return None;
                }
                let rest: Vec<alloc::Need> = needs
                    .iter()
                    .filter(|n| !kept.contains_key(&n.key))
                    .cloned()
                    .collect();
                let mut allocation = Allocation {
                    offset: None,
                    ports: IndexMap::new(),
                    warnings: Vec::new(),
                };
                if !rest.is_empty() {
                    let kept_ports: Vec<u16> = kept.values().copied().collect();
                    let taken_too = |p: u16| {
                        if kept_ports.contains(&p) {
                            return Some(format!("kept by {}", wt.name));
                        }
                        taken(p)
                    };
                    allocation =
                        alloc::allocate(&wt.name, false, &rest, strategy, resolution, &taken_too)
                            .ok()?;
                }
                kept.extend(allocation.ports);
                allocation.ports = kept;
                Some(allocation)
            }
        }
    }

    /// Write the worktree's generated files from its allocation. Returns the files written.
    /// An error when `wt.path` is not its checkout any more (see [`Repo::is_checkout`]).
    pub fn generate(&self, wt: &Worktree) -> Result<Vec<PathBuf>> {
        self.write_files(wt, checkout::Which::All)?
            .ok_or_else(|| checkout::not_a_checkout(wt))
    }

    /// Like [`Workspace::generate`], leaving docker-compose.yml alone (`add --no-docker`).
    pub fn generate_without_compose(&self, wt: &Worktree) -> Result<Vec<PathBuf>> {
        self.write_files(wt, checkout::Which::AllButCompose)?
            .ok_or_else(|| checkout::not_a_checkout(wt))
    }

    /// [`Workspace::generate`] for commands that rewrite many worktrees' files (`ports
    /// compact`, `reset`): `None` for a worktree removed (or replaced) meanwhile.
    pub fn regenerate(&self, wt: &Worktree) -> Result<Option<Vec<PathBuf>>> {
        self.write_files(wt, checkout::Which::All)
    }

    /// What `wt`'s generated files are made from: its allocation in `reg`.
    fn worktree_vars<'a>(&self, wt: &'a Worktree, reg: &'a Registry) -> Result<WorktreeVars<'a>> {
        let ports = reg
            .allocated_ports
            .get(&wt.name)
            .ok_or_else(|| Error::failed(format!("{} has no ports allocated", wt.name)))?;
        Ok(WorktreeVars {
            name: &wt.name,
            is_main: wt.is_main,
            offset: reg.worktrees.get(&wt.name).and_then(|r| r.offset),
            ports,
            compose_project: names::compose_project(&self.project_name(), &wt.name),
            redis: reg.redis.get(&wt.name),
        })
    }

    /// Write `wt`'s files while holding its checkout (one writer at a time, none during its
    /// removal), from the registry as it is once held, so that the last writer writes the
    /// newest allocation.
    fn write_files(&self, wt: &Worktree, which: checkout::Which) -> Result<checkout::Written> {
        let Some(_held) = self.hold_checkout(wt)? else {
            return Ok(None);
        };
        // What a writer killed here left (git status would show it); writers take turns.
        files::clear_leftovers(&wt.path, std::time::Duration::ZERO);
        let reg = self.registry.read()?;
        let inputs = self.inputs(&wt.path)?;
        let vars = self.worktree_vars(wt, &reg)?;
        let mut written = Vec::new();
        let cfg = &inputs.config;
        for file in self.env_files(wt, &inputs, &vars, &which) {
            let changed = if file.yaml {
                generate::write_generated(&file.out, &file.text)?
            } else {
                generate::write_derived(&file.out, &file.text, &file.source)?
            };
            self.wrote(wt, &reg, &mut written, file.out, &file.text, changed)?;
        }
        let mut templates = vec![(&inputs.env_template, &cfg.templates.env_output)];
        if which != checkout::Which::AllButCompose {
            templates.push((&inputs.compose_template, &cfg.templates.compose_output));
        }
        for (template, output) in templates {
            if let Some(template) = template {
                let out = wt.path.join(output);
                if !which.wants(&out) {
                    continue;
                }
                let text = generate::render_template(template, &inputs.services, &vars)?;
                let changed = generate::write_generated(&out, &text)?;
                self.wrote(wt, &reg, &mut written, out, &text, changed)?;
            }
        }
        if written.contains(&wt.path.join(&cfg.templates.compose_output))
            || (!wt.is_main && !inputs.compose.is_empty())
        {
            self.record_compose(wt)?;
        }
        if reg.worktrees.get(&wt.name).is_some_and(|r| r.pending_files) {
            self.registry.update(|reg| {
                if let Some(r) = reg.worktrees.get_mut(&wt.name) {
                    r.pending_files = false;
                }
                Ok(())
            })?;
            hooks::forget_pending(self.repo.common_dir(), &wt.name)?;
        }
        self.files_follow(wt, &reg)?;
        if !wt.is_main {
            // Only spares checkouts work: without the list, a checkout rewrites nothing.
            let list = hooks::followed_path(self.repo.common_dir(), &wt.name);
            let followed = self.followed(wt, &inputs, &written);
            if let Err(e) = hooks::write_followed(&list, &followed, inputs.read_at) {
                crate::term::warn(format!("{e} (a checkout that changes the compose files will not rewrite {}'s files: run `git atlas env` then)", wt.name));
            }
        }
        Ok(Some(written))
    }

    /// The generated files this command changed so far.
    pub fn changed_files(&self) -> Vec<PathBuf> {
        self.changed.borrow().clone()
    }

    /// `out`, which holds `text`, was written for `wt`: said (its quoting warnings), listed,
    /// and hidden from `git status`.
    fn wrote(
        &self,
        wt: &Worktree,
        reg: &Registry,
        written: &mut Vec<PathBuf>,
        out: PathBuf,
        text: &str,
        changed: bool,
    ) -> Result<()> {
        say_quoting_warnings(&out, text);
        if changed && !self.changed.borrow().contains(&out) {
            self.changed.borrow_mut().push(out.clone());
        }
        written.push(out);
        self.exclude_written(wt, reg, written)
    }

    /// Whether `wt` has an env file git-atlas generated for it (which may show its ports).
    fn shows_its_ports(&self, wt: &Worktree) -> bool {
        !wt.is_main
            && self
                .inputs(&wt.path)
                .is_ok_and(|inputs| self.own_generated_env(wt, &inputs).is_some())
    }

    /// The text of the env file git-atlas generated for `wt` itself (not one copied from
    /// another worktree), if there is one.
    fn own_generated_env(&self, wt: &Worktree, inputs: &Inputs) -> Option<String> {
        let text = std::fs::read_to_string(wt.path.join(inputs.env_output())).ok()?;
        generate::generated_for(&text, &wt.name).then_some(text)
    }

    /// The ports `wt`'s generated env file holds, by service, and its `PORT_OFFSET`.
    pub fn generated_ports(&self, wt: &Worktree) -> Option<PortsAndOffset> {
        let inputs = self.inputs(&wt.path).ok()?;
        let text = std::fs::read_to_string(wt.path.join(inputs.env_output())).ok()?;
        generate::generated_ports(&text, &inputs.services)
    }

    /// The project's name for Compose: the main worktree's directory name.
    pub fn project_name(&self) -> String {
        let dir = self
            .repo
            .main_dir()
            .unwrap_or_else(|| self.repo.common_dir().to_path_buf());
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "project".into())
    }

    /// Find the worktree an argument names: its name, its path, or its branch.
    pub fn resolve<'a>(
        &self,
        worktrees: &'a [Worktree],
        arg: &str,
        cwd: &Path,
    ) -> Result<&'a Worktree> {
        if let Some(w) = worktrees.iter().find(|w| w.name == arg) {
            return Ok(w);
        }
        let as_path = cwd.join(arg);
        if let Ok(canon) = as_path.canonicalize() {
            if let Some(w) = worktrees
                .iter()
                .find(|w| w.path.canonicalize().is_ok_and(|p| p == canon))
            {
                return Ok(w);
            }
        }
        let by_branch: Vec<&Worktree> = worktrees
            .iter()
            .filter(|w| w.branch.as_deref() == Some(arg))
            .collect();
        if let [w] = by_branch[..] {
            return Ok(w);
        }
        let names: Vec<&str> = worktrees.iter().map(|w| w.name.as_str()).collect();
        Err(Error::failed(format!(
            "no worktree named '{arg}' (by name, path or branch)"
        ))
        .hint(format!("worktrees: {}", names.join(", "))))
    }

    /// The worktree `arg` names (see [`Workspace::resolve`]), or the current one without it.
    pub fn resolve_or_current<'a>(
        &self,
        worktrees: &'a [Worktree],
        arg: Option<&str>,
        cwd: &Path,
    ) -> Result<&'a Worktree> {
        match arg {
            Some(a) => self.resolve(worktrees, a, cwd),
            None => self.current(worktrees),
        }
    }

    /// The current worktree, reading only its own files (not every worktree's).
    pub fn current_worktree(&self) -> Result<Worktree> {
        let location = self.location();
        if location.worktree == MAIN {
            let worktrees = self.repo.main_worktree();
            return worktrees
                .ok_or_else(|| Error::failed("this is a bare repository: name a worktree"));
        }
        location
            .work_dir
            .as_deref()
            .and_then(|dir| self.repo.worktree_at(dir))
            .ok_or_else(|| {
                Error::failed(format!(
                    "worktree {} is not known to git",
                    location.worktree
                ))
            })
    }

    /// The current worktree as a [`Worktree`].
    pub fn current<'a>(&self, worktrees: &'a [Worktree]) -> Result<&'a Worktree> {
        let name = &self.location().worktree;
        worktrees.iter().find(|w| &w.name == name).ok_or_else(|| {
            if name == MAIN {
                Error::failed("this is a bare repository: name a worktree")
            } else {
                Error::failed(format!("worktree {name} is not known to git"))
            }
        })
    }
}

/// The values a generated file could not quote the same for every reader, said once per write.
fn say_quoting_warnings(path: &Path, text: &str) {
    for w in generate::warnings(text) {
        crate::term::warn(format!("{}: {w}", path.display()));
    }
}

impl Report {
    /// One line per thing done, for stderr.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, ports) in &self.released {
            out.push(format!(
                "released {} port(s) of {name}: the worktree no longer exists",
                ports.len()
            ));
        }
        for name in &self.moved {
            out.push(format!("{name} moved; its ports follow it"));
        }
        out.extend(self.docker.iter().cloned());
        out.extend(self.databases.iter().cloned());
        out.extend(self.warnings.iter().cloned());
        out
    }
}
