//! Issue 4 end to end: the registry against real listeners, other repositories on the machine,
//! and crashes; every `ports` verb; stopping services on remove.

mod support;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use support::{free_base, offset, Sandbox};

/// `.env` with two services at a base no other test uses.
fn env(base: u16) -> String {
    format!("PORT={base}\nDB_PORT={}\n", base + 1)
}

#[test]
fn check_says_who_holds_a_port() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &env(base));
    s.atlas(&repo, &["add", "../w"]).ok();
    let w = s.ports_of(&repo, "w")["app"] as u16;

    assert_eq!(
        s.atlas(&repo, &["ports", "check", &(base + 1050).to_string()])
            .ok(),
        format!("Port {}: AVAILABLE\n", base + 1050)
    );
    let out = s.atlas(&repo, &["ports", "check", &w.to_string()]).ok();
    assert_eq!(
        out,
        format!("Port {w}: ALLOCATED\n  allocated to w (app)\n")
    );

    let l = s.listener(&s.root().join("w"), w, false);
    let out = s.atlas(&repo, &["ports", "check", &w.to_string()]).ok();
    assert!(out.starts_with(&format!("Port {w}: IN USE\n")), "{out}");
    assert!(
        out.contains(&format!("listening: pid {} (", l.pid()))
            && out.contains("python3")
            && out.contains("started in worktree w"),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &s.atlas(&repo, &["ports", "check", &w.to_string(), "--json"])
            .ok(),
    )
    .unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(
        (json["status"].as_str(), json["available"].as_bool()),
        (Some("IN USE"), Some(false))
    );
    assert_eq!(json["listening"][0]["pid"], l.pid());
    assert_eq!(json["allocated"]["worktree"], "w");
    drop(l);

    let spare = (base + 1060).to_string();
    assert!(s
        .atlas(
            &repo,
            &[
                "ports",
                "mark-unavailable",
                &spare,
                "Used",
                "by",
                "system",
                "service"
            ]
        )
        .ok()
        .contains("marked unavailable: Used by system service"));
    assert_eq!(
        s.atlas(&repo, &["ports", "check", &spare]).ok(),
        format!("Port {spare}: UNAVAILABLE\n  marked unavailable: Used by system service\n")
    );
    s.atlas(&repo, &["ports", "mark-available", &spare]).ok();
    assert!(s
        .atlas(&repo, &["ports", "check", &spare])
        .ok()
        .contains("AVAILABLE"));

    let err = s.atlas(&repo, &["ports", "check", "70000"]).fails(2);
    assert!(err.contains("70000 is not a valid port (1-65535)"), "{err}");
    s.atlas(&repo, &["ports", "check", "abc"]).fails(2);
}

#[test]
fn allocation_skips_unavailable_ports() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &env(base));
    let own = base + offset("feature-x");
    s.atlas(&repo, &["ports", "mark-unavailable", &own.to_string()])
        .ok();
    s.atlas(&repo, &["add", "../feature-x"]).ok();
    assert_eq!(s.ports_of(&repo, "feature-x")["app"], u64::from(own) + 1);
}

#[test]
fn two_repositories_share_the_machine_without_sharing_ports() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let a = s.repo("a", &env(base));
    let b = s.repo("b", &env(base));
    for name in ["x", "y", "z"] {
        s.atlas(&a, &["add", &format!("../a-{name}")]).ok();
    }
    // Same worktree ids in the second repository: the md5 offsets are equal, the leases are not.
    for name in ["x", "y", "z"] {
        s.atlas(&b, &["add", &format!("../b/../b-wt/{name}")]).ok();
    }
    let linked = |repo: &Path| -> Vec<u64> {
        let r = s.registry(repo);
        r["allocated_ports"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "main")
            .flat_map(|(_, p)| {
                p.as_object()
                    .unwrap()
                    .values()
                    .map(|v| v.as_u64().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (pa, pb) = (s.all_ports(&a), linked(&b));
    for p in &pb {
        assert!(!pa.contains(p), "port {p} handed to both repositories");
    }
    // The main worktrees keep the ports their .env names: both use the base ports, as before git-atlas.
    assert_eq!(s.ports_of(&b, "main")["app"], u64::from(base));
    let leases: serde_json::Value =
        serde_json::from_slice(&fs::read(s.leases().join("leases.json")).unwrap()).unwrap();
    assert_eq!(leases["projects"].as_object().unwrap().len(), 2);
    let out = s.atlas(&b, &["ports", "check", &pa[2].to_string()]).ok();
    assert!(
        out.contains("LEASED") && out.contains("leased by another repository"),
        "{out}"
    );

    fs::remove_dir_all(&b).unwrap();
    let out = s.atlas(&a, &["ports", "cleanup"]).ok();
    assert!(
        out.contains("Releasing leases of repositories that no longer exist:"),
        "{out}"
    );
    let leases: serde_json::Value =
        serde_json::from_slice(&fs::read(s.leases().join("leases.json")).unwrap()).unwrap();
    assert_eq!(leases["projects"].as_object().unwrap().len(), 1);
}

#[test]
fn kill_9_during_parallel_adds_leaves_a_consistent_registry() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &env(base));
    let mut n = 0;
    for round in 0..4 {
        let mut children: Vec<_> = (0..8)
            .map(|_| {
                n += 1;
                s.cmd(support::bin(), &repo)
                    .args(["add", &format!("../k{n}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (i, c) in children.iter_mut().enumerate() {
            if (i + round) % 2 == 0 {
                std::thread::sleep(Duration::from_millis(3 * (i as u64 + round as u64)));
                let _ = c.kill();
            }
        }
        for mut c in children {
            let _ = c.wait();
        }
    }
    // Git may have been killed mid-add too; let it clean up what it left.
    s.git(&repo, &["worktree", "prune"]).ok();
    s.atlas(&repo, &["list"]).ok();
    let reg = s.registry(&repo);
    let all = s.assert_distinct_ports(&repo);
    let listed: serde_json::Value =
        serde_json::from_str(&s.atlas(&repo, &["list", "--json"]).ok()).unwrap();
    for w in listed["worktrees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["prunable"] == false)
    {
        assert!(
            reg["allocated_ports"]
                .get(w["name"].as_str().unwrap())
                .is_some(),
            "{} has no entry",
            w["name"]
        );
    }
    let leases: serde_json::Value =
        serde_json::from_slice(&fs::read(s.leases().join("leases.json")).unwrap()).unwrap();
    let mut leased: Vec<u64> = leases["projects"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| {
            p.as_object()
                .unwrap()
                .values()
                .flat_map(|v| {
                    v.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    leased.sort();
    assert_eq!(leased, all, "the lease file mirrors the registry");
}

#[test]
fn status_counts_ranges_and_offsets() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &env(base));
    s.atlas(&repo, &["add", "../w"]).ok();
    let out = s.atlas(&repo, &["ports", "status"]).ok();
    assert!(
        out.contains("Strategy: offset") && out.contains("900 in all, 1 used"),
        "{out}"
    );

    // Its own ports: the first repository's leases would block some of these (as they should).
    let base = free_base(1100);
    let r = s.repo("ranged", "");
    fs::write(r.join(".atlas.toml"), support::web_range(base, 4)).unwrap();
    s.atlas(&r, &["add", "../r1"]).ok();
    s.atlas(&r, &["ports", "mark-unavailable", &(base + 3).to_string()])
        .ok();
    let json: serde_json::Value =
        serde_json::from_str(&s.atlas(&r, &["ports", "status", "--json"]).ok()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["ranges"][0]["size"], 4);
    assert_eq!(json["ranges"][0]["used"], 2);
    assert_eq!(json["ranges"][0]["blocked"], 1);
    assert_eq!(json["ranges"][0]["free"], 1);
    s.atlas(&r, &["add", "../r2"]).ok();
    let out = s.atlas(&r, &["ports", "status"]).ok();
    assert!(
        out.lines()
            .any(|l| l.starts_with("web") && l.ends_with("FULL")),
        "{out}"
    );
}

#[test]
fn check_conflicts_finds_what_disagrees() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &env(base));
    s.atlas(&repo, &["add", "../a"]).ok();
    s.atlas(&repo, &["add", "../b"]).ok();
    assert!(s
        .atlas(&repo, &["ports", "check-conflicts"])
        .ok()
        .contains("✓ No conflicts"));
    let a = s.ports_of(&repo, "a");
    let _l = s.listener(&s.root().join("b"), a["app"] as u16, false);
    s.atlas(
        &repo,
        &[
            "ports",
            "mark-unavailable",
            &a["db"].to_string(),
            "reserved",
        ],
    )
    .ok();
    let out = s.atlas(&repo, &["ports", "check-conflicts"]).ok();
    assert!(
        out.contains(&format!("✗ {} (a app): pid", a["app"]))
            && out.contains("started in worktree b"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "✗ {} (a db): marked unavailable: reserved",
            a["db"]
        )),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&s.atlas(&repo, &["ports", "check-conflicts", "--json"]).ok())
            .unwrap();
    assert_eq!(json["version"], 1);
    let kinds: Vec<&str> = json["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["in use", "unavailable"]);
}

#[test]
fn config_changes_this_machines_settings_and_refuses_conflicts() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", "");
    fs::write(repo.join(".atlas.toml"), format!("strategy = \"range\"\n[services.web]\nport = {base}\nrange = \"{base}-{}\"\n[services.api]\nport = {}\nrange = \"{}-{}\"\n", base + 9, base + 10, base + 10, base + 19)).unwrap();
    s.atlas(&repo, &["add", "../w"]).ok();
    let shown = s.atlas(&repo, &["ports", "config"]).ok();
    assert!(
        shown.contains("Strategy: range") && shown.contains(&format!("{base}-{}", base + 9)),
        "{shown}"
    );

    let local = repo.join(".git/worktree-registry/config.toml");
    let err = s
        .atlas(
            &repo,
            &[
                "ports",
                "config",
                "--web-range",
                &format!("{base}-{}", base + 15),
            ],
        )
        .fails(1);
    assert!(
        err.contains("Range conflicts with existing allocations") && err.contains("(api)"),
        "{err}"
    );
    assert!(!local.exists(), "a refused change writes nothing");
    s.atlas(
        &repo,
        &[
            "ports",
            "config",
            "--web-range",
            &format!("{}-{}", base, base + 5),
        ],
    )
    .ok();
    assert!(fs::read_to_string(&local)
        .unwrap()
        .contains(&format!("range = \"{base}-{}\"", base + 5)));
    s.atlas(&repo, &["ports", "config", "--nope-range", "1-2"])
        .fails(2);
    let err = s
        .atlas(&repo, &["ports", "config", "--web-range", "9000-8000"])
        .fails(2);
    assert!(err.contains("starts above where it ends"), "{err}");
    let err = s
        .atlas(&repo, &["ports", "config", "--web-range=8000-70000"])
        .fails(2);
    assert!(err.contains("70000 is not a valid port"), "{err}");
    s.atlas(
        &repo,
        &[
            "ports",
            "config",
            "--strategy",
            "offset",
            "--resolution",
            "skip_to_next,expand_range",
        ],
    )
    .ok();
    let shown = s.atlas(&repo, &["ports", "config"]).ok();
    assert!(
        shown.contains("Strategy: offset") && shown.contains("skip_to_next, expand_range"),
        "{shown}"
    );
}

#[test]
fn compact_fills_gaps_and_rewrites_env_files() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &format!("WEB_PORT={base}\n"));
    fs::write(repo.join(".atlas.toml"), support::web_range(base, 10)).unwrap();
    for n in ["a", "b", "c"] {
        s.atlas(&repo, &["add", &format!("../{n}")]).ok();
    }
    assert_eq!(s.ports_of(&repo, "c")["web"], u64::from(base) + 3);
    s.atlas(&repo, &["remove", "b"]).ok();
    let out = s.atlas(&repo, &["ports", "compact"]).ok();
    assert!(
        out.contains(&format!("c: web {} -> {}", base + 3, base + 2)),
        "{out}"
    );
    assert!(fs::read_to_string(s.root().join("c/.env"))
        .unwrap()
        .contains(&format!("WEB_PORT={}\n", base + 2)));
    assert!(s
        .atlas(&repo, &["ports", "compact"])
        .ok()
        .contains("Already compact"));

    // A worktree that filled an earlier gap comes after the others in the registry: compacting
    // must not move anyone onto its port.
    s.atlas(&repo, &["add", "../f"]).ok();
    s.atlas(&repo, &["remove", "a"]).ok();
    s.atlas(&repo, &["add", "../g"]).ok();
    assert_eq!(s.ports_of(&repo, "g")["web"], u64::from(base) + 1);
    s.atlas(&repo, &["remove", "c"]).ok();
    s.atlas(&repo, &["ports", "compact"]).ok();
    let all = s.assert_distinct_ports(&repo);
    assert_eq!(
        all,
        [u64::from(base), u64::from(base) + 1, u64::from(base) + 2]
    );

    // A listening port stays where it is.
    s.atlas(&repo, &["add", "../d"]).ok();
    s.atlas(&repo, &["add", "../e"]).ok();
    s.atlas(&repo, &["remove", "d"]).ok();
    s.atlas(&repo, &["remove", "f"]).ok();
    let e = s.ports_of(&repo, "e")["web"];
    let _l = s.listener(&s.root().join("e"), e as u16, false);
    s.atlas(&repo, &["ports", "compact"]).ok();
    assert_eq!(s.ports_of(&repo, "e")["web"], e);

    let o = s.repo("offsets", &env(free_base(1100)));
    assert!(s
        .atlas(&o, &["ports", "compact"])
        .ok()
        .contains("Nothing to compact"));
}

#[test]
fn release_cleanup_and_release_all() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &env(base));
    for n in ["keep", "gone1", "gone2"] {
        s.atlas(&repo, &["add", &format!("../{n}")]).ok();
    }
    fs::remove_dir_all(s.root().join("gone1")).unwrap();
    fs::remove_dir_all(s.root().join("gone2")).unwrap();
    // Read the registry first, as cleanup would, without a reconciling command in between.
    let out = s.atlas(&repo, &["ports", "cleanup"]).ok();
    assert!(
        out.starts_with("Cleaning up port allocations...\n"),
        "{out}"
    );
    assert!(
        out.contains("Checking: keep                    ✓ exists"),
        "{out}"
    );
    assert!(
        out.contains("Checking: gone1                   ✗ NOT FOUND"),
        "{out}"
    );
    assert!(
        out.contains("  gone1: 2 ports released")
            && out
                .trim_end()
                .ends_with("Cleanup complete: 4 ports released"),
        "{out}"
    );

    assert!(s
        .atlas(&repo, &["ports", "release", "keep"])
        .ok()
        .contains("Released 2 port(s) of keep"));
    let err = s.atlas(&repo, &["ports", "release-all"]).fails(2);
    assert!(err.contains("--force"), "{err}");
    assert!(!s.registry(&repo)["allocated_ports"]
        .as_object()
        .unwrap()
        .is_empty());
    s.atlas(&repo, &["ports", "release-all", "--force"]).ok();
    assert!(s.registry(&repo)["allocated_ports"]
        .as_object()
        .unwrap()
        .is_empty());
}

#[test]
fn scan_rebuild_keeps_running_services_where_they_are() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &env(base));
    s.atlas(&repo, &["add", "../running"]).ok();
    s.atlas(&repo, &["add", "--no-env", "../bare"]).ok();
    let running = s.ports_of(&repo, "running");
    let _l = s.listener(&s.root().join("running"), running["app"] as u16, false);
    // The registry is lost; worse, a new worktree took running's offset meanwhile.
    fs::write(support::registry_path(&repo), "garbage").unwrap();
    let out = s.atlas(&repo, &["ports", "scan-rebuild"]).ok();
    assert!(out.contains("Backed up the registry"), "{out}");
    assert!(
        out.contains("running: kept 2 port(s) from its env file, 1 listening now"),
        "{out}"
    );
    assert_eq!(s.ports_of(&repo, "running"), running);
    assert_eq!(
        s.registry(&repo)["worktrees"]["running"]["labels"]["app"],
        "App",
        "labels survive the rebuild"
    );
    assert!(s.ports_of(&repo, "bare").contains_key("app"));
    assert_eq!(
        fs::read(repo.join(".git/worktree-registry/ports.json.backup")).unwrap(),
        b"garbage"
    );
}

#[test]
fn list_unused_shows_only_quiet_worktrees() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &env(base));
    s.atlas(&repo, &["add", "../busy"]).ok();
    s.atlas(&repo, &["add", "../idle"]).ok();
    let _l = s.listener(
        &s.root().join("busy"),
        s.ports_of(&repo, "busy")["db"] as u16,
        false,
    );
    let out = s.atlas(&repo, &["list", "--unused"]).ok();
    assert!(out.contains("\nidle ") && !out.contains("\nbusy "), "{out}");
}

#[test]
fn remove_stops_the_worktrees_own_services_only() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", &env(base));
    s.atlas(&repo, &["add", "../w"]).ok();
    let p = s.ports_of(&repo, "w");
    let wt = s.root().join("w");
    let mut polite = s.listener(&wt, p["app"] as u16, false);
    fs::create_dir(wt.join("server")).unwrap();
    let mut stubborn = s.listener(&wt.join("server"), p["db"] as u16, true);
    let run = s.atlas(&repo, &["remove", "--grace", "0.5", "w"]);
    let out = run.ok();
    assert!(
        out.contains(&format!("Stopped pid {} (", polite.pid())),
        "{out}"
    );
    assert!(
        out.contains(&format!("Stopped pid {} (", stubborn.pid())) && out.contains("with SIGKILL"),
        "{out}"
    );
    assert!(polite.exited() && stubborn.exited());

    // Someone else's listener on the port is left alone; --keep-services leaves ours.
    s.atlas(&repo, &["add", "../v"]).ok();
    let q = s.ports_of(&repo, "v");
    let mut stranger = s.listener(s.root(), q["app"] as u16, false);
    let run = s.atlas(&repo, &["remove", "v"]);
    run.ok();
    assert!(
        run.stderr
            .contains(&format!("left pid {} (", stranger.pid()))
            && run.stderr.contains("it was not started in v"),
        "{}",
        run.stderr
    );
    assert!(!stranger.exited());

    s.atlas(&repo, &["add", "../k"]).ok();
    let k = s.ports_of(&repo, "k");
    let mut kept = s.listener(&s.root().join("k"), k["app"] as u16, false);
    let out = s.atlas(&repo, &["remove", "--keep-services", "k"]).ok();
    assert!(!out.contains("Stopped"), "{out}");
    assert!(!kept.exited());
}

#[test]
fn auto_resolution_strategies_are_configurable() {
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", "");
    fs::write(repo.join(".atlas.toml"), support::web_range(base, 2)).unwrap();
    s.atlas(&repo, &["add", "../a"]).ok();
    let err = s.atlas(&repo, &["add", "../b"]).fails(1);
    assert!(
        err.contains(&format!(
            "No available ports in web range ({base}-{})",
            base + 1
        )),
        "{err}"
    );
    s.atlas(
        &repo,
        &[
            "ports",
            "config",
            "--resolution",
            "skip_to_next,expand_range",
        ],
    )
    .ok();
    let run = s.atlas(&repo, &["env", "b"]);
    run.ok();
    assert_eq!(s.ports_of(&repo, "b")["web"], u64::from(base) + 2);
    assert!(
        run.stderr.contains(&format!(
            "web range ({base}-{}) is full; expanded it to {}",
            base + 1,
            base + 2
        )),
        "{}",
        run.stderr
    );

    // Without skip_to_next a clashing offset is an error naming the port and its holder.
    let obase = free_base(1100);
    let o = s.repo(
        "offsets",
        &format!(
            "PORT={obase}
"
        ),
    );
    s.atlas(&o, &["ports", "config", "--resolution", "none"])
        .ok();
    let own = obase + offset("clash");
    s.atlas(
        &o,
        &["ports", "mark-unavailable", &own.to_string(), "taken"],
    )
    .ok();
    let err = s.atlas(&o, &["add", "../clash"]).fails(1);
    assert!(
        err.contains(&format!(
            "port {own} (offset {}) is taken: marked unavailable: taken",
            offset("clash")
        )),
        "{err}"
    );
}
